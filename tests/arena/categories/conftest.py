"""Fixtures for category tests: contenders and battles (with answers) written straight to SQL."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from arena.models import Answer, Battle, Contender, Turn, Vote

T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def contender(db: Session) -> Callable[..., Contender]:
    counter = itertools.count(1)

    def make(name: str | None = None) -> Contender:
        n = next(counter)
        row = Contender(name=name or f"Model {n}", organization=f"Org {n}", license="MIT",
                        base_url="", upstream_model=f"m{n}")
        db.add(row)
        db.flush()
        return row

    return make


@pytest.fixture
def battle(db: Session) -> Callable[..., Battle]:
    """Factory: a voted battle (``winner=None``: ready, no vote) with answers per turn."""
    counter = itertools.count()

    def make(a: Contender, b: Contender, winner: str | None = "model_a", *,
             prompts: Sequence[str] = ("Explain photosynthesis",),
             answers: Sequence[tuple[str, str]] | None = None,
             features: dict[str, float] | None = None, **fields: Any) -> Battle:
        n = next(counter)
        at = T0 + timedelta(minutes=n)
        row = Battle(public_id=secrets.token_urlsafe(32), contender_a_id=a.id,
                     contender_b_id=b.id, state="voted" if winner else "ready",
                     features=features, created_at=at, updated_at=at, ready_at=at, **fields)
        pairs = list(answers or [("An answer.", "Another answer.")] * len(prompts))
        row.turns = [Turn(position=i, prompt=p, created_at=at,
                          answers=[Answer(side="a", text=pairs[i][0]),
                                   Answer(side="b", text=pairs[i][1])])
                     for i, p in enumerate(prompts)]
        if winner is not None:
            row.vote = Vote(winner=winner, created_at=at)
        db.add(row)
        db.flush()
        return row

    return make
