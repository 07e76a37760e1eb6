"""Who is ranked against whom: comparable groups and provisional status of a fitted view.

A Bradley–Terry fit with an L2 penalty gives every contender a finite rating even when two
groups of contenders never met (directly or through others): the penalty alone then decides
where one group sits relative to the other, which is meaningless. Two rules keep the
published order honest:

Comparable set
    Contenders are ranked only against those of their own connected component of the
    comparison graph. The largest component (most public contenders; ties broken by votes,
    then by the best-rated member's name so the choice is deterministic) is the ranked board;
    every other component is listed as "not yet comparable", with ranks counted inside its
    own component only and never interleaved with the board.

Provisional
    A contender of the board is *provisional* until its 95% interval half-width is no wider
    than the median gap between adjacent ratings of the board's public contenders with at
    least ``min_votes`` votes (all of the board's if fewer than two have), and it has at least
    ``min_votes`` votes itself (issue 11's definition). Contenders outside the board are
    always provisional. Pages and JSON list established contenders first: a provisional one
    is never shown above an established one only because few votes left it a wide, lucky
    interval.

Ranks (``rank``, ``rank_ub``, ``rank_low``/``rank_high``) are counted among the *public*
members of the contender's own component, as before among all public contenders; with one
component they equal the engine's numbers when every contender is public.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import ratings
from arena.models import LeaderboardSnapshot, SnapshotEntry

#: Groups of a row, in the order pages and JSON list them.
GROUPS = ("ranked", "provisional", "not_comparable")


@dataclass(frozen=True)
class Ranking:
    """Per-entry ranks and status of one view (arrays in the order of ``res.models``)."""

    component: np.ndarray  # component index of each contender (0 = the board)
    rank: np.ndarray
    rank_ub: np.ndarray
    rank_low: np.ndarray | None
    rank_high: np.ndarray | None
    provisional: np.ndarray
    median_gap: float | None


def median_gap(values: Sequence[float]) -> float | None:
    """Median difference between adjacent sorted ``values`` (None with fewer than two)."""
    if len(values) < 2:
        return None
    ordered = np.sort(np.asarray(values, dtype=float))
    return float(np.median(np.diff(ordered)))


def _component_index(res: ratings.LeaderboardResult, public: np.ndarray) -> np.ndarray:
    names = res.names
    position = {n: i for i, n in enumerate(names)}
    comps = [list(c) for c in res.components] or [list(names)]
    votes = np.array([m.votes for m in res.models])
    rating = np.array([m.rating for m in res.models])

    def order(comp: list[str]) -> tuple[int, int, str]:
        idx = [position[n] for n in comp]
        best = max(idx, key=lambda i: rating[i])
        # Most public members, then most votes; the best member's name breaks exact ties.
        return (-int(public[idx].sum()), -int(votes[idx].sum()), names[best])

    comps.sort(key=order)
    index = np.full(len(names), -1, dtype=int)
    for k, comp in enumerate(comps):
        for n in comp:
            index[position[n]] = k
    # A contender missing from every component (never the case for the engine) stands alone.
    loose = index < 0
    index[loose] = len(comps) + np.arange(int(loose.sum()))
    return index


def rank_view(res: ratings.LeaderboardResult, public: np.ndarray, *,
              min_votes: int) -> Ranking:
    """Ranks within components and provisional status of every contender of ``res``."""
    pub = np.asarray(public, dtype=bool)
    comp = _component_index(res, pub)
    rating = np.array([m.rating for m in res.models])
    lo = np.array([m.ci_low for m in res.models])
    hi = np.array([m.ci_high for m in res.models])
    votes = np.array([m.votes for m in res.models])
    same = comp[None, :] == comp[:, None]
    peers = same & pub[None, :]  # [i, j]: j is a public member of i's component
    rank = 1 + ((rating[None, :] > rating[:, None]) & peers).sum(axis=1)
    rank_ub = 1 + ((lo[None, :] > hi[:, None]) & peers).sum(axis=1)
    rank_low = rank_high = None
    boot = res.bootstrap_ratings
    if boot is not None and pub.any():
        # ranks[r, i] = 1 + public peers of i rated above i in replicate r.
        above = (boot[:, None, :] > boot[:, :, None]) & peers[None, :, :]
        ranks = 1 + above.sum(axis=2)
        rank_low = np.percentile(ranks, 2.5, axis=0, method="lower")
        rank_high = np.percentile(ranks, 97.5, axis=0, method="higher")
    board = (comp == 0) & pub
    # The gap is measured among contenders with enough votes: a newcomer's noisy rating
    # dropped between two others would otherwise halve the yardstick it is judged by.
    enough = board & (votes >= min_votes)
    gap = median_gap(rating[enough if enough.sum() >= 2 else board].tolist())
    half = (hi - lo) / 2
    wide = half > (gap if gap is not None else math.inf)
    provisional = (comp != 0) | (votes < min_votes) | wide
    return Ranking(component=comp, rank=rank, rank_ub=rank_ub, rank_low=rank_low,
                   rank_high=rank_high, provisional=provisional, median_gap=gap)


def apply(snapshot: LeaderboardSnapshot, res: ratings.LeaderboardResult, *,
          min_votes: int, provisional_ids: Collection[int] = ()) -> LeaderboardSnapshot:
    """Rewrite ``snapshot``'s ranks and provisional flags by the rules above (in place).

    ``snapshot.entries`` are in the order of ``res.models`` (as :func:`build_snapshot`
    makes them). The snapshot's ``extra["ranking"]`` records the rule, the median gap and the
    contender ids of the board and of those not yet comparable.
    """
    entries: list[SnapshotEntry] = list(snapshot.entries)
    if len(entries) != len(res.models):
        raise ValueError("snapshot entries do not match the fit's contenders")
    public = np.array([bool(e.public) for e in entries])
    r = rank_view(res, public, min_votes=min_votes)
    for i, e in enumerate(entries):
        e.rank, e.rank_ub = int(r.rank[i]), int(r.rank_ub[i])
        e.rank_low = None if r.rank_low is None else int(r.rank_low[i])
        e.rank_high = None if r.rank_high is None else int(r.rank_high[i])
        # A private test revealed only recently stays provisional whatever its interval
        # (the ledger's PRIVATE_TEST_VOTES_AFTER_REVEAL).
        e.provisional = bool(r.provisional[i]) or e.contender_id in provisional_ids
    extra = dict(snapshot.extra or {})
    extra["ranking"] = {
        "rule": "ranked within the largest connected component; provisional until the 95% "
                "interval half-width is at most the median adjacent gap and votes >= min_votes",
        "min_votes": min_votes,
        "median_gap": r.median_gap,
        "provisional_after_reveal": sorted(
            e.contender_id for e in entries if e.contender_id in provisional_ids),
        "board": [e.contender_id for i, e in enumerate(entries)
                  if r.component[i] == 0 and e.public],
        "not_comparable": [e.contender_id for i, e in enumerate(entries)
                           if r.component[i] != 0 and e.public],
    }
    snapshot.extra = extra
    return snapshot


def group_of(row: dict[str, Any], not_comparable: set[int]) -> str:
    """Which table group a public row belongs to (one of :data:`GROUPS`)."""
    if row["contender_id"] in not_comparable:
        return "not_comparable"
    return "provisional" if row["provisional"] else "ranked"


def order_rows(rows: list[dict[str, Any]], extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows in display order: established, then provisional, then not comparable; each by
    rating. Each row gets ``status`` (its group)."""
    info = (extra or {}).get("ranking") or {}
    outside = set(info.get("not_comparable", []))
    for row in rows:
        row["status"] = group_of(row, outside)
    return sorted(rows, key=lambda r: (GROUPS.index(r["status"]), -r["rating"], r["name"]))
