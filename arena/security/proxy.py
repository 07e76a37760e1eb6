"""Client address and scheme behind reverse proxies, from trusted hops only.

Gunicorn never rewrites ``REMOTE_ADDR`` from ``X-Forwarded-For`` (its ``forwarded_allow_ips``
only governs the scheme headers), so behind a proxy every client would share the proxy's
address: one rate-limit bucket and one IP hash for everybody. The app therefore resolves the
address itself, with werkzeug's :class:`~werkzeug.middleware.proxy_fix.ProxyFix` and a hop
count (``PROXY_HOPS``): the Nth address from the right of ``X-Forwarded-For`` is the one the
outermost trusted proxy saw. A proxy appends, so anything a client forges sits further left
and is never read. The headers are honoured only when the connection itself comes from a
trusted proxy (``TRUSTED_PROXIES``, or a UNIX socket); a client that reaches the app
directly cannot claim another address or HTTPS. The same code serves gunicorn, ``flask run``
and the tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str]) -> list[Network]:
    """Networks from ``"127.0.0.1, 10.0.0.0/8"`` or a list; raises ``ValueError`` if invalid."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]


class TrustedProxyFix:
    """Apply :class:`ProxyFix` only to requests whose peer is one of the trusted proxies."""

    def __init__(self, app: Any, hops: int, trusted: list[Network]) -> None:
        self.app = app
        self.hops = hops
        self.trusted = trusted
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops)

    def _trusted_peer(self, address: str | None) -> bool:
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            # Not an IP peer: a UNIX socket, reachable only through its file permissions
            # (gunicorn treats these as trusted the same way).
            return True
        return any(peer in network for network in self.trusted)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.hops and self._trusted_peer(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        trusted = parse_networks(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, hops, trusted)  # type: ignore[method-assign]
