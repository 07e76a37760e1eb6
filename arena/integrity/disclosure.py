"""Fragility of a published view, in the shape a snapshot stores and the page shows."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import ratings
from arena.integrity import fragility as fr

_OUTCOME = {"model_a": 0, "model_b": 1, "tie": 2, "both_bad": 2}


def view_fragility(model_a: Sequence[str] | np.ndarray, model_b: Sequence[str] | np.ndarray,
                   winners: Sequence[str] | np.ndarray, weights: Sequence[float] | np.ndarray,
                   res: ratings.LeaderboardResult,
                   public: Mapping[str, bool], ids: Mapping[str, int], *, reg: float,
                   top: int = 20, threshold: float = 0.001) -> dict[str, Any]:
    """Swap counts of adjacent public contenders among the first ``top`` of a plain view.

    ``shared_rank`` maps contender id → the rank shown when a pair swaps with fewer than
    ``threshold`` of its votes (both contenders then share the upper one's rank).
    """
    started = time.perf_counter()
    names = list(res.names)
    index = {n: i for i, n in enumerate(names)}
    a = np.array([index[n] for n in model_a], dtype=np.int64)
    b = np.array([index[n] for n in model_b], dtype=np.int64)
    outcome = np.array([_OUTCOME[w] for w in winners], dtype=np.int64)
    cells = fr.Cells.from_battles(a, b, outcome, len(names), np.asarray(weights, float))
    order = [index[m.name] for m in res.models if public[m.name]]  # best first
    pairs = fr.fragility(cells, order, reg=reg, top=top)
    ranks = [1 + k for k in range(min(top, len(order)))]
    shared = fr.shared_ranks(ranks, pairs, threshold)
    return {
        "threshold": threshold,
        "pairs": [{"upper": ids[names[p.upper]], "lower": ids[names[p.lower]],
                   "votes_to_swap": p.votes_to_swap, "pair_votes": p.pair_votes,
                   "share": None if p.share is None else round(p.share, 6),
                   "linear_estimate": p.linear_estimate, "refits": p.refits,
                   "shares_rank": p.share is not None and p.share < threshold}
                  for p in pairs],
        "shared_rank": {str(ids[names[i]]): r for i, r in zip(order, shared, strict=False)},
        "seconds": round(time.perf_counter() - started, 3),
    }
