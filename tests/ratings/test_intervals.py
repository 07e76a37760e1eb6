"""Intervals: reproducible bootstrap, sandwich, and coverage on simulated battles."""

from __future__ import annotations

import numpy as np
import pytest

import ratings


def _fit(sim: dict, **options):
    return ratings.fit_leaderboard(
        sim["model_a"],
        sim["model_b"],
        sim["winner"],
        features=sim["features"],
        control=tuple(sim["features"]),
        **options,
    )


@pytest.mark.parametrize("scheme", ["multinomial", "poisson"])
def test_bootstrap_is_bit_identical_for_the_same_seed(sim: dict, scheme: str) -> None:
    first = _fit(sim, n_bootstrap=25, seed=11, bootstrap_weights=scheme)
    again = _fit(sim, n_bootstrap=25, seed=11, bootstrap_weights=scheme)
    other = _fit(sim, n_bootstrap=25, seed=12, bootstrap_weights=scheme)
    assert np.array_equal(first.bootstrap_ratings, again.bootstrap_ratings)
    assert np.array_equal(first.bootstrap_style, again.bootstrap_style)
    assert first.to_dict() == again.to_dict()
    assert not np.array_equal(first.bootstrap_ratings, other.bootstrap_ratings)


def test_plain_bootstrap_on_cells_is_reproducible(sim: dict) -> None:
    args = (sim["model_a"], sim["model_b"], sim["winner"])
    first = ratings.fit_leaderboard(*args, n_bootstrap=50, seed=5)
    again = ratings.fit_leaderboard(*args, n_bootstrap=50, seed=5)
    assert np.array_equal(first.bootstrap_ratings, again.bootstrap_ratings)
    assert first.bootstrap_ratings.shape == (50, len(first.models))


def test_sandwich_and_bootstrap_widths_agree(sim: dict) -> None:
    boot = _fit(sim, n_bootstrap=200, seed=1)
    sand = _fit(sim, ci="sandwich")
    wb = np.array([m.ci_high - m.ci_low for m in boot.models])
    ws = np.array([m.ci_high - m.ci_low for m in sand.models])
    assert np.all(np.abs(wb / ws - 1) < 0.3)


def _coverage(simulate, ci: str, n_sims: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hits = []
    for _ in range(n_sims):
        sim = simulate(rng, n_items=6, n_battles=1500, beta=(1.0, -0.5), spread=0.5)
        res = _fit(sim, ci=ci, n_bootstrap=100, seed=int(rng.integers(1 << 30)))
        truth = dict(zip(sim["names"], 1000 + ratings.SCALE * sim["theta"], strict=True))
        hits += [m.ci_low <= truth[m.name] <= m.ci_high for m in res.models]
        hits += [s.ci_low <= b <= s.ci_high for s, b in zip(res.style, sim["beta"], strict=True)]
    return np.array(hits)


def test_sandwich_intervals_cover_truth_about_95_percent(simulate) -> None:
    hits = _coverage(simulate, "sandwich", n_sims=400, seed=2024)
    # 3200 interval checks; binomial sd ~0.004 (checks within a simulation are correlated).
    assert 0.93 <= hits.mean() <= 0.97, hits.mean()


def test_bootstrap_intervals_cover_truth_about_95_percent(simulate) -> None:
    hits = _coverage(simulate, "bootstrap", n_sims=60, seed=7)
    assert 0.91 <= hits.mean() <= 0.98, hits.mean()


def test_bootstrap_does_not_depend_on_thread_count(sim: dict) -> None:
    one = _fit(sim, n_bootstrap=12, seed=4, n_threads=1)
    two = _fit(sim, n_bootstrap=12, seed=4, n_threads=2)
    assert np.array_equal(one.bootstrap_ratings, two.bootstrap_ratings)
    assert np.array_equal(one.bootstrap_style, two.bootstrap_style)


def test_fast_bootstrap_refit_matches_float64_newton(sim: dict, make_problem) -> None:
    from ratings.bootstrap import _Refit, replicate_row_weights
    from ratings.solver import newton

    prob = make_problem(sim)
    dim = prob.n_items + prob.n_features
    fit = newton(prob, prob.row_w, np.zeros(dim), reg=0.0, davidson=False)
    refit = _Refit(prob, fit.v, scheme="poisson", reg=0.0, davidson=False, tol=5e-5)
    for r in range(5):
        seed = np.random.SeedSequence(r)
        fast, step = refit(r, seed)
        w = replicate_row_weights(prob, np.random.default_rng(seed), "poisson")
        exact = newton(prob, w, fit.v, reg=0.0, davidson=False, tol=1e-12).v
        assert step < 5e-5
        assert np.max(np.abs(fast - exact)) < 5e-6  # natural-log units: < 0.001 Elo
