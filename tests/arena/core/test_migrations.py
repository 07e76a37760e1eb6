"""Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from arena import migrate
from arena.models import Base


def test_upgrade_creates_every_table_and_matches_models(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with empty_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_twice_is_a_no_op(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        revision = conn.execute(text("select version_num from alembic_version")).scalar_one()
    assert revision
