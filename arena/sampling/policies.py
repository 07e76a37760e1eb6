"""Sampling policies: pure functions from the candidate pool to pair probabilities.

A policy turns the pool into a symmetric matrix of pair scores; :func:`pair_probabilities`
then applies the rules every policy shares, in this order:

1. **Allowed pairs**: never a contender with itself, never two unreleased contenders.
2. **Caps**: once at least ``cap_min_battles`` battles were created in the last hour, a
   contender already in more than ``max_share`` of them leaves the draw until its share falls
   (unless no pair would be left).
3. **Exploration floor**: the policy's probabilities are mixed with the uniform distribution
   over allowed pairs, so every allowed pair keeps at least ``exploration / n_pairs``.

The probability of the drawn *ordered* pair (left/right is a fair coin) is the battle's
propensity: win-rate matrices weight each battle by its inverse.

Policies (each with a version string stored on every battle it draws):

``uniform``
    Every allowed pair equally likely.
``weighted``
    Proportional to the product of the contenders' configured weights (the original policy).
``boost-new``
    LMArena's published rule: weight ``boost_weight`` (5) for a contender with fewer than
    ``boost_votes`` (3,000) votes, ``top_weight`` (3) for the ``top_k`` (10) best ranked, 1
    otherwise, times the configured weight.
``adaptive``
    Variance-targeted: a pair's score is the expected reduction of the posterior variances of
    both ratings from one more battle between them (a Kalman step on the Elo scale with the
    Fisher information ``p(1-p)`` of the predicted outcome), plus the reduction of the
    variance of their difference when they are adjacent in rank. New and uncertain contenders
    therefore get most battles, against opponents they are most uncertain against, until
    their intervals are as narrow as everyone else's; on a settled board the pairs closest in
    rating are preferred. It reads only the latest published snapshot and the vote counts
    since, never fits.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

POLICIES = ("uniform", "weighted", "boost-new", "adaptive")
#: Bumped whenever a policy's rule changes; stored on every battle and in the ledger.
VERSIONS = {"uniform": "uniform-v1", "weighted": "weighted-v1", "boost-new": "boost-new-v1",
            "adaptive": "adaptive-v1"}
#: Elo points per natural-log unit of odds.
_ELO = 400.0 / math.log(10.0)


@dataclass(frozen=True)
class Candidate:
    """A contender as the sampler sees it (no ORM object: policies are pure)."""

    id: int
    public: bool
    weight: float = 1.0
    organization: str = ""
    #: Votes counted so far: the latest snapshot's plus those since.
    votes: int = 0
    #: Votes since the latest snapshot (they shrink the snapshot's interval).
    new_votes: int = 0
    #: Rating and 95% half-width (Elo) in the latest snapshot; None for a newcomer.
    rating: float | None = None
    half_width: float | None = None
    rank: int | None = None


@dataclass(frozen=True)
class PolicySettings:
    """The declared policy: recorded in the ledger whenever it changes."""

    name: str = "weighted"
    exploration: float = 0.05
    max_share: float = 0.35
    cap_min_battles: int = 20
    boost_weight: float = 5.0
    boost_votes: int = 3000
    top_k: int = 10
    top_weight: float = 3.0
    #: Half-width (Elo) assumed for a contender with no published rating yet.
    prior_half_width: float = 400.0

    def __post_init__(self) -> None:
        if self.name not in POLICIES:
            raise ValueError(f"sampling policy must be one of {', '.join(POLICIES)}, "
                             f"got {self.name!r}")
        if not 0 <= self.exploration <= 1:
            raise ValueError("sampling exploration must be between 0 and 1")
        if not 0 < self.max_share <= 1:
            raise ValueError("sampling max share must be in (0, 1]")

    @property
    def version(self) -> str:
        return VERSIONS[self.name]

    def declared(self) -> dict[str, object]:
        """The settings as the ledger records them."""
        return {"policy": self.name, "version": self.version, **{
            k: v for k, v in asdict(self).items() if k != "name"}}


def allowed_pairs(cands: Sequence[Candidate]) -> np.ndarray:
    """Boolean ``n×n`` matrix of pairs that may meet (distinct, at least one public)."""
    public = np.array([c.public for c in cands], dtype=bool)
    allowed = public[:, None] | public[None, :]
    np.fill_diagonal(allowed, False)
    return allowed


def pair_scores(cands: Sequence[Candidate], settings: PolicySettings) -> np.ndarray:
    """The policy's unnormalised, symmetric pair scores (before caps and exploration)."""
    n = len(cands)
    if settings.name == "uniform":
        return np.ones((n, n))
    if settings.name == "weighted":
        w = np.array([c.weight for c in cands], dtype=float)
        return np.outer(w, w)
    if settings.name == "boost-new":
        w = np.array([c.weight for c in cands], dtype=float)
        ranked = sorted((c.rank, i) for i, c in enumerate(cands) if c.rank is not None)
        top = {i for _, i in ranked[: settings.top_k]}
        boost = np.array([settings.boost_weight if c.votes < settings.boost_votes
                          else settings.top_weight if i in top else 1.0
                          for i, c in enumerate(cands)])
        w = w * boost
        return np.outer(w, w)
    return _adaptive_scores(cands, settings)


def _adaptive_scores(cands: Sequence[Candidate], settings: PolicySettings) -> np.ndarray:
    known = [c.rating for c in cands if c.rating is not None]
    centre = float(np.median(known)) if known else 0.0
    rating = np.array([centre if c.rating is None else c.rating for c in cands])
    prior_var = (settings.prior_half_width / 1.96) ** 2
    var = np.empty(len(cands))
    for i, c in enumerate(cands):
        base = prior_var if c.half_width is None else max(c.half_width / 1.96, 1e-6) ** 2
        # Votes since the snapshot add information of at most 1/4 per battle (p = 1/2).
        var[i] = 1.0 / (1.0 / base + c.new_votes * 0.25 / _ELO**2)
    p = 1.0 / (1.0 + np.exp((rating[None, :] - rating[:, None]) / _ELO))
    info = p * (1.0 - p) / _ELO**2
    v_sum = var[:, None] + var[None, :]
    gain = info / (1.0 + info * v_sum)
    scores = (var[:, None] ** 2 + var[None, :] ** 2) * gain
    order = [i for _, i in sorted((c.rank, i) for i, c in enumerate(cands) if c.rank)]
    for x, y in zip(order, order[1:], strict=False):
        scores[x, y] += v_sum[x, y] ** 2 * gain[x, y]
        scores[y, x] = scores[x, y]
    w = np.array([c.weight for c in cands], dtype=float)
    # A zero configured weight still takes a contender out of every policy.
    return scores * (w[:, None] > 0) * (w[None, :] > 0)


def capped(cands: Sequence[Candidate], hour_counts: Mapping[int, int], hour_total: int,
           settings: PolicySettings) -> set[int]:
    """Indices of contenders over their hourly share cap (they sit this draw out)."""
    if hour_total < settings.cap_min_battles:
        return set()
    return {i for i, c in enumerate(cands)
            if (hour_counts.get(c.id, 0) + 1) / (hour_total + 1) > settings.max_share}


def pair_probabilities(cands: Sequence[Candidate], settings: PolicySettings,
                       hour_counts: Mapping[int, int] | None = None,
                       hour_total: int = 0) -> np.ndarray:
    """Symmetric matrix ``P`` with ``P[i, j] + P[j, i]`` the chance that pair ``{i, j}`` meets.

    Only the upper triangle carries mass (``P[i, j]`` for ``i < j``); it sums to 1. An all-zero
    matrix means no pair can be drawn.
    """
    n = len(cands)
    allowed = allowed_pairs(cands)
    scores = np.clip(pair_scores(cands, settings), 0.0, None)
    allowed &= scores > 0
    out = capped(cands, hour_counts or {}, hour_total, settings)
    if out:
        keep = allowed.copy()
        idx = np.array(sorted(out))
        keep[idx, :] = False
        keep[:, idx] = False
        if np.triu(keep, 1).any():
            allowed = keep
    upper = np.triu(allowed, 1)
    probs = np.zeros((n, n))
    if not upper.any():
        return probs
    s = np.where(upper, scores, 0.0)
    total = s.sum()
    uniform = upper / upper.sum()
    base = s / total if total > 0 else uniform
    probs = (1.0 - settings.exploration) * base + settings.exploration * uniform
    return probs / probs.sum()


def expected_shares(probs: np.ndarray) -> np.ndarray:
    """Each contender's expected share of battles (shares sum to 2: two per battle)."""
    sym = probs + probs.T
    return sym.sum(axis=1)


class PairDraw:
    """A pair-probability matrix prepared for many draws: the upper triangle and its
    cumulative sums are computed once (the sampler keeps one per cached matrix), so a draw
    is a binary search. Same pairs, propensities and random numbers as :func:`draw`."""

    def __init__(self, probs: np.ndarray) -> None:
        flat = np.triu(probs, 1).ravel()
        self.size = int(probs.shape[0])
        self.flat: list[float] = flat.tolist()
        self.cumulative: list[float] = np.cumsum(flat).tolist()

    def __call__(self, rng: random.Random) -> tuple[int, int, float]:
        """One ordered pair ``(left, right)`` and its propensity (pair probability × 1/2)."""
        flat, cumulative = self.flat, self.cumulative
        total = cumulative[-1] if cumulative else 0.0
        if total <= 0:
            raise ValueError("no pair can be drawn")
        k = min(bisect_right(cumulative, rng.random() * total), len(flat) - 1)
        while flat[k] <= 0:  # rounding at the very end of the cumulative sum
            k -= 1
        i, j = divmod(k, self.size)
        propensity = flat[k] / total / 2.0
        return (i, j, propensity) if rng.random() < 0.5 else (j, i, propensity)


def draw(probs: np.ndarray, rng: random.Random) -> tuple[int, int, float]:
    """One ordered pair ``(left, right)`` and its propensity (pair probability × 1/2)."""
    return PairDraw(probs)(rng)
