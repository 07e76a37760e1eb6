"""Fixtures for leaderboard tests: contenders and voted battles written straight to SQL."""

from __future__ import annotations

import csv
import itertools
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from arena.models import Battle, Contender, Turn, Vote

T0 = datetime(2024, 3, 1, tzinfo=UTC)
VICUNA = Path(__file__).resolve().parents[4] / "shared" / "data" / "arena" / "qlora_vicuna80_human"


@pytest.fixture
def vicuna_votes(tmp_path: Path) -> Callable[..., tuple[Path, list[dict[str, str]]]]:
    """Factory: a votes.csv with every ``step``-th real Vicuna-80 vote (up to ``limit``)."""

    def make(step: int = 1, limit: int | None = None) -> tuple[Path, list[dict[str, str]]]:
        with (VICUNA / "votes.csv").open(newline="") as fh:
            reader = csv.DictReader(fh)
            votes = list(reader)[::step][:limit]
            header = reader.fieldnames or []
        path = tmp_path / "votes.csv"
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, header)
            writer.writeheader()
            writer.writerows(votes)
        return path, votes

    return make


@pytest.fixture
def contender(db: Session) -> Callable[..., Contender]:
    """Factory: a contender with no endpoint (leaderboard tests never call one)."""
    counter = itertools.count(1)

    def make(name: str | None = None, **fields: Any) -> Contender:
        n = next(counter)
        values: dict[str, Any] = {"name": name or f"Model {n}", "organization": f"Org {n}",
                                  "license": "MIT", "base_url": "", "upstream_model": f"m{n}"}
        values.update(fields)
        row = Contender(**values)
        db.add(row)
        db.flush()
        return row

    return make


@pytest.fixture
def battle(db: Session) -> Callable[..., Battle]:
    """Factory: a battle between two contenders; ``winner=None`` leaves it without a vote."""
    counter = itertools.count()

    def make(a: Contender, b: Contender, winner: str | None = "model_a", *,
             state: str = "voted", anony: bool = True, flagged: bool = False,
             prompts: Sequence[str] = ("Explain photosynthesis",),
             features: dict[str, float] | None = None, language: str | None = None,
             at: datetime | None = None) -> Battle:
        n = next(counter)
        at = at or T0 + timedelta(minutes=n)
        row = Battle(public_id=secrets.token_urlsafe(32), contender_a_id=a.id,
                     contender_b_id=b.id, state=state, anony=anony, flagged=flagged,
                     features=features, language=language, created_at=at, updated_at=at)
        row.turns = [Turn(position=i, prompt=p, created_at=at) for i, p in enumerate(prompts)]
        if winner is not None:
            row.vote = Vote(winner=winner, created_at=at)
        db.add(row)
        return row

    return make


@pytest.fixture
def league(contender: Callable[..., Contender], battle: Callable[..., Battle],
           db: Session) -> Callable[..., list[Contender]]:
    """Factory: ``n`` contenders and ``rounds`` battles per pair; stronger ones win 2 of 3.

    Every contender wins and loses somewhere, so unpenalised ratings exist too. Prompts are
    distinct per battle (no flood weighting) unless ``prompt`` is given.
    """
    def make(names: Sequence[str] = ("Alpha", "Bravo", "Charlie", "Delta"), rounds: int = 9,
             prompt: str | None = None, **contender_fields: Any) -> list[Contender]:
        people = [contender(name) for name in names]
        k = 0
        for i, j in itertools.combinations(range(len(people)), 2):
            for r in range(rounds):
                # i is stronger: it wins rounds 0 and 1 (mod 3); j wins every third.
                winner = "model_a" if r % 3 in (0, 1) else "model_b"
                a, b = (people[i], people[j]) if r % 2 == 0 else (people[j], people[i])
                if a is not people[i]:
                    winner = {"model_a": "model_b", "model_b": "model_a"}[winner]
                battle(a, b, winner, prompts=(prompt or f"question {k}",))
                k += 1
        db.commit()
        return people

    return make


@pytest.fixture(autouse=True)
def _fresh_response_cache() -> None:
    """Each test starts with an empty per-process cache of rendered leaderboard responses."""
    from arena.leaderboard import serving

    serving.CACHE.clear()


@pytest.fixture(autouse=True)
def _no_latest_key_reuse(app: Any) -> None:
    """Tests publish and read back at once: ask the database on every request (one test
    turns reuse on explicitly)."""
    app.config["LEADERBOARD_CACHE_MS"] = 0
