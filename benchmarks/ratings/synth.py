"""Synthetic arena battles with known ratings and style effects (shared by every engine).

Raw per-side features mimic chat answers: ``length`` (tokens, log-normal), and markdown
``header``/``list``/``bold`` counts (Poisson). Outcomes follow a style-controlled Bradley-Terry
model on the ``ratio-v1`` covariates ``(a - b) / (a + b + 1)``. Ties take probability
``4 * TIE_SHARE * p (1 - p)`` out of the two wins equally, so the expected score stays ``p``
and the half-tie model (FastChat's convention) is correctly specified: its optimum estimates
exactly the true ratings and coefficients (about 13% ties).
"""

from __future__ import annotations

import numpy as np

FEATURES = ("length", "markdown_header", "markdown_list", "markdown_bold")
TRUE_BETA = np.array([0.30, 0.10, 0.15, 0.05])
TIE_SHARE = 0.15
#: Outcome label of each ``winner`` code of :func:`make_battles`.
LABELS = np.array(["model_a", "model_b", "tie"], dtype=object)


def make_battles(n_battles: int, n_models: int = 100, seed: int = 0) -> dict[str, np.ndarray]:
    """Arrays: ``a``, ``b`` (int model ids), ``winner`` (0 a, 1 b, 2 tie), raw ``<f>_a/_b``."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 0.6, n_models)
    theta -= theta.mean()
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    out: dict[str, np.ndarray] = {"a": a, "b": b, "theta": theta, "beta": TRUE_BETA}
    eta = theta[a] - theta[b]
    for name, coef in zip(FEATURES, TRUE_BETA, strict=True):
        if name == "length":
            fa = np.round(rng.lognormal(6.0, 0.6, n_battles))
            fb = np.round(rng.lognormal(6.0, 0.6, n_battles))
        else:
            fa = rng.poisson(2.0, n_battles).astype(np.float64)
            fb = rng.poisson(2.0, n_battles).astype(np.float64)
        out[f"{name}_a"], out[f"{name}_b"] = fa, fb
        eta = eta + coef * (fa - fb) / (fa + fb + 1.0)
    p = 1.0 / (1.0 + np.exp(-eta))
    tie = 4.0 * TIE_SHARE * p * (1.0 - p)
    u = rng.random(n_battles)
    winner = np.where(u < p - tie / 2, 0, np.where(u < p + tie / 2, 2, 1))
    out["winner"] = winner
    return out
