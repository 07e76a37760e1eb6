"""Rate limits (Flask-Limiter), keyed by the hashed client address.

In-memory by default; set ``ARENA_RATELIMIT_STORAGE_URI=redis://host:6379`` so that several
processes and hosts share one set of counters.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter

from arena.privacy import ip_hash

limiter = Limiter(key_func=ip_hash, default_limits=[], headers_enabled=True)


def battles_limit() -> str:
    return str(current_app.config["RATELIMIT_BATTLES"])


def votes_limit() -> str:
    return str(current_app.config["RATELIMIT_VOTES"])


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RATELIMIT_ENABLED"])
    limiter.init_app(app)
