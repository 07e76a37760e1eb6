"""Releases with media arenas: text files unchanged, media rows, hashes and files alongside."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

import ratings
from arena.media import media_store
from arena.modalities.demo_media import demo_image
from arena.modalities.image import sanitise
from arena.models import Answer, Battle, Contender, Turn, Vote

REPO = Path(__file__).resolve().parents[3]
SEED_START = datetime(2026, 1, 3, 9, 30, tzinfo=UTC)


def test_release_carries_media_rows_hashes_and_files(
        runner: FlaskCliRunner, seed_votes: Any, add_image_battles: Any,
        releases_dir: Path) -> None:
    seeded = seed_votes(limit=60, days=10)
    add_image_battles(seeded.start, 5)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-06-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    folder = next(p for p in releases_dir.iterdir() if (p / "media").exists())
    text_rows = pq.read_table(folder / "battles.parquet").to_pylist()
    assert all(r["model_a"] not in ("Painter", "Sketcher") for r in text_rows)
    rows = [json.loads(line) for line in
            (folder / "media" / "image" / "battles.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and rows[0]["arena"] == "image" and rows[0]["resolution_a"] == 26.2
    for side in "ab":
        sha = rows[0][f"media_{side}"]
        data = (folder / "media" / "image" / "files" / f"{sha}.png").read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
    manifest = json.loads((folder / "manifest.json").read_text())
    names = {f["name"] for f in manifest["files"]}
    assert "media/image/battles.jsonl" in names
    assert f"media/image/files/{rows[0]['media_a']}.png" in names
    assert "## Media arenas" in (folder / "README.md").read_text()
    # The rating CLI reads the media rows like any clean_battle file.
    loaded = ratings.load_battles(folder / "media" / "image" / "battles.jsonl")
    assert len(loaded.winner) == 5


def test_unreleased_contenders_media_never_reaches_a_release(
        runner: FlaskCliRunner, seed_votes: Any, add_image_battles: Any,
        releases_dir: Path) -> None:
    seeded = seed_votes(limit=60, days=10)
    add_image_battles(seeded.start, 5, public_b=False)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-06-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert not list(releases_dir.glob("*/media"))


def _league(app: Flask, db: Session, start: Any, n: int) -> None:
    """``n`` image battles among three painters with mixed outcomes and varying features."""
    people = [Contender(name=name, base_url="", upstream_model=name.lower(), arena="image")
              for name in ("Painter", "Sketcher", "Printer")]
    db.add_all(people)
    db.flush()
    with app.app_context():
        store = media_store()
        shas = [store.put(sanitise(demo_image(m, "fox")).data)
                for m in ("demo-mondrian", "demo-dots")]
    winners = ("model_a", "model_b", "model_a", "tie", "model_a", "model_b", "both_bad")
    for i in range(n):
        at = start + timedelta(hours=i)
        a, b = people[i % 3], people[(i + 1 + i // 3) % 3]
        if a is b:
            b = people[(i + 2) % 3]
        battle = Battle(public_id=secrets.token_urlsafe(24), contender_a_id=a.id,
                        contender_b_id=b.id, state="voted", arena="image", created_at=at,
                        updated_at=at, features={
                            "resolution_a": 20.0 + i % 5, "resolution_b": 19.0 + i % 3,
                            "aspect_a": 100.0, "aspect_b": 100.0 + 30 * (i % 2),
                            "file_size_a": 300.0 + i % 7, "file_size_b": 280.0 + i % 4})
        turn = Turn(position=0, prompt=f"a fox {i}", created_at=at)
        turn.answers = [Answer(side=s, text="", media_sha256=sha, media_type="image/png")
                        for s, sha in zip("ab", shas, strict=True)]
        battle.turns = [turn]
        battle.vote = Vote(winner=winners[i % len(winners)], created_at=at)
        db.add(battle)
    db.commit()


def test_a_media_arenas_board_recomputes_from_its_release_and_matches_the_site(
        app: Flask, runner: FlaskCliRunner, db: Session, releases_dir: Path) -> None:
    """A window with only image battles is released (it used to be skipped as empty), and
    its snapshot carries the image arena's board with the command that recomputes it from
    ``media/image/battles.jsonl``: the same numbers as the site's fit of those battles."""
    from arena.leaderboard.data import eligible_battles, fit_view
    from arena.models import DataRelease

    _league(app, db, SEED_START, 60)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-06-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    release = db.scalars(select(DataRelease)).one()
    folder = releases_dir / release.name
    assert release.n_battles == 60
    snapshot = json.loads((folder / "leaderboard.json").read_text())
    boards = snapshot["arenas"]["image"]
    assert set(boards) == {"image-overall", "image-style"}
    battles = eligible_battles(db, since=release.window_start, until=release.window_end)
    for key, view in boards.items():
        assert "error" not in view, view.get("error")
        assert view["command"] in release.command.splitlines()
        argv = shlex.split(view["command"])
        assert argv[3:5] == ["fit", "media/image/battles.jsonl"]
        done = subprocess.run([sys.executable, *argv[1:]], cwd=folder,
                              env={**os.environ, "PYTHONPATH": str(REPO)},
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == view["result"]
        site = fit_view(battles, key, n_bootstrap=app.config["LEADERBOARD_BOOTSTRAP"],
                        seed=app.config["LEADERBOARD_SEED"]).to_dict()
        assert view["result"]["models"] == site["models"]
        assert view["result"]["style"] == site["style"]
    assert set(boards["image-style"]["result"]["style"]) == {"resolution", "aspect",
                                                              "file_size"}
