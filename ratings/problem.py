"""Sufficient-statistic form of a validated fit problem (internal).

Battles are oriented so that every comparison is between items ``i < j`` and grouped into
*rows*. Without style covariates (and without voter clustering) a row is a cell
``(pair, outcome)`` holding the summed battle weight, so a fit costs O(pairs) whatever the
number of battles. With covariates every battle is its own row, and rows are sorted by pair so
that per-pair sums are contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    row_w: np.ndarray  # (R,) summed battle weight
    row_w2: np.ndarray  # (R,) summed squared battle weight (sandwich meat)
    x: np.ndarray  # (R, p) covariates oriented as i minus j
    battle_row: np.ndarray  # (N,) row of each battle
    battle_w: np.ndarray  # (N,) battle weight (1.0 when none was given)
    unit_weights: bool  # all battle weights are 1
    aggregated: bool
    voter: np.ndarray | None  # (R,) cluster code of each row (per-battle rows only)

    @property
    def n_features(self) -> int:
        return self.x.shape[1]

    @property
    def n_pairs(self) -> int:
        return self.pair_i.shape[0]

    def row_weights(self, battle_weights: np.ndarray) -> np.ndarray:
        """Row weights for per-battle weights (e.g. bootstrap counts times battle weights)."""
        if self.aggregated:
            return np.bincount(self.battle_row, battle_weights, minlength=self.row_w.shape[0])
        out = np.empty(self.row_w.shape[0])
        out[self.battle_row] = battle_weights
        return out


def build_problem(v: Validated, *, per_battle: bool) -> Problem:
    """Orient, code and (where the model allows it) aggregate validated battles.

    ``tie`` and ``both_bad`` both become TIE here; options that drop them act in validation.

    Parameters
    ----------
    v : Validated
        Output of :func:`ratings.data._validate`.
    per_battle : bool
        Keep one row per battle even without covariates (needed for voter clustering).
    """
    n = v.names.shape[0]
    flip = v.item_a > v.item_b
    lo = np.where(flip, v.item_b, v.item_a)
    hi = np.where(flip, v.item_a, v.item_b)
    out = np.full(v.outcome.shape, TIE, dtype=np.int8)
    out[(v.outcome == 0) & ~flip] = WIN
    out[(v.outcome == 1) & flip] = WIN
    out[(v.outcome == 0) & flip] = LOSS
    out[(v.outcome == 1) & ~flip] = LOSS
    key = lo * n + hi
    pairs, pair_of_battle = np.unique(key, return_inverse=True)
    pair_i, pair_j = pairs // n, pairs % n
    bw = np.ones(lo.shape[0]) if v.weights is None else v.weights
    p = v.covariates.shape[1]
    aggregated = p == 0 and not per_battle
    if aggregated:
        cell = pair_of_battle * 3 + out
        cells, battle_row = np.unique(cell, return_inverse=True)
        r = cells.shape[0]
        return Problem(
            n_items=n,
            pair_i=pair_i,
            pair_j=pair_j,
            row_pair=cells // 3,
            row_out=(cells % 3).astype(np.int8),
            row_w=np.bincount(battle_row, bw, minlength=r),
            row_w2=np.bincount(battle_row, bw * bw, minlength=r),
            x=np.empty((r, 0)),
            battle_row=battle_row,
            battle_w=bw,
            unit_weights=v.weights is None,
            aggregated=True,
            voter=None,
        )
    order = np.argsort(pair_of_battle, kind="stable")
    battle_row = np.empty_like(order)
    battle_row[order] = np.arange(order.shape[0])
    sign = np.where(flip, -1.0, 1.0)[order]
    return Problem(
        n_items=n,
        pair_i=pair_i,
        pair_j=pair_j,
        row_pair=pair_of_battle[order],
        row_out=out[order],
        row_w=bw[order],
        row_w2=(bw * bw)[order],
        x=np.ascontiguousarray(v.covariates[order] * sign[:, None]),
        battle_row=battle_row,
        battle_w=bw,
        unit_weights=v.weights is None,
        aggregated=False,
        voter=None if v.voter is None else v.voter[order],
    )
