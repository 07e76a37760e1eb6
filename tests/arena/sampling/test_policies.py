"""The pure sampling rules: allowed pairs, caps, exploration floor, propensities, policies."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from scipy.stats import chisquare

from arena.sampling.policies import (
    Candidate,
    PolicySettings,
    draw,
    expected_shares,
    pair_probabilities,
)


def _board(n: int = 6, **overrides: object) -> list[Candidate]:
    return [Candidate(i, True, 1.0, f"org{i % 3}", votes=5000, rating=1000.0 + 10 * i,
                      half_width=10.0, rank=n - i) for i in range(n)]


def test_probabilities_sum_to_one_on_allowed_pairs_only() -> None:
    cands = [Candidate(0, False), Candidate(1, False), Candidate(2, True), Candidate(3, True)]
    for name in ("uniform", "weighted", "boost-new", "adaptive"):
        probs = pair_probabilities(cands, PolicySettings(name))
        assert probs.sum() == pytest.approx(1.0)
        assert probs[0, 1] == 0 and probs[1, 0] == 0  # two unreleased never meet
        assert np.all(np.diag(probs) == 0)
        assert np.all(np.tril(probs) == 0)


def test_weighted_policy_is_product_of_weights_without_exploration() -> None:
    cands = [Candidate(0, True, 1.0), Candidate(1, True, 2.0), Candidate(2, True, 3.0)]
    probs = pair_probabilities(cands, PolicySettings("weighted", exploration=0.0))
    assert probs[0, 1] == pytest.approx(2 / 11)
    assert probs[0, 2] == pytest.approx(3 / 11)
    assert probs[1, 2] == pytest.approx(6 / 11)


def test_exploration_floor_gives_every_allowed_pair_its_share() -> None:
    cands = [Candidate(0, True, 1.0), Candidate(1, True, 1e-6), Candidate(2, True, 1e-6)]
    probs = pair_probabilities(cands, PolicySettings("weighted", exploration=0.3))
    assert probs[1, 2] >= 0.3 / 3 - 1e-12


def test_cap_removes_a_contender_over_its_hourly_share() -> None:
    cands = _board(6)
    settings = PolicySettings("uniform", max_share=0.35, cap_min_battles=20, exploration=0.0)
    probs = pair_probabilities(cands, settings, {0: 40, 1: 10}, 100)
    assert probs[0].sum() + probs[:, 0].sum() == 0  # 41/101 > 35%
    assert probs[1].sum() > 0
    # Below the minimum hourly traffic nobody is capped.
    quiet = pair_probabilities(cands, settings, {0: 10}, 10)
    assert quiet[0].sum() > 0


def test_cap_never_leaves_no_pair() -> None:
    cands = _board(2)
    probs = pair_probabilities(cands, PolicySettings("uniform"), {0: 100, 1: 100}, 100)
    assert probs.sum() == pytest.approx(1.0)


def test_draw_frequencies_and_propensities_match_probabilities() -> None:
    cands = [Candidate(i, True, float(i + 1)) for i in range(4)]
    probs = pair_probabilities(cands, PolicySettings("weighted", exploration=0.1))
    rng = random.Random(7)
    n = 20_000
    seen: Counter[tuple[int, int]] = Counter()
    for _ in range(n):
        i, j, propensity = draw(probs, rng)
        pair = (min(i, j), max(i, j))
        assert propensity == pytest.approx(probs[pair] / 2)
        seen[(i, j)] += 1
    ordered = [(i, j) for i in range(4) for j in range(4) if i != j]
    expected = [n * probs[min(i, j), max(i, j)] / 2 for i, j in ordered]
    assert chisquare([seen[p] for p in ordered], expected).pvalue > 0.001


def test_expected_shares_sum_to_two() -> None:
    probs = pair_probabilities(_board(7), PolicySettings("adaptive"))
    assert expected_shares(probs).sum() == pytest.approx(2.0)


def test_boost_new_gives_newcomer_and_top_ten_their_weights() -> None:
    cands = [*_board(12), Candidate(99, True, 1.0, votes=10)]
    settings = PolicySettings("boost-new", exploration=0.0)
    probs = pair_probabilities(cands, settings)
    sym = probs + probs.T
    # Newcomer (weight 5) vs a top-ten member (3) vs a low-ranked one (rank 11 or 12: 1).
    top = next(i for i, c in enumerate(cands) if c.rank == 1)
    low = next(i for i, c in enumerate(cands) if c.rank == 12)
    other = next(i for i, c in enumerate(cands) if c.rank == 11)
    assert sym[12, top] / sym[low, other] == pytest.approx(15.0)


def test_adaptive_prefers_the_uncertain_newcomer() -> None:
    cands = [*_board(10), Candidate(99, True, 1.0)]
    probs = pair_probabilities(cands, PolicySettings("adaptive"))
    shares = expected_shares(probs)
    assert shares[-1] > 0.9  # the newcomer is in almost every battle while uncapped
    settled = pair_probabilities(_board(10), PolicySettings("adaptive"))
    assert expected_shares(settled).max() < 0.5


def test_adaptive_newcomer_share_respects_cap() -> None:
    cands = [*_board(10), Candidate(99, True, 1.0)]
    settings = PolicySettings("adaptive", max_share=0.35)
    probs = pair_probabilities(cands, settings, {99: 36}, 100)
    assert expected_shares(probs)[-1] == 0


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="sampling policy"):
        PolicySettings("greedy")


def test_a_prepared_matrix_draws_what_a_draw_from_the_matrix_draws() -> None:
    """The sampler's cached PairDraw gives the same pairs and propensities as the matrix's own
    search, for the same random numbers (also where the cumulative sum has trailing zeros)."""
    import numpy as np

    from arena.sampling.policies import PairDraw

    cands = [Candidate(i, i != 2, float(i + 1)) for i in range(5)]
    probs = pair_probabilities(cands, PolicySettings("weighted", exploration=0.1))
    sparse = np.zeros((4, 4))
    sparse[0, 1] = 1.0
    for matrix in (probs, sparse):
        prepared = PairDraw(matrix)
        a, b = random.Random(3), random.Random(3)
        for _ in range(2000):
            flat = np.triu(matrix, 1).ravel()
            cumulative = np.cumsum(flat)
            k = int(np.searchsorted(cumulative, a.random() * cumulative[-1], side="right"))
            k = min(k, len(flat) - 1)
            while flat[k] <= 0:
                k -= 1
            i, j = divmod(k, matrix.shape[0])
            expected = (i, j, float(flat[k] / cumulative[-1]) / 2.0)
            if a.random() >= 0.5:
                expected = (j, i, expected[2])
            assert prepared(b) == expected
    with pytest.raises(ValueError):
        PairDraw(np.zeros((3, 3)))(random.Random(0))
