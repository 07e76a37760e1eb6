"""Streams under failure: probes, dead generators, database outages, vanished clients, load.

Every test runs on SQLite and PostgreSQL. Outages are real failures of the app's own engine:
new connections are refused for a while (and on PostgreSQL the app's open connections are
terminated by the server with ``pg_terminate_backend``), never a mocked session.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from arena import demo_endpoint as demo
from arena.battles import claim_generation, generation
from arena.db import engine_for, new_session
from arena.models import Answer, Battle, Turn, utcnow


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # A name of our own on PostgreSQL, so an outage terminates only this app's connections.
    url = app_config["DATABASE_URL"]
    if url.startswith("postgresql"):
        sep = "&" if "?" in url else "?"
        app_config["DATABASE_URL"] = f"{url}{sep}application_name=outage_{uuid.uuid4().hex[:12]}"
    return app_config


class Outage:
    """The database refuses the app's new connections until ``end``; open ones are cut."""

    def __init__(self, app: Flask) -> None:
        self.engine = engine_for(app)
        self.down = threading.Event()
        event.listen(self.engine, "do_connect", self._connect)

    def _connect(self, dialect: Any, _rec: Any, _cargs: Any, _cparams: Any) -> None:
        if self.down.is_set():
            raise dialect.dbapi.OperationalError("simulated outage: connection refused")

    def start(self) -> None:
        self.down.set()
        if self.engine.dialect.name == "postgresql":
            name = self.engine.url.query["application_name"]
            admin = self.engine.url.set(query={})
            from arena.db import make_engine
            killer = make_engine(admin.render_as_string(hide_password=False))
            with killer.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE application_name = :n"), {"n": name})
            killer.dispose()
        # Idle pooled connections would hide the outage on SQLite (a file never goes away).
        self.engine.dispose()

    def end(self) -> None:
        self.down.clear()

    def for_seconds(self, seconds: float) -> None:
        self.start()
        timer = threading.Timer(seconds, self.end)
        timer.daemon = True
        timer.start()


def _chunks(response: Any) -> Iterator[str]:
    return (c.decode() if isinstance(c, bytes) else c for c in response.response)


def test_head_on_a_stream_never_claims_generation(
        client: FlaskClient, make_contender: Any, battle_row: Any, sse: Any) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Hello there?"}).get_json()
    head = client.head(body["stream_url"])
    assert head.status_code == 200 and head.mimetype == "text/event-stream"
    assert battle_row(body["id"]).state == "pending"
    events = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert events[-1] == ("end", {"state": "ready", "flagged": False})


def _claim_long_ago(app: Flask, public_id: str, minutes: float) -> None:
    """A generator that claimed the battle ``minutes`` ago and died (no heartbeat since)."""
    with new_session(app) as session:
        battle_id = session.scalar(select(Battle.id).where(Battle.public_id == public_id))
        assert battle_id is not None
        assert claim_generation(session, battle_id,
                                utcnow() - timedelta(minutes=minutes)) is not None
        session.commit()


def test_dead_generator_is_recovered_when_its_owner_reads_the_battle(
        app: Flask, client: FlaskClient, make_contender: Any, battle_row: Any,
        sse: Any) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Hello there?"}).get_json()
    _claim_long_ago(app, body["id"], minutes=2)
    shown = client.get(f"/api/v1/battles/{body['id']}").get_json()
    assert shown["state"] == "pending"  # the page can stream it again
    events = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert events[-1] == ("end", {"state": "ready", "flagged": False})
    assert client.post(f"/api/v1/battles/{body['id']}/vote",
                       json={"winner": "tie"}).status_code == 200


def test_dead_generator_is_taken_over_by_the_owners_retry(
        app: Flask, client: FlaskClient, make_contender: Any, battle_row: Any,
        sse: Any) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Hello there?"}).get_json()
    _claim_long_ago(app, body["id"], minutes=2)
    events = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert events[-1] == ("end", {"state": "ready", "flagged": False})
    assert battle_row(body["id"]).state == "ready"


def test_a_live_generator_is_not_taken_over(
        app: Flask, client: FlaskClient, make_contender: Any, sse: Any) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Hello there?"}).get_json()
    _claim_long_ago(app, body["id"], minutes=0.2)  # 12 s ago: still within its heartbeat
    events = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert events[0][1]["code"] == "already_streaming"
    assert client.get(f"/api/v1/battles/{body['id']}").get_json()["state"] == "generating"


def test_finished_answers_survive_a_short_database_outage(
        app: Flask, client: FlaskClient, make_contender: Any, battle_row: Any,
        db: Session, sse: Any) -> None:
    make_contender(model="demo-brief")
    make_contender(model="demo-markdown")
    outage = Outage(app)
    body = client.post("/api/v1/battles", json={"prompt": "Name three rivers."}).get_json()
    response = client.get(body["stream_url"])
    chunks = _chunks(response)
    assert next(chunks).startswith(":")  # claimed and planned; the endpoints answer next
    outage.for_seconds(2.0)
    started = time.monotonic()
    events = sse("".join(chunks))
    assert time.monotonic() - started >= 1.5  # the write really waited for the database
    assert events[-1] == ("end", {"state": "ready", "flagged": False})
    assert [n for n, _ in events].count("done") == 2
    assert battle_row(body["id"]).state == "ready"
    assert len(list(db.scalars(select(Answer).join(Turn)
                               .where(Turn.battle_id == battle_row(body["id"]).id)))) == 2


def test_a_stream_that_cannot_save_sends_an_error_and_the_battle_recovers(
        app: Flask, client: FlaskClient, make_contender: Any, battle_row: Any,
        monkeypatch: pytest.MonkeyPatch, sse: Any) -> None:
    make_contender(model="demo-brief")
    make_contender(model="demo-markdown")
    monkeypatch.setattr(generation, "WRITE_RETRY_S", 0.5)
    outage = Outage(app)
    body = client.post("/api/v1/battles", json={"prompt": "Name three rivers."}).get_json()
    response = client.get(body["stream_url"])
    chunks = _chunks(response)
    assert next(chunks).startswith(":")
    outage.start()
    try:
        events = sse("".join(chunks))
    finally:
        outage.end()
    names = [n for n, _ in events]
    assert "error" in names and "done" not in names
    error = dict(events)["error"]
    assert error["code"] == "storage_unavailable"
    assert events[-1][0] == "end"
    assert battle_row(body["id"]).state == "generating"  # nobody could write anything
    # Later (the heartbeat has gone stale) the owner's retry generates it again.
    _age_heartbeat(app, body["id"], minutes=2)
    retry = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert retry[-1] == ("end", {"state": "ready", "flagged": False})


def _age_heartbeat(app: Flask, public_id: str, minutes: float) -> None:
    with new_session(app) as session:
        session.execute(Battle.__table__.update().where(Battle.public_id == public_id)
                        .values(heartbeat_at=utcnow() - timedelta(minutes=minutes),
                                updated_at=utcnow() - timedelta(minutes=minutes)))
        session.commit()


def test_a_vanished_client_is_noticed_within_seconds_while_endpoints_hang(
        app: Flask, live_api: Any, make_contender: Any, battle_row: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_contender(model="fault-hang", read_timeout=30.0, total_timeout=60.0)
    make_contender(model="fault-hang", read_timeout=30.0, total_timeout=60.0)
    monkeypatch.setattr(generation, "KEEPALIVE_S", 0.3)
    status, headers, raw = live_api.request("POST", "/api/v1/battles", {"prompt": "Hi?"})
    assert status == 201
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    created = json.loads(raw)
    public_id = created["id"]
    port = int(live_api.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {created['stream_url']} HTTP/1.1\r\nHost: x\r\n"
                     f"Cookie: {cookie}\r\n\r\n".encode())
        assert b"200" in sock.recv(4096)
        assert battle_row(public_id).state == "generating"
    # The browser is gone; both endpoints still hang (30 s read timeout).
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and battle_row(public_id).state == "generating":
        time.sleep(0.1)
    assert battle_row(public_id).state == "abandoned"


def test_streams_past_the_bound_get_503_with_retry_after(
        app_config: dict[str, Any], make_contender: Any, app: Flask) -> None:
    app.config["MAX_STREAMS_PER_WORKER"] = 1
    client = app.test_client()
    make_contender(model="fault-hang", read_timeout=30.0, total_timeout=60.0)
    make_contender(model="fault-hang", read_timeout=30.0, total_timeout=60.0)
    first = client.post("/api/v1/battles", json={"prompt": "One?"}).get_json()
    second = client.post("/api/v1/battles", json={"prompt": "Two?"}).get_json()
    holding = client.get(first["stream_url"])
    refused = client.get(second["stream_url"])
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.get_json()["error"]["code"] == "streams_full"
    assert client.get("/").status_code == 200  # other routes are unaffected
    holding.close()
    again = client.get(second["stream_url"])
    assert again.status_code == 200
    again.close()


@pytest.fixture
def twin_servers() -> Iterator[tuple[demo.DemoServer, demo.DemoServer]]:
    """Two demo servers: the same model answers identically on both, one of them slowly."""
    with demo.start(delay=0.0) as fast, demo.start(delay=0.02) as slow:
        yield fast, slow


def test_identical_text_at_different_speed_and_usage_streams_identical_bytes(
        app: Flask, client: FlaskClient, make_contender: Any, sse: Any,
        twin_servers: tuple[demo.DemoServer, demo.DemoServer]) -> None:
    fast, slow = twin_servers
    make_contender(model="demo-brief", base_url=fast.url)
    # No usage reported and a slower, later stream: everything differs but the text.
    make_contender(model="demo-brief", base_url=slow.url, params={"stream_options": None})
    body = client.post("/api/v1/battles", json={"prompt": "Why is the sea salty?"}).get_json()
    events = sse(client.get(body["stream_url"]).get_data(as_text=True))

    def side(name: str) -> tuple[str, list[dict[str, Any]]]:
        texts = "".join(d["text"] for n, d in events if n == "delta" and d["side"] == name)
        other = [{k: v for k, v in d.items() if k != "side"}
                 for n, d in events if n not in ("delta",) and d.get("side") == name]
        return texts, other

    assert side("a") == side("b") and side("a")[0]
    done = [n for n, _ in events if n in ("done", "end")]
    assert done == ["done", "done", "end"]  # both completions released together
    view = client.get(f"/api/v1/battles/{body['id']}").get_json()
    assert view["turns"][0]["a"] == view["turns"][0]["b"]
    client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "tie"})
    after = client.get(f"/api/v1/battles/{body['id']}").get_json()["turns"][0]
    assert {after["a"]["tokens"], after["b"]["tokens"]} == {None, after["a"]["tokens"]
                                                            or after["b"]["tokens"]}
    assert after["a"]["latency_ms"] is not None and after["b"]["latency_ms"] is not None
