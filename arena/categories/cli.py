"""``flask categories …``: re-label battles after a classifier change, regroup prompts."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from arena import db
from arena.categories.classify import CLASSIFIER_VERSION
from arena.categories.store import BATCH, regroup, relabel

categories_cli = AppGroup("categories", help="Prompt categories (labels per battle).")


@categories_cli.command("relabel")
@click.option("--all", "everything", is_flag=True,
              help="Re-label every battle, not only those of another classifier version.")
@click.option("--batch", type=click.IntRange(min=1), default=BATCH, show_default=True,
              help="Battles per transaction.")
def relabel_command(everything: bool, batch: int) -> None:
    """Label battles with the current classifier and recompute prompt groups (idempotent)."""
    session = db.session()
    count = relabel(session, everything=everything, batch=batch, commit=session.commit)
    session.commit()
    changed = regroup(session)
    session.commit()
    click.echo(f"labelled {count} battles with classifier {CLASSIFIER_VERSION}; "
               f"{changed} battles changed prompt group")


def init_app(app: Flask) -> None:
    app.cli.add_command(categories_cli)
