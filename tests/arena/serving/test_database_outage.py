"""A database outage answers 503 + Retry-After (JSON under /api, a page elsewhere), never 500,
and leaves nothing half-written.

Real parts only: the app talks to the real PostgreSQL test server through a loopback TCP
relay started here; stopping the relay closes every connection and the port (a restart or
fail-over as the app sees it). "Too many clients" is PostgreSQL's own refusal: the app logs in
as a role whose connection limit is then set to 0.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from arena.models import Base

pytestmark = pytest.mark.skipif(not os.environ.get("ARENA_TEST_POSTGRES_URL"),
                                reason="needs the PostgreSQL test server")


class Relay:
    """Forwards a loopback port to PostgreSQL until stopped; can be started again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown, not only close: a thread blocked in accept() keeps a closed
            # listener alive on Linux; shutdown wakes it and the port refuses from now on.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _truncate(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def relay(postgres_engine: Engine) -> Iterator[Relay]:
    url = postgres_engine.url
    server = Relay(url.host or "127.0.0.1", url.port or 5432)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_url(postgres_engine: Engine, relay: Relay) -> Iterator[str]:
    """Overrides the shared fixture: PostgreSQL only, reached through the relay."""
    _truncate(postgres_engine)
    yield postgres_engine.url.set(host="127.0.0.1", port=relay.port).render_as_string(
        hide_password=False)
    _truncate(postgres_engine)


def _counts(engine: Engine) -> dict[str, int]:
    """Rows per table, read directly (not through the relay)."""
    with engine.connect() as conn:
        return {t.name: int(conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one())
                for t in Base.metadata.sorted_tables}


def _unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable"
    assert "try again" in error["message"]


@pytest.fixture
def battle(client: FlaskClient, make_contender: Callable[..., Any]) -> dict[str, Any]:
    make_contender()
    make_contender()
    response = client.post("/api/v1/battles", json={"prompt": "Why is the sea salty?"})
    assert response.status_code == 201
    return dict(response.get_json())


def test_api_answers_503_with_retry_after_while_the_database_is_down_and_writes_nothing(
        app: Flask, client: FlaskClient, postgres_engine: Engine, relay: Relay,
        battle: dict[str, Any]) -> None:
    before = _counts(postgres_engine)
    relay.stop()
    _unavailable(client.post("/api/v1/battles", json={"prompt": "And the rivers?"}))
    _unavailable(client.get(f"/api/v1/battles/{battle['id']}"))
    _unavailable(client.get(battle["stream_url"]))
    _unavailable(client.post(f"/api/v1/battles/{battle['id']}/vote",
                             json={"winner": "model_a"}))
    _unavailable(client.get("/api/v1/leaderboard"))
    # The refused stream holds no admission slot.
    admission = app.extensions.get("arena_stream_admission")
    assert admission is None or admission.open == 0
    relay.start()
    assert _counts(postgres_engine) == before
    assert client.get(f"/api/v1/battles/{battle['id']}").status_code == 200
    assert client.post("/api/v1/battles", json={"prompt": "And the rivers?"}).status_code == 201


def test_pages_answer_a_readable_503_page_while_the_database_is_down(
        client: FlaskClient, relay: Relay, battle: dict[str, Any]) -> None:
    relay.stop()
    for path in ("/leaderboard", f"/b/{battle['id']}"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "5"
        assert response.mimetype == "text/html"
        assert "nothing was saved" in response.get_data(as_text=True)


@pytest.fixture
def limited_role(postgres_engine: Engine) -> Iterator[str]:
    """A login role with every right on the test schema, dropped afterwards."""
    role = f"arena_outage_{uuid.uuid4().hex[:8]}"
    with postgres_engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    with postgres_engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT ALL ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"'))
    yield role
    with postgres_engine.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE usename = :role"), {"role": role})
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))


def test_too_many_clients_answers_503(app_config: dict[str, Any], tmp_path: Any,
                                      postgres_engine: Engine, limited_role: str,
                                      make_contender: Callable[..., Any]) -> None:
    from arena import create_app
    from arena.db import engine_for

    make_contender()
    make_contender()
    url = postgres_engine.url.set(username=limited_role)
    app = create_app({**app_config, "DATABASE_URL": url.render_as_string(hide_password=False)},
                     instance_path=str(tmp_path / "limited"))
    client = app.test_client()
    try:
        assert client.post("/api/v1/battles", json={"prompt": "One?"}).status_code == 201
        before = _counts(postgres_engine)
        with postgres_engine.begin() as conn:
            conn.execute(text(f'ALTER ROLE "{limited_role}" CONNECTION LIMIT 0'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE usename = :role"), {"role": limited_role})
        _unavailable(client.post("/api/v1/battles", json={"prompt": "Two?"}))
        assert _counts(postgres_engine) == before
    finally:
        engine_for(app).dispose()
