"""Database engine per app, one SQLAlchemy session per request (cached on ``g``).

Domain functions take a ``Session`` and never commit; the view or CLI command that owns the
unit of work commits. A request that raised is rolled back at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_EXT = "arena_db"


def make_engine(url: str) -> Engine:
    """Create an engine with the settings this app relies on for each backend."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers proceed while a vote is written; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[_EXT] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine_for(app: Flask | None = None) -> Engine:
    factory = (app or current_app).extensions[_EXT]
    return factory.kw["bind"]


def session() -> Session:
    """The request's (or app context's) session, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[_EXT]()
    return g.db_session


@contextmanager
def new_session(app: Flask | None = None) -> Iterator[Session]:
    """A session outside the request's one (background work, streaming generators)."""
    factory = (app or current_app).extensions[_EXT]
    db = factory()
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def _close_session(exc: BaseException | None) -> None:
    db = g.pop("db_session", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()
