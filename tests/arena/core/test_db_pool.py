"""The shipped configuration never asks the database for more connections than it grants."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arena import create_app
from arena.db import engine_for, pool_size
from arena.errors import ConfigError

PG = "postgresql://arena@127.0.0.1:1/never-connected"


def _app(tmp_path: Path, **config: object) -> object:
    return create_app({"TESTING": True, "DATABASE_URL": PG, "SECRET_KEY": "s" * 32,
                       **config}, instance_path=str(tmp_path))


@pytest.mark.parametrize("workers", [1, 2, 4, 8])
def test_default_pools_of_all_workers_fit_the_connection_limit(tmp_path: Path,
                                                               workers: int) -> None:
    app = _app(tmp_path, WORKERS=workers)
    pool = engine_for(app).pool
    most = pool.size() + max(0, pool._max_overflow)  # type: ignore[attr-defined]
    c = app.config
    assert most >= 1
    assert c["HOSTS"] * workers * most + c["DB_RESERVED_CONNECTIONS"] <= c["DB_MAX_CONNECTIONS"]


def test_pool_is_the_share_of_the_budget_capped_at_the_thread_count() -> None:
    assert pool_size(max_connections=90, reserved=6, hosts=1, workers=4, threads=32) == 21
    assert pool_size(max_connections=90, reserved=6, hosts=1, workers=2, threads=8) == 8
    assert pool_size(max_connections=100, reserved=0, hosts=3, workers=4, threads=32) == 8


def test_a_budget_too_small_for_the_workers_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DB_MAX_CONNECTIONS"):
        _app(tmp_path, DB_MAX_CONNECTIONS=10, DB_RESERVED_CONNECTIONS=4, HOSTS=2, WORKERS=4)


@pytest.mark.skipif(not os.environ.get("ARENA_TEST_POSTGRES_URL"), reason="needs PostgreSQL")
def test_an_idle_connection_the_server_dropped_is_replaced_without_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    from arena import db as arena_db

    url = os.environ["ARENA_TEST_POSTGRES_URL"]
    engine, admin = arena_db.make_engine(url, pool=1), arena_db.make_engine(url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:  # reused at once: no ping, no round trip
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
        with admin.connect() as conn:  # the server drops the pooled connection (a restart)
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(arena_db, "PING_AFTER_IDLE_S", 0.0)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
        admin.dispose()


def test_the_statement_connection_is_in_autocommit_and_goes_back_out_of_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: arena.db.statement_connection switches its pooled psycopg connection to
    autocommit itself and switches it back on release, also when the server dropped it
    meanwhile (then it is discarded): the pool never hands a Session an autocommit
    connection, whose transaction would commit statement by statement."""
    from sqlalchemy import literal, select, text

    from arena import db as arena_db
    from arena.db import Prebuilt

    url = os.environ["ARENA_TEST_POSTGRES_URL"]
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "s" * 32,
                      "THREADS": 1}, instance_path=str(tmp_path))
    engine, admin = engine_for(app), arena_db.make_engine(url)
    try:
        for dropped in (False, True):
            with app.app_context():
                conn = arena_db.statement_connection()
                assert conn is not None and arena_db.statement_connection() is conn
                # A prebuilt statement on it opens no transaction (nothing to commit).
                assert Prebuilt(select(literal(1))).first(conn, {}) == (1,)
                assert not conn.in_transaction()
                pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                dbapi_connection = conn.connection.dbapi_connection
                assert dbapi_connection is not None and dbapi_connection.autocommit
                # No BEGIN was sent: the connection is idle, not in a transaction.
                assert dbapi_connection.info.transaction_status.name == "IDLE"
                if dropped:
                    with admin.connect() as other:
                        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                    monkeypatch.setattr(arena_db, "PING_AFTER_IDLE_S", 0.0)
                arena_db.release_statement_connection()
            with engine.connect() as conn:  # the pool's only connection
                again = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                dbapi_connection = conn.connection.dbapi_connection
                assert dbapi_connection is not None and not dbapi_connection.autocommit
                assert dbapi_connection.info.transaction_status.name == "INTRANS"
                assert (again != pid) if dropped else (again == pid)
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.skipif(not os.environ.get("ARENA_TEST_POSTGRES_URL"), reason="needs PostgreSQL")
def test_a_pooled_connection_psycopg_knows_is_closed_is_an_outage_not_a_500(
        tmp_path: Path) -> None:
    """Found in review: switching a dead psycopg connection to autocommit raised psycopg's own
    OperationalError, which the error handler did not know as an outage (500, not 503)."""
    from arena.models import Base

    url = os.environ["ARENA_TEST_POSTGRES_URL"]
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "s" * 32,
                      "THREADS": 1, "RATELIMIT_ENABLED": False}, instance_path=str(tmp_path))
    engine = engine_for(app)
    try:
        Base.metadata.create_all(engine)
        with engine.connect() as conn:  # the pool's only connection, closed under the pool
            raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.close()
        client = app.test_client()
        response = client.post("/api/v1/battles/no-such-battle/vote", json={"winner": "tie"})
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "database_unavailable"
        # The dead connection was discarded: the next request gets a working one.
        again = client.post("/api/v1/battles/no-such-battle/vote", json={"winner": "tie"})
        assert again.status_code == 404
    finally:
        engine.dispose()
