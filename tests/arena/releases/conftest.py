"""Fixtures for release tests: a database seeded with real human votes through ORM rows.

The votes, questions and answers are the QLoRA/PRD Vicuna-80 study (``DATA``): every vote of
rater slot 0 (2,240 battles, 8 models), read with the leaderboard importer's parser. Votes are
spread evenly from ``SEED_START`` over ``SEED_DAYS`` days, so several 30-day windows fill up;
voters ``v00``…``v39`` cast them in turn, and the even-numbered voters consented to releasing
their texts. Every answer gets token, latency and citation metadata.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert
from sqlalchemy.orm import Session

from arena.leaderboard.importer import parse_vicuna_votes
from arena.media import media_store
from arena.modalities.demo_media import demo_image
from arena.modalities.image import sanitise
from arena.models import Answer, Battle, Contender, Turn, Vote, Voter

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "arena" / "qlora_vicuna80_human"
SEED_START = datetime(2026, 1, 3, 9, 30, tzinfo=UTC)
SEED_DAYS = 95
N_VOTERS = 40


@dataclass(frozen=True)
class Seeded:
    battles: int
    start: datetime
    end: datetime
    contenders: dict[str, int]


@pytest.fixture(scope="session")
def vicuna_rows() -> list[Any]:
    rows = parse_vicuna_votes(DATA / "votes.csv", DATA / "answers.jsonl",
                              DATA / "questions.jsonl")
    # Rater slot 0 of every item: the file holds each item's three votes in a row.
    return rows[::3]


def voter_name(i: int) -> str:
    return f"v{i % N_VOTERS:02d}"


@pytest.fixture
def seed_votes(db: Session, vicuna_rows: list[Any]) -> Callable[..., Seeded]:
    """Insert the real votes as arena battles (``limit`` rows, spread over ``days``)."""

    def seed(limit: int | None = None, days: int = SEED_DAYS,
             start: datetime = SEED_START) -> Seeded:
        rows = vicuna_rows[:limit] if limit else vicuna_rows
        names = sorted({r.model_a for r in rows} | {r.model_b for r in rows})
        contenders = {}
        for name in names:
            contender = Contender(name=name, organization="Vicuna-80 study", base_url="",
                                  upstream_model=name, active=False, is_public=True)
            db.add(contender)
            db.flush()
            contenders[name] = contender.id
        for i in range(N_VOTERS):
            db.add(Voter(id=voter_name(i), created_at=start, release_consent=i % 2 == 0))
        db.flush()
        step = timedelta(days=days) / len(rows)
        battle_rows = []
        for i, r in enumerate(rows):
            at = start + step * i
            battle_rows.append({
                "public_id": secrets.token_urlsafe(32), "voter_id": voter_name(i),
                "contender_a_id": contenders[r.model_a], "contender_b_id": contenders[r.model_b],
                "state": "voted", "anony": True, "flagged": False, "language": r.language,
                "features": r.features, "created_at": at - timedelta(minutes=2),
                "updated_at": at, "ready_at": at - timedelta(minutes=1),
                "ip_hash": "f" * 64, "source": "arena",
                # Consent is per battle, as given when it was created (see conftest docstring).
                "release_consent": i % 2 == 0})
        ids = list(db.scalars(insert(Battle).returning(Battle.id, sort_by_parameter_order=True),
                              battle_rows))
        db.execute(insert(Vote), [
            {"battle_id": bid, "voter_id": b["voter_id"], "winner": r.winner,
             "created_at": b["updated_at"], "feedback": "loved it, mail me at x@example.com"}
            for bid, b, r in zip(ids, battle_rows, rows, strict=True)])
        turn_ids = list(db.scalars(
            insert(Turn).returning(Turn.id, sort_by_parameter_order=True),
            [{"battle_id": bid, "position": 0, "prompt": r.prompt,
              "created_at": b["created_at"]}
             for bid, b, r in zip(ids, battle_rows, rows, strict=True)]))
        db.execute(insert(Answer), [
            {"turn_id": tid, "side": side, "text": text, "created_at": b["created_at"],
             "completion_tokens": len(text) // 4, "prompt_tokens": 20, "latency_ms": 900 + k,
             "first_token_ms": 120, "finish_reason": "stop",
             "citations": [{"url": "https://example.org"}] if side == "a" and k % 5 == 0 else []}
            for k, (tid, b, r) in enumerate(zip(turn_ids, battle_rows, rows, strict=True))
            for side, text in (("a", r.answer_a), ("b", r.answer_b))])
        db.commit()
        return Seeded(battles=len(rows), start=start, end=start + step * (len(rows) - 1),
                      contenders=contenders)

    return seed


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # Few bootstrap rounds keep each cut fast; the reproduce tests use more.
    app_config["LEADERBOARD_BOOTSTRAP"] = 10
    return app_config


@pytest.fixture
def releases_dir(app_config: dict[str, Any]) -> Path:
    return Path(app_config["RELEASES_DIR"])


@pytest.fixture
def add_image_battles(app: Flask, db: Session) -> Callable[..., None]:
    """Add ``n`` voted image battles (Painter vs Sketcher, one stored picture per side)."""
    return lambda start, n, public_b=True: _image_battles(app, db, start, n, public_b)


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
