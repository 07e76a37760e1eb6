"""Fixtures of the rating-engine tests: shared data, simulated battles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

RATINGS_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Warnings are errors in this suite (only for tests under tests/ratings)."""
    for item in items:
        if RATINGS_TESTS in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.filterwarnings("error"))


@pytest.fixture(scope="session")
def arena_data() -> Path:
    """``shared/data/arena`` beside the repository checkout."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "arena"
    if not path.is_dir():
        pytest.skip(f"shared arena data not found at {path}")
    return path


@pytest.fixture(scope="session")
def genai_battles(arena_data: Path) -> list[dict]:
    with (arena_data / "genai_arena_20240220" / "clean_battle_20240220.json").open() as fh:
        return json.load(fh)


def simulate(
    rng: np.random.Generator,
    *,
    n_items: int = 8,
    n_battles: int = 3000,
    beta: tuple[float, ...] = (),
    spread: float = 1.0,
    tie_share: float = 0.0,
) -> dict:
    """Battles from a (style) Bradley-Terry model with known parameters.

    Raw feature values are drawn per side; the covariate is the engine's fixed transform.
    Ties take probability ``4 tie_share p (1 - p)`` equally from both wins, so the expected
    score stays ``p`` and the half-tie model is correctly specified.
    """
    theta = rng.normal(0.0, spread, n_items)
    theta -= theta.mean()
    a = rng.integers(0, n_items, n_battles)
    b = (a + rng.integers(1, n_items, n_battles)) % n_items
    feats = {}
    eta = theta[a] - theta[b]
    for k, coef in enumerate(beta):
        fa = rng.gamma(2.0, 50.0, n_battles).round()
        fb = rng.gamma(2.0, 50.0, n_battles).round()
        feats[f"f{k}"] = (fa, fb)
        eta = eta + coef * (fa - fb) / (fa + fb + 1.0)
    p = 1.0 / (1.0 + np.exp(-eta))
    tie = 4.0 * tie_share * p * (1.0 - p)
    u = rng.random(n_battles)
    labels = np.array(["model_a", "tie", "model_b"], dtype=object)
    winner = labels[np.where(u < p - tie / 2, 0, np.where(u < p + tie / 2, 1, 2))]
    names = np.array([f"m{i:02d}" for i in range(n_items)], dtype=object)
    return {
        "model_a": names[a],
        "model_b": names[b],
        "winner": winner,
        "features": feats,
        "theta": theta,
        "beta": np.array(beta),
        "names": names,
    }


def problem_of(sim: dict, ties: str = "half", per_battle: bool = False):
    """Internal sufficient-statistic problem of simulated battles (all their features)."""
    from ratings.data import _validate
    from ratings.problem import build_problem

    v = _validate(
        sim["model_a"],
        sim["model_b"],
        sim["winner"],
        features=sim["features"],
        control=tuple(sim["features"]),
        weights=None,
        voter=None,
        ties=ties,
        both_bad="tie",
        reg=0.0,
        ci="none",
        n_bootstrap=0,
        bootstrap_weights="poisson",
        anchor=None,
        min_votes=0,
    )
    return build_problem(v, per_battle=per_battle)


@pytest.fixture(name="make_problem")
def make_problem_fixture():
    """The :func:`problem_of` helper."""
    return problem_of


@pytest.fixture(name="simulate")
def simulate_fixture():
    """The :func:`simulate` helper, for tests that draw their own battles."""
    return simulate


@pytest.fixture
def sim() -> dict:
    return simulate(np.random.default_rng(7), beta=(0.8, -0.4))
