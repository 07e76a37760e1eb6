"""Publish-time detection: the per-voter screen and the two-stage screen, refitted in rounds.

Pure numpy/scipy: :mod:`arena.integrity.stats` holds the per-voter tests and the
corrections, :mod:`arena.integrity.twostage` the per-contender screen and its stage 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.integrity import twostage
from arena.integrity.stats import (
    CORRECTIONS,
    SCREEN_Z,
    TestResult,
    TieModel,
    favouritism_test,
    fit_tie_model,
    loglik_test,
    selective_block,
    selective_test,
    tarone_family,
    voter_p_values,
)

_EMPTY = np.zeros(0)
_NO_TEST = TestResult(voter=np.zeros(0, np.int64), item=np.zeros(0, np.int64),
                      n=np.zeros(0, np.int64), statistic=_EMPTY, expected=_EMPTY, z=_EMPTY,
                      p=_EMPTY, p_min=_EMPTY)


@dataclass(frozen=True)
class Detection:
    """Outcome of :func:`detect`: flagged voter codes and the evidence behind each flag."""

    flagged: np.ndarray  # sorted voter codes
    evidence: dict[int, dict[str, Any]]
    n_tests: int
    rounds: int
    model: TieModel
    settings: dict[str, Any] = field(default_factory=dict)
    #: stage 1 of the two-stage screen: flagged contender index -> its test
    uneven: dict[int, dict[str, Any]] = field(default_factory=dict)


def _evidence(ll: TestResult, fav: TestResult, sel: TestResult, voter_p: np.ndarray,
              flagged: np.ndarray, staged: twostage.TwoStage | None,
              per_voter: np.ndarray) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    ll_at = {int(v): k for k, v in enumerate(ll.voter)}
    sel_at = {int(v): k for k, v in enumerate(sel.voter)}
    fav_by: dict[int, list[int]] = {}
    wanted = set(flagged.tolist())
    for j in np.flatnonzero(np.isin(fav.voter, flagged)).tolist():
        fav_by.setdefault(int(fav.voter[j]), []).append(j)
    for v in wanted:
        ev: dict[str, Any] = {"p": float(voter_p[v])}
        k = ll_at.get(v)
        if k is not None:
            ev["votes"] = int(ll.n[k])
            ev["loglik"] = {"observed": round(float(ll.statistic[k]), 3),
                            "expected": round(float(ll.expected[k]), 3),
                            "z": round(float(ll.z[k]), 3), "p": float(ll.p[k])}
        ev["favouritism"] = [
            {"item": int(fav.item[j]), "battles": int(fav.n[j]),
             "score": float(fav.statistic[j]), "expected": round(float(fav.expected[j]), 3),
             "z": round(float(fav.z[j]), 3), "p": float(fav.p[j])}
            for j in sorted(fav_by.get(v, []), key=lambda j: fav.p[j])[:5]]
        k = sel_at.get(v)
        if k is not None and sel.p[k] < 1.0:
            ev["selective"] = {"item": int(sel.item[k]), "battles": int(sel.statistic[k]),
                               "votes": int(sel.n[k]),
                               "expected": round(float(sel.expected[k]), 3),
                               "z": round(float(sel.z[k]), 3), "p": float(sel.p[k])}
        candidates = {"loglik": ev.get("loglik", {}).get("p", 1.0),
                      "favouritism": ev["favouritism"][0]["p"] if ev["favouritism"] else 1.0,
                      "selective": ev.get("selective", {}).get("p", 1.0)}
        ev["statistic"] = min(candidates, key=lambda name: candidates[name])
        two = None if staged is None else twostage.evidence(staged, v)
        if two is not None:
            ev["two_stage"] = two
            if not per_voter[v]:  # flagged by the two-stage screen alone: its p-value
                ev["p"], ev["statistic"] = two["p"], "two_stage"
        out[v] = ev
    return out


def detect(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, voter: np.ndarray, *,
           n_items: int, n_voters: int, alpha: float = 0.01, correction: str = "bh",
           min_votes: int = 5, min_pair: int = 3, reg: float = 0.0, max_rounds: int = 3,
           exclude: np.ndarray | None = None, model: TieModel | None = None,
           staged: bool = True, stratum: np.ndarray | None = None,
           selective: bool = True) -> Detection:
    """Flag voters whose votes the fitted model finds implausible, after a multiplicity
    correction over every test (one log-likelihood test per voter, one favouritism test per
    voter × contender), together with (``staged``) the voters the two-stage screen of
    :mod:`arena.integrity.twostage` flags at the same ``alpha``. Each procedure controls its
    false discovery rate at ``alpha``; their union at ``2 · alpha`` at most. A voter flagged
    by both keeps the per-voter statistic and p-value in its evidence.

    The model is refitted without the flagged voters and the tests rerun, up to
    ``max_rounds`` times, so a coordinated group cannot hide behind the rating it inflated.
    ``exclude`` (voter codes) are left out of every fit (confirmed by an operator);
    ``model`` fixes the null model instead (calibration checks).

    With ``selective`` the per-voter family also holds the selective-voting test
    (:func:`~arena.integrity.stats.selective_test`: one contender in far more of a voter's
    battles than the sampler served), its reference shares per time block and ``stratum``
    (arena code per battle, battles in vote-time order).
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {sorted(CORRECTIONS)}, got {correction!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    outcome, voter = np.asarray(outcome, np.int64), np.asarray(voter, np.int64)
    fixed_out = np.zeros(n_voters, dtype=bool)
    if exclude is not None:
        fixed_out[np.asarray(exclude, np.int64)] = True
    flagged = np.zeros(0, dtype=np.int64)
    rounds = 0
    fitted = model
    while True:
        rounds += 1
        if model is None:
            out_now = fixed_out.copy()
            out_now[flagged] = True
            use = ~out_now[voter]
            fitted = fit_tie_model(a[use], b[use], outcome[use], n_items, reg=reg)
        assert fitted is not None
        probs = fitted.probs(a, b)
        ll = loglik_test(probs, outcome, voter, n_voters, min_votes)
        fav = favouritism_test(probs, a, b, outcome, voter, n_voters, n_items,
                               min_votes=min_votes, min_pair=min_pair)
        sel = (selective_test(a, b, voter, n_voters, n_items, min_votes=min_votes,
                              alpha=alpha, stratum=stratum,
                              n_strata=1 if stratum is None else int(stratum.max(initial=0)) + 1)
               if selective else _NO_TEST)
        voters_p, voters_pmin = voter_p_values([ll, fav, sel], n_voters, alpha)
        family = tarone_family(voters_pmin, alpha)
        per_voter = np.zeros(n_voters, dtype=bool)
        per_voter[family] = CORRECTIONS[correction](voters_p[family], alpha)
        reject = per_voter.copy()
        two = None
        if staged:
            two = twostage.two_stage(probs, a, b, outcome, voter, n_voters, n_items,
                                     alpha=alpha, min_votes=min_votes)
            reject |= twostage.reject(two, n_voters, alpha, correction)
        new = np.flatnonzero(reject).astype(np.int64)
        if model is not None or rounds >= max_rounds or np.array_equal(new, flagged):
            flagged = new
            break
        flagged = new
    uneven = {} if two is None else {
        int(c): {"z": round(float(two.dispersion.z[c]), 2), "p": float(two.dispersion.p[c]),
                 "voters": int(two.dispersion.voters[c]),
                 "direction": "up" if two.dispersion.skew[c] >= 0 else "down"}
        for c in two.selected.tolist()}
    evidence = _evidence(ll, fav, sel, voters_p, flagged, two, per_voter)
    return Detection(flagged=flagged, evidence=evidence,
                     n_tests=int(ll.p.size + fav.p.size + sel.p.size + (0 if two is None else
                                                            two.test.p.size + n_items)),
                     rounds=rounds, model=fitted, uneven=uneven,
                     settings={"alpha": alpha, "correction": correction, "min_votes": min_votes,
                               "min_pair": min_pair, "screen_z": SCREEN_Z, "rounds": rounds,
                               "two_stage": staged, "selective": selective,
                               "selective_block": selective_block(int(a.shape[0]))})
