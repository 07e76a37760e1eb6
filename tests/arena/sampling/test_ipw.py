"""Inverse-probability-weighted win matrix against a brute-force loop."""

from __future__ import annotations

import numpy as np

from arena.sampling.ipw import ipw_overall_win_rate, ipw_win_matrix


def _brute(a, b, s, p, n):  # type: ignore[no-untyped-def]
    win = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            num = den = 0.0
            for ai, bi, si, pi in zip(a, b, s, p, strict=True):
                w = 1.0 / pi if np.isfinite(pi) and pi > 0 else 1.0
                if (ai, bi) == (i, j):
                    num, den = num + w * si, den + w
                elif (ai, bi) == (j, i):
                    num, den = num + w * (1 - si), den + w
            if den:
                win[i, j] = num / den
    return win


def test_ipw_matrix_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    n, m = 5, 400
    a = rng.integers(0, n, m)
    b = (a + rng.integers(1, n, m)) % n
    s = rng.choice([0.0, 0.5, 1.0], m)
    p = rng.uniform(0.01, 0.2, m)
    p[:20] = np.nan  # imported battles without a propensity weigh 1
    win, weight = ipw_win_matrix(a, b, s, p, n)
    np.testing.assert_allclose(win, _brute(a, b, s, p, n), equal_nan=True)
    assert np.allclose(win + win.T, 1.0, equal_nan=True) or np.isnan(win).any()
    assert weight.sum() > 0


def test_ipw_removes_bias_of_adaptive_pair_selection() -> None:
    """A contender paired mostly with a weak opponent looks strong raw, not after IPW."""
    rng = np.random.default_rng(0)
    # Contender 0 beats 1 with p=0.9 and 2 with p=0.1; sampled 9:1 towards contender 1.
    a, b, s, p = [], [], [], []
    for _ in range(20_000):
        if rng.random() < 0.9:
            a.append(0), b.append(1), s.append(float(rng.random() < 0.9)), p.append(0.9)
        else:
            a.append(0), b.append(2), s.append(float(rng.random() < 0.1)), p.append(0.1)
    win, _ = ipw_win_matrix(np.array(a), np.array(b), np.array(s), np.array(p), 3)
    raw = np.mean(s)
    assert raw > 0.75
    assert abs(ipw_overall_win_rate(win)[0] - 0.5) < 0.02
