"""Length-controlled win rates (Dubois et al., "Length-Controlled AlpacaEval", arXiv 2404.04475).

Design: every battle is a judged model ``m`` against one fixed baseline on an instruction ``x``,
with the judge's preference ``y`` in [0, 1] (probability that ``m`` is preferred; ties 0.5).
Per model, the paper's GLM is

    logit P(m preferred on x) = theta_m + phi_m * tanh(d / sd_m) + psi_m * gamma_x

with ``d = len(m's answer) - len(baseline's answer)`` and ``sd_m`` the standard deviation of
``d`` over the model's battles. ``gamma_x`` is the instruction difficulty. The length-controlled
win rate is the GLM's prediction at zero length difference, averaged over the model's
instructions: ``100 * mean_x expit(theta_m + psi_m gamma_x)``.

What this module does, step by step:

1. **Instruction difficulty.** AlpacaEval uses a published per-instruction table fitted on its
   whole leaderboard; that table cannot be had offline, so ``gamma_x`` is fitted from the data
   given, jointly over all judged models: ``logit = theta_m + phi_m tanh(d/sd_m) + gamma_x``
   with an L2 penalty ``difficulty_reg / 2 * |gamma|^2`` (which also centres gamma). With few
   models per instruction the estimated difficulty is noisier than the published one.
2. **Per-model GLM with the paper's regularisation.** L1-penalised logistic regression on the
   three features without intercept, objective ``C * sum_i w_i logloss_i + |beta|_1`` (the
   liblinear form), ``C`` chosen from ``logspace(-4, 4, 10)`` by 5-fold cross-validation
   grouped by instruction on the weighted log-loss, then refitted on all rows. Soft
   preferences enter as the weighted Bernoulli likelihood. *Regularisation to the baseline*:
   battles of the baseline against variants of itself (e.g. a verbose and a concise prompt of
   the baseline model, ``baseline_variants``) are added to every model's fit with ``theta``'s
   feature set to 0 and total weight ``lambda = 0.2`` shared between the variants, so that the
   length and difficulty terms lean on how the judge treats the same model at other lengths.
   Without variant battles this term is absent (said in the output).
3. ``raw`` win rate: ``100 * weighted mean of y``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, log_expit

from .errors import InputError, NotConvergedError

#: Candidate ``C`` values of the cross-validation (scikit-learn's LogisticRegressionCV default).
C_GRID = tuple(float(c) for c in np.logspace(-4, 4, 10))
#: Total weight of baseline-variant battles in every model's fit (AlpacaEval's 0.2).
REGULARIZE_TO_BASELINE = 0.2


@dataclass(frozen=True)
class GLMFit:
    """Coefficients ``[theta, phi, psi]`` of one model's GLM and how they were found."""

    coef: np.ndarray
    C: float
    converged: bool
    iterations: int


def _weighted_logloss(beta: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray):
    eta = x @ beta
    loss = -float(w @ (y * log_expit(eta) + (1.0 - y) * log_expit(-eta)))
    grad = x.T @ (w * (expit(eta) - y))
    return loss, grad


def _newton(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, lin: np.ndarray, C: float, beta: np.ndarray
) -> tuple[np.ndarray, int]:
    """Minimise ``C * sum w logloss + lin @ beta`` by damped Newton (few columns, exact)."""
    for it in range(100):
        loss, grad = _weighted_logloss(beta, x, y, w)
        f = C * loss + float(lin @ beta)
        g = C * grad + lin
        pr = expit(x @ beta)
        h = C * (x.T * (w * pr * (1.0 - pr))) @ x
        try:
            step = -np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        if float(np.max(np.abs(step))) < 1e-12:
            return beta, it
        t = 1.0
        for _ in range(60):
            cand = beta + t * step
            fc = C * _weighted_logloss(cand, x, y, w)[0] + float(lin @ cand)
            if fc <= f + 1e-4 * t * float(g @ step) or fc - f <= 1e-15 * abs(f):
                break
            t *= 0.5
        beta = cand
    raise NotConvergedError(
        "GLM fit did not converge (the preferences may be separable by the features); "
        "use a finite C",
        it,
    )


def _prox_newton(x: np.ndarray, y: np.ndarray, w: np.ndarray, C: float) -> tuple[np.ndarray, int]:
    """Minimise ``C * sum w logloss + |beta|_1`` by proximal Newton (as glmnet/liblinear do).

    Each step minimises the quadratic model of the smooth part plus the exact L1 term by
    coordinate descent (a handful of columns, so this is cheap and exact), then backtracks.
    """
    k = x.shape[1]
    beta = np.zeros(k)

    def objective(b: np.ndarray) -> float:
        return C * _weighted_logloss(b, x, y, w)[0] + float(np.abs(b).sum())

    f = objective(beta)
    for it in range(200):
        grad = C * _weighted_logloss(beta, x, y, w)[1]
        pr = expit(x @ beta)
        h = C * (x.T * (w * pr * (1.0 - pr))) @ x
        d = np.zeros(k)
        for _ in range(500):
            biggest = 0.0
            for j in range(k):
                a = h[j, j]
                if not a > 0:
                    continue
                b = grad[j] + h[j] @ d - a * d[j]
                z = beta[j] - b / a
                z = np.sign(z) * max(abs(z) - 1.0 / a, 0.0)
                change = z - beta[j] - d[j]
                d[j] = z - beta[j]
                biggest = max(biggest, abs(change))
            if biggest < 1e-15:
                break
        size = float(np.max(np.abs(d)))
        if size < 1e-12:
            return beta, it
        decrease = float(grad @ d) + float(np.abs(beta + d).sum() - np.abs(beta).sum())
        t = 1.0
        for _ in range(60):
            cand = beta + t * d
            fc = objective(cand)
            if fc <= f + 1e-4 * t * decrease or fc - f <= 1e-15 * abs(f):
                break
            t *= 0.5
        beta, f = cand, fc
    raise NotConvergedError("L1 GLM fit did not converge in 200 proximal Newton steps", 200)


def fit_glm(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, C: float = np.inf) -> GLMFit:
    """Minimise ``C * sum w logloss(y, x @ beta) + |beta|_1`` (no penalty for ``C = inf``).

    Unpenalised: damped Newton. L1: proximal Newton; the optimality conditions
    (``|C g_j| <= 1`` where ``beta_j = 0``, ``C g_j = -sign(beta_j)`` elsewhere) are checked.
    """
    k = x.shape[1]
    if np.isinf(C):
        beta, it = _newton(x, y, w, np.zeros(k), 1.0, np.zeros(k))
        return GLMFit(coef=beta, C=float(C), converged=True, iterations=it)
    beta, it = _prox_newton(x, y, w, C)
    grad = C * _weighted_logloss(beta, x, y, w)[1]
    zero = beta == 0
    kkt = np.concatenate([np.abs(grad[zero]) - 1.0, np.abs(grad[~zero] + np.sign(beta[~zero]))])
    if kkt.size and float(np.max(kkt)) > 1e-6 * (1.0 + float(np.max(np.abs(grad)))):
        raise NotConvergedError(
            f"L1 GLM fit did not reach optimality (residual {np.max(kkt):.2e})", it
        )
    return GLMFit(coef=beta, C=float(C), converged=True, iterations=it)


def _cv_choose_c(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, group: np.ndarray, n_splits: int
) -> float:
    """``C`` of :data:`C_GRID` with the least held-out weighted log-loss (folds by group)."""
    groups = np.unique(group)
    if groups.shape[0] < n_splits:
        raise InputError(f"cross-validation needs at least {n_splits} instructions")
    # Deterministic folds: instructions in sorted order dealt round-robin.
    fold_of_group = np.arange(groups.shape[0]) % n_splits
    fold = fold_of_group[np.searchsorted(groups, group)]
    best, best_loss = C_GRID[0], np.inf
    for c in C_GRID:
        total = 0.0
        for f in range(n_splits):
            train = fold != f
            beta = fit_glm(x[train], y[train], w[train], C=c).coef
            total += _weighted_logloss(beta, x[~train], y[~train], w[~train])[0]
        if total < best_loss - 1e-12:
            best, best_loss = c, total
    return best


def _difficulty(
    model: np.ndarray,
    instr: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    reg: float,
) -> np.ndarray:
    """Instruction difficulty gamma from the joint fit over all models (step 1)."""
    n_m, n_x = int(model.max()) + 1, int(instr.max()) + 1

    def objective(v: np.ndarray) -> tuple[float, np.ndarray]:
        theta, phi, gamma = v[:n_m], v[n_m : 2 * n_m], v[2 * n_m :]
        eta = theta[model] + phi[model] * t + gamma[instr]
        loss = -float(w @ (y * log_expit(eta) + (1.0 - y) * log_expit(-eta)))
        r = w * (expit(eta) - y)
        grad = np.concatenate(
            [
                np.bincount(model, r, minlength=n_m),
                np.bincount(model, r * t, minlength=n_m),
                np.bincount(instr, r, minlength=n_x) + reg * gamma,
            ]
        )
        return loss + 0.5 * reg * float(gamma @ gamma), grad

    from scipy import optimize  # not at import: it would slow every `ratings fit` start-up

    res = optimize.minimize(
        objective,
        np.zeros(2 * n_m + n_x),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-9, "ftol": 1e-15, "maxiter": 20_000, "maxcor": 30},
    )
    if not res.success:
        raise NotConvergedError(
            f"instruction-difficulty fit did not converge: {res.message}", int(res.nit)
        )
    return np.asarray(res.x[2 * n_m :])


def lc_win_rates(
    model_a: Sequence[str] | np.ndarray,
    model_b: Sequence[str] | np.ndarray,
    prob_a: Sequence[float] | np.ndarray,
    length_a: Sequence[float] | np.ndarray,
    length_b: Sequence[float] | np.ndarray,
    instruction: Sequence[Any] | np.ndarray,
    *,
    baseline: str,
    weights: Sequence[float] | np.ndarray | None = None,
    baseline_variants: Sequence[str] = (),
    difficulty_reg: float = 1.0,
    n_splits: int = 5,
    C: float | None = None,
) -> dict[str, Any]:
    """Length-controlled and raw win rates (percent) of every model against ``baseline``.

    Parameters
    ----------
    model_a, model_b : sequence of str
        One side of every battle must be ``baseline``.
    prob_a : array_like
        Probability that A was preferred (1, 0, 0.5 for win, loss, tie; or a judge's soft
        preference).
    length_a, length_b : array_like
        Answer lengths (AlpacaEval uses characters; any consistent unit works).
    instruction : array_like
        Instruction id of every battle (groups of the cross-validation, difficulty index).
    baseline_variants : sequence of str
        Models that are the baseline under another prompt (verbose, concise); their battles
        regularise every other model's GLM towards the baseline (weight 0.2 in total) and they
        get no win rate of their own.
    C : float, optional
        Fixed inverse L1 strength instead of cross-validation (``inf``: no penalty).
    """
    a = np.asarray(model_a, dtype=object)
    b = np.asarray(model_b, dtype=object)
    n = a.shape[0]
    arrays = {
        "prob_a": np.asarray(prob_a, dtype=np.float64),
        "length_a": np.asarray(length_a, dtype=np.float64),
        "length_b": np.asarray(length_b, dtype=np.float64),
        "instruction": np.asarray(instruction, dtype=object),
        "model_b": b,
    }
    for name, arr in arrays.items():
        if arr.shape != (n,):
            raise InputError(f"{name} has shape {arr.shape}, expected ({n},)")
    p = arrays["prob_a"]
    if n == 0:
        raise InputError("no battles given")
    if not np.all((p >= 0) & (p <= 1)):
        row = int(np.flatnonzero(~((p >= 0) & (p <= 1)))[0])
        raise InputError(f"row {row}: preference must be in [0, 1], got {p[row]!r}")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w) & (w >= 0)):
        raise InputError("weights must be finite, >= 0, one per battle")
    base_a, base_b = a == baseline, b == baseline
    self_rows = base_a & base_b
    neither = ~(base_a | base_b)
    if neither.any():
        row = int(np.flatnonzero(neither)[0])
        raise InputError(
            f"row {row}: neither side is the baseline {baseline!r} ({a[row]!r} vs {b[row]!r}); "
            "the length-controlled GLM needs a baseline-vs-model design"
        )
    keep = ~self_rows & (w > 0)
    if not keep.any():
        raise InputError(f"no battles against the baseline {baseline!r}")
    # Orient every battle as (model, baseline): y = P(model preferred), d = its length excess.
    model = np.where(base_a, b, a)[keep]
    y = np.where(base_a, 1.0 - p, p)[keep]
    la, lb = arrays["length_a"][keep], arrays["length_b"][keep]
    d = np.where(base_a[keep], lb - la, la - lb)
    if not np.all(np.isfinite(d)):
        raise InputError("lengths must be finite numbers")
    w = w[keep]
    instr_ids, instr = np.unique(arrays["instruction"][keep].astype(str), return_inverse=True)
    names, m_idx = np.unique(model.astype(str), return_inverse=True)
    variants = set(baseline_variants)
    unknown = variants - set(names.tolist())
    if unknown:
        raise InputError(f"baseline variants not found in the data: {', '.join(sorted(unknown))}")

    t = np.empty(d.shape[0])
    for k in range(names.shape[0]):
        rows = m_idx == k
        sd = float(np.std(d[rows], ddof=1)) if rows.sum() > 1 else 0.0
        if not sd > 0:
            raise InputError(f"model {names[k]!r}: length difference is constant (needs 2+ values)")
        t[rows] = np.tanh(d[rows] / sd)
    gamma = _difficulty(m_idx, instr, t, y, w, difficulty_reg)
    g = gamma[instr]

    is_variant = np.isin(names[m_idx], list(variants))
    var_rows = np.flatnonzero(is_variant)
    var_w = np.zeros(0)
    if var_rows.size:
        # AlpacaEval weighs each variant battle lambda / (number of variants).
        var_w = w[var_rows] * REGULARIZE_TO_BASELINE / len(variants)
    out_models = []
    for k, name in enumerate(names.tolist()):
        if name in variants:
            continue
        own = np.flatnonzero(m_idx == k)
        x = np.column_stack([np.ones(own.size), t[own], g[own]])
        yy, ww, grp = y[own], w[own], instr[own]
        if var_rows.size:
            xv = np.column_stack([np.zeros(var_rows.size), t[var_rows], g[var_rows]])
            x = np.vstack([x, xv])
            yy = np.concatenate([yy, y[var_rows]])
            ww = np.concatenate([ww, var_w])
            grp = np.concatenate([grp, instr[var_rows]])
        c = C if C is not None else _cv_choose_c(x, yy, ww, grp, n_splits)
        fit = fit_glm(x, yy, ww, C=c)
        theta, phi, psi = (float(v) for v in fit.coef)
        lc = 100.0 * float(np.mean(expit(theta + psi * g[own])))
        raw = 100.0 * float(np.average(y[own], weights=w[own]))
        out_models.append(
            {
                "name": name,
                "lc_win_rate": lc,
                "win_rate": raw,
                "n": int(own.size),
                "mean_length_difference": float(np.average(d[own], weights=w[own])),
                "coef": {"theta": theta, "length": phi, "difficulty": psi},
                "C": c,
            }
        )
    out_models.sort(key=lambda r: -r["lc_win_rate"])
    return {
        "baseline": baseline,
        "models": out_models,
        "method": {
            "glm": "logit = theta_m + phi_m tanh(d / sd_m) + psi_m gamma_x (arXiv 2404.04475)",
            "prediction": "100 * mean_x expit(theta_m + psi_m gamma_x) (zero length difference)",
            "instruction_difficulty": (
                "fitted from these data (joint fit over all models, L2 "
                f"{difficulty_reg} on gamma); AlpacaEval's published table is not used"
            ),
            "regularisation": (
                f"L1, C by {n_splits}-fold CV grouped by instruction"
                if C is None
                else f"L1 with fixed C={C}"
            ),
            "regularize_to_baseline": (
                {"lambda": REGULARIZE_TO_BASELINE, "variants": sorted(variants)}
                if variants
                else None
            ),
            "self_battles_dropped": int(self_rows.sum()),
        },
        "n_instructions": int(instr_ids.shape[0]),
        "instruction_difficulty": {str(k): float(v) for k, v in zip(instr_ids, gamma, strict=True)},
    }


__all__ = ["C_GRID", "REGULARIZE_TO_BASELINE", "GLMFit", "fit_glm", "lc_win_rates"]
