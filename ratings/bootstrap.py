"""Bootstrap refits (internal): seeded, warm-started, thread-free and bit-reproducible.

Replicate ``r`` draws its weights from ``default_rng(SeedSequence(seed).spawn(n)[r])``, so the
result depends only on ``seed`` and the data, never on scheduling. ``multinomial`` resamples N
battles with replacement (the classical bootstrap); ``poisson`` gives each battle an independent
Poisson(1) count. Without covariates and with unit battle weights both are drawn directly on
the aggregated cells (a multinomial over cells, or a Poisson per cell with mean equal to its
count), which has exactly the same distribution as drawing per battle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
from scipy import linalg
from scipy.special import expit

from .errors import DisconnectedGraphError, NotConvergedError
from .graph import components, direction_weights, strongly_connected
from .problem import Problem, fit_rows
from .solver import Derivs, _Objective, _to_items, factorize, gradient, newton, row_terms

ProgressFn = Callable[[int, int], None]


# P(count > k) for Poisson(1) as thresholds on uniform 32-bit integers: count = number of
# thresholds at or below u. Each probability is exact to 2**-32; counts stop at 12
# (P(count > 12) = 2.3e-11).
_POISSON_THRESHOLDS = np.array(
    [
        min(int(sum(math.exp(-1.0) / math.factorial(j) for j in range(k + 1)) * 2**32), 2**32 - 1)
        for k in range(12)
    ],
    dtype=np.uint32,
)


def poisson_counts(rng: np.random.Generator, size: int) -> np.ndarray:
    """Poisson(1) counts by inverse CDF on uniform 32-bit integers (about 10x numpy's)."""
    u = rng.integers(0, 2**32, size, dtype=np.uint32)
    counts = (u >= _POISSON_THRESHOLDS[0]).view(np.uint8)
    for t in _POISSON_THRESHOLDS[1:]:
        counts += u >= t
    return counts


def cluster_counts(rng: np.random.Generator, n_clusters: int, scheme: str) -> np.ndarray:
    """Resampling count of every cluster: Poisson(1) each, or C draws with replacement."""
    if scheme == "poisson":
        return poisson_counts(rng, n_clusters).astype(np.float64)
    return np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters).astype(
        np.float64
    )


def replicate_row_weights(
    prob: Problem, rng: np.random.Generator, scheme: str, cluster: np.ndarray | None = None
) -> np.ndarray:
    """Row weights of one bootstrap replicate.

    Per-battle rows are a fixed permutation of the battles, so counts are drawn in row order
    (the same multinomial / Poisson law as drawing them per battle). With ``cluster`` (codes
    ``0..C-1`` per battle) counts are drawn per cluster and every battle takes its cluster's.
    """
    n_battles = prob.battle_w.shape[0]
    if cluster is not None:
        per_cluster = cluster_counts(rng, int(cluster.max()) + 1, scheme)
        return prob.row_weights(per_cluster[cluster] * prob.battle_w)
    if prob.aggregated and prob.unit_weights:
        if scheme == "poisson":
            return rng.poisson(prob.row_w).astype(np.float64)
        return rng.multinomial(n_battles, prob.row_w / n_battles).astype(np.float64)
    counts: np.ndarray
    if scheme == "poisson":
        counts = poisson_counts(rng, n_battles).astype(np.float64)
    else:
        counts = np.bincount(rng.integers(0, n_battles, n_battles), minlength=n_battles)
    if prob.aggregated:
        return prob.row_weights(counts * prob.battle_w)
    return counts * prob.row_w


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


class _Refit:
    """Everything one replicate needs, shared read-only between worker threads."""

    def __init__(
        self,
        prob: Problem,
        v_hat: np.ndarray,
        *,
        scheme: str,
        reg: float,
        davidson: bool,
        tol: float,
        hessian: np.ndarray | None = None,
        cluster: np.ndarray | None = None,
    ) -> None:
        self.prob, self.v_hat, self.scheme, self.cluster = prob, v_hat, scheme, cluster
        self.reg, self.davidson, self.tol = reg, davidson, tol
        # Unit-weight derivatives at the full-data optimum: the gradient of any replicate at
        # v_hat is linear in its weights, which gives a first chord step without exp().
        unit = row_terms(prob, v_hat, np.ones(prob.row_w.shape[0]), davidson, False)
        self.unit = Derivs(None, unit.d1, None, dk=unit.dk)  # keep only what refits use
        if hessian is None:  # penalised Hessian of the full data at v_hat
            full_prob, full_w = fit_rows(prob, prob.row_w, davidson=davidson)
            hessian = _Objective(full_prob, v_hat, full_w, reg, davidson).hessian()
        self.factor = factorize(hessian, prob.n_items, reg)
        self.full_dirs = self._directions(prob.row_w)
        self.single = None
        if not prob.aggregated and not davidson:
            self.single = (prob.xt.astype(np.float32), prob.row_y.astype(np.float32))

    def _chord_single(self, w: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, float] | None:
        """Chord iterations with the full-data Hessian, row arithmetic in float32.

        Per-row work dominates a refit with style covariates, and float32 halves its memory
        traffic. Sums run in float32 only within a pair (a few hundred rows) and in float64
        across pairs, so the gradient error is orders of magnitude below what ``tol``
        resolves; no BLAS call is made, so nothing competes with the worker threads.
        Returns ``None`` if the iteration stops contracting (the caller then runs float64
        Newton).
        """
        assert self.single is not None
        prob, (x32, y32) = self.prob, self.single
        n, m = prob.n_items, prob.n_items + prob.n_features
        w32 = w.astype(np.float32)
        wy = w32 * y32
        prod = np.empty_like(x32)
        previous = np.inf
        for _ in range(12):
            theta = v[:n]
            beta = v[n:m].astype(np.float32)
            eta = np.repeat(
                (theta[prob.pair_i] - theta[prob.pair_j]).astype(np.float32), prob.counts
            )
            for c in range(m - n):
                eta += beta[c] * x32[c]
            d1 = expit(eta, out=eta)
            d1 *= w32
            d1 -= wy
            g = np.empty(v.shape[0])
            g[:n] = _to_items(prob, np.add.reduceat(d1, prob.starts).astype(np.float64))
            np.multiply(x32, d1, out=prod)
            g[n:m] = np.add.reduceat(prod, prob.starts, axis=1).sum(axis=1, dtype=np.float64)
            g[:m] += self.reg * v[:m]
            step = -linalg.cho_solve(self.factor, g)
            size = float(np.max(np.abs(step)))
            v = v + step
            if size < self.tol:
                return v, size
            if not size < 0.5 * previous:
                return None
            previous = size
        return None

    def _directions(self, w: np.ndarray) -> tuple[np.ndarray, ...]:
        """Pairs with weight (per battle rows) or with wins and losses (aggregated cells)."""
        if self.prob.aggregated:
            return direction_weights(self.prob, w)
        return (np.add.reduceat(w, self.prob.starts) > 0,)

    def _covers(self, w: np.ndarray) -> bool:
        """Whether the replicate keeps every pair (and direction) of the full data.

        Such a replicate is as well identified as the full data, which was checked; only
        others go through the graph checks.
        """
        now = self._directions(w)
        return not any((f & ~g).any() for f, g in zip(self.full_dirs, now, strict=True))

    def __call__(self, r: int, seed: np.random.SeedSequence) -> tuple[np.ndarray, float]:
        prob, m = self.prob, self.prob.n_items + self.prob.n_features
        w = replicate_row_weights(prob, np.random.default_rng(seed), self.scheme, self.cluster)
        if self.reg == 0 and not self._covers(w):
            check_replicate(prob, w, r)
        d = Derivs(
            0.0, self.unit.d1 * w, self.unit.d2, None if self.unit.dk is None else self.unit.dk * w
        )
        g = gradient(prob, d)
        g[:m] += self.reg * self.v_hat[:m]
        start = self.v_hat - linalg.cho_solve(self.factor, g)
        if self.single is not None:
            done = self._chord_single(w, start)
            if done is not None:
                return done
        fit_prob, fit_w = fit_rows(prob, w, davidson=self.davidson)
        res = newton(
            fit_prob,
            fit_w,
            start,
            reg=self.reg,
            davidson=self.davidson,
            tol=self.tol,
            max_iter=50,
            chord=self.factor,
        )
        return res.v, res.last_step


def run_bootstrap(
    prob: Problem,
    v_hat: np.ndarray,
    *,
    n_boot: int,
    seed: int,
    scheme: str,
    reg: float,
    davidson: bool,
    tol: float | None = None,
    threads: int = 2,
    hessian: np.ndarray | None = None,
    progress: ProgressFn | None = None,
    cluster: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Refit ``n_boot`` replicates, each started one chord step away from the optimum.

    Replicates run on ``threads`` threads (numpy releases the GIL in the heavy loops); each
    one depends only on its own seed, so results are bit-identical for any thread count.

    Returns
    -------
    draws : ndarray, shape (n_boot, dim)
        Raw parameter vectors of the replicates.
    max_step : float
        Largest final Newton step over replicates (convergence certificate of the bootstrap).
    """
    if tol is None:  # per-battle refits are the expensive ones; cell refits cost next to nothing
        tol = 1e-7 if prob.aggregated else 5e-5
    refit = _Refit(
        prob,
        v_hat,
        scheme=scheme,
        reg=reg,
        davidson=davidson,
        tol=tol,
        hessian=hessian,
        cluster=cluster,
    )
    seeds = np.random.SeedSequence(seed).spawn(n_boot)
    draws = np.empty((n_boot, v_hat.shape[0]))
    steps = np.zeros(n_boot)
    workers = max(1, min(threads, n_boot))
    if workers == 1:
        for r, child in enumerate(seeds):
            draws[r], steps[r] = refit(r, child)
            if progress is not None:
                progress(r + 1, n_boot)
        return draws, float(steps.max())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(refit, r, child): r for r, child in enumerate(seeds)}
        done = 0
        try:
            for fut in as_completed(futures):
                r = futures[fut]
                draws[r], steps[r] = fut.result()
                done += 1
                if progress is not None:
                    progress(done, n_boot)
        except BaseException:
            for other in futures:
                other.cancel()
            raise
    return draws, float(steps.max())
