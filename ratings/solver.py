"""Loss, exact derivatives and a certified damped Newton solver (internal).

Parameters are stacked as ``v = [theta (n items), beta (p covariates), kappa (0 or 1)]``. The
linear predictor of a row comparing items ``i < j`` is ``eta = theta_i - theta_j + x @ beta``.

* ``half`` (FastChat/LMArena): Bernoulli log-likelihood with score 1 / 0 / 0.5 for a win, a loss
  and a tie of item i, i.e. a tie counts as half a win and half a loss.
* ``davidson``: P(win) ∝ exp(eta/2), P(loss) ∝ exp(-eta/2), P(tie) ∝ nu, ``kappa = log nu``.

The objective is the weighted negative log-likelihood plus ``reg/2 * |[theta, beta]|^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import expit

from .errors import NotConvergedError
from .problem import LOSS, TIE, WIN, Problem


@dataclass
class Derivs:
    """Per-row first/second derivatives of the loss with respect to eta (and kappa)."""

    loss: float | None  # None when not asked for
    d1: np.ndarray
    d2: np.ndarray | None  # None: computed on demand from ``p`` and ``w`` (half-tie model)
    dk: np.ndarray | None = None
    dkk: np.ndarray | None = None
    dek: np.ndarray | None = None
    p: np.ndarray | None = None
    w: np.ndarray | None = None

    def second(self) -> np.ndarray:
        if self.d2 is None:
            assert self.p is not None and self.w is not None
            self.d2 = self.w * self.p * (1.0 - self.p)
        return self.d2


def linear_predictor(prob: Problem, v: np.ndarray) -> np.ndarray:
    n, p = prob.n_items, prob.n_features
    theta = v[:n]
    delta = theta[prob.pair_i] - theta[prob.pair_j]
    if prob.row_pair.shape[0] != delta.shape[0]:
        delta = np.repeat(delta, prob.counts)
    if not p:
        return delta
    eta = delta + v[n] * prob.xt[0]
    for c in range(1, p):
        eta += v[n + c] * prob.xt[c]
    return eta


def half_loss(prob: Problem, eta: np.ndarray, w: np.ndarray) -> float:
    """Half-tie loss: ``y softplus(-eta) + (1 - y) softplus(eta) = softplus(-eta) + (1-y) eta``."""
    softplus = np.log1p(np.exp(-np.abs(eta)))
    softplus += np.maximum(-eta, 0.0)
    return float(w @ (softplus + (1.0 - prob.row_y) * eta))


def row_terms(
    prob: Problem, v: np.ndarray, w: np.ndarray, davidson: bool, need_loss: bool = True
) -> Derivs:
    """Loss and per-row derivatives at ``v`` with row weights ``w`` (no penalty)."""
    eta = linear_predictor(prob, v)
    if not davidson:
        p = expit(eta)
        loss = half_loss(prob, eta, w) if need_loss else None
        return Derivs(loss, w * (p - prob.row_y), None, p=p, w=w)
    out = prob.row_out
    kappa = v[-1]
    half = 0.5 * eta
    log_d = np.logaddexp(np.logaddexp(half, -half), kappa)
    pw, pl, pt = np.exp(half - log_d), np.exp(-half - log_d), np.exp(kappa - log_d)
    win, los, tie = (out == WIN), (out == LOSS), (out == TIE)
    loss = float(w @ (log_d - half * win + half * los - kappa * tie))
    diff = pw - pl
    return Derivs(
        loss,
        d1=w * (0.5 * (diff - win + los)),
        d2=w * (0.25 * (pw + pl - diff * diff)),
        dk=w * (pt - tie),
        dkk=w * (pt * (1.0 - pt)),
        dek=w * (-0.5 * pt * diff),
    )


def _to_items(prob: Problem, per_pair: np.ndarray) -> np.ndarray:
    n = prob.n_items
    return np.bincount(prob.pair_i, per_pair, minlength=n) - np.bincount(
        prob.pair_j, per_pair, minlength=n
    )


def _pair_sums(prob: Problem, values: np.ndarray) -> np.ndarray:
    if values.shape[-1] == prob.n_pairs and prob.row_pair.shape[0] == prob.n_pairs:
        return values  # one row per pair (collapsed)
    return np.add.reduceat(values, prob.starts, axis=-1)


def gradient(prob: Problem, d: Derivs) -> np.ndarray:
    """Gradient over ``v`` from per-row first derivatives."""
    n, p = prob.n_items, prob.n_features
    g = np.empty(n + p + (0 if d.dk is None else 1))
    g[:n] = _to_items(prob, _pair_sums(prob, d.d1))
    if p:
        g[n : n + p] = prob.xt @ d.d1
    if d.dk is not None:
        g[-1] = d.dk.sum()
    return g


def hessian(prob: Problem, d: Derivs) -> np.ndarray:
    """Hessian over ``v`` from per-row second derivatives (also builds the sandwich meat)."""
    n, p = prob.n_items, prob.n_features
    q = 0 if d.dk is None else 1
    dim = n + p + q
    h = np.zeros((dim, dim))
    d2 = d.second()
    hp = _pair_sums(prob, d2)
    diag = np.bincount(prob.pair_i, hp, minlength=n) + np.bincount(prob.pair_j, hp, minlength=n)
    h[prob.pair_i, prob.pair_j] = -hp
    h[prob.pair_j, prob.pair_i] = -hp
    h[np.arange(n), np.arange(n)] = diag
    if p:
        xw = prob.xt * d2
        per_pair = _pair_sums(prob, xw)
        for c in range(p):
            h[:n, n + c] = _to_items(prob, per_pair[c])
        h[n : n + p, :n] = h[:n, n : n + p].T
        h[n : n + p, n : n + p] = xw @ prob.xt.T
    if q:
        assert d.dek is not None and d.dkk is not None
        h[:n, -1] = _to_items(prob, _pair_sums(prob, d.dek))
        if p:
            h[n : n + p, -1] = prob.xt @ d.dek
        h[-1, :-1] = h[:-1, -1]
        h[-1, -1] = d.dkk.sum()
    return h


@dataclass(frozen=True)
class NewtonResult:
    v: np.ndarray
    hessian: np.ndarray | None  # penalised Hessian at v (None when certified by a chord step)
    iterations: int
    gradient_norm: float  # max-norm of the penalised gradient at v
    last_step: float  # max-norm of the last Newton step (not applied)
    loss: float


class _Objective:
    """Penalised loss, gradient and (on demand) Hessian at one point."""

    def __init__(
        self,
        prob: Problem,
        v: np.ndarray,
        w: np.ndarray,
        reg: float,
        davidson: bool,
        need_loss: bool = True,
    ):
        self.prob, self.v, self.w, self.reg, self.davidson = prob, v, w, reg, davidson
        self.d = row_terms(prob, v, w, davidson, need_loss)
        m = prob.n_items + prob.n_features
        self.m = m
        self.g = gradient(prob, self.d)
        self.g[:m] += reg * v[:m]

    @property
    def loss(self) -> float:
        if self.d.loss is None:
            self.d.loss = half_loss(self.prob, linear_predictor(self.prob, self.v), self.w)
        m = self.m
        return self.d.loss + 0.5 * self.reg * float(self.v[:m] @ self.v[:m])

    def hessian(self) -> np.ndarray:
        h = hessian(self.prob, self.d)
        h[np.arange(self.m), np.arange(self.m)] += self.reg
        return h


def _penalised(prob: Problem, v: np.ndarray, w: np.ndarray, reg: float, davidson: bool):
    obj = _Objective(prob, v, w, reg, davidson)
    return obj.loss, obj.g, obj.hessian()


def factorize(h: np.ndarray, n: int, reg: float) -> tuple[np.ndarray, bool]:
    """Cholesky factor of ``h`` plus, when ``reg == 0``, the shift term ``c u u^T``.

    With ``reg == 0`` the ratings are identified only up to a common shift; ``c u u^T``
    (u: normalised all-ones on theta) makes the system solvable and keeps every step
    orthogonal to the shift, so ``sum(theta)`` never changes.
    """
    if reg == 0:
        u = np.zeros(h.shape[0])
        u[:n] = 1.0 / np.sqrt(n)
        h = h + np.mean(np.diag(h)[:n]) * np.outer(u, u)
    return linalg.cho_factor(h, check_finite=True)


def _singular(it: int, g: np.ndarray, exc: Exception) -> NotConvergedError:
    return NotConvergedError(
        f"Newton system is singular or not finite at iteration {it} ({exc}); the optimum may "
        "not exist (a contender that never loses or never wins): use reg > 0 or more battles",
        it,
        float(np.max(np.abs(g))),
    )


def newton(
    prob: Problem,
    w: np.ndarray,
    v0: np.ndarray,
    *,
    reg: float,
    davidson: bool,
    tol: float = 1e-9,
    max_iter: int = 100,
    chord: tuple[np.ndarray, bool] | None = None,
) -> NewtonResult:
    """Minimise the penalised loss by damped Newton with Armijo backtracking.

    Converged means the max-norm of the Newton step at the returned point is below ``tol``
    (natural-log units: 1e-9 is 1.7e-7 Elo); that step is not applied. Steps with max-norm
    below 0.1 are taken in full (the quadratic model is accurate there; the next iterate's
    certificate would show any failure); larger ones are backtracked on the loss.

    With ``chord`` (a Cholesky factor from :func:`factorize`, e.g. of the full-data Hessian
    for bootstrap refits started next to their optimum) steps use the most recent factorised
    Hessian while that shrinks the step at least tenfold, and a fresh Hessian otherwise. The
    certificate is then the chord step, and the returned point has that step applied.
    """
    n = prob.n_items
    v = v0.copy()
    obj = _Objective(prob, v, w, reg, davidson, need_loss=False)
    size, previous = np.inf, np.inf
    reuse, factor = chord is not None, chord
    for it in range(max_iter + 1):
        h = None
        if reuse and factor is not None:
            step = -linalg.cho_solve(factor, obj.g)
            size = float(np.max(np.abs(step)))
        if not reuse or (size >= tol and size > 0.1 * previous):
            h = obj.hessian()
            try:
                factor = factorize(h, n, reg)
            except (linalg.LinAlgError, ValueError) as exc:
                raise _singular(it, obj.g, exc) from None
            step = -linalg.cho_solve(factor, obj.g)
            size = float(np.max(np.abs(step)))
        if not np.isfinite(size):
            raise _singular(it, obj.g, ValueError("non-finite step"))
        if size < tol:
            v_out = v + step if reuse else v
            return NewtonResult(v_out, h, it, float(np.max(np.abs(obj.g))), size, np.nan)
        if it == max_iter:
            break
        previous = size
        if size <= 0.1:
            v = v + step
            obj = _Objective(prob, v, w, reg, davidson, need_loss=False)
            continue
        slope = float(obj.g @ step)
        t = 1.0
        for _ in range(60):
            cand = _Objective(prob, v + t * step, w, reg, davidson)
            if cand.loss <= obj.loss + 1e-4 * t * slope or cand.loss - obj.loss <= 1e-13 * abs(
                obj.loss
            ):
                break
            t *= 0.5
        v, obj = cand.v, cand
    raise NotConvergedError(
        f"Newton did not converge in {max_iter} iterations (last step {size:.3g}, "
        f"gradient max-norm {np.max(np.abs(obj.g)):.3g}); ratings may diverge because a "
        "contender never loses or never wins, or the style features separate outcomes: use "
        "reg > 0",
        max_iter,
        float(np.max(np.abs(obj.g))),
    )
