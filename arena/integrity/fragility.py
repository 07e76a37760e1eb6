"""How many votes would have to go for two adjacent contenders to swap places (pure numpy).

For the published half-tie Bradley-Terry fit (a tie is half a win, "both bad" a tie, an L2
penalty ``reg``), removing one vote ``k`` between ``a`` and ``b`` moves the gap
``D = θ_upper - θ_lower`` by about ``δ_k = w_k (p_k - y_k) (u_a - u_b)`` with
``u = H⁻¹ (e_upper - e_lower)`` (one Newton step from the optimum; ``H`` the penalised
Hessian, ``p_k`` the fitted win probability of ``a``, ``y_k`` its score). Votes in the same
``(a, b, outcome)`` cell are interchangeable, so the greedy plan removes whole cells in order
of ``δ`` until ``Σ δ ≤ -D``.

Every plan is checked by refitting with the real engine (:func:`ratings.fit_leaderboard`, on
the aggregated cells with their weights, the same optimum as the per-battle call): when the
pair has not swapped the influence is recomputed at the new optimum and the plan extended;
once it has, a bisection over the plan's prefix finds the shortest prefix that still swaps.
The reported count is therefore *confirmed* (the engine's own refit swaps the pair) and is an
upper bound on the true minimum, which the tests compare with brute force on small data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import ratings

_LABELS = np.array(["model_a", "model_b", "tie"])
_Y = np.array([1.0, 0.0, 0.5])  # score of side a per outcome code (a wins, b wins, tie)


@dataclass(frozen=True)
class Cells:
    """Battles aggregated by ``(a, b, outcome)``: vote counts and summed weights."""

    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray
    count: np.ndarray
    weight: np.ndarray
    n_items: int

    @classmethod
    def from_battles(cls, a: np.ndarray, b: np.ndarray, outcome: np.ndarray,
                     n_items: int, weight: np.ndarray | None = None) -> Cells:
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        key = (a * n_items + b) * 3 + np.asarray(outcome, np.int64)
        cells, inv, count = np.unique(key, return_inverse=True, return_counts=True)
        w = np.ones(a.shape[0]) if weight is None else np.asarray(weight, float)
        return cls(a=cells // 3 // n_items, b=cells // 3 % n_items, outcome=cells % 3,
                   count=count.astype(np.int64),
                   weight=np.bincount(inv, w, minlength=cells.size), n_items=n_items)

    def votes_of(self, items: list[int]) -> int:
        """Votes in battles involving any of ``items``."""
        involved = np.isin(self.a, items) | np.isin(self.b, items)
        return int(self.count[involved].sum())


def refit(cells: Cells, removed: np.ndarray, *, reg: float) -> np.ndarray:
    """θ (natural-log units, one per item) of the engine's fit with ``removed`` votes gone."""
    left = cells.count - removed
    w = cells.weight * np.divide(left, cells.count)
    keep = left > 0
    names = np.array([str(i) for i in range(cells.n_items)])
    res = ratings.fit_leaderboard(names[cells.a[keep]], names[cells.b[keep]],
                                  _LABELS[cells.outcome[keep]], weights=w[keep], ties="half",
                                  both_bad="tie", reg=reg, ci="none", offset=0.0)
    theta = np.zeros(cells.n_items)
    for m in res.models:
        theta[int(m.name)] = m.rating / ratings.SCALE
    return theta


def influence(cells: Cells, removed: np.ndarray, theta: np.ndarray, upper: int, lower: int,
              *, reg: float) -> np.ndarray:
    """Linear change of ``θ_upper - θ_lower`` from removing one vote of each cell."""
    left = cells.count - removed
    w_vote = cells.weight / cells.count
    p = 1.0 / (1.0 + np.exp(-(theta[cells.a] - theta[cells.b])))
    curv = w_vote * left * p * (1 - p)
    n = cells.n_items
    h = np.zeros((n, n))
    np.add.at(h, (cells.a, cells.a), curv)
    np.add.at(h, (cells.b, cells.b), curv)
    np.add.at(h, (cells.a, cells.b), -curv)
    np.add.at(h, (cells.b, cells.a), -curv)
    h += reg * np.eye(n)
    e = np.zeros(n)
    e[upper], e[lower] = 1.0, -1.0
    u = np.linalg.pinv(h, hermitian=True) @ e  # e is orthogonal to H's null space when reg = 0
    return np.asarray(w_vote * (p - _Y[cells.outcome]) * (u[cells.a] - u[cells.b]))


@dataclass(frozen=True)
class PairFragility:
    """Votes whose removal swaps ``upper`` (rated higher) and ``lower``."""

    upper: int
    lower: int
    votes_to_swap: int | None  # None: no plan swapped them within the refit budget
    linear_estimate: int | None  # the first linear plan's size, before any refit
    pair_votes: int  # votes in battles involving either contender
    refits: int

    @property
    def share(self) -> float | None:
        """``votes_to_swap`` as a fraction of ``pair_votes``."""
        if self.votes_to_swap is None or self.pair_votes == 0:
            return None
        return self.votes_to_swap / self.pair_votes


def _plan(delta: np.ndarray, left: np.ndarray, gap: float) -> list[tuple[int, int]]:
    """Cells (most negative ``δ`` first) and counts whose linear effect closes ``gap``."""
    order = np.argsort(delta, kind="stable")
    order = order[(delta[order] < 0) & (left[order] > 0)]
    plan: list[tuple[int, int]] = []
    need = gap
    for c in order.tolist():
        k = min(int(left[c]), max(1, math.ceil(need / -delta[c] - 1e-12)))
        plan.append((c, k))
        need += k * delta[c]
        if need < 0:
            break
    return plan


def swap_votes(cells: Cells, upper: int, lower: int, *, reg: float, theta: np.ndarray | None = None,
               max_rounds: int = 8, margin: float = 1.05) -> PairFragility:
    """The smallest confirmed number of votes whose removal puts ``lower`` above ``upper``."""
    removed = np.zeros(cells.count.shape[0], dtype=np.int64)
    steps: list[tuple[int, int]] = []
    refits = 0
    if theta is None:
        theta = refit(cells, removed, reg=reg)
        refits += 1
    linear: int | None = None
    swapped = False
    for _ in range(max_rounds):
        gap = theta[upper] - theta[lower]
        delta = influence(cells, removed, theta, upper, lower, reg=reg)
        plan = _plan(delta, cells.count - removed, gap * margin)
        if not plan:
            break
        if linear is None:
            linear = sum(k for _, k in plan)
        for c, k in plan:
            removed[c] += k
            steps.append((c, k))
        theta = refit(cells, removed, reg=reg)
        refits += 1
        if theta[lower] > theta[upper]:
            swapped = True
            break
    pair_votes = cells.votes_of([upper, lower])
    if not swapped:
        return PairFragility(upper, lower, None, linear, pair_votes, refits)
    # Shortest prefix of the plan (in votes) whose removal still swaps: bisection on the count.
    order = np.repeat([c for c, _ in steps], [k for _, k in steps])
    lo, hi = 0, order.size  # the pair is not swapped with lo votes gone, swapped with hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        trial = np.bincount(order[:mid], minlength=removed.size)
        th = refit(cells, trial, reg=reg)
        refits += 1
        if th[lower] > th[upper]:
            hi = mid
        else:
            lo = mid
    return PairFragility(upper, lower, hi, linear, pair_votes, refits)


def fragility(cells: Cells, order: list[int], *, reg: float, top: int = 20) -> list[PairFragility]:
    """:func:`swap_votes` for each adjacent pair among the first ``top`` of ``order``."""
    theta = refit(cells, np.zeros(cells.count.shape[0], dtype=np.int64), reg=reg)
    head = order[:top]
    return [swap_votes(cells, int(u), int(low), reg=reg, theta=theta)
            for u, low in zip(head[:-1], head[1:], strict=True)]


def shared_ranks(ranks: list[int], pairs: list[PairFragility],
                 threshold: float = 0.001) -> list[int]:
    """Ranks where a pair that swaps with fewer than ``threshold`` of its votes shares one.

    ``ranks[k]`` is the rank of ``pairs[k].upper`` (and ``ranks[-1]`` of the last lower).
    """
    out = list(ranks)
    for k, pair in enumerate(pairs):
        share = pair.share
        if share is not None and share < threshold:
            out[k + 1] = out[k]
    return out
