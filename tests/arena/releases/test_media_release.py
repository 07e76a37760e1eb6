"""Releases with media arenas: text files unchanged, media rows, hashes and files alongside."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

import ratings
from arena.media import media_store
from arena.modalities.demo_media import demo_image
from arena.modalities.image import sanitise
from arena.models import Answer, Battle, Contender, Turn, Vote


def _image_battles(app: Flask, db: Session, start: Any, n: int, public_b: bool = True) -> None:
    a = Contender(name="Painter", base_url="", upstream_model="p", arena="image")
    b = Contender(name="Sketcher", base_url="", upstream_model="s", arena="image",
                  is_public=public_b)
    db.add_all([a, b])
    db.flush()
    with app.app_context():
        store = media_store()
        shas = [store.put(sanitise(demo_image(m, "fox")).data)
                for m in ("demo-mondrian", "demo-dots")]
    for i in range(n):
        at = start + timedelta(hours=i)
        battle = Battle(public_id=secrets.token_urlsafe(24), contender_a_id=a.id,
                        contender_b_id=b.id, state="voted", arena="image", created_at=at,
                        updated_at=at, features={"resolution_a": 26.2, "resolution_b": 19.7})
        turn = Turn(position=0, prompt="a fox", created_at=at)
        turn.answers = [Answer(side=s, text="", media_sha256=sha, media_type="image/png")
                        for s, sha in zip("ab", shas, strict=True)]
        battle.turns = [turn]
        battle.vote = Vote(winner="model_a", created_at=at)
        db.add(battle)
    db.commit()


def test_release_carries_media_rows_hashes_and_files(
        app: Flask, runner: FlaskCliRunner, db: Session, seed_votes: Any,
        releases_dir: Path) -> None:
    seeded = seed_votes(limit=60, days=10)
    _image_battles(app, db, seeded.start, 5)
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
        app: Flask, runner: FlaskCliRunner, db: Session, seed_votes: Any,
        releases_dir: Path) -> None:
    seeded = seed_votes(limit=60, days=10)
    _image_battles(app, db, seeded.start, 5, public_b=False)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-06-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert not list(releases_dir.glob("*/media"))
