"""`arena.db.Prebuilt`: a hot path's statement run on the DBAPI cursor gives what
``Connection.execute`` gives (values, types, defaults, errors, events), on both backends."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.battles.lifecycle import _vote_target_query
from arena.db import Prebuilt, engine_for
from arena.models import Battle, Contender, Voter

WHEN = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _battle(db: Session) -> Battle:
    a = Contender(name="a", base_url="", upstream_model="m", is_public=False, alias="Dawn")
    b = Contender(name="b", base_url="", upstream_model="m", organization="Org", license="MIT")
    voter = Voter(id="v1", deletion_requested_at=WHEN)
    db.add_all([a, b, voter])
    db.flush()
    battle = Battle(public_id="p1", voter_id="v1", contender_a_id=a.id, contender_b_id=b.id,
                    state="ready", ready_at=WHEN, created_at=WHEN - timedelta(seconds=3),
                    updated_at=WHEN, features={"len": 3, "x": 0.5}, language="en",
                    propensity=0.25, prompt_group="g")
    db.add(battle)
    db.flush()
    return battle


def test_a_read_gives_the_row_connection_execute_gives(db: Session) -> None:
    _battle(db)
    statement = _vote_target_query()
    conn = db.connection()
    expected = tuple(conn.execute(statement, {"public_id": "p1"}).one())
    prebuilt = Prebuilt(statement)
    for _ in range(2):  # the second run uses the result processors kept from the first
        got = prebuilt.first(conn, {"public_id": "p1"})
        assert got == expected
        assert got is not None and [type(v) for v in got] == [type(v) for v in expected]
        # datetimes come back aware, in UTC (arena.models.UTCDateTime), as through SQLAlchemy
        assert got[4] == WHEN and got[4].utcoffset() == timedelta(0)
        assert isinstance(got[15], float) and got[15] == 0.25
    assert prebuilt.first(conn, {"public_id": "nothing"}) is None


def test_an_insert_gets_the_columns_constant_defaults(db: Session) -> None:
    battle = _battle(db)
    statement = (insert(Battle)
                 .values(public_id=bindparam("public_id"), voter_id=bindparam("voter_id"),
                         contender_a_id=bindparam("a"), contender_b_id=bindparam("b"),
                         created_at=bindparam("now", type_=Battle.created_at.type),
                         updated_at=bindparam("now", type_=Battle.updated_at.type))
                 .returning(Battle.anony, Battle.source, Battle.flagged, Battle.state,
                            Battle.created_at))
    row = Prebuilt(statement).first(db.connection(), {
        "public_id": "p2", "voter_id": "v1", "a": battle.contender_a_id,
        "b": battle.contender_b_id, "now": WHEN})
    assert row == (True, "arena", False, "pending", WHEN)


def test_a_driver_error_is_raised_as_sqlalchemys(db: Session) -> None:
    _battle(db)
    statement = Prebuilt(insert(Voter).values(
        id=bindparam("id"), created_at=bindparam("now", type_=Voter.created_at.type))
        .returning(Voter.id))
    assert statement.first(db.connection(), {"id": "v2", "now": WHEN}) == ("v2",)
    with pytest.raises(IntegrityError):
        statement.first(db.connection(), {"id": "v1", "now": WHEN})


def test_engine_listeners_see_the_statement(db: Session) -> None:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = engine_for()
    event.listen(engine, "before_cursor_execute", record)
    try:
        Prebuilt(select(Voter.id).where(Voter.id == bindparam("id"))).first(
            db.connection(), {"id": "nobody"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1 and seen[0].startswith("SELECT voter.id")


def test_a_default_that_is_not_a_constant_is_refused() -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("n", Integer, default=lambda: 1))
    prebuilt = Prebuilt(insert(table).values(id=bindparam("id")).returning(table.c.id))
    with pytest.raises(TypeError, match="not a constant"):
        prebuilt._for(sqlite.dialect())


def test_a_write_on_a_connection_not_yet_in_a_transaction_is_committed(db: Session) -> None:
    # Regression: Connection.execute begins the connection's transaction and Prebuilt did
    # not, so the DBAPI's implicit transaction was never committed by ``conn.commit()`` (a
    # no-op with none begun) and the pool rolled the write back when the connection closed.
    statement = Prebuilt(insert(Voter).values(
        id=bindparam("id"), created_at=bindparam("now", type_=Voter.created_at.type))
        .returning(Voter.id))
    with engine_for().connect() as conn:
        assert statement.first(conn, {"id": "v-plain", "now": WHEN}) == ("v-plain",)
        conn.commit()
    try:
        assert db.get(Voter, "v-plain") is not None
    finally:
        with engine_for().begin() as conn:
            conn.execute(Voter.__table__.delete().where(Voter.id == "v-plain"))


def test_statements_on_one_pooled_connection_share_a_cursor_that_outlives_an_error(
        db: Session) -> None:
    """PostgreSQL: Prebuilt statements reuse one cursor per pooled connection (SQLite: one per
    statement); a statement that failed drops and closes it, and the next one works on a new
    one with the right rows."""
    _battle(db)
    cursors: list[Any] = []

    def record(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(("SELECT voter.id", "INSERT INTO voter")):  # not SAVEPOINTs
            cursors.append(cursor)

    read = Prebuilt(select(Voter.id).where(Voter.id == bindparam("id")))
    add = Prebuilt(insert(Voter).values(
        id=bindparam("id"), created_at=bindparam("now", type_=Voter.created_at.type))
        .returning(Voter.id))
    engine = engine_for()
    event.listen(engine, "before_cursor_execute", record)
    try:
        conn = db.connection()
        assert read.first(conn, {"id": "v1"}) == ("v1",)
        assert read.first(conn, {"id": "nobody"}) is None
        assert add.first(conn, {"id": "v3", "now": WHEN}) == ("v3",)
        nested = conn.begin_nested()  # the failed INSERT must not abort the test's transaction
        with pytest.raises(IntegrityError):
            add.first(conn, {"id": "v1", "now": WHEN})
        nested.rollback()
        assert read.first(conn, {"id": "v3"}) == ("v3",)
        assert read.first(conn, {"id": "v1"}) == ("v1",)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(cursors) == 6
    if conn.dialect.name == "postgresql":
        assert all(c is cursors[0] for c in cursors[:4]), "one cursor until the error"
        assert cursors[4] is cursors[5] and cursors[4] is not cursors[0], "a new one after it"
        assert cursors[0].closed and not cursors[5].closed
    else:
        assert len({id(c) for c in cursors}) > 1


class _SQLiteOf312(sqlite3.Connection):
    """A real sqlite3 connection that reports ``autocommit`` as Python 3.12+'s sqlite3 does by
    default (``sqlite3.LEGACY_TRANSACTION_CONTROL``, -1: implicit transactions, not
    autocommit); on Python 3.11 the attribute does not exist."""

    autocommit = -1


def test_a_write_is_committed_on_a_sqlite_connection_that_reports_legacy_autocommit(
        tmp_path: Path) -> None:
    # Regression: Prebuilt took any truthy ``autocommit`` for autocommit and did not begin
    # the connection's transaction, so on Python 3.12+ (requires-python >= 3.11) a SQLite
    # write was never committed by ``conn.commit()`` and the pool rolled it back.
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    engine = create_engine(f"sqlite:///{tmp_path / 'legacy.db'}",
                           connect_args={"factory": _SQLiteOf312})
    try:
        table.create(engine)
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection.autocommit == -1  # type: ignore[union-attr]
            prebuilt = Prebuilt(insert(table).values(id=bindparam("id")).returning(table.c.id))
            assert prebuilt.first(conn, {"id": 7}) == (7,)
            conn.commit()
        with engine.connect() as conn:
            assert conn.execute(select(table.c.id)).scalars().all() == [7]
    finally:
        engine.dispose()
