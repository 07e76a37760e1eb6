"""Inverse-probability-weighted win rates: what adaptive pairing would otherwise bias.

A raw win-rate matrix counts each battle once. When the sampler favours some pairs at some
times (new contenders, adjacent ranks, caps), the battles of a pair are not a uniform sample
of the arena's traffic, and a contender's overall win rate depends on whom it happened to be
paired with. Weighting every battle by ``1 / propensity`` (the probability with which its
ordered pair was drawn, stored on the battle) estimates the win rates as if every pair had
been drawn equally often.

Battles without a propensity (imported, or older than propensity logging) weigh 1.
"""

from __future__ import annotations

import numpy as np


def ipw_win_matrix(a: np.ndarray, b: np.ndarray, score_a: np.ndarray,
                   propensity: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(win, weight)``: ``win[i, j]`` = IPW share of battles between i and j that i won.

    ``a``/``b`` are item indices, ``score_a`` is 1 for an A win, 0 for a B win and 0.5 for a
    tie or both bad, ``propensity`` the ordered pair's draw probability (NaN or ≤ 0 → weight
    1). Entries of pairs that never met are NaN; ``weight`` holds the summed weights.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    s = np.asarray(score_a, dtype=float)
    p = np.asarray(propensity, dtype=float)
    w = np.where(np.isfinite(p) & (p > 0), 1.0 / np.where(p > 0, p, 1.0), 1.0)
    wins = np.zeros((n, n))
    weight = np.zeros((n, n))
    np.add.at(wins, (a, b), w * s)
    np.add.at(wins, (b, a), w * (1.0 - s))
    np.add.at(weight, (a, b), w)
    np.add.at(weight, (b, a), w)
    with np.errstate(invalid="ignore", divide="ignore"):
        win = np.where(weight > 0, wins / np.where(weight > 0, weight, 1.0), np.nan)
    return win, weight


def ipw_overall_win_rate(win: np.ndarray) -> np.ndarray:
    """Each row's mean win rate over the opponents it met (each opponent counts once)."""
    with np.errstate(invalid="ignore"):
        return np.nanmean(np.where(np.eye(len(win), dtype=bool), np.nan, win), axis=1)
