"""Rate limits (Flask-Limiter), keyed by the hashed client address.

Counters must be shared by every process that serves the site, or N gunicorn workers grant N
times the configured limit. The default storage is therefore a SQLite file in the instance
folder (``sqlite:///path``, :class:`SQLiteStorage`), shared by all workers of one host; set
``RATELIMIT_STORAGE_URI=redis://host:6379`` when several hosts serve the site. ``memory://``
is per process: fine for one process, refused by ``gunicorn.conf.py`` with more workers.

Requests rejected as invalid (400/413/422) never reach the limit check: the views validate
their body first, so a typo does not spend the budget.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from limits.storage import Storage

from arena.privacy import ip_hash

limiter = Limiter(key_func=ip_hash, default_limits=[], headers_enabled=True)

RATELIMIT_FILE = "ratelimits.sqlite3"

View = TypeVar("View", bound=Callable[..., Any])


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite table: atomic across threads and processes.

    Each increment is a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, which
    SQLite runs under its write lock, so concurrent workers can never both see the same count.
    """

    STORAGE_SCHEME = ["sqlite"]
    # Expired rows are swept every this many increments of one process.
    _SWEEP_EVERY = 200

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = (uri or "").split("://", 1)[-1]
        # sqlite:///relative and sqlite:////absolute, as in SQLAlchemy URLs.
        self.path = path[1:] if path.startswith("/") else path
        if not self.path:
            raise ValueError("sqlite rate-limit storage needs a file: sqlite:///path/limits.db")
        self._local = threading.local()
        self._increments = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        # A connection must not cross a fork (gunicorn forks workers after importing).
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, "
                         "count INTEGER NOT NULL, expires_at REAL NOT NULL)")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        row = self._conn().execute(
            "INSERT INTO counter (key, count, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET "
            "count = CASE WHEN expires_at <= ? THEN excluded.count "
            "ELSE count + excluded.count END, "
            "expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END "
            "RETURNING count", (key, amount, now + expiry, now, now)).fetchone()
        self._increments += 1
        if self._increments % self._SWEEP_EVERY == 0:
            self._conn().execute("DELETE FROM counter WHERE expires_at <= ?", (now,))
        return int(row[0])

    def get(self, key: str) -> int:
        row = self._conn().execute("SELECT count FROM counter WHERE key = ? AND expires_at > ?",
                                   (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._conn().execute("SELECT expires_at FROM counter WHERE key = ? AND "
                                   "expires_at > ?", (key, now)).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return int(self._conn().execute("DELETE FROM counter").rowcount)

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM counter WHERE key = ?", (key,))


def limited(limit: Callable[[View], View]) -> Callable[[View], View]:
    """Flask-Limiter's route decorator ``limit``, skipped when this app's limits are off.

    Flask-Limiter's own decorator identifies the request, looks up its limits and only then
    finds the limiter disabled (a few percent of a vote's CPU). With ``RATELIMIT_ENABLED``
    off the view is called directly, and :func:`init_app` does not register the limiter's
    per-request hooks either.
    """
    def decorate(view: View) -> View:
        checked = limit(view)

        @wraps(view)
        def route(*args: Any, **kwargs: Any) -> Any:
            if current_app.config["RATELIMIT_ENABLED"]:
                return checked(*args, **kwargs)
            return view(*args, **kwargs)
        return cast(View, route)
    return decorate


def battles_limit() -> str:
    return str(current_app.config["RATELIMIT_BATTLES"])


def votes_limit() -> str:
    return str(current_app.config["RATELIMIT_VOTES"])


def storage_uri(config: dict[str, object], instance_path: str) -> str:
    """The configured storage, or the per-host SQLite file in the instance folder."""
    uri = config.get("RATELIMIT_STORAGE_URI")
    return str(uri) if uri else f"sqlite:///{Path(instance_path) / RATELIMIT_FILE}"


def unshared_storage_problem(config: dict[str, object], processes: int) -> str | None:
    """Why these limits would not hold across ``processes`` worker processes, or ``None``."""
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if processes > 1 and config.get("RATELIMIT_ENABLED") and uri.startswith("memory://"):
        return (f"RATELIMIT_STORAGE_URI={uri} counts per process: with {processes} workers "
                f"every limit would be multiplied by {processes}. Leave it unset (a SQLite file "
                "shared by this host's workers), use redis://, or run one worker.")
    return None


def _retry_after_only_when_refused(response: Response) -> Response:
    # Flask-Limiter puts Retry-After on every response of a limited route; it means "come back
    # later" and belongs only on refusals (429, or 503 when the site sheds load).
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RATELIMIT_ENABLED"])
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config, app.instance_path)
    if not app.config["RATELIMIT_ENABLED"]:
        # Nothing to count: the routes skip the limiter (limited), and its before/after/
        # teardown hooks would only find it disabled on every request.
        return
    # after_request hooks run last-registered first: registered before Flask-Limiter's, this
    # one sees the headers the limiter has added.
    app.after_request(_retry_after_only_when_refused)
    limiter.init_app(app)
