"""Fragility: the confirmed swap counts against brute force over every removal on small data."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import expit

import ratings
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
            got = fr.swap_votes(fr.CellVotes(cells, FASTCHAT_REG), upper, lower)
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
    pairs = fr.fragility(fr.CellVotes(cells, FASTCHAT_REG), order, top=5)
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


def _style_battles(rng: np.random.Generator, n: int, n_items: int,
                   beta: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Battles of a style-controlled BT model with ties, raw features per side (Poisson)."""
    theta = np.linspace(0.4, -0.4, n_items) + rng.normal(0, 0.05, n_items)
    a, b = simulate.random_pairs(rng, n, n_items)
    raw = rng.poisson(3.0, (2, len(beta), n)).astype(float)
    x = (raw[0] - raw[1]) / (raw[0] + raw[1] + 1.0)
    p = expit(theta[a] - theta[b] + np.asarray(beta) @ x)
    u = rng.random(n)
    outcome = np.where(u < p - 0.1, 0, np.where(u < p + 0.1, 2, 1))
    return a, b, outcome, raw


def _style_votes(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, raw: np.ndarray,
                 reg: float) -> fr.BattleVotes:
    names = np.array([f"m{i}" for i in range(int(max(a.max(), b.max())) + 1)])
    feats = {f"f{k}": (raw[0, k], raw[1, k]) for k in range(raw.shape[1])}
    return fr.BattleVotes(ratings.Refit(names[a], names[b], fr._LABELS[outcome], features=feats,
                                        control=tuple(feats), reg=reg))


def _style_theta(votes: fr.BattleVotes, keep: np.ndarray) -> np.ndarray:
    """Independent reference (damped Newton on the explicit design), not the engine."""
    eng = votes.engine
    n = eng.n_items
    d = np.zeros((keep.sum(), n))
    d[np.arange(keep.sum()), eng.item_a[keep]] += 1
    d[np.arange(keep.sum()), eng.item_b[keep]] -= 1
    d = np.hstack([d, eng.covariates[:, keep].T])
    y, w = eng.score[keep], eng.weights[keep]
    v = np.zeros(d.shape[1])
    for _ in range(100):
        p = expit(d @ v)
        step = np.linalg.solve(d.T @ (d * (w * p * (1 - p))[:, None]) + eng.reg * np.eye(v.size),
                               d.T @ (w * (p - y)) + eng.reg * v)
        v -= step
        if np.abs(step).max() < 1e-12:
            break
    return v


def _style_brute_min(votes: fr.BattleVotes, upper: int, lower: int, limit: int) -> int | None:
    n = votes.count.size
    for total in range(1, limit + 1):
        for combo in itertools.combinations(range(n), total):
            keep = np.ones(n, dtype=bool)
            keep[list(combo)] = False
            v = _style_theta(votes, keep)
            if v[lower] > v[upper]:
                return total
    return None


def test_style_swap_counts_are_confirmed_and_mostly_equal_the_brute_force_minimum() -> None:
    rng = np.random.default_rng(11)
    results = []
    for trial in range(5):
        a, b, o, raw = _style_battles(rng, int(rng.integers(14, 19)), 3, (0.8, -0.5))
        votes = _style_votes(a, b, o, raw, FASTCHAT_REG)
        full = votes.fit(np.zeros(votes.count.size, dtype=np.int64))
        everything = np.ones(votes.count.size, dtype=bool)
        np.testing.assert_allclose(full, _style_theta(votes, everything), atol=1e-7)
        order = [int(i) for i in np.argsort(-full[:3])]
        for upper, lower in zip(order[:-1], order[1:], strict=True):
            got = fr.swap_votes(votes, upper, lower)
            if got.votes_to_swap is None:  # no removal plan swapped them: nothing to confirm
                results.append(None)
                continue
            assert got.votes_to_swap == len(got.removed)
            # confirmed: without those battles the engine's own fit swaps the pair …
            keep = everything.copy()
            keep[list(got.removed)] = False
            eng = votes.engine
            res = ratings.fit_leaderboard(
                eng.names[eng.item_a[keep]], eng.names[eng.item_b[keep]],
                fr._LABELS[o[keep]],
                features={f"f{k}": (raw[0, k, keep], raw[1, k, keep]) for k in range(2)},
                control=("f0", "f1"), reg=FASTCHAT_REG, ci="none")
            rating = {m.name: m.rating for m in res.models}
            assert rating[eng.names[lower]] > rating[eng.names[upper]], (trial, upper, lower)
            # … so it can never beat the minimum over every removal
            brute = _style_brute_min(votes, upper, lower, got.votes_to_swap)
            assert brute is not None and got.votes_to_swap >= brute
            results.append(got.votes_to_swap == brute)
    found = [r for r in results if r is not None]
    assert len(found) >= 8
    assert sum(found) >= 0.8 * len(found), results


def test_style_linear_influence_plan_is_close_to_the_confirmed_count() -> None:
    rng = np.random.default_rng(12)
    a, b, o, raw = _style_battles(rng, 20_000, 10, (0.6, 0.3, -0.2))
    votes = _style_votes(a, b, o, raw, FASTCHAT_REG)
    full = votes.fit(np.zeros(votes.count.size, dtype=np.int64))
    order = [int(i) for i in np.argsort(-full[:10])]
    pairs = fr.fragility(votes, order, top=5)
    assert len(pairs) == 4
    for pair in pairs:
        assert pair.votes_to_swap is not None and pair.votes_to_swap > 0
        pair_names = [f"m{i}" for i in range(10)
                      if f"m{i}" in votes.engine.names[[pair.upper, pair.lower]]]
        involved = np.isin(a, [int(n[1:]) for n in pair_names]) | np.isin(
            b, [int(n[1:]) for n in pair_names])
        assert pair.pair_votes == int(involved.sum())
        assert pair.linear_estimate is not None
        assert abs(pair.votes_to_swap - pair.linear_estimate) <= 0.25 * pair.votes_to_swap + 2
