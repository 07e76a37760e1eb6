"""Fragility: the confirmed swap counts against brute force over every removal on small data."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import expit

from arena.integrity import fragility as fr
from arena.integrity import simulate, stats
from ratings import FASTCHAT_REG

_Y = np.array([1.0, 0.0, 0.5])


def _theta(cells: fr.Cells, removed: np.ndarray, reg: float) -> np.ndarray:
    """Independent reference fit (plain damped Newton on the half-tie loss), not the engine."""
    w = (cells.count - removed) * cells.weight / cells.count
    y = _Y[cells.outcome]
    n = cells.n_items
    d = np.zeros((cells.a.size, n))
    d[np.arange(cells.a.size), cells.a] += 1
    d[np.arange(cells.a.size), cells.b] -= 1
    th = np.zeros(n)
    for _ in range(100):
        p = expit(d @ th)
        g = d.T @ (w * (p - y)) + reg * th
        h = d.T @ (d * (w * p * (1 - p))[:, None]) + reg * np.eye(n)
        step = np.linalg.solve(h, g)
        th -= step
        if np.abs(step).max() < 1e-12:
            break
    return th


def _brute_min(cells: fr.Cells, upper: int, lower: int, reg: float, limit: int) -> int | None:
    n = cells.count.size
    for total in range(1, limit + 1):
        for combo in itertools.combinations_with_replacement(range(n), total):
            removed = np.bincount(np.array(combo), minlength=n)
            if (removed > cells.count).any():
                continue
            th = _theta(cells, removed, reg)
            if th[lower] > th[upper]:
                return total
    return None


def test_swap_counts_equal_brute_force_minimum_on_small_data() -> None:
    rng = np.random.default_rng(7)
    checked = 0
    for trial in range(6):
        model = stats.TieModel(np.array([0.3, 0.1, 0.0]) + rng.normal(0, 0.05, 3), 0.0)
        a, b = simulate.random_pairs(rng, int(rng.integers(15, 30)), 3)
        o = simulate.sample_outcomes(rng, model, a, b)
        cells = fr.Cells.from_battles(a, b, o, 3)
        theta = fr.refit(cells, np.zeros(cells.count.size, dtype=np.int64), reg=FASTCHAT_REG)
        # the engine and the reference agree on the unperturbed fit
        np.testing.assert_allclose(theta, _theta(cells, 0 * cells.count, FASTCHAT_REG),
                                   atol=1e-6)
        order = [int(i) for i in np.argsort(-theta)]
        for upper, lower in zip(order[:-1], order[1:], strict=True):
            got = fr.swap_votes(cells, upper, lower, reg=FASTCHAT_REG)
            assert got.votes_to_swap is not None, trial
            brute = _brute_min(cells, upper, lower, FASTCHAT_REG, got.votes_to_swap)
            assert brute is not None
            # the plan's count is confirmed by a refit, so it can never beat the minimum …
            assert got.votes_to_swap >= brute
            # … and on these data the greedy influence plan finds it
            assert got.votes_to_swap == brute, (trial, upper, lower)
            checked += 1
    assert checked == 12


def test_linear_influence_plan_is_close_to_the_confirmed_count() -> None:
    rng = np.random.default_rng(8)
    model = stats.TieModel(np.linspace(1.0, -1.0, 12), -0.2)
    a, b, o, _ = simulate.honest(rng, model, 20_000, 100)
    cells = fr.Cells.from_battles(a, b, o, 12)
    theta = fr.refit(cells, np.zeros(cells.count.size, dtype=np.int64), reg=FASTCHAT_REG)
    order = [int(i) for i in np.argsort(-theta)]
    pairs = fr.fragility(cells, order, reg=FASTCHAT_REG, top=5)
    assert len(pairs) == 4
    for pair in pairs:
        assert pair.votes_to_swap is not None and pair.votes_to_swap > 0
        assert pair.pair_votes == cells.votes_of([pair.upper, pair.lower])
        assert pair.linear_estimate is not None
        # the one-step influence plan is within a quarter of the refit-confirmed count
        assert abs(pair.votes_to_swap - pair.linear_estimate) <= 0.25 * pair.votes_to_swap + 2


def test_pairs_swapping_with_under_a_thousandth_of_their_votes_share_a_rank() -> None:
    pairs = [fr.PairFragility(0, 1, 5, 5, 10_000, 1), fr.PairFragility(1, 2, 50, 50, 10_000, 1),
             fr.PairFragility(2, 3, 1, 1, 10_000, 1), fr.PairFragility(3, 4, 2, 2, 10_000, 1),
             fr.PairFragility(4, 5, None, None, 10_000, 1)]
    assert fr.shared_ranks([1, 2, 3, 4, 5, 6], pairs) == [1, 1, 3, 3, 3, 6]
