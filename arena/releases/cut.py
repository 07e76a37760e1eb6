"""Cutting releases: which windows are due, and writing one window's files atomically.

Windows are ``RELEASE_WINDOW_DAYS`` long and back to back. The first starts at midnight UTC of
the day of the earliest eligible vote; every later one starts where the last recorded release
ended, so windows never shift even if old votes are later deleted. A window is due when its end
is at most ``now - RELEASE_EMBARGO_DAYS``. A due window with nothing to publish is skipped (and
looked at again by the next run, which costs one query).

A release is written into a hidden temporary folder and renamed into place; the caller commits
the :class:`DataRelease` row afterwards and removes the folder if that commit fails. A folder
without a row (a crash between the two) is replaced on the next run. The files depend only on
the data, the configuration and the code version, never on the wall clock.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shlex
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

import arena
import ratings
from arena import ledger
from arena.errors import ArenaError
from arena.leaderboard.data import (
    DEFAULT_REG,
    VIEWS,
    RatedBattle,
    ViewSpec,
    as_facts,
    configured_reg,
    eligible_battles,
    first_eligible_vote,
    media_views,
    varying_features,
    view_battles,
)
from arena.media import LocalMediaStore
from arena.models import DataRelease, utcnow
from arena.releases.card import dataset_card
from arena.releases.media import MediaRelease, card_section, rows_file, write_media_release
from arena.releases.rows import ANSWER_COLUMNS, EXCLUSION_REASONS, WindowRows, release_rows

log = logging.getLogger(__name__)

PARQUET = "battles.parquet"
JSONL = "battles.jsonl"
CARD = "README.md"
SNAPSHOT = "leaderboard.json"
MANIFEST = "manifest.json"
LEDGER = "ledger.jsonl"
#: Views whose snapshot every release carries (category views are left to the reader).
RELEASE_VIEWS = tuple(v for v in VIEWS if not v.category)

_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema(
    [("question_id", pa.string()), ("model_a", pa.string()), ("model_b", pa.string()),
     ("winner", pa.string()), ("weight", pa.float64()), ("tstamp", pa.float64()),
     ("turn", pa.int64()), ("language", pa.string()), ("anony", pa.bool_()),
     ("source", pa.string()), ("voter", pa.string()), ("labels", pa.list_(pa.string())),
     ("category_version", pa.string())]
    + [(f"{name}_{side}", pa.float64()) for name in ratings.FEATURE_NAMES for side in "ab"]
    + [("features_complete", pa.bool_())]
    + [(f"{column}_{side}", pa.int64()) for side in "ab" for column in ANSWER_COLUMNS]
    + [("conversation_a", pa.list_(_MESSAGE)), ("conversation_b", pa.list_(_MESSAGE))]
)


class ReleaseError(ArenaError):
    status = 500
    code = "release_error"


@dataclass(frozen=True)
class ReleaseSettings:
    """What a cut needs from the configuration, as plain values."""

    releases_dir: Path
    window_days: int
    embargo_days: int
    secret_key: str
    linkable: bool
    n_bootstrap: int
    seed: int
    reg: float = DEFAULT_REG
    public_url: str | None = None
    media_dir: Path | None = None  # the media store; media arenas are released from it

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReleaseSettings:
        if int(config["RELEASE_WINDOW_DAYS"]) < 1:
            raise ReleaseError("Config RELEASE_WINDOW_DAYS must be at least 1.")
        return cls(
            releases_dir=Path(config["RELEASES_DIR"]),
            window_days=int(config["RELEASE_WINDOW_DAYS"]),
            embargo_days=int(config["RELEASE_EMBARGO_DAYS"]),
            secret_key=str(config["SECRET_KEY"]),
            linkable=bool(config["RELEASE_LINKABLE_PSEUDONYMS"]),
            n_bootstrap=int(config["LEADERBOARD_BOOTSTRAP"]),
            seed=int(config["LEADERBOARD_SEED"]),
            reg=configured_reg(config.get("LEADERBOARD_REG")),
            public_url=config.get("PUBLIC_URL"),
            media_dir=Path(config["MEDIA_DIR"]) if config.get("MEDIA_DIR") else None,
        )


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def name(self) -> str:
        """Release name: first day and the (exclusive) end day, e.g. ``2026-01-01_2026-01-31``."""
        return f"{self.start:%Y-%m-%d}_{self.end:%Y-%m-%d}"


def _next_start(db: Session, until: datetime | None = None) -> datetime | None:
    """Start of the next window: the last release's end, else midnight UTC of the first vote.

    Only votes before ``until`` count; None when there is neither a release nor such a vote.
    """
    last_end = db.scalar(select(DataRelease.window_end)
                         .order_by(DataRelease.window_end.desc()).limit(1))
    if last_end is not None:
        return last_end
    first = first_eligible_vote(db, until=until)
    if first is None:
        return None
    return first.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def due_windows(db: Session, settings: ReleaseSettings, now: datetime) -> list[Window]:
    """Complete, embargo-free windows after the last recorded release, oldest first."""
    horizon = now - timedelta(days=settings.embargo_days)
    length = timedelta(days=settings.window_days)
    start = _next_start(db, until=horizon)
    if start is None:
        return []
    windows = []
    while start + length <= horizon:
        windows.append(Window(start, start + length))
        start += length
    return windows


def next_window_opens(db: Session, settings: ReleaseSettings, now: datetime) -> datetime | None:
    """When the next window becomes due (for the "nothing to release" message)."""
    length = timedelta(days=settings.window_days)
    start = _next_start(db)
    if start is None:
        return None
    end = start + length
    while end + timedelta(days=settings.embargo_days) <= now:
        end += length
    return end + timedelta(days=settings.embargo_days)


def file_entry(path: Path, rows: int | None) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest(),
            "rows": rows}


def view_command(control: tuple[str, ...], *, reg: float, n_bootstrap: int, seed: int,
                 filtered: bool, data: str = PARQUET, columns: bool = False) -> list[str]:
    """argv of ``python -m ratings`` that computes one view from the release folder.

    ``data``: the battle file (relative to the folder); ``columns``: the controls are plain
    ``<name>_a``/``<name>_b`` columns (a media arena's features), not built-in features.
    """
    argv = ["fit", data]
    if control:
        argv += ["--control-columns" if columns else "--control", ",".join(control)]
    if filtered:
        argv += ["--filter", "features_complete=true"]
    argv += ["--reg", "fastchat" if reg == ratings.FASTCHAT_REG else repr(reg),
             "--bootstrap", str(n_bootstrap), "--seed", str(seed)]
    return argv


def _run_ratings(argv: list[str], folder: Path) -> tuple[dict[str, Any] | None, str]:
    """Run the ratings command line in-process on ``folder``: the snapshot IS its output."""
    out = folder / ".view.json"
    errors = io.StringIO()
    args = [argv[0], folder / argv[1], *argv[2:]]
    with contextlib.redirect_stderr(errors):
        from ratings import cli as ratings_cli  # here: the app's start-up does not fit

        status = ratings_cli.main([str(a) for a in args] + ["--output", str(out)])
    if status != 0:
        return None, errors.getvalue().strip().removeprefix("error: ")
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return result, ""


def _snapshot(folder: Path, name: str, kept: Sequence[RatedBattle],
              settings: ReleaseSettings, media: MediaRelease | None = None) -> dict[str, Any]:
    snapshot = {"release": name, "ratings_version": ratings.__version__,
                "run_in": "the release folder", "views": _views(folder, kept, settings)}
    if media is not None and media.kept:
        # Each media arena's board, recomputed from its own row file the same way.
        snapshot["arenas"] = {
            arena: _views(folder, battles, settings, specs=media_views(arena),
                          data=rows_file(arena), columns=True)
            for arena, battles in sorted(media.kept.items())}
    return snapshot


def _views(folder: Path, kept: Sequence[RatedBattle], settings: ReleaseSettings, *,
           specs: Sequence[ViewSpec] = RELEASE_VIEWS, data: str = PARQUET,
           columns: bool = False) -> dict[str, Any]:
    views: dict[str, Any] = {}
    facts = as_facts(kept)  # once: each view below selects from these columns
    for spec in specs:
        # The leaderboard's recipe: the view's battles, controlling the features that vary.
        chosen = view_battles(facts, spec)
        control = varying_features(chosen, spec) if chosen else spec.features
        argv = view_command(control, reg=settings.reg, n_bootstrap=settings.n_bootstrap,
                            seed=settings.seed, filtered=len(chosen) != len(kept),
                            data=data, columns=columns)
        entry: dict[str, Any] = {"title": spec.title, "description": spec.description,
                                 "command": "python -m ratings " + shlex.join(argv)}
        result, error = _run_ratings(argv, folder)
        if result is None:
            entry["error"] = error
        else:
            entry["result"] = result
        views[spec.key] = entry
    return views


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_release(folder: Path, window: Window, data: WindowRows,
                  settings: ReleaseSettings, ledger_entries: Sequence[dict[str, Any]] = (),
                  *, media: MediaRelease | None = None
                  ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Write every file of a release into ``folder``; return (file entries, snapshot).

    ``ledger_entries``: the public ledger up to the window's end (``ledger.jsonl``), so the
    sampling policy and contender decisions behind these battles travel with them.
    ``media``: the media arenas' files already written under ``folder`` (see
    :mod:`arena.releases.media`).
    """
    # Batch by batch (a row group each): only one batch's texts are in memory at a time.
    n_rows = 0
    with pq.ParquetWriter(folder / PARQUET, SCHEMA) as parquet, \
            (folder / JSONL).open("w", encoding="utf-8") as fh:
        for batch in data.batches():
            parquet.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            fh.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch))
            n_rows += len(batch)
    media = media or MediaRelease()
    snapshot = _snapshot(folder, window.name, data.kept, settings, media)
    _write_json(folder / SNAPSHOT, snapshot)
    excluded = {k: data.excluded.get(k, 0) for k in EXCLUSION_REASONS}
    card = dataset_card(
        name=window.name, window_start=window.start, window_end=window.end, n_rows=n_rows,
        with_text=data.with_text, excluded=excluded, snapshot=snapshot,
        linkable=settings.linkable, public_url=settings.public_url)
    card += (
        "\n## Ledger\n\n`ledger.jsonl` is the arena's public, append-only ledger up to the end "
        "of this window: every sampling-policy change, contender added, retired or deprecated, "
        "weight change, private test started and alias revealed, one JSON object per line "
        "(`id`, `at`, `kind`, `subject`, `organization`, `details`, `reason`).\n")
    (folder / CARD).write_text(card + card_section(media.counts), encoding="utf-8")
    with (folder / LEDGER).open("w", encoding="utf-8") as fh:
        for entry in ledger_entries:
            fh.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    files = [file_entry(folder / PARQUET, n_rows), file_entry(folder / JSONL, n_rows),
             file_entry(folder / SNAPSHOT, None), file_entry(folder / CARD, None),
             file_entry(folder / LEDGER, len(ledger_entries))]
    for path in media.files:
        entry = file_entry(path, media.counts[path.parent.name]
                           if path.name == "battles.jsonl" else None)
        entry["name"] = str(path.relative_to(folder))
        files.append(entry)
    manifest = {
        "name": window.name,
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "rows": n_rows,
        "rows_with_text": data.with_text,
        "excluded": excluded,
        "pseudonyms": "linkable across releases" if settings.linkable else "per release",
        "timestamps": "vote time floored to the hour (UTC)",
        "arena_version": arena.__version__,
        "ratings_version": ratings.__version__,
        "files": files,
    }
    _write_json(folder / MANIFEST, manifest)
    return [*files, file_entry(folder / MANIFEST, None)], snapshot


def cut_release(db: Session, window: Window, settings: ReleaseSettings) -> DataRelease | None:
    """Write ``window``'s release into place and add (not commit) its row; None if empty.

    The caller commits, and on failure calls :func:`discard_release_files`.
    """
    every = eligible_battles(db, since=window.start, until=window.end)
    # The main files and their snapshot are the text arena's; media arenas go under media/.
    battles = [b for b in every if b.arena == "text"]
    media_battles = [b for b in every if b.arena != "text"]
    data = release_rows(db, battles, release=window.name, secret_key=settings.secret_key,
                        linkable=settings.linkable)
    if not data.kept and (settings.media_dir is None or not media_battles):
        log.info("window %s has no releasable battles (%d eligible, excluded %s)",
                 window.name, len(battles), dict(data.excluded))
        return None
    root = settings.releases_dir
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{window.name}-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        entries = [ledger.entry_json(e)
                   for e in ledger.entries(db, limit=None, until=window.end)]
        media = MediaRelease() if settings.media_dir is None or not media_battles else \
            write_media_release(db, tmp, media_battles, release=window.name,
                                secret_key=settings.secret_key, linkable=settings.linkable,
                                store=LocalMediaStore(settings.media_dir))
        if not data.kept and not media.counts:  # every media battle was excluded too
            shutil.rmtree(tmp, ignore_errors=True)
            log.info("window %s has no releasable battles (%d eligible, excluded %s)",
                     window.name, len(every), dict(data.excluded))
            return None
        files, snapshot = write_release(tmp, window, data, settings, entries, media=media)
        log.info("window %s: texts of %d turns from stored scrubbed copies, %d scrubbed now "
                 "(%d characters)", window.name, data.scrubbing.reused, data.scrubbing.turns,
                 data.scrubbing.chars)
        final = root / window.name
        if final.exists():
            # No row names it (the caller checked), so it is what a crash left behind.
            log.warning("replacing unrecorded release folder %s", final)
            shutil.rmtree(final)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    release = DataRelease(
        name=window.name, window_start=window.start, window_end=window.end,
        created_at=utcnow(), n_battles=len(data.kept) + sum(media.counts.values()),
        files=files,
        manifest_sha256=next(f["sha256"] for f in files if f["name"] == MANIFEST),
        snapshot=snapshot,
        command="\n".join(v["command"] for views in (snapshot["views"],
                                                     *snapshot.get("arenas", {}).values())
                          for v in views.values()),
    )
    db.add(release)
    db.flush()
    return release


def discard_release_files(settings: ReleaseSettings, name: str) -> None:
    """Remove a release folder whose row could not be committed."""
    shutil.rmtree(settings.releases_dir / name, ignore_errors=True)


def release_folder(settings: ReleaseSettings, release: DataRelease) -> Path:
    return settings.releases_dir / release.name


def parse_now(text: str | None) -> datetime:
    """``--now`` as an aware UTC datetime (naive input is read as UTC); default: the clock."""
    if not text:
        return utcnow()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ReleaseError(f"--now must be an ISO 8601 timestamp, got {text!r}.",
                           status=400) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
