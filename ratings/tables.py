"""Tables derived from a fit: vote counts per contender, the win matrix, reordered covariance."""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def _reorder(cov: np.ndarray | None, order: np.ndarray) -> np.ndarray | None:
    if cov is None:
        return None
    idx = np.concatenate([order, np.arange(order.shape[0], cov.shape[0])])
    return cov[np.ix_(idx, idx)]


def _win_matrix(theta: np.ndarray, kappa: float | None) -> np.ndarray:
    diff = theta[:, None] - theta[None, :]
    if kappa is None:
        return expit(diff)
    half = 0.5 * diff
    log_d = np.logaddexp(np.logaddexp(half, -half), kappa)
    return np.exp(half - log_d) + 0.5 * np.exp(kappa - log_d)


def _vote_counts(
    item_a: np.ndarray,
    item_b: np.ndarray,
    o: np.ndarray,
    weights: np.ndarray | None,
    n: int,
    score: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """Battles, wins, losses, ties and both-bad votes per contender (weighted except votes)."""
    w = np.ones(item_a.shape[0]) if weights is None else weights
    both = np.concatenate([item_a, item_b])
    votes = np.bincount(both, minlength=n)

    def count(mask_a: np.ndarray, mask_b: np.ndarray) -> np.ndarray:
        return np.bincount(item_a, w * mask_a, minlength=n) + np.bincount(
            item_b, w * mask_b, minlength=n
        )

    if score is not None:  # soft outcomes: expected wins and losses, no ties
        zero = np.zeros(n)
        return votes, count(score, 1.0 - score), count(1.0 - score, score), zero, zero
    return (
        votes,
        count(o == 0, o == 1),
        count(o == 1, o == 0),
        count(o == 2, o == 2),
        count(o == 3, o == 3),
    )
