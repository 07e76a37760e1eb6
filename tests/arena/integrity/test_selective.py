"""The selective-voting test: a voter who votes only when its target is in the battle."""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from arena.integrity import detection, simulate, stats
from ratings import FASTCHAT_REG


def _model(rng: np.random.Generator, n_items: int = 30) -> stats.TieModel:
    return stats.TieModel(np.sort(rng.normal(0, 0.8, n_items))[::-1], 0.0)


def test_p_value_is_the_union_bound_over_contenders_computed_by_enumeration() -> None:
    # One voter with 6 battles among 4 contenders (one block): its p-value must equal
    # sum_c P(Bin(6, q_c) >= m_c(s)), each term found by walking the counts.
    rng = np.random.default_rng(1)
    ha, hb = simulate.random_pairs(rng, 3_000, 4, np.array([4.0, 2.0, 1.0, 1.0]))
    va = np.array([0, 0, 0, 0, 0, 1])
    vb = np.array([1, 2, 3, 1, 2, 2])
    a, b = np.r_[ha, va], np.r_[hb, vb]
    voter = np.r_[np.zeros(ha.size, np.int64), np.ones(6, np.int64)]
    res = stats.selective_test(a, b, voter, 2, 4, min_votes=5, alpha=1.0, block=10**9)
    q = np.array([((a == c) | (b == c)).mean() for c in range(4)])
    k = np.array([((va == c) | (vb == c)).sum() for c in range(4)])
    tails = [sum(binom.pmf(j, 6, q[c]) for j in range(k[c], 7)) for c in range(4)]
    s = min(tails)
    expected = 0.0
    for c in range(4):
        for m in range(7):
            tail = sum(binom.pmf(j, 6, q[c]) for j in range(m, 7))
            if tail <= s * (1 + 1e-9):
                expected += tail
                break
    at = list(res.voter).index(1)
    assert res.item[at] == int(np.argmin(tails))
    assert res.statistic[at] == k[res.item[at]]
    assert abs(res.p[at] - expected) <= 1e-12 * max(expected, 1e-300)
    assert s <= res.p[at] < 4 * s  # far below the plain Bonferroni factor of 4 here


def test_p_values_are_calibrated_for_honest_voters() -> None:
    # Honest voters vote on whatever they are served: P(p <= x) <= x at every level checked,
    # with sampling weights that change between the time blocks.
    rng = np.random.default_rng(2)
    parts = []
    for weights in (np.ones(30), np.r_[np.full(5, 6.0), np.ones(25)]):
        parts.append(simulate.random_pairs(rng, 40_000, 30, weights))
    a, b = np.concatenate([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1], parts[1][1]])
    voter = simulate.zipf_voters(rng, a.size, 3_000)
    res = stats.selective_test(a, b, voter, 3_000, 30, min_votes=5, alpha=1.0)
    assert res.p.size > 1_000
    for x in (0.001, 0.01, 0.05, 0.2):
        assert (res.p <= x).mean() <= x


def test_honest_voters_are_not_flagged_when_the_sampler_changes_mid_way() -> None:
    # A new contender enters with a high weight in the second half: voters active only then
    # see it far more often than its share over the whole period, and must not be flagged.
    rng = np.random.default_rng(4)
    model = _model(rng, 31)
    first = simulate.random_pairs(rng, 40_000, 30)
    second = simulate.random_pairs(rng, 40_000, 31, np.r_[np.ones(30), 15.0])
    a, b = np.r_[first[0], second[0]], np.r_[first[1], second[1]]
    o = simulate.sample_outcomes(rng, model, a, b)
    voter = np.r_[simulate.zipf_voters(rng, 40_000, 2_000),
                  2_000 + simulate.zipf_voters(rng, 40_000, 2_000)]
    whole = stats.selective_test(a, b, voter, 4_000, 31, min_votes=5, alpha=0.01,
                                 block=10**9)  # one block: the period's average share
    assert (whole.p <= 1e-4).sum() >= 5  # what a single reference share would claim
    det = detection.detect(a, b, o, voter, n_items=31, n_voters=4_000, alpha=0.01,
                           reg=FASTCHAT_REG)
    assert det.flagged.size == 0


def test_arenas_are_separate_strata() -> None:
    # A voter who plays only the small image arena meets its 3 contenders in every battle:
    # against the text arena's shares that looks selective, within its own arena it is not.
    rng = np.random.default_rng(5)
    ta, tb = simulate.random_pairs(rng, 30_000, 30)
    ia, ib = simulate.random_pairs(rng, 600, 3)
    a, b = np.r_[ta, 30 + ia], np.r_[tb, 30 + ib]
    arena = np.r_[np.zeros(ta.size, np.int64), np.ones(ia.size, np.int64)]
    order = rng.permutation(a.size)  # arenas interleaved in time
    a, b, arena = a[order], b[order], arena[order]
    voter = np.where(arena == 1, 0, 1 + simulate.zipf_voters(rng, a.size, 1_000))
    pooled = stats.selective_test(a, b, voter, 1_001, 33, min_votes=5, alpha=0.01)
    strat = stats.selective_test(a, b, voter, 1_001, 33, min_votes=5, alpha=0.01,
                                 stratum=arena, n_strata=2)
    assert pooled.p[list(pooled.voter).index(0)] < 1e-100
    assert strat.p[list(strat.voter).index(0)] == 1.0


def test_riggers_with_six_target_only_wins_are_caught_by_selective_voting() -> None:
    # Regression (issue 11, established target, target-only, N = 100): a rigger with six
    # wins for its target cannot reach alpha on its outcomes (2 * 0.45^6 ~ 0.02), but six of
    # six battles with a contender served in one battle of ten is a 1e-6 event.
    rng = np.random.default_rng(6)
    model = _model(rng)
    weight = np.ones(30)
    weight[12] = 30 * 0.1 / 1.8  # ~10% of battles include contender 12
    a, b, o, v = simulate.honest(rng, model, 80_000, 4_000, item_weight=weight)
    ka, kb = simulate.random_pairs(rng, 4_000, 30, weight)
    hit = (ka == 12) | (kb == 12)
    ka, kb = ka[hit][:120], kb[hit][:120]
    ko = np.where(ka == 12, stats.A_WINS, stats.B_WINS)
    kv = 4_000 + np.arange(120) // 6  # 20 riggers, six target-only wins each
    at = np.sort(rng.choice(a.size + 120, size=120, replace=False))  # spread over time
    keep = np.ones(a.size + 120, dtype=bool)
    keep[at] = False
    xa, xb, xo, xv = (np.empty(a.size + 120, np.int64) for _ in range(4))
    for arr, honest_part, rigged in ((xa, a, ka), (xb, b, kb), (xo, o, ko), (xv, v, kv)):
        arr[keep], arr[at] = honest_part, rigged
    riggers = set(range(4_000, 4_020))
    old = detection.detect(xa, xb, xo, xv, n_items=30, n_voters=4_020, alpha=0.01,
                           reg=FASTCHAT_REG, selective=False)
    assert len(set(old.flagged.tolist()) & riggers) <= 2
    new = detection.detect(xa, xb, xo, xv, n_items=30, n_voters=4_020, alpha=0.01,
                           reg=FASTCHAT_REG)
    flagged = set(new.flagged.tolist())
    assert len(flagged & riggers) >= 18
    assert len(flagged - riggers) <= 1
    ev = new.evidence[min(flagged & riggers)]
    assert ev["selective"]["item"] == 12 and ev["selective"]["battles"] == 6


def test_a_battle_counts_for_both_of_its_contenders() -> None:
    # A voter whose six battles are all 0 vs 1 is as selective about 0 as about 1; contenders
    # 2 and 3, a little rarer, could also have reached s in six battles and add their tails.
    a = np.r_[np.tile([0, 1, 2, 3], 2_000), np.zeros(6, np.int64)]
    b = np.r_[np.tile([1, 2, 3, 0], 2_000), np.ones(6, np.int64)]
    voter = np.r_[np.arange(8_000) % 400 + 1, np.zeros(6, np.int64)]
    res = stats.selective_test(a, b, voter, 401, 4, min_votes=5, alpha=1.0, block=10**9)
    at = list(res.voter).index(0)
    assert res.statistic[at] == 6 and res.item[at] in (0, 1)
    q, q_other = 4_006 / 8_006, 4_000 / 8_006
    assert abs(res.p[at] - (2 * q**6 + 2 * q_other**6)) < 1e-12


def test_a_contender_added_inside_a_block_does_not_flag_its_first_voters() -> None:
    # Regression (review): 30,000 battles of 10 contenders, the tenth added for the last 10%;
    # honest voters cast 20 consecutive votes each. With one block-average share the late
    # voters met the newcomer "too often" and dozens were flagged; the shares now also take
    # the neighbouring blocks' rate, and the blocks are small enough to have neighbours.
    rng = np.random.default_rng(8)
    early = simulate.random_pairs(rng, 27_000, 9)
    late = simulate.random_pairs(rng, 3_000, 10)
    a, b = np.r_[early[0], late[0]], np.r_[early[1], late[1]]
    o = rng.integers(0, 3, a.size)
    voter = np.arange(a.size) // 20
    res = stats.selective_test(a, b, voter, 1_500, 10, min_votes=5, alpha=1.0)
    lately = res.voter >= 1_350
    for x in (0.001, 0.01, 0.05):
        assert (res.p[lately] <= x).mean() <= x
    det = detection.detect(a, b, o, voter, n_items=10, n_voters=1_500, alpha=0.01,
                           reg=1e-3, staged=False)
    assert det.flagged.size == 0
