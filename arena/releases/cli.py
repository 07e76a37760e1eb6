"""``flask releases cut|scrub|push|list``: cron-ready, idempotent release jobs."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena import db as arena_db
from arena.errors import ArenaError
from arena.models import DataRelease, utcnow
from arena.releases.cut import (
    ReleaseSettings,
    cut_release,
    discard_release_files,
    due_windows,
    next_window_opens,
    parse_now,
    release_folder,
)
from arena.releases.hub import PushError, hub_api, push_release
from arena.releases.scrubbed import BATCH, scrub_pending

log = logging.getLogger(__name__)

releases_cli = AppGroup("releases", help="Rolling data releases (Parquet/JSONL + card).")


@contextlib.contextmanager
def _exclusive(releases_dir: Path) -> Iterator[bool]:
    """An advisory lock so overlapping cron runs on one host never write the same window."""
    releases_dir.mkdir(parents=True, exist_ok=True)
    with (releases_dir / ".cut.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _push_all(db: Session, settings: ReleaseSettings, names: tuple[str, ...] = ()) -> None:
    repo = current_app.config["RELEASE_HUB_REPO"]
    if not repo:
        raise PushError("Set RELEASE_HUB_REPO (e.g. ARENA_RELEASE_HUB_REPO=my-org/arena-votes) "
                        "to push. The local releases are intact.", code="no_repo")
    releases = list(db.scalars(select(DataRelease).order_by(DataRelease.window_start)))
    known = {r.name for r in releases}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PushError(f"No such release: {', '.join(unknown)}.", code="not_found")
    todo = [r for r in releases if (not names or r.name in names)
            and not (r.pushed_at is not None and r.hub_repo == repo)]
    if not todo:
        click.echo(f"nothing to push: every release is on {repo}")
        return
    api = hub_api()
    # End the read transaction: each upload is a network call, and no transaction may stay
    # open across one (rows stay loaded: the session does not expire them on commit).
    db.commit()
    for release in todo:
        pushed = push_release(api, repo, release, release_folder(settings, release), releases,
                              current_app.config.get("PUBLIC_URL"), utcnow())
        db.commit()
        if pushed:
            click.echo(f"pushed {release.name} to {repo} (commit {release.hub_revision})")
        else:
            click.echo(f"{release.name} was already on {repo}")


def _cut_due(db: Session, settings: ReleaseSettings, now: datetime) -> list[DataRelease]:
    released = []
    for window in due_windows(db, settings, now):
        release = cut_release(db, window, settings)
        if release is None:
            click.echo(f"window {window.name}: nothing releasable, skipped")
            continue
        try:
            db.commit()
        except Exception:
            db.rollback()
            discard_release_files(settings, window.name)
            raise
        released.append(release)
        click.echo(f"released {release.name}: {release.n_battles} battles in "
                   f"{release_folder(settings, release)}")
    return released


#: Clock skew tolerated for ``--now`` before it counts as the future.
FUTURE_SLACK = timedelta(minutes=5)


@releases_cli.command("cut")
@click.option("--now", "now_text", default=None, metavar="ISO",
              help="Cut as if it were this time (UTC if no offset); for tests and backfills.")
@click.option("--push", is_flag=True, help="Then upload unpushed releases to the Hub.")
def cut_command(now_text: str | None, push: bool) -> None:
    """Release every complete window past the embargo that is not released yet."""
    try:
        settings = ReleaseSettings.from_config(current_app.config)
        now = parse_now(now_text)
        if now > utcnow() + FUTURE_SLACK:
            # A window "released" early would miss the votes still to come in it, and its
            # card would claim a complete window that is not.
            raise click.ClickException(
                f"--now {now.isoformat()} is in the future; releases can only be cut up to "
                "the present (omit --now to use the clock)")
        db = arena_db.session()
        with _exclusive(settings.releases_dir) as locked:
            if not locked:
                click.echo("another `releases cut` is running; nothing done")
                return
            released = _cut_due(db, settings, now)
        if not released:
            opens = next_window_opens(db, settings, now)
            when = f"; the next window can be released from {opens.isoformat()}" if opens else ""
            click.echo(f"nothing to release{when}")
        if push:
            _push_all(db, settings)
    except ArenaError as exc:
        raise click.ClickException(exc.message) from None


@releases_cli.command("scrub")
@click.option("--batch", type=click.IntRange(min=1), default=BATCH, show_default=True,
              help="Battles scrubbed and committed at a time.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Stop after this many battles (default: every pending one).")
def scrub_command(batch: int, limit: int | None) -> None:
    """Scrub and store the texts of voted battles not scrubbed yet, so cuts need not.

    Run it from cron (e.g. every 10 minutes, like `battles reap`): a cut then reads the stored
    copies and scrubs only what is missing. Safe to run beside the site and beside a cut.
    """
    db = arena_db.session()
    report = scrub_pending(db, batch=batch, limit=limit)
    click.echo(f"scrubbed the texts of {report.turns} turns ({report.chars} characters)")


@releases_cli.command("push")
@click.argument("names", nargs=-1)
def push_command(names: tuple[str, ...]) -> None:
    """Upload releases not yet on the Hub (all, or NAMES), one commit per release."""
    try:
        settings = ReleaseSettings.from_config(current_app.config)
        _push_all(arena_db.session(), settings, names)
    except ArenaError as exc:
        raise click.ClickException(exc.message) from None


@releases_cli.command("list")
def list_command() -> None:
    """Show recorded releases."""
    db = arena_db.session()
    rows = list(db.scalars(select(DataRelease).order_by(DataRelease.window_start)))
    if not rows:
        click.echo("no releases yet")
    for r in rows:
        hub = f" hub={r.hub_repo}@{r.hub_revision}" if r.pushed_at else ""
        click.echo(f"{r.name} battles={r.n_battles} manifest={r.manifest_sha256}{hub}")
