"""Flask CLI commands: database migrations and contender sync.

Leaderboard publishing and data releases register their own groups (see their packages).
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from arena import db, migrate
from arena.contenders import load_contenders, sync_contenders
from arena.errors import ArenaError

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
contenders_cli = AppGroup("contenders", help="Contenders declared in a YAML file.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to REVISION (default: head)."""
    migrate.upgrade(db.engine_for(), revision)
    click.echo(f"database at revision {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    migrate.revision(db.engine_for(), message)


@contenders_cli.command("sync")
@click.argument("path", required=False)
def contenders_sync(path: str | None) -> None:
    """Validate PATH (default: config CONTENDERS_FILE) and sync it into the database."""
    path = path or current_app.config["CONTENDERS_FILE"]
    if not path:
        raise click.UsageError("give a contenders file or set ARENA_CONTENDERS_FILE")
    try:
        specs = load_contenders(path)
        session = db.session()
        report = sync_contenders(session, specs)
        session.commit()
    except ArenaError as exc:
        raise click.ClickException(exc.message) from None
    for key in ("added", "updated", "retired"):
        if report[key]:
            click.echo(f"{key}: {', '.join(report[key])}")
    click.echo(f"{len(specs)} contenders in {path}")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(contenders_cli)
