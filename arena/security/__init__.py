"""Serving the site safely in public: trusted proxies, browser security headers, hostile input.

Cross-cutting request handling that every blueprint relies on, wired by :func:`init_app`:

- :mod:`.proxy`: the client address and scheme come from the configured trusted proxy hops only;
- :mod:`.headers`: CSP, HSTS, framing and referrer policy, and a session cookie that is
  ``Secure`` whenever the site is served over HTTPS;
- :mod:`.inputs`: request bodies, paths and headers that would otherwise end in a 500.
"""

from __future__ import annotations

from flask import Flask

from arena.security import headers, inputs, proxy


def init_app(app: Flask) -> None:
    proxy.init_app(app)
    inputs.init_app(app)
    headers.init_app(app)
