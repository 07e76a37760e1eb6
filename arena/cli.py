"""Flask CLI commands: database migrations, contender sync and battle housekeeping.

Leaderboard publishing and data releases register their own groups (see their packages).
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from arena import battles, db, migrate
from arena.contenders import load_contenders, sync_contenders
from arena.errors import ArenaError
from arena.models import utcnow

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
contenders_cli = AppGroup("contenders", help="Contenders declared in a YAML file.")
battles_cli = AppGroup("battles", help="Battle housekeeping (for cron).")


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
        report = sync_contenders(
            session, specs,
            max_private_per_org=int(current_app.config["PRIVATE_TEST_MAX_PER_ORG"]))
        session.commit()
    except ArenaError as exc:
        raise click.ClickException(exc.message) from None
    for key in ("added", "updated", "retired"):
        if report[key]:
            click.echo(f"{key}: {', '.join(report[key])}")
    click.echo(f"{len(specs)} contenders in {path}")


@battles_cli.command("reap")
@click.option("--pending-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="Abandon battles whose stream was never opened for this long.")
@click.option("--generating-minutes", type=click.FloatRange(min=0), default=30.0,
              show_default=True,
              help="Abandon battles stuck generating this long (their web process died); "
                   "keep it above the longest contender total timeout.")
def battles_reap(pending_hours: float, generating_minutes: float) -> None:
    """Mark battles that can no longer finish as abandoned (idempotent)."""
    session = db.session()
    counts = battles.reap_stale(session, now=utcnow(),
                                pending_after=timedelta(hours=pending_hours),
                                generating_after=timedelta(minutes=generating_minutes))
    session.commit()
    click.echo(f"abandoned {counts['pending']} pending and {counts['generating']} "
               "generating battles")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(contenders_cli)
    app.cli.add_command(battles_cli)
