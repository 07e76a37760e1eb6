"""The per-pseudonym tests: calibrated on honest voters, sharp on rigged ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from arena.integrity import detection, simulate, stats
from ratings import FASTCHAT_REG


def _model(rng: np.random.Generator, n_items: int = 30) -> stats.TieModel:
    return stats.TieModel(np.sort(rng.normal(0, 0.8, n_items))[::-1], 0.0)


def _brute_lower(values: np.ndarray, probs: np.ndarray, observed: float) -> float:
    total = 0.0
    for combo in itertools.product(range(values.shape[1]), repeat=values.shape[0]):
        rows = np.arange(values.shape[0])
        if values[rows, combo].sum() <= observed + 1e-12:
            total += float(np.prod(probs[rows, combo]))
    return total


def test_chernoff_bound_is_never_below_the_exact_tail_and_exact_at_the_extreme() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 7))
        probs = rng.dirichlet(np.ones(3), size=n)
        values = np.log(probs)
        combo = rng.integers(0, 3, size=n)
        observed = values[np.arange(n), combo].sum()
        exact = _brute_lower(values, probs, observed)
        bound = stats.chernoff_lower(values, probs, np.zeros(n, dtype=np.int64),
                                     np.array([observed]))[0]
        assert bound >= exact * (1 - 1e-9)
    # every vote for the side with score 1: the bound is the product of those probabilities
    probs = np.array([[0.3, 0.5, 0.2]] * 8)
    values = -np.tile([1.0, 0.0, 0.5], (8, 1))
    bound = stats.chernoff_lower(values, probs, np.zeros(8, dtype=np.int64), np.array([-8.0]))
    assert bound[0] == pytest.approx(0.3**8, rel=1e-6)


def test_honest_voters_are_flagged_at_most_alpha_and_raw_p_values_are_not_anticonservative(
) -> None:
    rng = np.random.default_rng(1)
    model = _model(rng)
    flagged_runs = 0
    small_p = []
    for run in range(5):
        a, b, o, v = simulate.honest(rng, model, 40_000, 3_000)
        det = detection.detect(a, b, o, v, n_items=30, n_voters=3_000, alpha=0.05, model=model)
        flagged_runs += det.flagged.size > 0
        if run == 0:
            probs = model.probs(a, b)
            ll = stats.loglik_test(probs, o, v, 3_000, 5)
            fav = stats.favouritism_test(probs, a, b, o, v, 3_000, 30, min_votes=5,
                                         min_pair=3)
            small_p = [float((ll.p <= 0.01).mean()), float((fav.p <= 0.01).mean())]
    # all nulls true: BH's FDR is the family-wise rate, at most alpha per run
    assert flagged_runs <= 1
    assert max(small_p) <= 0.01


def test_honest_voters_against_the_fitted_model_are_not_flagged() -> None:
    rng = np.random.default_rng(2)
    model = _model(rng)
    a, b, o, v = simulate.honest(rng, model, 60_000, 4_000)
    for correction in ("bh", "holm"):
        det = detection.detect(a, b, o, v, n_items=30, n_voters=4_000, alpha=0.01,
                           correction=correction, reg=FASTCHAT_REG)
        assert det.flagged.size == 0
        assert 0 < det.n_tests < 4_000 * 30


def test_target_only_attackers_are_flagged_with_evidence_naming_the_target() -> None:
    rng = np.random.default_rng(3)
    model = _model(rng)
    a, b, o, v = simulate.honest(rng, model, 60_000, 4_000)
    target = 20
    ka, kb = simulate.random_pairs(rng, 6_000, 30)
    hit = (ka == target) | (kb == target)
    ka, kb = ka[hit], kb[hit]
    ko = np.where(ka == target, stats.A_WINS, stats.B_WINS)
    kv = 4_000 + np.arange(ka.size) % 10
    det = detection.detect(np.r_[a, ka], np.r_[b, kb], np.r_[o, ko], np.r_[v, kv], n_items=30,
                       n_voters=4_010, alpha=0.01, reg=FASTCHAT_REG)
    assert set(det.flagged.tolist()) == set(range(4_000, 4_010))
    evidence = det.evidence[4_000]
    # they vote only when the target is in the battle: selective voting is the strongest
    # evidence, favouritism for the target the next
    assert evidence["statistic"] == "selective"
    assert evidence["selective"]["item"] == target
    assert evidence["favouritism"][0]["item"] == target
    assert evidence["p"] < 1e-6
    outcomes_only = detection.detect(np.r_[a, ka], np.r_[b, kb], np.r_[o, ko], np.r_[v, kv],
                                     n_items=30, n_voters=4_010, alpha=0.01,
                                     reg=FASTCHAT_REG, selective=False)
    assert set(outcomes_only.flagged.tolist()) == set(range(4_000, 4_010))
    assert outcomes_only.evidence[4_000]["statistic"] == "favouritism"


def test_multiplicity_corrections_match_their_definitions() -> None:
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    assert stats.benjamini_hochberg(p, 0.05).tolist() == [True, True] + [False] * 6
    assert stats.holm(p, 0.05).tolist() == [True, False] + [False] * 6
    p2 = np.array([0.01, 0.02, 0.03, 0.04])
    assert stats.benjamini_hochberg(p2, 0.05).all()
    assert stats.holm(p2, 0.05).tolist() == [True, False, False, False]


def test_detect_rejects_bad_settings() -> None:
    z = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="correction"):
        detection.detect(z, z + 1, z, z, n_items=2, n_voters=1, correction="bonferroni")
    with pytest.raises(ValueError, match="alpha"):
        detection.detect(z, z + 1, z, z, n_items=2, n_voters=1, alpha=1.5)


def test_tarone_family_keeps_only_tests_that_can_reach_significance() -> None:
    # 3 tests that could reach 1e-6, 1000 whose most extreme outcome is only 0.04
    p_min = np.r_[np.full(3, 1e-9), np.full(1000, 0.04)]
    family = stats.tarone_family(p_min, 0.01)
    assert family.sum() == 3 and family[:3].all()
    # every test strong enough: nothing is dropped
    assert stats.tarone_family(np.full(50, 1e-12), 0.01).all()
