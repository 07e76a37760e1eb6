"""Bootstrap refits (internal): seeded, warm-started, thread-free and bit-reproducible.

Replicate ``r`` draws its weights from ``default_rng(SeedSequence(seed).spawn(n)[r])``, so the
result depends only on ``seed`` and the data, never on scheduling. ``multinomial`` resamples N
battles with replacement (the classical bootstrap); ``poisson`` gives each battle an independent
Poisson(1) count. Without covariates and with unit battle weights both are drawn directly on
the aggregated cells (a multinomial over cells, or a Poisson per cell with mean equal to its
count), which has exactly the same distribution as drawing per battle.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .errors import DisconnectedGraphError, NotConvergedError
from .graph import components, strongly_connected
from .problem import Problem
from .solver import newton

ProgressFn = Callable[[int, int], None]


def replicate_row_weights(prob: Problem, rng: np.random.Generator, scheme: str) -> np.ndarray:
    """Row weights of one bootstrap replicate."""
    n_battles = prob.battle_w.shape[0]
    if prob.aggregated and prob.unit_weights:
        if scheme == "poisson":
            return rng.poisson(prob.row_w).astype(np.float64)
        return rng.multinomial(n_battles, prob.row_w / n_battles).astype(np.float64)
    if scheme == "poisson":
        counts = rng.poisson(1.0, n_battles).astype(np.float64)
    else:
        counts = np.bincount(rng.integers(0, n_battles, n_battles), minlength=n_battles)
    return prob.row_weights(counts * prob.battle_w)


def check_replicate(prob: Problem, w: np.ndarray, r: int) -> None:
    """Raise when an unpenalised replicate has no finite optimum."""
    if len(components(prob, w)) > 1:
        raise DisconnectedGraphError(
            f"bootstrap replicate {r} has a disconnected comparison graph; "
            "use reg > 0, min_votes, or ci='sandwich'",
            [],
        )
    if prob.n_features == 0 and not strongly_connected(prob, w):
        raise NotConvergedError(
            f"bootstrap replicate {r}: some contender never loses or never wins in the "
            "resample, so its rating is infinite; use reg > 0, min_votes, or ci='sandwich'",
            0,
        )


def run_bootstrap(
    prob: Problem,
    v_hat: np.ndarray,
    *,
    n_boot: int,
    seed: int,
    scheme: str,
    reg: float,
    davidson: bool,
    tol: float = 1e-7,
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, float]:
    """Refit ``n_boot`` replicates from the full-data optimum.

    Returns
    -------
    draws : ndarray, shape (n_boot, dim)
        Raw parameter vectors of the replicates.
    max_step : float
        Largest final Newton step over replicates (convergence certificate of the bootstrap).
    """
    children = np.random.SeedSequence(seed).spawn(n_boot)
    draws = np.empty((n_boot, v_hat.shape[0]))
    max_step = 0.0
    for r, child in enumerate(children):
        w = replicate_row_weights(prob, np.random.default_rng(child), scheme)
        if reg == 0:
            check_replicate(prob, w, r)
        res = newton(prob, w, v_hat, reg=reg, davidson=davidson, tol=tol, max_iter=50)
        draws[r] = res.v
        max_step = max(max_step, res.last_step)
        if progress is not None:
            progress(r + 1, n_boot)
    return draws, max_step
