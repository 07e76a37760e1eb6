"""Two-stage (hierarchical) screen: which contenders are voted on unevenly, then by whom.

The per-voter tests of :mod:`arena.integrity.stats` correct over every voter: a hundred
pseudonyms with ten rigged votes each (p ≈ 3e-4 apiece) are lost among ~5,000 honest ones.
Their votes are not invisible, though: together they make *one contender's* outcomes far more
uneven across voters than the model allows. So:

Stage 1, per contender
    ``T_c = Σ_v (r_vc² / V_vc − 1)`` over the voters with ``min_pair``+ battles with ``c``,
    where ``r_vc`` is the voter's score for ``c`` minus its expectation under the fitted
    Davidson model and ``V_vc`` its variance. Each term has null mean 0 and variance
    ``2 + κ4_vc / V_vc²`` exactly (``κ4`` the fourth cumulant of the voter's score), so
    ``z_c = T_c / sd`` is a sum of hundreds of independent terms: a normal upper tail, BH over
    contenders at ``alpha``. (One vote per voter is left out: for a single Bernoulli-like
    outcome the statistic carries no information about dispersion.)
Stage 2, per voter, over the flagged contenders only
    The voter's score summed over its battles with flagged contenders, each signed by the
    side that contender's unevenness lies on (the skew of its voters' standardised residuals),
    upper tail by the Chernoff bound of :func:`arena.integrity.stats.chernoff_lower`; BH at
    ``alpha`` over the voters tested whose most extreme outcome could reach ``alpha``.

Why stage 2 needs no selective penalty (Benjamini–Bogomolov's ``alpha · R / m``): for each
voter, both the selection of contenders and their signs are computed *without that voter's
votes* (leave-one-voter-out: the voter's own stage-1 and skew terms are subtracted; the
stage-1 threshold is the full-data BH cut). Under the null, voters' outcomes are independent
given the model, so a voter's stage-2 p-value is valid conditional on the selection that put
it under test, and BH across voters controls the false discovery rate as it does for the
unselected tests. Flags are the union with the per-voter screen, whose own FDR is ``alpha``:
the union's FDR is at most ``2 · alpha`` (``V1/R + V2/R ≤ V1/R1 + V2/R2``). Honest-only data
is checked by simulation (tests and the attack benchmark).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.integrity import stats


@dataclass(frozen=True)
class _Groups:
    """(voter, contender) groups of the voters with ``min_votes``+ votes, and their terms."""

    keys: np.ndarray  # voter * n_items + item
    n: np.ndarray  # battles
    r: np.ndarray  # score minus expectation
    v: np.ndarray  # variance of the score
    counted: np.ndarray  # enters stage 1 (min_pair+ battles, V > 0)
    x: np.ndarray  # stage-1 term r^2/V - 1 (0 where not counted)
    var: np.ndarray  # its null variance (0 where not counted)
    cube: np.ndarray  # (r / sqrt V)^3, the skew contribution (0 where not counted)
    term_group: np.ndarray  # per (battle, side) term: its group
    values: np.ndarray  # (terms, 3) score of the side per outcome
    probs: np.ndarray  # (terms, 3)
    observed: np.ndarray  # (terms,) observed score


def _groups(probs: np.ndarray, a: np.ndarray, b: np.ndarray, outcome: np.ndarray,
            voter: np.ndarray, n_voters: int, n_items: int, *, min_votes: int,
            min_pair: int) -> _Groups:
    n_voter = np.bincount(voter, minlength=n_voters)
    idx = np.flatnonzero(n_voter[voter] >= min_votes)
    key = np.concatenate([voter[idx] * np.int64(n_items) + a[idx],
                          voter[idx] * np.int64(n_items) + b[idx]])
    pr = np.concatenate([probs[idx], probs[idx]])
    vals = np.concatenate([np.broadcast_to(stats.SCORE[0], (idx.size, 3)),
                           np.broadcast_to(stats.SCORE[1], (idx.size, 3))])
    obs = vals[np.arange(vals.shape[0]), np.concatenate([outcome[idx], outcome[idx]])]
    keys, g, n = np.unique(key, return_inverse=True, return_counts=True)
    mu = (pr * vals).sum(axis=1)
    dev = vals - mu[:, None]
    m2 = (pr * dev**2).sum(axis=1)
    k4 = (pr * dev**4).sum(axis=1) - 3.0 * m2**2
    r = np.bincount(g, obs - mu, minlength=keys.size)
    v = np.bincount(g, m2, minlength=keys.size)
    k = np.bincount(g, k4, minlength=keys.size)
    counted = (n >= min_pair) & (v > 0)
    safe_v = np.where(counted, v, 1.0)
    x = np.where(counted, r**2 / safe_v - 1.0, 0.0)
    var = np.where(counted, 2.0 + k / safe_v**2, 0.0)
    cube = np.where(counted, (r / np.sqrt(safe_v)) ** 3, 0.0)
    return _Groups(keys=keys, n=n, r=r, v=v, counted=counted, x=x, var=var, cube=cube,
                   term_group=g, values=vals, probs=pr, observed=obs)


@dataclass(frozen=True)
class Dispersion:
    """Stage 1: one upper-tail test per contender (index = contender)."""

    voters: np.ndarray  # voters counted
    statistic: np.ndarray  # Σ (r² / V − 1)
    sd: np.ndarray  # its null standard deviation
    z: np.ndarray
    p: np.ndarray
    skew: np.ndarray  # Σ (r / √V)³: which side the unevenness lies on


def _dispersion(gr: _Groups, n_items: int) -> Dispersion:
    item = gr.keys % n_items
    t = np.bincount(item, gr.x, minlength=n_items)
    sd = np.sqrt(np.bincount(item, gr.var, minlength=n_items))
    cnt = np.bincount(item, gr.counted.astype(float), minlength=n_items).astype(np.int64)
    z = np.divide(t, sd, out=np.zeros(n_items), where=sd > 0)
    from scipy import special  # here, not at import: the app's start-up does not need scipy

    p = np.where(cnt > 0, special.ndtr(-z), 1.0)
    return Dispersion(voters=cnt, statistic=t, sd=sd, z=z, p=p,
                      skew=np.bincount(item, gr.cube, minlength=n_items))


def dispersion_test(probs: np.ndarray, a: np.ndarray, b: np.ndarray, outcome: np.ndarray,
                    voter: np.ndarray, n_voters: int, n_items: int, *, min_votes: int,
                    min_pair: int = 2) -> Dispersion:
    """Stage 1 alone: are a contender's outcomes more uneven across voters than the model
    allows? (``probs`` from :meth:`arena.integrity.stats.TieModel.probs`.)"""
    return _dispersion(_groups(probs, a, b, outcome, voter, n_voters, n_items,
                               min_votes=min_votes, min_pair=min_pair), n_items)


@dataclass(frozen=True)
class TwoStage:
    """Both stages: the flagged contenders and one stage-2 test per voter tested."""

    dispersion: Dispersion
    selected: np.ndarray  # contender indices flagged by stage 1
    z_cut: float  # stage-1 threshold on z (inf when none is flagged)
    test: stats.TestResult  # stage 2, one entry per voter tested (item = -1)
    group_voter: np.ndarray  # per (voter, flagged contender) group in stage 2
    group_item: np.ndarray
    group_sign: np.ndarray  # +1: unevenness above the model (boosting), -1: below
    group_n: np.ndarray
    group_r: np.ndarray


def two_stage(probs: np.ndarray, a: np.ndarray, b: np.ndarray, outcome: np.ndarray,
              voter: np.ndarray, n_voters: int, n_items: int, *, alpha: float,
              min_votes: int, min_pair: int = 2) -> TwoStage:
    """Stage 1 (BH over contenders at ``alpha``) and the stage-2 p-value of every voter with
    a battle against a contender that stays flagged without the voter's own votes."""
    gr = _groups(probs, a, b, outcome, voter, n_voters, n_items, min_votes=min_votes,
                 min_pair=min_pair)
    disp = _dispersion(gr, n_items)
    chosen = stats.benjamini_hochberg(disp.p, alpha)
    n_sel = int(chosen.sum())
    from scipy import special

    z_cut = float(special.ndtri(1.0 - alpha * n_sel / n_items)) if n_sel else np.inf
    item = gr.keys % n_items
    # leave-one-voter-out: the contender's stage-1 z and skew without this voter's term
    rest_var = disp.sd[item] ** 2 - gr.var
    z_loo = np.divide(disp.statistic[item] - gr.x, np.sqrt(np.maximum(rest_var, 0.0)),
                      out=np.zeros(item.size), where=rest_var > 0)
    use = z_loo >= z_cut
    sign = np.where(disp.skew[item] - gr.cube >= 0, 1.0, -1.0)
    gi = np.flatnonzero(use)
    remap = np.full(gr.keys.size, -1)
    remap[gi] = np.arange(gi.size)
    term_g = remap[gr.term_group]
    keep = term_g >= 0
    g_voter = gr.keys[gi] // n_items
    voters, vg = np.unique(g_voter, return_inverse=True)
    t_voter = vg[term_g[keep]]
    vals = sign[gi][term_g[keep], None] * gr.values[keep]
    pr = gr.probs[keep]
    obs = sign[gi][term_g[keep]] * gr.observed[keep]
    s, e, z = stats.normal_z(vals, pr, obs, t_voter, voters.size)
    p = stats.screened_p(vals, pr, t_voter, s, z, lower=False)
    # most extreme outcome: every battle on the flagged side (p_min fixes Tarone's family)
    lg = np.log(np.maximum(pr, 1e-300))
    best = np.bincount(t_voter, lg[np.arange(lg.shape[0]), np.argmax(vals, axis=1)],
                       minlength=voters.size)
    test = stats.TestResult(voter=voters, item=np.full(voters.size, -1),
                            n=np.bincount(t_voter, minlength=voters.size), statistic=s,
                            expected=e, z=z, p=p, p_min=np.exp(best))
    return TwoStage(dispersion=disp, selected=np.flatnonzero(chosen), z_cut=z_cut, test=test,
                    group_voter=g_voter, group_item=item[gi], group_sign=sign[gi],
                    group_n=gr.n[gi], group_r=gr.r[gi])


def reject(ts: TwoStage, n_voters: int, alpha: float, correction: str) -> np.ndarray:
    """Stage-2 rejections as a boolean mask over voter codes: ``correction`` at ``alpha``
    over the voters whose most extreme outcome reaches ``alpha``.

    Neither BH nor Holm rejects a p-value above ``alpha``, so a test that cannot reach it is
    dropped at no cost (the family depends on the null model only, never on the votes).
    Tarone's tighter family suits Holm but not here: it keeps the few honest voters with
    hundreds of battles against a flagged contender and drops riggers with ten votes each.
    """
    out = np.zeros(n_voters, dtype=bool)
    family = ts.test.p_min <= alpha
    hit = np.zeros(ts.test.voter.size, dtype=bool)
    hit[family] = stats.CORRECTIONS[correction](ts.test.p[family], alpha)
    out[ts.test.voter[hit]] = True
    return out


def evidence(ts: TwoStage, voter: int) -> dict[str, Any] | None:
    """Stage-2 evidence of one voter code: its p-value and the flagged contenders it met."""
    at = np.searchsorted(ts.test.voter, voter)
    if at >= ts.test.voter.size or ts.test.voter[at] != voter:
        return None
    rows = np.flatnonzero(ts.group_voter == voter)
    rows = rows[np.argsort(-ts.group_sign[rows] * ts.group_r[rows], kind="stable")][:5]
    disp = ts.dispersion
    return {"p": float(ts.test.p[at]), "battles": int(ts.test.n[at]),
            "score": float(ts.test.statistic[at]),
            "expected": round(float(ts.test.expected[at]), 3),
            "z": round(float(ts.test.z[at]), 3),
            "contenders": [{"item": int(ts.group_item[j]),
                            "direction": "up" if ts.group_sign[j] > 0 else "down",
                            "battles": int(ts.group_n[j]),
                            "residual": round(float(ts.group_r[j]), 3),
                            "contender_z": round(float(disp.z[ts.group_item[j]]), 2)}
                           for j in rows]}
