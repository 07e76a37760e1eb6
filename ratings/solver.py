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
from .problem import HALF_SCORE, LOSS, TIE, WIN, Problem


@dataclass
class Derivs:
    """Per-row first/second derivatives of the loss with respect to eta (and kappa)."""

    loss: float
    d1: np.ndarray
    d2: np.ndarray
    dk: np.ndarray | None = None
    dkk: np.ndarray | None = None
    dek: np.ndarray | None = None


def linear_predictor(prob: Problem, v: np.ndarray) -> np.ndarray:
    n, p = prob.n_items, prob.n_features
    theta = v[:n]
    eta = (theta[prob.pair_i] - theta[prob.pair_j])[prob.row_pair]
    if p:
        eta = eta + prob.x @ v[n : n + p]
    return eta


def row_terms(prob: Problem, v: np.ndarray, w: np.ndarray, davidson: bool) -> Derivs:
    """Loss and per-row derivatives at ``v`` with row weights ``w`` (no penalty)."""
    eta = linear_predictor(prob, v)
    out = prob.row_out
    if not davidson:
        y = HALF_SCORE[out]
        p = expit(eta)
        loss = float(w @ (y * np.logaddexp(0.0, -eta) + (1.0 - y) * np.logaddexp(0.0, eta)))
        return Derivs(loss, w * (p - y), w * (p * (1.0 - p)))
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


def assemble(prob: Problem, d: Derivs, hessian: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian over ``v`` from per-row derivatives (shared by the sandwich meat)."""
    n, p, k = prob.n_items, prob.n_features, prob.n_pairs
    q = 0 if d.dk is None else 1
    dim = n + p + q
    g = np.empty(dim)
    g[:n] = _to_items(prob, np.bincount(prob.row_pair, d.d1, minlength=k))
    if p:
        g[n : n + p] = prob.x.T @ d.d1
    if q:
        g[-1] = d.dk.sum()
    if not hessian:
        return g, np.empty((0, 0))
    h = np.zeros((dim, dim))
    hp = np.bincount(prob.row_pair, d.d2, minlength=k)
    diag = np.bincount(prob.pair_i, hp, minlength=n) + np.bincount(prob.pair_j, hp, minlength=n)
    h[prob.pair_i, prob.pair_j] = -hp
    h[prob.pair_j, prob.pair_i] = -hp
    h[np.arange(n), np.arange(n)] = diag
    if p:
        xw = prob.x * d.d2[:, None]
        for c in range(p):
            h[:n, n + c] = _to_items(prob, np.bincount(prob.row_pair, xw[:, c], minlength=k))
        h[n : n + p, :n] = h[:n, n : n + p].T
        h[n : n + p, n : n + p] = prob.x.T @ xw
    if q:
        h[:n, -1] = _to_items(prob, np.bincount(prob.row_pair, d.dek, minlength=k))
        if p:
            h[n : n + p, -1] = prob.x.T @ d.dek
        h[-1, :-1] = h[:-1, -1]
        h[-1, -1] = d.dkk.sum()
    return g, h


@dataclass(frozen=True)
class NewtonResult:
    v: np.ndarray
    hessian: np.ndarray  # penalised Hessian at v (without the identifiability term)
    iterations: int
    gradient_norm: float  # max-norm of the penalised gradient at v
    last_step: float  # max-norm of the last Newton step (not applied)
    loss: float


def _penalised(prob: Problem, v: np.ndarray, w: np.ndarray, reg: float, davidson: bool):
    d = row_terms(prob, v, w, davidson)
    g, h = assemble(prob, d)
    m = prob.n_items + prob.n_features
    loss = d.loss
    if reg:
        loss += 0.5 * reg * float(v[:m] @ v[:m])
        g[:m] += reg * v[:m]
        h[np.arange(m), np.arange(m)] += reg
    return loss, g, h


def newton(
    prob: Problem,
    w: np.ndarray,
    v0: np.ndarray,
    *,
    reg: float,
    davidson: bool,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> NewtonResult:
    """Minimise the penalised loss by damped Newton with Armijo backtracking.

    Converged means the max-norm of the full Newton step is below ``tol`` (natural-log units:
    1e-9 is 1.7e-7 Elo). With ``reg == 0`` the ratings are identified only up to a common shift;
    the term ``c * u u^T`` (u: normalised all-ones on theta) makes the system solvable and keeps
    every step orthogonal to the shift, so ``sum(theta)`` never changes.
    """
    n = prob.n_items
    u = np.zeros(v0.shape[0])
    u[:n] = 1.0 / np.sqrt(n)
    v = v0.copy()
    loss, g, h = _penalised(prob, v, w, reg, davidson)
    for it in range(max_iter + 1):
        hs = h if reg > 0 else h + np.mean(np.diag(h)[:n]) * np.outer(u, u)
        try:
            step = -linalg.solve(hs, g, assume_a="pos", check_finite=True)
        except (linalg.LinAlgError, ValueError) as exc:
            raise NotConvergedError(
                f"Newton system is singular or not finite at iteration {it} ({exc}); "
                "the optimum may not exist (a contender that never loses or never wins): "
                "use reg > 0 or more battles",
                it,
                float(np.max(np.abs(g))),
            ) from None
        size = float(np.max(np.abs(step)))
        if size < tol:
            return NewtonResult(v, h, it, float(np.max(np.abs(g))), size, loss)
        if it == max_iter:
            break
        slope = float(g @ step)
        t = 1.0
        for _ in range(60):
            cand = v + t * step
            c_loss, c_g, c_h = _penalised(prob, cand, w, reg, davidson)
            if c_loss <= loss + 1e-4 * t * slope or c_loss - loss <= 1e-13 * abs(loss):
                break
            t *= 0.5
        v, loss, g, h = cand, c_loss, c_g, c_h
    raise NotConvergedError(
        f"Newton did not converge in {max_iter} iterations (last step {size:.3g}, "
        f"gradient max-norm {np.max(np.abs(g)):.3g}); ratings may diverge because a contender "
        "never loses or never wins, or the style features separate outcomes: use reg > 0",
        max_iter,
        float(np.max(np.abs(g))),
    )
