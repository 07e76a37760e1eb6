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
                   features: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                   top: int = 20, threshold: float = 0.001) -> dict[str, Any]:
    """Swap counts of adjacent public contenders among the first ``top`` of a view.

    ``features``: the raw per-side style features a style-controlled view's fit controls for
    (as given to :func:`ratings.fit_leaderboard`); removals are then refitted with them.
    ``shared_rank`` maps contender id → the rank shown when a pair swaps with fewer than
    ``threshold`` of its votes (both contenders then share the upper one's rank).
    """
    started = time.perf_counter()
    votes: fr.Votes
    if features:  # one unit per battle: the engine's covariates make every battle differ
        engine = ratings.Refit(model_a, model_b, winners, features=features,
                               control=tuple(features), weights=weights, reg=reg)
        names = engine.names.tolist()
        index = {n: i for i, n in enumerate(names)}
        votes = fr.BattleVotes(engine)
    else:
        names = list(res.names)
        index = {n: i for i, n in enumerate(names)}
        a = np.array([index[n] for n in model_a], dtype=np.int64)
        b = np.array([index[n] for n in model_b], dtype=np.int64)
        outcome = np.array([_OUTCOME[w] for w in winners], dtype=np.int64)
        votes = fr.CellVotes(fr.Cells.from_battles(a, b, outcome, len(names),
                                                   np.asarray(weights, float)), reg)
    order = [index[m.name] for m in res.models if public[m.name]]  # best first
    pairs = fr.fragility(votes, order, top=top)
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


def board_integrity(snapshot: Any, visible: set[int]) -> dict[str, Any]:
    """What the page and the JSON show of a snapshot's integrity record.

    ``filters``: votes and voters each filter left out of this publication's default board;
    ``fragility``: adjacent pairs among ``visible`` contenders (public ones) with the votes
    whose removal would swap them; ``gate_alerts``: sharp changes of gate pass rates.
    """
    settings = snapshot.publication.settings or {}
    frag = (snapshot.extra or {}).get("fragility") or {}
    pairs = [p for p in frag.get("pairs", []) if p["upper"] in visible and p["lower"] in visible]
    return {
        "filters": settings.get("filters"),
        "screen": settings.get("integrity_summary"),
        "gate_alerts": settings.get("gate_alerts", []),
        "fragility": {"threshold": frag.get("threshold"), "pairs": pairs} if frag else None,
        "shared_rank": {int(k): v for k, v in (frag.get("shared_rank") or {}).items()
                        if int(k) in visible},
    }


def annotate_rows(rows: list[dict[str, Any]], info: Mapping[str, Any]) -> None:
    """Add ``swap_votes`` (to swap with the next row) and ``shared_rank`` to board rows."""
    by_upper = {p["upper"]: p for p in (info.get("fragility") or {}).get("pairs", [])}
    shared = info.get("shared_rank") or {}
    for row in rows:
        pair = by_upper.get(row["contender_id"])
        row["swap_votes"] = None if pair is None else pair["votes_to_swap"]
        row["swap_share"] = None if pair is None else pair["share"]
        row["shares_rank"] = bool(pair and pair["shares_rank"])
        row["shared_rank"] = shared.get(row["contender_id"])
