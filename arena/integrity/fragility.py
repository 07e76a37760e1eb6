"""How many votes would have to go for two adjacent contenders to swap places (pure numpy).

For the published half-tie Bradley-Terry fit (a tie is half a win, "both bad" a tie, an L2
penalty ``reg`` on every parameter), removing one vote ``k`` between ``a`` and ``b`` moves the
parameters by about ``H⁻¹ g_k`` (one Newton step from the optimum; ``H`` the penalised Hessian,
``g_k`` the vote's gradient), so the gap ``D = θ_upper - θ_lower`` by ``δ_k = uᵀ g_k`` with
``u = H⁻¹ (e_upper - e_lower)``:

* plain views (:class:`CellVotes`): ``δ_k = w_k (p_k - y_k) (u_a - u_b)`` (``p_k`` the fitted
  win probability of ``a``, ``y_k`` its score). Votes in the same ``(a, b, outcome)`` cell are
  interchangeable, so a plan removes whole cells;
* style-controlled views (:class:`BattleVotes`): ``logit P(a beats b) = θ_a - θ_b + βᵀ x_k``
  with ``x_k`` the engine's transformed covariates, ``H`` over ``(θ, β)``, ``u`` padded with
  zeros for ``β``, and ``δ_k = w_k (p_k - y_k) (u_a - u_b + u_βᵀ x_k)``: battles differ in
  ``x_k``, so each battle is its own unit.

The greedy plan removes units in order of ``δ`` (most negative first) until ``Σ δ ≤ -D``.
Every plan is checked by refitting with the real engine (plain: :func:`ratings.fit_leaderboard`
on the aggregated cells with their weights, the same optimum as the per-battle call; style:
:class:`ratings.Refit`, the same optimum as ``fit_leaderboard`` on the battles left): when the
pair has not swapped, the influence is recomputed at the new optimum and the plan extended;
once it has, a search over the last plan's tail (interpolating the refitted gaps along the
plan's cumulative ``δ``, falling back to bisection) finds the shortest prefix that still swaps.
The reported count is therefore *confirmed* (the engine's own refit swaps the pair) and is an
upper bound on the true minimum, which the tests compare with brute force on small data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

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


def gap_direction(h: np.ndarray, upper: int, lower: int, *, reg: float) -> np.ndarray:
    """``u = H⁻¹ (e_upper - e_lower)`` for the penalised Hessian ``h`` (zeros past the items)."""
    e = np.zeros(h.shape[0])
    e[upper], e[lower] = 1.0, -1.0
    if reg > 0:
        from scipy import linalg  # here, not at import: the app's start-up does not need scipy

        return np.asarray(linalg.solve(h, e, assume_a="pos"))
    # unpenalised, H is singular along a common shift of θ, to which e is orthogonal
    return np.linalg.pinv(h, hermitian=True) @ e


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
    u = gap_direction(h, upper, lower, reg=reg)
    return np.asarray(w_vote * (p - _Y[cells.outcome]) * (u[cells.a] - u[cells.b]))


class Votes(Protocol):
    """Removable votes grouped in units (a cell of interchangeable votes, or one battle)."""

    @property
    def count(self) -> np.ndarray:
        """Votes per unit."""
        ...

    def fit(self, removed: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """The engine's parameters (item ratings in natural-log units first) without the
        ``removed`` votes of each unit; ``start``: a nearby optimum to start from."""
        ...

    def influence(self, removed: np.ndarray, v: np.ndarray, upper: int,
                  lower: int) -> np.ndarray:
        """Linear change of ``θ_upper - θ_lower`` from removing one vote of each unit."""
        ...

    def votes_of(self, items: list[int]) -> int:
        """Votes in battles involving any of ``items``."""
        ...


@dataclass(frozen=True)
class CellVotes:
    """Votes of a plain view: cells of interchangeable votes, fitted with penalty ``reg``."""

    cells: Cells
    reg: float

    @property
    def count(self) -> np.ndarray:
        return self.cells.count

    def fit(self, removed: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        return refit(self.cells, removed, reg=self.reg)

    def influence(self, removed: np.ndarray, v: np.ndarray, upper: int,
                  lower: int) -> np.ndarray:
        return influence(self.cells, removed, v, upper, lower, reg=self.reg)

    def votes_of(self, items: list[int]) -> int:
        return self.cells.votes_of(items)


class BattleVotes:
    """Votes of a style-controlled view: one unit per battle, refitted by :class:`ratings.Refit`.

    Removing a battle is refitting with its weight set to 0, warm-started from a nearby optimum.
    """

    def __init__(self, engine: ratings.Refit) -> None:
        self.engine = engine
        self._count = np.ones(engine.weights.shape[0], dtype=np.int64)

    @property
    def count(self) -> np.ndarray:
        return self._count

    def _weights(self, removed: np.ndarray) -> np.ndarray:
        return self.engine.weights * (removed == 0)

    def fit(self, removed: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        return self.engine.fit(self._weights(removed), start)

    def influence(self, removed: np.ndarray, v: np.ndarray, upper: int,
                  lower: int) -> np.ndarray:
        eng = self.engine
        u = gap_direction(eng.hessian(v, self._weights(removed)), upper, lower, reg=eng.reg)
        n = eng.n_items
        lever = u[eng.item_a] - u[eng.item_b] + u[n:] @ eng.covariates
        return np.asarray(eng.weights * (eng.win_probability(v) - eng.score) * lever)

    def votes_of(self, items: list[int]) -> int:
        eng = self.engine
        return int(np.count_nonzero(np.isin(eng.item_a, items) | np.isin(eng.item_b, items)))


def _fit(votes: Votes, removed: np.ndarray, start: np.ndarray | None) -> np.ndarray | None:
    """:meth:`Votes.fit`, or None where the engine finds no optimum without those votes
    (with ``reg = 0``: a contender cut off); such a removal counts as not swapping."""
    try:
        return votes.fit(removed, start)
    except ratings.RatingError:
        return None


@dataclass(frozen=True)
class PairFragility:
    """Votes whose removal swaps ``upper`` (rated higher) and ``lower``."""

    upper: int
    lower: int
    votes_to_swap: int | None  # None: no plan swapped them within the refit budget
    linear_estimate: int | None  # the first linear plan's size, before any refit
    pair_votes: int  # votes in battles involving either contender
    refits: int
    removed: tuple[int, ...] = ()  # the confirmed removal: a unit per vote, plan order

    @property
    def share(self) -> float | None:
        """``votes_to_swap`` as a fraction of ``pair_votes``."""
        if self.votes_to_swap is None or self.pair_votes == 0:
            return None
        return self.votes_to_swap / self.pair_votes


def _plan(delta: np.ndarray, left: np.ndarray, gap: float) -> list[tuple[int, int]]:
    """Units (most negative ``δ`` first) and counts whose linear effect closes ``gap``."""
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


@dataclass
class _Bracket:
    """Prefixes of a removal order: ``lo`` votes leave the pair in order (gap ``gap_lo`` > 0),
    ``hi`` votes swap it (``gap_hi`` < 0, parameters ``v_hi``); ``x`` is the predicted gap
    change after each number of votes from ``lo`` on (cumulative ``δ`` of the last plan)."""

    lo: int
    gap_lo: float
    hi: int
    gap_hi: float
    v_hi: np.ndarray
    x: np.ndarray
    base: int  # ``x[0]`` belongs to ``base`` votes

    def guess(self, bisect: bool) -> int:
        """Next prefix to refit: where the gap interpolated along ``x`` crosses zero."""
        if bisect:
            return (self.lo + self.hi) // 2
        x_lo, x_hi = self.x[self.lo - self.base], self.x[self.hi - self.base]
        if not x_hi < x_lo:
            return (self.lo + self.hi) // 2
        target = x_lo + (x_hi - x_lo) * self.gap_lo / (self.gap_lo - self.gap_hi)
        # x decreases with the prefix: the first prefix predicted at or below the target
        m = self.base + int(np.searchsorted(-self.x, -target, side="left"))
        return min(max(m, self.lo + 1), self.hi - 1)


def _shortest_prefix(votes: Votes, order: np.ndarray, bracket: _Bracket, upper: int,
                     lower: int) -> tuple[int, int]:
    """Shortest prefix of ``order`` (in votes) within the bracket whose removal swaps the
    pair, and the refits it took."""
    refits, moved = 0, ""
    while bracket.hi - bracket.lo > 1:
        # interpolate while both ends move; bisect after one end moved twice in a row
        mid = bracket.guess(bisect=moved.endswith(("lolo", "hihi")))
        v = _fit(votes, np.bincount(order[:mid], minlength=votes.count.size), bracket.v_hi)
        refits += 1
        if v is not None and v[lower] > v[upper]:
            bracket.hi, bracket.gap_hi, bracket.v_hi = mid, float(v[upper] - v[lower]), v
            moved += "hi"
        else:
            bracket.lo = mid
            if v is not None:
                bracket.gap_lo = float(v[upper] - v[lower])
            moved += "lo" if v is not None else "lolo"  # no gap to interpolate: bisect
    return bracket.hi, refits


def swap_votes(votes: Votes, upper: int, lower: int, *, start: np.ndarray | None = None,
               max_rounds: int = 8, margin: float = 1.05) -> PairFragility:
    """The smallest confirmed number of votes whose removal puts ``lower`` above ``upper``.

    ``start``: the full-data optimum (fitted here when not given).
    """
    size = votes.count.shape[0]
    removed = np.zeros(size, dtype=np.int64)
    order = np.zeros(0, dtype=np.int64)
    refits = 0
    v = start
    if v is None:
        v = votes.fit(removed)
        refits += 1
    linear: int | None = None
    bracket: _Bracket | None = None
    for _ in range(max_rounds):
        gap = float(v[upper] - v[lower])
        delta = votes.influence(removed, v, upper, lower)
        plan = _plan(delta, votes.count - removed, gap * margin)
        if not plan:
            break
        if linear is None:
            linear = sum(k for _, k in plan)
        tail = np.repeat([c for c, _ in plan], [k for _, k in plan])
        base = order.size
        order = np.concatenate([order, tail])
        np.add.at(removed, tail, 1)
        fitted = _fit(votes, removed, v)
        refits += 1
        if fitted is None:
            break
        if fitted[lower] > fitted[upper]:
            x = np.concatenate([[0.0], np.cumsum(delta[tail])])
            bracket = _Bracket(lo=base, gap_lo=gap, hi=order.size,
                               gap_hi=float(fitted[upper] - fitted[lower]), v_hi=fitted,
                               x=x, base=base)
            break
        v = fitted
    pair_votes = votes.votes_of([upper, lower])
    if bracket is None:
        return PairFragility(upper, lower, None, linear, pair_votes, refits)
    # The prefix before the last plan was refitted and did not swap: search only its tail.
    hi, more = _shortest_prefix(votes, order, bracket, upper, lower)
    return PairFragility(upper, lower, hi, linear, pair_votes, refits + more,
                         tuple(order[:hi].tolist()))


def fragility(votes: Votes, order: list[int], *, top: int = 20) -> list[PairFragility]:
    """:func:`swap_votes` for each adjacent pair among the first ``top`` of ``order``."""
    v = votes.fit(np.zeros(votes.count.shape[0], dtype=np.int64))
    head = order[:top]
    return [swap_votes(votes, int(u), int(low), start=v)
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
