"""Helpers for the battle/vote flow tests (SSE parsing and ``start_battle`` are in the root
conftest)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.models import Answer, Battle, Contender, Turn, Vote, Voter


@pytest.fixture
def row_counts(db: Session) -> Callable[[], dict[str, int]]:
    """Rows per table, to check that a rejected request wrote nothing."""

    def counts() -> dict[str, int]:
        db.rollback()  # see other connections' commits
        return {model.__tablename__: int(db.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Battle, Turn, Answer, Vote, Voter, Contender)}

    return counts


@pytest.fixture
def battle_row(db: Session) -> Callable[[str], Battle]:
    """The battle row for a public id, freshly read."""

    def get(public_id: str) -> Battle:
        db.rollback()
        db.expire_all()
        battle = db.scalar(select(Battle).where(Battle.public_id == public_id))
        assert battle is not None
        return battle

    return get


class LiveServer:
    """The app served by a threaded werkzeug server on a loopback port."""

    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                cookie: str | None = None, timeout: float = 30.0
                ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request on its own connection: ``(status, headers, body)``."""
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if cookie:
            headers["Cookie"] = cookie
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


@pytest.fixture
def live_api(app: Any) -> Any:
    """A real HTTP server (one thread per request) for tests about concurrent requests."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="flow-live-api", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sql_statements(app: Flask) -> Callable[[], Any]:
    """``with sql_statements() as seen:`` collects the SQL the app sends, whitespace-folded."""
    from sqlalchemy import event

    from arena.db import engine_for

    @contextmanager
    def collect() -> Iterator[list[str]]:
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(" ".join(statement.split()))

        engine = engine_for(app)
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return collect
