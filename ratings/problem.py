"""Sufficient-statistic form of a validated fit problem (internal).

Battles are oriented so that every comparison is between items ``i < j`` and grouped into
*rows*. Without style covariates (and without voter clustering) a row is a cell
``(pair, outcome)`` holding the summed battle weight, so a fit costs O(pairs) whatever the
number of battles; under the half-tie model :func:`collapse` further sums the cells of a pair
into one row with a fractional score. With covariates every battle is its own row, and rows
are sorted by pair so that per-pair sums are contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .data import Validated

WIN, LOSS, TIE = 0, 1, 2  # outcome of a row from the point of view of item i
HALF_SCORE = np.array([1.0, 0.0, 0.5])  # FastChat convention: a tie is half a win


@dataclass(frozen=True, eq=False)
class Problem:
    """Rows of oriented, possibly aggregated battles."""

    n_items: int
    pair_i: np.ndarray  # (K,) int64, pair_i < pair_j
    pair_j: np.ndarray
    row_pair: np.ndarray  # (R,) int64 index into pairs, non-decreasing
    row_out: np.ndarray  # (R,) int8 WIN/LOSS/TIE for item i
    row_y: np.ndarray  # (R,) score of item i under the half-tie model
    row_w: np.ndarray  # (R,) summed battle weight
    row_w2: np.ndarray  # (R,) summed squared battle weight (sandwich meat)
    xt: np.ndarray  # (p, R) covariates oriented as i minus j (one contiguous row each)
    battle_row: np.ndarray  # (N,) row of each battle
    battle_w: np.ndarray  # (N,) battle weight (1.0 when none was given)
    unit_weights: bool  # all battle weights are 1
    aggregated: bool
    voter: np.ndarray | None  # (R,) cluster code of each row (per-battle rows only)

    @property
    def n_features(self) -> int:
        return self.xt.shape[0]

    @property
    def n_pairs(self) -> int:
        return self.pair_i.shape[0]

    @cached_property
    def starts(self) -> np.ndarray:
        """First row of every pair (rows are sorted by pair and every pair has a row)."""
        rp = self.row_pair
        return np.flatnonzero(np.concatenate([[True], rp[1:] != rp[:-1]]))

    @cached_property
    def counts(self) -> np.ndarray:
        """Rows per pair."""
        return np.diff(np.append(self.starts, self.row_pair.shape[0]))

    def row_weights(self, battle_weights: np.ndarray) -> np.ndarray:
        """Row weights for per-battle weights (e.g. bootstrap counts times battle weights)."""
        if self.aggregated:
            return np.bincount(self.battle_row, battle_weights, minlength=self.row_w.shape[0])
        out = np.empty(self.row_w.shape[0])
        out[self.battle_row] = battle_weights
        return out


def collapse(prob: Problem, w: np.ndarray) -> tuple[Problem, np.ndarray]:
    """Half-tie model on cells: one row per pair with score ``sum(w y) / sum(w)``.

    The half-tie log-likelihood of a pair depends on its cells only through these two sums, so
    the collapsed problem has the same optimum and derivatives with a third of the rows.
    """
    k = prob.n_pairs
    total = np.bincount(prob.row_pair, w, minlength=k)
    score = np.bincount(prob.row_pair, w * prob.row_y, minlength=k)
    y = np.divide(score, total, out=np.full(k, 0.5), where=total > 0)
    pairs = np.arange(k)
    small = replace(
        prob,
        row_pair=pairs,
        row_out=np.full(k, TIE, dtype=np.int8),
        row_y=y,
        row_w=total,
        row_w2=total,
        xt=np.empty((0, k)),
        battle_row=pairs,
    )
    return small, total


def fit_rows(prob: Problem, w: np.ndarray, *, davidson: bool) -> tuple[Problem, np.ndarray]:
    """The rows Newton minimises over for row weights ``w``.

    Cells of the half-tie model are collapsed per pair (:func:`collapse`); any other problem is
    fitted as it is.
    """
    if prob.aggregated and not davidson:
        return collapse(prob, w)
    return prob, w


def _dense_unique(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` for keys in ``[0, size)`` without sorting."""
    if size > 4 * key.shape[0] + 1_000_000:
        return np.unique(key, return_inverse=True)
    present = np.bincount(key, minlength=size) > 0
    index = np.cumsum(present) - 1
    return np.flatnonzero(present), index[key]


def _soft_scores(score: np.ndarray, flip: np.ndarray) -> np.ndarray:
    """Soft outcomes (probability that A wins) as the score of the lower-numbered item.

    Soft outcomes keep one row per battle: cells keyed by a finite outcome set do not exist.
    """
    return np.where(flip, 1.0 - score, score)


def build_problem(v: Validated, *, per_battle: bool) -> Problem:
    """Orient, code and (where the model allows it) aggregate validated battles.

    ``tie`` and ``both_bad`` both become TIE here; options that drop them act in validation.
    ``per_battle`` keeps one row per battle even without covariates (voter clustering); so do
    soft outcomes (``v.score``), whose score replaces the half-tie score of the row.
    """
    n = v.names.shape[0]
    flip = v.item_a > v.item_b
    lo = np.where(flip, v.item_b, v.item_a)
    hi = np.where(flip, v.item_a, v.item_b)
    # outcome codes 0 (A wins) / 1 (B wins) / 2, 3 (ties) -> WIN/LOSS/TIE for the lower item
    out = np.minimum(v.outcome, TIE).astype(np.int8)
    decided = out < TIE
    out[decided & flip] = 1 - out[decided & flip]
    pairs, pair_of_battle = _dense_unique(lo * n + hi, n * n)
    pair_i, pair_j = pairs // n, pairs % n
    bw = np.ones(lo.shape[0]) if v.weights is None else v.weights
    p = v.covariates.shape[0]
    if p == 0 and not per_battle and v.score is None:
        cells, battle_row = _dense_unique(pair_of_battle * 3 + out, 3 * pairs.shape[0])
        r = cells.shape[0]
        row_out = (cells % 3).astype(np.int8)
        return Problem(
            n_items=n,
            pair_i=pair_i,
            pair_j=pair_j,
            row_pair=cells // 3,
            row_out=row_out,
            row_y=HALF_SCORE[row_out],
            row_w=np.bincount(battle_row, bw, minlength=r),
            row_w2=np.bincount(battle_row, bw * bw, minlength=r),
            xt=np.empty((0, r)),
            battle_row=battle_row,
            battle_w=bw,
            unit_weights=v.weights is None,
            aggregated=True,
            voter=None,
        )
    order = np.argsort(pair_of_battle, kind="stable")
    battle_row = np.empty_like(order)
    battle_row[order] = np.arange(order.shape[0])
    xt = np.take(v.covariates, order, axis=1)
    xt *= np.where(flip, -1.0, 1.0)[order]
    row_out = out[order]
    row_w = bw[order]
    return Problem(
        n_items=n,
        pair_i=pair_i,
        pair_j=pair_j,
        row_pair=pair_of_battle[order],
        row_out=row_out,
        row_y=HALF_SCORE[row_out] if v.score is None else _soft_scores(v.score, flip)[order],
        row_w=row_w,
        row_w2=row_w if v.weights is None else row_w * row_w,
        xt=xt,
        battle_row=battle_row,
        battle_w=bw,
        unit_weights=v.weights is None,
        aggregated=False,
        voter=None if v.voter is None else v.voter[order],
    )
