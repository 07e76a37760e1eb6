"""The two-stage screen: contenders voted on unevenly, then the voters who did it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from arena.integrity import detection, simulate, stats, twostage
from ratings import FASTCHAT_REG


def _model(rng: np.random.Generator, n_items: int = 30) -> stats.TieModel:
    return stats.TieModel(np.sort(rng.normal(0, 0.6, n_items))[::-1], 0.05)


def _boosters(rng: np.random.Generator, target: int, n_items: int, n_riggers: int,
              wins: int, first: int) -> tuple[np.ndarray, ...]:
    """``n_riggers`` pseudonyms, each winning ``wins`` battles for ``target``."""
    opp = rng.choice(np.delete(np.arange(n_items), target), size=n_riggers * wins)
    left = rng.random(opp.size) < 0.5
    a = np.where(left, target, opp)
    b = np.where(left, opp, target)
    o = np.where(left, stats.A_WINS, stats.B_WINS)
    return a, b, o, first + np.repeat(np.arange(n_riggers), wins)


def test_dispersion_terms_have_the_exact_null_mean_and_variance() -> None:
    # r^2 / V - 1 over every outcome of a voter's four battles: mean 0, variance 2 + k4 / V^2
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=4)
    a, b = np.zeros(4, dtype=np.int64), np.ones(4, dtype=np.int64)
    v = np.zeros(4, dtype=np.int64)
    values, weights = [], []
    for combo in itertools.product(range(3), repeat=4):
        o = np.array(combo)
        gr = twostage._groups(probs, a, b, o, v, 1, 2, min_votes=0, min_pair=2)
        values.append(gr.x[0])
        weights.append(np.prod(probs[np.arange(4), o]))
        var = gr.var[0]
    x, w = np.array(values), np.array(weights)
    assert float(w @ x) == pytest.approx(0.0, abs=1e-12)
    assert float(w @ x**2) == pytest.approx(var, rel=1e-9)


def test_thirty_pseudonyms_with_eight_wins_each_are_missed_per_voter_and_caught_in_two_stages(
) -> None:
    # Regression: each rigger alone (p ~ 1e-3) is lost among 4,000 voters by the per-voter
    # screen; together they make the target's outcomes uneven across voters.
    rng = np.random.default_rng(11)
    model = _model(rng)
    a, b, o, v = simulate.honest(rng, model, 60_000, 4_000)
    target = 15
    ka, kb, ko, kv = _boosters(rng, target, 30, 30, 8, 4_000)
    args = (np.r_[a, ka], np.r_[b, kb], np.r_[o, ko], np.r_[v, kv])
    riggers = set(range(4_000, 4_030))
    # the outcome tests alone (the selective-voting test, which also sees them, is off)
    old = detection.detect(*args, n_items=30, n_voters=4_030, alpha=0.01, reg=FASTCHAT_REG,
                           staged=False, selective=False)
    assert len(set(old.flagged.tolist()) & riggers) <= 3
    new = detection.detect(*args, n_items=30, n_voters=4_030, alpha=0.01, reg=FASTCHAT_REG,
                           selective=False)
    flagged = set(new.flagged.tolist())
    assert len(flagged & riggers) >= 27
    assert flagged <= riggers
    assert list(new.uneven) == [target] and new.uneven[target]["direction"] == "up"
    evidence = new.evidence[4_000]
    assert evidence["statistic"] == "two_stage"
    assert evidence["two_stage"]["contenders"][0]["item"] == target
    assert evidence["two_stage"]["contenders"][0]["direction"] == "up"
    assert evidence["p"] == evidence["two_stage"]["p"] < 1e-3


def test_sinking_several_rivals_two_votes_each_is_caught_across_contenders() -> None:
    # Each rigger loses two battles for each of five rivals: no (voter, contender) test can
    # see two votes, the signed score over the flagged contenders can.
    rng = np.random.default_rng(12)
    model = _model(rng)
    a, b, o, v = simulate.honest(rng, model, 60_000, 4_000)
    rivals = np.arange(10, 15)
    rows = []
    for k in range(40):
        for r in rivals:
            for _ in range(2):
                opp = int(rng.choice(np.setdiff1d(np.arange(30), rivals)))
                rows.append((r, opp, stats.B_WINS, 4_000 + k))
    ka, kb, ko, kv = (np.array(c) for c in zip(*rows, strict=True))
    det = detection.detect(np.r_[a, ka], np.r_[b, kb], np.r_[o, ko], np.r_[v, kv],
                           n_items=30, n_voters=4_040, alpha=0.01, reg=FASTCHAT_REG)
    flagged = set(det.flagged.tolist())
    assert len(flagged & set(range(4_000, 4_040))) >= 36
    assert len(flagged - set(range(4_000, 4_040))) <= 1
    assert set(det.uneven) <= set(rivals.tolist()) and len(det.uneven) >= 4
    assert all(t["direction"] == "down" for t in det.uneven.values())


def test_honest_voters_are_not_flagged_by_either_stage() -> None:
    # Calibration on honest data, the model refitted as at publish time: at most 0.1% of
    # the pseudonyms with >= 5 votes flagged; stage 1 z close to standard normal.
    flagged = tested = 0
    zs = []
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        model = _model(rng)
        a, b, o, v = simulate.honest(rng, model, 60_000, 4_000)
        det = detection.detect(a, b, o, v, n_items=30, n_voters=4_000, alpha=0.01,
                               reg=FASTCHAT_REG)
        flagged += det.flagged.size
        tested += int((np.bincount(v, minlength=4_000) >= 5).sum())
        zs.append(twostage.dispersion_test(det.model.probs(a, b), a, b, o, v, 4_000, 30,
                                           min_votes=5).z)
    assert flagged <= 0.001 * tested
    z = np.concatenate(zs)
    assert abs(z.mean()) < 0.35 and 0.7 < z.std() < 1.3
    assert z.max() < 4.0


def test_a_voter_is_tested_only_where_the_contender_stays_uneven_without_it() -> None:
    # One rigger with many wins makes its target uneven on its own: without its votes the
    # target is not flagged, so stage 2 does not test it (the per-voter screen does).
    rng = np.random.default_rng(13)
    model = _model(rng)
    a, b, o, v = simulate.honest(rng, model, 60_000, 4_000)
    ka, kb, ko, kv = _boosters(rng, 15, 30, 1, 40, 4_000)
    a, b, o, v = np.r_[a, ka], np.r_[b, kb], np.r_[o, ko], np.r_[v, kv]
    ts = twostage.two_stage(model.probs(a, b), a, b, o, v, 4_001, 30, alpha=0.01,
                            min_votes=5)
    assert 15 in ts.selected.tolist()
    assert 4_000 not in ts.test.voter.tolist()
    det = detection.detect(a, b, o, v, n_items=30, n_voters=4_001, alpha=0.01,
                           reg=FASTCHAT_REG)
    assert det.flagged.tolist() == [4_000]
    assert det.evidence[4_000]["statistic"] in ("favouritism", "selective")
    assert det.evidence[4_000]["favouritism"][0]["item"] == 15
