"""Reproduce FastChat's ``compute_elo_mle_with_tie`` tables (published numbers, not optima).

FastChat (and GenAI-Arena's copy of it) fits scikit-learn's
``LogisticRegression(fit_intercept=False)`` with its defaults on every battle *duplicated*:
both copies get ``y = 1`` for a model_a win and ``0`` for a model_b win, a tie (any kind) gets
``1`` in the first copy and ``0`` in the second; design ``+ln10`` at model_a, ``-ln10`` at
model_b (for a self-battle the second write wins: only ``-ln10``); rating ``400 coef + 1000``.

scikit-learn >= 1.1 minimises ``mean(log-loss) + ||coef||^2 / (2 C n_rows)`` with L-BFGS-B,
``gtol = tol = 1e-4``, ``ftol = 64 eps``, ``maxiter = 100``, ``maxls = 50`` from ``coef = 0``.
That stopping rule is loose for a mean loss, so published tables stop short of the optimum
(about 2 Elo on GenAI-Arena's anonymous battles). :func:`fastchat_elo_mle` replays the same
optimiser on the same objective, computed from aggregated counts, and reports the gap to the
exact penalised optimum (``fit_leaderboard(..., reg=FASTCHAT_REG)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize
from scipy.special import expit

from .data import OUTCOME_CODES
from .errors import InputError

_LN10 = math.log(10.0)


def fastchat_elo_mle(
    model_a: Sequence[str] | np.ndarray,
    model_b: Sequence[str] | np.ndarray,
    winner: Sequence[str] | np.ndarray,
    *,
    C: float = 1.0,
    tol: float = 1e-4,
    max_iter: int = 100,
    scale: float = 400.0,
    init_rating: float = 1000.0,
) -> dict[str, Any]:
    """Ratings exactly as FastChat's ``compute_elo_mle_with_tie`` (scikit-learn defaults).

    Returns
    -------
    dict
        ``ratings`` (name -> Elo), ``iterations``, ``gradient_max`` (of the mean objective at the
        stopping point), ``optimizer_message``, ``stopped_early`` (always reported; this is the
        published recipe, not an optimum).
    """
    a = np.asarray(model_a, dtype=object)
    b = np.asarray(model_b, dtype=object)
    w = np.asarray(winner, dtype=object)
    if not (a.shape == b.shape == w.shape) or a.ndim != 1:
        raise InputError("model_a, model_b and winner must be 1-d and of equal length")
    unknown = ~np.isin(w, list(OUTCOME_CODES))
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise InputError(f"row {row}: unknown outcome {w[row]!r} in column 'winner'")
    names, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    n_rows = 2 * a.shape[0]
    ia, ib = inv[: a.shape[0]], inv[a.shape[0] :]
    # Mean of y over the two copies: 1 (a wins), 0 (b wins), 1/2 (ties): aggregate cells.
    y = np.where(w == "model_a", 1.0, np.where(w == "model_b", 0.0, 0.5))
    cells, counts = np.unique(
        np.stack([ia, ib, (2 * y).astype(np.int64)]),
        axis=1,
        return_counts=True,
    )
    ca, cb, cy = cells[0], cells[1], cells[2] / 2.0
    self_battle = ca == cb
    cnt = counts * 2.0  # two rows per battle
    l2 = 1.0 / (C * n_rows)
    k = names.shape[0]

    def loss_grad(coef: np.ndarray) -> tuple[float, np.ndarray]:
        raw = np.where(self_battle, -_LN10 * coef[ca], _LN10 * (coef[ca] - coef[cb]))
        # log-loss of the two copies: y_mean is the share of copies with y = 1
        loss = cnt @ (np.logaddexp(0.0, raw) - cy * raw) / n_rows
        g_raw = cnt * (expit(raw) - cy) / n_rows
        grad = np.bincount(ca, np.where(self_battle, -_LN10, _LN10) * g_raw, minlength=k)
        grad -= np.bincount(cb, np.where(self_battle, 0.0, _LN10) * g_raw, minlength=k)
        return float(loss + 0.5 * l2 * coef @ coef), grad + l2 * coef

    res = optimize.minimize(
        loss_grad,
        np.zeros(k),
        method="L-BFGS-B",
        jac=True,
        options={"maxiter": max_iter, "maxls": 50, "gtol": tol, "ftol": 64 * np.finfo(float).eps},
    )
    return {
        "ratings": {
            str(n): float(scale * c + init_rating) for n, c in zip(names, res.x, strict=True)
        },
        "iterations": int(res.nit),
        "gradient_max": float(np.max(np.abs(res.jac))),
        "optimizer_message": str(res.message),
        "stopped_early": True,
        "recipe": {
            "C": C,
            "tol": tol,
            "max_iter": max_iter,
            "solver": "L-BFGS-B",
            "objective": "mean log-loss over duplicated rows + ||coef||^2/(2 C n_rows)",
        },
    }
