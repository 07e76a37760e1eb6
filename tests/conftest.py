"""Shared fixtures: the app on every configured database backend, clients, factories.

Backends: SQLite always; PostgreSQL when ``ARENA_TEST_POSTGRES_URL`` is set (the Makefile and
CI set it to the local server). A configured but unreachable PostgreSQL fails the run instead
of skipping, so CI can never go green without it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from arena import create_app
from arena.db import make_engine
from arena.models import Base, Contender

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "arena"
SECRET = "test-secret-key-0123456789abcdef"


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get("ARENA_TEST_POSTGRES_URL"):
        backends.append("postgresql")
    return backends


@contextmanager
def _private_schema(prefix: str) -> Iterator[Engine]:
    """An engine whose search path is a new, empty schema of the PostgreSQL test database.

    A schema of its own lets several pytest runs (and tests that need an empty database)
    share one server without dropping or truncating each other's tables.
    """
    url = os.environ["ARENA_TEST_POSTGRES_URL"]
    admin = make_engine(url)
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - environment problem, reported loudly
        admin.dispose()
        pytest.fail(f"ARENA_TEST_POSTGRES_URL={url} is set but unusable: {exc}")
    sep = "&" if "?" in url else "?"
    engine = make_engine(f"{url}{sep}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """The session's PostgreSQL schema with every table; tests truncate it between them."""
    with _private_schema("test") as engine:
        Base.metadata.create_all(engine)
        yield engine


@pytest.fixture(params=_backends())
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all, for each backend (migration tests)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        with _private_schema("empty") as engine:
            yield engine


def _truncate(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database with the schema, one per test, for each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
    else:
        engine = request.getfixturevalue("postgres_engine")
        _truncate(engine)
        yield engine.url.render_as_string(hide_password=False)
        _truncate(engine)


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """The test mapping; tests may tweak it before the ``app`` fixture is first used."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "RATELIMIT_ENABLED": False,
        "RELEASES_DIR": str(tmp_path / "releases"),
    }


@pytest.fixture
def app(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    application = create_app(app_config, instance_path=str(tmp_path / "instance"))
    yield application
    from arena.db import engine_for
    engine_for(application).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session inside an app context, for arranging and asserting database state."""
    from arena import db as arena_db
    with app.app_context():
        session = arena_db.session()
        yield session
        session.rollback()


@pytest.fixture(scope="session")
def demo_endpoint() -> Iterator[Any]:
    """The built-in demo inference server on a loopback port, with fault models enabled."""
    from arena import demo_endpoint as demo
    with demo.start(port=0, delay=0.0, faults=True) as server:
        yield server


@pytest.fixture
def make_contender(db: Session, demo_endpoint: Any) -> Callable[..., Contender]:
    """Factory: a contender served by the demo endpoint (``model`` picks its style/fault)."""
    counter = iter(range(1, 10_000))

    def factory(name: str | None = None, model: str = "demo-brief", **fields: Any) -> Contender:
        n = next(counter)
        values: dict[str, Any] = {
            "name": name or f"Contender {n}", "organization": f"Org {n}", "license": "MIT",
            "base_url": demo_endpoint.url, "upstream_model": model,
            "read_timeout": 5.0, "total_timeout": 20.0, "connect_timeout": 2.0,
        }
        values.update(fields)
        contender = Contender(**values)
        db.add(contender)
        db.commit()
        return contender

    return factory


Events = list[tuple[str, Any]]


def parse_sse(raw: str) -> Events:
    """``(event, data)`` pairs of a server-sent event stream; comment lines are skipped."""
    events: Events = []
    for block in raw.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
        if data is not None:
            events.append((name, data))
    return events


@pytest.fixture
def sse() -> Callable[[str], Events]:
    return parse_sse


@pytest.fixture
def start_battle(client: FlaskClient) -> Callable[..., tuple[dict[str, Any], Events]]:
    """POST a battle and read its whole stream: ``(creation JSON, events)``."""

    def start(prompt: str = "Explain why the sky is blue.", **extra: Any
              ) -> tuple[dict[str, Any], Events]:
        created = client.post("/api/v1/battles", json={"prompt": prompt, **extra})
        assert created.status_code == 201, created.get_json()
        body = created.get_json()
        stream = client.get(body["stream_url"])
        assert stream.status_code == 200
        return body, parse_sse(stream.get_data(as_text=True))

    return start
