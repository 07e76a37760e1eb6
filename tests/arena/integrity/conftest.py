"""Fixtures for integrity tests: a small arena of honest voters and one rigger, in SQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from arena.integrity import simulate, stats
from arena.models import Battle, Contender, Turn, Vote, Voter

T0 = datetime(2024, 3, 1, tzinfo=UTC)
_WINNER = np.array(["model_a", "model_b", "tie"])
_STYLE = ("length", "markdown_header", "markdown_list", "markdown_bold")


@dataclass
class Arena:
    contenders: list[Contender]
    target: Contender
    rigger: str
    rigged_votes: int
    riggers: list[str]
    total_votes: int


@pytest.fixture
def rigged_arena(db: Session) -> Callable[..., Arena]:
    """Factory: 8 contenders, ~60 honest voters (BT with ties), ``n_riggers`` voters boosting
    one contender (their ``n_rigged`` votes dealt round-robin). ``style``: every battle has
    answer length and markdown features (random per side), so style views are published."""

    def make(seed: int = 5, n_honest: int = 900, n_rigged: int = 30,
             n_riggers: int = 1, style: bool = False) -> Arena:
        rng = np.random.default_rng(seed)
        contenders = [Contender(name=f"Model {i}", organization="Org", license="MIT",
                                base_url="", upstream_model=f"m{i}") for i in range(8)]
        db.add_all(contenders)
        db.flush()
        model = stats.TieModel(np.linspace(0.8, -0.8, 8), 0.0)
        a, b, o, v = simulate.honest(rng, model, n_honest, 60, exponent=0.5)
        target = 6
        ra, rb = simulate.random_pairs(rng, 400, 8)
        hit = (ra == target) | (rb == target)
        ra, rb = ra[hit][:n_rigged], rb[hit][:n_rigged]
        ro = np.where(ra == target, 0, 1)
        voters = [secrets.token_hex(16) for _ in range(60 + n_riggers)]
        db.add_all(Voter(id=vid) for vid in voters)
        db.flush()
        rows = list(zip(a, b, o, v, strict=True)) + [
            (x, y, z, 60 + k % n_riggers) for k, (x, y, z) in
            enumerate(zip(ra, rb, ro, strict=True))]
        for n, (x, y, z, who) in enumerate(rows):
            at = T0 + timedelta(minutes=n)
            features = None
            if style:
                features = {f"{name}_{side}": float(rng.poisson(300 if name == "length" else 2))
                            for name in _STYLE for side in "ab"}
            battle = Battle(public_id=secrets.token_urlsafe(32),
                            contender_a_id=contenders[x].id, contender_b_id=contenders[y].id,
                            state="voted", anony=True, voter_id=voters[who], created_at=at,
                            updated_at=at, features=features)
            battle.turns = [Turn(position=0, prompt=f"prompt {n}", created_at=at)]
            battle.vote = Vote(winner=str(_WINNER[z]), voter_id=voters[who], created_at=at)
            db.add(battle)
        db.commit()
        return Arena(contenders=contenders, target=contenders[target], rigger=voters[60],
                     rigged_votes=int(ra.size), total_votes=len(rows), riggers=voters[60:])

    return make
