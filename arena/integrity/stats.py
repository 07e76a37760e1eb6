"""Per-pseudonym tests of voting behaviour under the fitted Bradley-Terry-with-ties model.

Pure numpy/scipy on arrays (no Flask, no SQL). Battles are given as integer arrays: ``a``,
``b`` (item indices), ``outcome`` (:data:`A_WINS`, :data:`B_WINS`, :data:`TIE`; "both bad"
is a tie) and ``voter`` (integer pseudonym codes).

The null model is Davidson's Bradley-Terry with ties, fitted by the rating engine:
``P(a) ∝ exp(η/2)``, ``P(b) ∝ exp(-η/2)``, ``P(tie) ∝ ν`` with ``η = θ_a - θ_b``. Ties are
part of the model, so an honest voter who often says "tie" is not surprising (FastChat's
outlier test, which scores ties as half wins without modelling them, flags a quarter of honest
voters).

Two statistics, both sums of independent per-vote terms under the null:

* **log-likelihood** of a voter's outcomes, lower tail (outcomes the model finds unlikely);
* **favouritism** of a voter for one contender: the contender's score (win 1, tie ½, loss 0)
  over that voter's battles with it, two-sided (boosting a target or sinking its rivals).

P-values are Chernoff bounds ``P(S ≤ s) ≤ exp(min_t K(t) - t s)`` with ``K`` the exact
cumulant generating function of the sum: never smaller than the true tail, so the test stays
calibrated for a voter with three votes as for one with thirty thousand, and exact at the
extreme (every vote for the target gives ``∏ P(win)``). A normal approximation is used only
to screen: a test whose standardised statistic is not beyond :data:`SCREEN_Z` gets p = 1,
a conservative value that no multiplicity correction can reject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import ratings

A_WINS, B_WINS, TIE = 0, 1, 2
#: Tests whose normal-approximation z is not beyond this are given p = 1 without a bound.
SCREEN_Z = 2.0
_LABELS = np.array(["model_a", "model_b", "tie"])
SCORE = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])  # score of side a / side b per outcome


@dataclass(frozen=True)
class TieModel:
    """Fitted Davidson model: ``theta`` (natural-log units, one per item) and ``log_nu``."""

    theta: np.ndarray
    log_nu: float

    def probs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``(N, 3)`` probabilities of a wins / b wins / tie for battles ``a`` vs ``b``."""
        half = 0.5 * (self.theta[a] - self.theta[b])
        logits = np.stack([half, -half, np.full_like(half, self.log_nu)], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return np.asarray(p / p.sum(axis=1, keepdims=True))


def fit_tie_model(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_items: int, *,
                  reg: float) -> TieModel:
    """Davidson fit by :func:`ratings.fit_leaderboard` on aggregated ``(a, b, outcome)`` cells."""
    key = (np.asarray(a, np.int64) * n_items + b) * 3 + outcome
    cells, counts = np.unique(key, return_counts=True)
    ca, cb, co = cells // 3 // n_items, cells // 3 % n_items, cells % 3
    names = np.array([f"{i}" for i in range(n_items)])
    res = ratings.fit_leaderboard(names[ca], names[cb], _LABELS[co], weights=counts.astype(float),
                                  ties="davidson", reg=reg, ci="none", offset=0.0)
    theta = np.zeros(n_items)
    for m in res.models:
        theta[int(m.name)] = m.rating / ratings.SCALE
    assert res.tie_log_nu is not None  # davidson always reports it
    return TieModel(theta=theta, log_nu=float(res.tie_log_nu))


def _group_cgf(values: np.ndarray, probs: np.ndarray, group: np.ndarray, t: np.ndarray,
               n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group: ``K(t)`` and ``K'(t)`` of a sum of independent discrete terms."""
    tv = t[group][:, None] * values
    m = tv.max(axis=1, keepdims=True)
    e = probs * np.exp(tv - m)
    z = e.sum(axis=1)
    k = np.bincount(group, np.log(z) + m[:, 0], minlength=n_groups)
    dk = np.bincount(group, (e * values).sum(axis=1) / z, minlength=n_groups)
    return k, dk


def chernoff_lower(values: np.ndarray, probs: np.ndarray, group: np.ndarray,
                   observed: np.ndarray, *, iterations: int = 60) -> np.ndarray:
    """Upper bound on ``P(S_g ≤ observed_g)`` for sums ``S_g`` of independent discrete terms.

    ``values``/``probs`` are ``(E, k)``: the possible values of each term and their
    probabilities; ``group`` (E,) maps terms to sums ``0..G-1``. The bound holds for every
    ``t ≤ 0``; bisection on ``K'(t) = s`` finds the tightest.
    """
    n_groups = observed.shape[0]
    spread = np.bincount(group, np.ptp(values, axis=1), minlength=n_groups)
    per_term = np.bincount(group, minlength=n_groups)
    # t beyond -50 / (typical spread) gains nothing measurable and risks overflow
    t_min = -50.0 / np.maximum(spread / np.maximum(per_term, 1), 1e-9)
    lo, hi = t_min.copy(), np.zeros(n_groups)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        _, dk = _group_cgf(values, probs, group, mid, n_groups)
        above = dk > observed
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    t = hi  # K'(hi) >= s, the side whose bound is valid and tight
    k, _ = _group_cgf(values, probs, group, t, n_groups)
    return np.asarray(np.minimum(1.0, np.exp(np.minimum(k - t * observed, 0.0))))


def normal_z(values: np.ndarray, probs: np.ndarray, observed_terms: np.ndarray,
              group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = (probs * values).sum(axis=1)
    var = np.maximum((probs * values**2).sum(axis=1) - mean**2, 0.0)
    s = np.bincount(group, observed_terms, minlength=n_groups)
    e = np.bincount(group, mean, minlength=n_groups)
    v = np.bincount(group, var, minlength=n_groups)
    z = np.divide(s - e, np.sqrt(v), out=np.zeros(n_groups), where=v > 0)
    return s, e, z


@dataclass(frozen=True)
class TestResult:
    """One family of tests: one entry per tested unit (voter, or voter × contender)."""

    voter: np.ndarray  # voter code of each test
    item: np.ndarray  # contender index (-1 for the log-likelihood test)
    n: np.ndarray  # votes in the test
    statistic: np.ndarray  # observed sum
    expected: np.ndarray  # its null expectation
    z: np.ndarray
    p: np.ndarray
    p_min: np.ndarray  # smallest p-value the test could give (its most extreme outcome)


def screened_p(values: np.ndarray, probs: np.ndarray, group: np.ndarray,
                observed: np.ndarray, z: np.ndarray, lower: bool) -> np.ndarray:
    p = np.ones(observed.shape[0])
    cand = np.flatnonzero(z < -SCREEN_Z) if lower else np.flatnonzero(z > SCREEN_Z)
    if cand.size == 0:
        return p
    remap = np.full(observed.shape[0], -1)
    remap[cand] = np.arange(cand.size)
    keep = remap[group] >= 0
    sign = 1.0 if lower else -1.0
    p[cand] = chernoff_lower(sign * values[keep], probs[keep], remap[group[keep]],
                             sign * observed[cand])
    return p


def loglik_test(probs: np.ndarray, outcome: np.ndarray, voter: np.ndarray, n_voters: int,
                min_votes: int) -> TestResult:
    """Lower-tail test of each voter's summed log-likelihood (voters with ``min_votes``+)."""
    logp = np.log(np.maximum(probs, 1e-300))
    n = np.bincount(voter, minlength=n_voters)
    keep = n[voter] >= min_votes
    tested = np.flatnonzero(n >= min_votes)
    remap = np.full(n_voters, -1)
    remap[tested] = np.arange(tested.size)
    g = remap[voter[keep]]
    vals, pr = logp[keep], probs[keep]
    observed_terms = vals[np.arange(vals.shape[0]), outcome[keep]]
    s, e, z = normal_z(vals, pr, observed_terms, g, tested.size)
    p = screened_p(vals, pr, g, s, z, lower=True)
    p_min = np.exp(np.bincount(g, np.log(np.maximum(pr.min(axis=1), 1e-300)),
                               minlength=tested.size))
    return TestResult(voter=tested, item=np.full(tested.size, -1), n=n[tested], statistic=s,
                      expected=e, z=z, p=p, p_min=p_min)


def favouritism_test(probs: np.ndarray, a: np.ndarray, b: np.ndarray, outcome: np.ndarray,
                     voter: np.ndarray, n_voters: int, n_items: int, *, min_votes: int,
                     min_pair: int) -> TestResult:
    """Two-sided test of each (voter, contender)'s score (voters with ``min_votes``+ votes,
    pairs with ``min_pair``+ battles)."""
    n_voter = np.bincount(voter, minlength=n_voters)
    ok = n_voter[voter] >= min_votes
    idx = np.flatnonzero(ok)
    # one term per (battle, side): the side's score values are fixed per outcome
    side_item = np.concatenate([a[idx], b[idx]])
    side_voter = np.concatenate([voter[idx], voter[idx]])
    pr = np.concatenate([probs[idx], probs[idx]])
    vals = np.concatenate([np.broadcast_to(SCORE[0], (idx.size, 3)),
                           np.broadcast_to(SCORE[1], (idx.size, 3))])
    out = np.concatenate([outcome[idx], outcome[idx]])
    key = side_voter.astype(np.int64) * n_items + side_item
    keys, g, n = np.unique(key, return_inverse=True, return_counts=True)
    sel = n[g] >= min_pair
    keys, g_new = np.unique(key[sel], return_inverse=True)
    vals, pr, out = vals[sel], pr[sel], out[sel]
    observed_terms = vals[np.arange(vals.shape[0]), out]
    s, e, z = normal_z(vals, pr, observed_terms, g_new, keys.size)
    p_low = screened_p(vals, pr, g_new, s, z, lower=True)
    p_high = screened_p(vals, pr, g_new, s, z, lower=False)
    p = np.minimum(1.0, 2.0 * np.minimum(p_low, p_high))
    # most extreme outcomes: every battle won (score 1) or every battle lost (score 0)
    lg = np.log(np.maximum(pr, 1e-300))
    best = np.bincount(g_new, lg[np.arange(lg.shape[0]), np.argmax(vals, axis=1)],
                       minlength=keys.size)
    worst = np.bincount(g_new, lg[np.arange(lg.shape[0]), np.argmin(vals, axis=1)],
                        minlength=keys.size)
    p_min = np.minimum(1.0, 2.0 * np.exp(np.minimum(best, worst)))
    return TestResult(voter=keys // n_items, item=keys % n_items,
                      n=np.bincount(g_new, minlength=keys.size), statistic=s, expected=e, z=z,
                      p=p, p_min=p_min)


def benjamini_hochberg(p: np.ndarray, alpha: float) -> np.ndarray:
    """Rejections of the Benjamini–Hochberg step-up procedure at false discovery rate alpha."""
    m = p.shape[0]
    reject = np.zeros(m, dtype=bool)
    if m == 0:
        return reject
    order = np.argsort(p, kind="stable")
    passed = np.flatnonzero(p[order] <= alpha * np.arange(1, m + 1) / m)
    if passed.size:
        reject[order[: passed[-1] + 1]] = True
    return reject


def holm(p: np.ndarray, alpha: float) -> np.ndarray:
    """Rejections of Holm's step-down procedure at family-wise error rate alpha."""
    m = p.shape[0]
    reject = np.zeros(m, dtype=bool)
    if m == 0:
        return reject
    order = np.argsort(p, kind="stable")
    failed = np.flatnonzero(p[order] > alpha / (m - np.arange(m)))
    stop = failed[0] if failed.size else m
    reject[order[:stop]] = True
    return reject


CORRECTIONS = {"bh": benjamini_hochberg, "holm": holm}


def voter_p_values(tests: Sequence[TestResult], n_voters: int,
                   alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One p-value per voter: Bonferroni over the voter's tests that could reach ``alpha``.

    Correcting across voters rather than across tests makes the error rate the share of
    flagged *voters* that are honest (what precision measures): a rigger with twenty rejected
    tests would otherwise buy a looser threshold for everyone else. Which tests count depends
    only on the null model (their most extreme outcome), never on the votes, so the
    Bonferroni factor is valid. Returns ``(p, p_min)`` per voter code (1 where untested).
    """
    voter = np.concatenate([t.voter for t in tests])
    p = np.concatenate([t.p for t in tests])
    p_min = np.concatenate([t.p_min for t in tests])
    live = p_min <= alpha
    count = np.bincount(voter[live], minlength=n_voters)
    best = np.ones(n_voters)
    best_min = np.ones(n_voters)
    np.minimum.at(best, voter[live], p[live])
    np.minimum.at(best_min, voter[live], p_min[live])
    return np.minimum(1.0, best * np.maximum(count, 1)), np.minimum(1.0, best_min * np.maximum(
        count, 1))


def tarone_family(p_min: np.ndarray, alpha: float) -> np.ndarray:
    """Tests that can reach significance at all (Tarone 1990), as a boolean mask.

    A discrete test whose most extreme outcome has ``p_min > alpha / k`` can never be
    rejected in a family of ``k``, so it need not count in ``k``: the smallest ``k`` with
    ``#{p_min <= alpha / k} <= k`` fixes the family. Most voter × contender pairs of three or
    four battles drop out, which is what lets twenty rigged votes stand out among a million.
    The correction is then applied within the family (Holm: FWER, as in Hommel & Krummenauer;
    BH: Gilbert's two-step FDR procedure).
    """
    m = p_min.shape[0]
    ordered = np.sort(p_min)
    for k in range(1, m + 1):
        if np.searchsorted(ordered, alpha / k, side="right") <= k:
            return np.asarray(p_min <= alpha / k)
    return np.ones(m, dtype=bool)


#: Blocks of the selective-voting test's reference shares (contiguous in vote time): about
#: ``SELECTIVE_BLOCKS`` of them, each of ``SELECTIVE_MIN_BLOCK`` to ``SELECTIVE_BLOCK`` battles.
SELECTIVE_BLOCK, SELECTIVE_MIN_BLOCK, SELECTIVE_BLOCKS = 20_000, 1_000, 40


def selective_block(n: int) -> int:
    """Battles per block of the reference shares for ``n`` battles."""
    return max(SELECTIVE_MIN_BLOCK, min(SELECTIVE_BLOCK, n // SELECTIVE_BLOCKS))


def appearance_shares(a: np.ndarray, b: np.ndarray, n_items: int, *, stratum: np.ndarray,
                      n_strata: int, block: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Share of battles that include each contender, per (time block, stratum) cell, at
    least its share in the same stratum's neighbouring blocks.

    Battles are in vote-time order; they are cut into ``max(1, N // block)`` contiguous
    blocks of equal size (``block``: :func:`selective_block`). A share changes when the
    sampler does (a contender added, cooled down, re-weighted), and a change inside a block
    leaves the block's average below the rate after (or before) it; the next (or previous)
    block, wholly on the far side of the change, carries that rate, so the largest of the
    three bounds every battle's rate in the block for one change per block. Returns
    ``(cell, share)``: each battle's cell and the ``(cells, n_items)`` shares.
    """
    n = a.shape[0]
    n_blocks = max(1, n // (selective_block(n) if block is None else block))
    cell = (np.arange(n, dtype=np.int64) * n_blocks) // max(n, 1) * n_strata + stratum
    n_cells = n_blocks * n_strata
    total = np.bincount(cell, minlength=n_cells).astype(float)
    inc = (np.bincount(cell * n_items + a, minlength=n_cells * n_items)
           + np.bincount(cell * n_items + b, minlength=n_cells * n_items))
    share = (inc.reshape(n_cells, n_items) / np.maximum(total, 1.0)[:, None]).reshape(
        n_blocks, n_strata, n_items)
    near = share.copy()
    near[1:] = np.maximum(near[1:], share[:-1])
    near[:-1] = np.maximum(near[:-1], share[1:])
    return cell, near.reshape(n_cells, n_items)


def selective_test(a: np.ndarray, b: np.ndarray, voter: np.ndarray, n_voters: int,
                   n_items: int, *, min_votes: int, alpha: float,
                   stratum: np.ndarray | None = None, n_strata: int = 1,
                   block: int | None = None) -> TestResult:
    """Upper-tail test of how often one contender appears in a voter's voted battles.

    Names are hidden until the vote, so which battles an honest voter votes on cannot depend
    on who is in them: the contenders of its voted battles are draws from what the sampler
    served at the time. A rigger who recognises its target and votes only when it appears
    is over-represented on that contender far beyond those draws — whatever the outcomes,
    which the other tests read.

    Per voter with ``min_votes``+ votes: ``K_c`` of its ``n`` battles include contender
    ``c``; under the null ``K_c`` is a sum of independent Bernoulli draws with the share of
    ``c`` in each battle's (time block, stratum) cell (:func:`appearance_shares`: at least
    the neighbouring blocks' share), so it is dominated by ``Binomial(n, q_c)`` with ``q_c``
    the largest such share among the voter's cells. The shares count every battle, the
    voter's own and flagged voters' included, so a share is never zero where the voter met
    the contender. The
    statistic is ``s = min_c P(Bin(n, q_c) ≥ K_c)`` and its p-value the union bound
    ``Σ_c P(Bin(n, q_c) ≥ m_c(s))`` with ``m_c(s)`` the smallest count whose tail is at most
    ``s``: a contender that cannot reach ``s`` in ``n`` battles adds nothing, which keeps
    the bound far below ``s`` times the number of contenders. Voters with ``s > alpha`` get
    ``p = 1`` (conservative, like the normal screen of the other tests). ``stratum`` (an
    arena per battle) keeps the reference shares inside the arena a battle was drawn in.
    """
    a, b, voter = (np.asarray(x, np.int64) for x in (a, b, voter))
    strat = np.zeros(a.shape[0], np.int64) if stratum is None else np.asarray(stratum, np.int64)
    cell, share = appearance_shares(a, b, n_items, stratum=strat, n_strata=n_strata,
                                    block=block)
    n_v = np.bincount(voter, minlength=n_voters)
    tested = np.flatnonzero(n_v >= min_votes)
    remap = np.full(n_voters, -1, dtype=np.int64)
    remap[tested] = np.arange(tested.size)
    row = remap[voter]
    order = np.argsort(row, kind="stable")
    order = order[row[order] >= 0]
    bounds = np.searchsorted(row[order], np.arange(tested.size + 1))
    t = tested.size
    out = {key: np.zeros(t) for key in ("p", "p_min", "observed", "expected", "z")}
    item = np.zeros(t, dtype=np.int64)
    step = max(1, _SELECTIVE_CELLS // max(n_items, 1))  # voters per chunk: bounded memory
    for lo in range(0, t, step):
        hi = min(t, lo + step)
        idx = order[bounds[lo]:bounds[hi]]
        _selective_chunk(row[idx] - lo, a[idx], b[idx], cell[idx], share,
                         n_v[tested[lo:hi]].astype(float), alpha, out, item, lo)
    return TestResult(voter=tested, item=item, n=n_v[tested], statistic=out["observed"],
                      expected=out["expected"], z=out["z"], p=out["p"], p_min=out["p_min"])


_SELECTIVE_CELLS = 4_000_000  # (voter, contender) cells per chunk of the selective test


def _selective_chunk(row: np.ndarray, a: np.ndarray, b: np.ndarray, cell: np.ndarray,
                     share: np.ndarray, n: np.ndarray, alpha: float,
                     out: dict[str, np.ndarray], item: np.ndarray, lo: int) -> None:
    from scipy.stats import binom

    t, n_items, n_cells = n.shape[0], share.shape[1], share.shape[0]
    q = np.zeros((t, n_items))
    vc = np.unique(row * n_cells + cell)
    np.maximum.at(q, vc // n_cells, share[vc % n_cells])
    k = (np.bincount(row * n_items + a, minlength=t * n_items)
         + np.bincount(row * n_items + b, minlength=t * n_items)).reshape(t, n_items)
    tail = np.ones((t, n_items))
    rr, cc = np.nonzero(k >= 1)
    tail[rr, cc] = binom.sf(k[rr, cc] - 1, n[rr], q[rr, cc])
    best = np.argmin(tail, axis=1)
    at = np.arange(t)
    s = tail[at, best]
    p = np.ones(t)
    cand = np.flatnonzero(s <= alpha)
    if cand.size:
        # a hair above s, so rounding never drops the observed contender's own tail
        sc = s[cand][:, None] * (1.0 + 1e-9)
        nc = np.broadcast_to(n[cand][:, None], (cand.size, n_items))
        qc = q[cand]
        m = binom.isf(sc, nc, qc)  # largest count whose tail beyond it is ≤ s
        part = binom.sf(m, nc, qc)
        over = part > np.broadcast_to(sc, part.shape) * (1.0 + 1e-9)
        part[over] = binom.sf(m[over] + 1, nc[over], qc[over])
        p[cand] = np.minimum(1.0, part.sum(axis=1))
    qb = q[at, best]
    expected = n * qb
    var = expected * (1.0 - qb)
    observed = k[at, best].astype(float)
    sl = slice(lo, lo + t)
    out["p"][sl] = p
    # the smallest achievable p is at least the smallest achievable s
    out["p_min"][sl] = np.exp(n * np.log(np.where(q > 0, q, 1.0)).min(axis=1))
    out["observed"][sl], out["expected"][sl] = observed, expected
    out["z"][sl] = np.divide(observed - expected, np.sqrt(var), out=np.zeros(t), where=var > 0)
    item[sl] = best
