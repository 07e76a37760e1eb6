"""Seeded voters for calibration tests and the attack benchmark (pure numpy).

Honest voters follow Davidson's Bradley-Terry with ties (the detector's null model), with
Zipf-distributed activity: a few pseudonyms vote thousands of times, most a handful.
"""

from __future__ import annotations

import numpy as np

from arena.integrity.stats import A_WINS, B_WINS, TIE, TieModel


def zipf_voters(rng: np.random.Generator, n_battles: int, n_voters: int,
                exponent: float = 1.0) -> np.ndarray:
    """Voter code of each battle: voter ``r`` (0-based) is chosen ∝ ``1 / (r + 1) ** exponent``."""
    w = 1.0 / np.arange(1, n_voters + 1) ** exponent
    return rng.choice(n_voters, size=n_battles, p=w / w.sum()).astype(np.int64)


def random_pairs(rng: np.random.Generator, n_battles: int, n_items: int,
                 item_weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two distinct items per battle, each drawn ∝ ``item_weight`` (uniform by default)."""
    p = None if item_weight is None else item_weight / item_weight.sum()
    a = rng.choice(n_items, size=n_battles, p=p)
    b = rng.choice(n_items, size=n_battles, p=p)
    same = a == b
    while same.any():
        b[same] = rng.choice(n_items, size=int(same.sum()), p=p)
        same = a == b
    return a.astype(np.int64), b.astype(np.int64)


def sample_outcomes(rng: np.random.Generator, model: TieModel, a: np.ndarray,
                    b: np.ndarray) -> np.ndarray:
    """Outcomes drawn from the model (:data:`A_WINS`, :data:`B_WINS`, :data:`TIE`)."""
    p = model.probs(a, b)
    u = rng.random(a.shape[0])
    return np.where(u < p[:, 0], A_WINS, np.where(u < p[:, 0] + p[:, 1], B_WINS, TIE))


def honest(rng: np.random.Generator, model: TieModel, n_battles: int, n_voters: int, *,
           item_weight: np.ndarray | None = None,
           exponent: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(a, b, outcome, voter)`` of honest battles."""
    a, b = random_pairs(rng, n_battles, model.theta.shape[0], item_weight)
    return a, b, sample_outcomes(rng, model, a, b), zipf_voters(rng, n_battles, n_voters,
                                                                exponent)
