"""``fit_leaderboard``: battles in, leaderboard out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import __version__
from .bootstrap import ProgressFn, run_bootstrap
from .data import _validate
from .errors import DisconnectedGraphError, NotConvergedError
from .features import FEATURE_TRANSFORM_VERSION
from .graph import components, strongly_connected
from .intervals import sandwich_covariance
from .problem import Problem, build_problem, fit_rows
from .result import ContenderRating, LeaderboardResult, StyleCoefficient
from .solver import NewtonResult, newton
from .tables import _reorder, _vote_counts, _win_matrix
from .units import FASTCHAT_REG, SCALE

_Z95 = 1.959963984540054


#: Per-battle labels: any sequence of str, or a 1-d numpy array of them.
Labels = Sequence[str] | np.ndarray


def fit_leaderboard(
    model_a: Labels,
    model_b: Labels,
    winner: Labels | None,
    *,
    features: Mapping[str, tuple[Any, Any]] | None = None,
    control: Sequence[str] | str = (),
    weights: Sequence[float] | np.ndarray | None = None,
    voter: Sequence[Any] | np.ndarray | None = None,
    ties: str = "half",
    both_bad: str = "tie",
    reg: float = 0.0,
    ci: str = "bootstrap",
    n_bootstrap: int = 100,
    bootstrap_weights: str = "poisson",
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    min_votes: int = 0,
    offset: float = 1000.0,
    tol: float = 1e-9,
    max_iter: int = 100,
    n_threads: int = 2,
    progress: ProgressFn | None = None,
    outcome_prob: Sequence[float] | np.ndarray | None = None,
    drop_self_battles: bool = False,
    style_reference: str = "equal",
    bootstrap_cluster: Sequence[Any] | np.ndarray | None = None,
) -> LeaderboardResult:
    """Fit a (style-controlled) Bradley-Terry leaderboard.

    Parameters
    ----------
    model_a, model_b : sequence of str
        Contenders of each battle.
    winner : sequence of str or None
        ``model_a``, ``model_b``, ``tie``, ``both_bad`` (``tie (bothbad)`` is read as
        ``both_bad``). ``None`` when ``outcome_prob`` is given.
    features : mapping of str to (array_like, array_like), optional
        Raw per-side values (e.g. from :func:`ratings.extract_features`), keyed by feature name.
    control : sequence of str or str
        Features (or set names of :data:`ratings.FEATURE_SETS`) whose effect is fitted jointly
        with the ratings, after the fixed transform ``(a - b) / (a + b + 1)``.
    weights : array_like, optional
        Non-negative per-battle weights; a battle counts ``weight`` times in the likelihood.
    voter : array_like, optional
        Voter ids; with ``ci='sandwich'`` the sandwich becomes cluster-robust by voter.
    ties : {'half', 'davidson', 'drop'}
        ``half``: a tie is half a win (FastChat/LMArena); ``davidson``: Davidson's tie model;
        ``drop``: ties and both-bad votes are ignored.
    both_bad : {'tie', 'drop'}
        Treat ``both_bad`` as a tie, or ignore it.
    reg : float
        L2 penalty ``reg/2 * |[theta, beta]|^2`` added to the once-counted negative
        log-likelihood (theta in natural-log units). Default 0: the exact maximum-likelihood
        fit, with no shrinkage of style effects. :data:`FASTCHAT_REG` reproduces FastChat's
        scikit-learn ``C=1`` fits. With ``reg > 0`` a disconnected comparison graph is allowed
        (reported in ``components``); with ``reg == 0`` it raises.
    ci : {'bootstrap', 'sandwich', 'none'}
        Percentile bootstrap, or normal intervals from the (cluster-)robust sandwich.
    n_bootstrap : int
    bootstrap_weights : {'multinomial', 'poisson'}
    seed : int
        Seed of the bootstrap (the only source of randomness).
    anchor : (str, float), optional
        Pin one contender's rating to a value instead of centring ratings at ``offset``. All
        intervals are then relative to the anchor, whose own interval has zero width.
    min_votes : int
        Drop contenders (repeatedly) with fewer battles.
    offset : float
        Mean rating under sum-to-zero identifiability.
    tol, max_iter : float, int
        Newton stops when the max-norm of its step is below ``tol``; otherwise it raises.
    n_threads : int
        Threads for bootstrap refits; results do not depend on it.
    progress : callable, optional
        ``progress(done, total)`` called after each bootstrap replicate.
    outcome_prob : array_like, optional
        Soft outcomes instead of ``winner``: the probability (in [0, 1]) that A wins, fitted
        as the score of the weighted Bradley-Terry (Bernoulli) likelihood, exactly like a pair
        of rows "A wins" with weight ``p`` and "B wins" with weight ``1 - p``. Needs
        ``ties='half'``.
    drop_self_battles : bool
        Drop rows of a contender against itself (counted in ``method['self_battles_dropped']``)
        instead of raising :class:`InputError`.
    style_reference : {'equal', 'mean'}
        Read ratings off at equal style (default: covariate 0) or at the mean transformed style
        difference of the battles used (covariates centred, as LMArena's standardised features).
        The means are reported either way (``StyleCoefficient.mean``).
    bootstrap_cluster : array_like, optional
        Cluster ids (e.g. prompt or voter); the bootstrap then resamples whole clusters
        (Poisson(1) count per cluster, or C clusters drawn with replacement).

    Returns
    -------
    LeaderboardResult

    Raises
    ------
    InputError, DisconnectedGraphError, NotConvergedError
    """
    v = _validate(
        model_a,
        model_b,
        winner,
        features=features,
        control=control,
        weights=weights,
        voter=voter,
        ties=ties,
        both_bad=both_bad,
        reg=reg,
        ci=ci,
        n_bootstrap=n_bootstrap,
        bootstrap_weights=bootstrap_weights,
        anchor=anchor,
        min_votes=min_votes,
        outcome_prob=outcome_prob,
        drop_self_battles=drop_self_battles,
        style_reference=style_reference,
        bootstrap_cluster=bootstrap_cluster,
    )
    cluster = voter is not None and ci == "sandwich"
    prob = build_problem(v, per_battle=cluster)
    opts = dict(
        ties=ties, both_bad=both_bad, reg=reg, ci=ci, n_bootstrap=n_bootstrap,
        bootstrap_weights=bootstrap_weights, seed=seed, anchor=anchor, min_votes=min_votes,
        offset=offset, tol=tol, style_reference=style_reference,
    )  # fmt: skip
    names = v.names.tolist()
    fit, comps, draws, boot_step, cov_v = _solve(
        prob, names, opts, max_iter=max_iter, n_threads=n_threads, progress=progress,
        boot_cluster=v.boot_cluster,
    )  # fmt: skip
    counts = _vote_counts(v.item_a, v.item_b, v.outcome, v.weights, len(names), score=v.score)
    return _assemble(
        names, v.feature_names, fit, comps, draws, boot_step, cov_v, counts,
        n_battles=int(v.item_a.shape[0]), weighted=v.weights is not None, cluster=cluster,
        opts=opts, style_means=v.style_means, soft=v.score is not None,
        self_battles_dropped=v.n_self_battles, boot_clustered=v.boot_cluster is not None,
    )  # fmt: skip


def _check_graph(
    prob: Problem, names: list[str], reg: float, *, plain: bool = True
) -> list[list[str]]:
    """Components of the comparison graph; raise where the optimum is not identified/finite.

    ``plain=False``: the model has style covariates even if ``prob`` (its cells) has none.
    """
    comps = [[names[i] for i in c] for c in components(prob, prob.row_w)]
    if reg == 0 and len(comps) > 1:
        sizes = ", ".join(str(len(c)) for c in comps)
        raise DisconnectedGraphError(
            f"the comparison graph has {len(comps)} connected components (sizes {sizes}); "
            f"ratings across them are not comparable. Fit each component separately "
            f"(first contenders: {', '.join(c[0] for c in comps)}) or use reg > 0",
            comps,
        )
    if reg == 0 and plain and prob.n_features == 0 and not strongly_connected(prob, prob.row_w):
        raise NotConvergedError(
            "the maximum-likelihood ratings do not exist: some group of contenders never "
            "loses (or never wins) against the rest, so their ratings diverge; use reg > 0 "
            "or min_votes",
        )
    return comps


def _solve(
    prob: Problem,
    names: list[str],
    opts: dict[str, Any],
    *,
    max_iter: int,
    n_threads: int,
    progress: ProgressFn | None,
    boot_cluster: np.ndarray | None = None,
) -> tuple[NewtonResult, list[list[str]], np.ndarray | None, float, np.ndarray | None]:
    """Identifiability checks, the point fit and its intervals on a built problem.

    Shared by :func:`fit_leaderboard` and the streamed fit of :mod:`ratings.stream`, which
    builds the same aggregated problem chunk by chunk.
    """
    reg, ci, davidson = opts["reg"], opts["ci"], opts["ties"] == "davidson"
    comps = _check_graph(prob, names, reg)
    n, p = prob.n_items, prob.n_features
    v0 = np.zeros(n + p + (1 if davidson else 0))
    fit_prob, fit_w = fit_rows(prob, prob.row_w, davidson=davidson)
    fit = newton(
        fit_prob, fit_w, v0, reg=reg, davidson=davidson, tol=opts["tol"], max_iter=max_iter
    )
    draws = cov_v = None
    boot_step = 0.0
    if ci == "bootstrap":
        draws, boot_step = run_bootstrap(
            prob,
            fit.v,
            n_boot=opts["n_bootstrap"],
            seed=opts["seed"],
            scheme=opts["bootstrap_weights"],
            reg=reg,
            davidson=davidson,
            threads=n_threads,
            hessian=fit.hessian,
            progress=progress,
            cluster=boot_cluster,
        )
    elif ci == "sandwich":
        assert fit.hessian is not None  # the main fit always certifies with a fresh Hessian
        cov_v = sandwich_covariance(prob, fit.v, fit.hessian, reg=reg, davidson=davidson)
    return fit, comps, draws, boot_step, cov_v


def _assemble(
    names: list[str],
    feature_names: tuple[str, ...],
    fit: NewtonResult,
    comps: list[list[str]],
    draws: np.ndarray | None,
    boot_step: float,
    cov_v: np.ndarray | None,
    counts: tuple[np.ndarray, ...],
    *,
    n_battles: int,
    weighted: bool,
    cluster: bool,
    opts: dict[str, Any],
    style_means: np.ndarray | None = None,
    soft: bool = False,
    self_battles_dropped: int = 0,
    boot_clustered: bool = False,
) -> LeaderboardResult:
    """The result object from a converged fit (natural units) and its intervals."""
    ties, both_bad, reg, ci, anchor = (opts[k] for k in ("ties", "both_bad", "reg", "ci", "anchor"))
    n_bootstrap, bootstrap_weights = opts["n_bootstrap"], opts["bootstrap_weights"]
    seed, offset, min_votes, tol = (opts[k] for k in ("seed", "offset", "min_votes", "tol"))
    davidson = ties == "davidson"
    n, p = len(names), len(feature_names)
    theta = fit.v[:n]
    ref = names.index(anchor[0]) if anchor is not None else None
    base = float(anchor[1]) if anchor is not None else offset

    def to_elo(th: np.ndarray) -> np.ndarray:
        shift = th[..., ref : ref + 1] if ref is not None else th.mean(axis=-1, keepdims=True)
        return base + SCALE * (th - shift)

    ratings = to_elo(theta)
    lo = hi = rank_lo = rank_hi = None
    boot_r = boot_s = cov = None
    if draws is not None:
        boot_r = to_elo(draws[:, :n])
        boot_s = draws[:, n : n + p]
        # Approximately unbiased quantiles (Hyndman-Fan 9): with 100 draws the default linear
        # interpolation sits inside the tails and makes intervals too narrow.
        lo, hi = np.percentile(boot_r, [2.5, 97.5], axis=0, method="normal_unbiased")
        s_lo, s_hi = np.percentile(boot_s, [2.5, 97.5], axis=0, method="normal_unbiased")
        ranks = 1 + (boot_r[:, None, :] > boot_r[:, :, None]).sum(axis=2)
        rank_lo = np.percentile(ranks, 2.5, axis=0, method="lower")
        rank_hi = np.percentile(ranks, 97.5, axis=0, method="higher")
    elif cov_v is not None:
        jac = np.zeros((n + p, cov_v.shape[0]))
        jac[:n, :n] = SCALE * (np.eye(n) - (np.eye(n)[ref] if ref is not None else 1.0 / n))
        jac[n:, n : n + p] = np.eye(p)
        cov = jac @ cov_v @ jac.T
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        lo, hi = ratings - _Z95 * sd[:n], ratings + _Z95 * sd[:n]
        s_lo, s_hi = fit.v[n : n + p] - _Z95 * sd[n:], fit.v[n : n + p] + _Z95 * sd[n:]
    else:
        lo, hi = ratings, ratings
        s_lo = s_hi = fit.v[n : n + p]

    order = np.lexsort((np.arange(n), -ratings))
    rank = 1 + (ratings[None, :] > ratings[:, None]).sum(axis=1)
    rank_ub = 1 + (lo[None, :] > hi[:, None]).sum(axis=1)
    models = tuple(
        ContenderRating(
            name=names[i],
            rating=float(ratings[i]),
            ci_low=float(lo[i]),
            ci_high=float(hi[i]),
            rank=int(rank[i]),
            rank_ub=int(rank_ub[i]),
            votes=int(counts[0][i]),
            wins=float(counts[1][i]),
            losses=float(counts[2][i]),
            ties=float(counts[3][i]),
            both_bad=float(counts[4][i]),
            rank_ci_low=None if rank_lo is None else int(rank_lo[i]),
            rank_ci_high=None if rank_hi is None else int(rank_hi[i]),
        )
        for i in order
    )
    means = style_means if style_means is not None else np.zeros(p)
    style = tuple(
        StyleCoefficient(
            name, float(fit.v[n + k]), float(s_lo[k]), float(s_hi[k]), mean=float(means[k])
        )
        for k, name in enumerate(feature_names)
    )
    kappa = float(fit.v[-1]) if davidson else None
    method = {
        "model": "bradley-terry" + ("+style" if p else ""),
        "ties": ties,
        "both_bad": both_bad,
        "reg": reg,
        "ci": ci,
        "n_bootstrap": n_bootstrap if ci == "bootstrap" else 0,
        "bootstrap_weights": bootstrap_weights if ci == "bootstrap" else None,
        "seed": seed,
        "confidence": 0.95,
        "anchor": None if anchor is None else [anchor[0], float(anchor[1])],
        "offset": offset,
        "scale": "rating = offset + 400/ln(10) * theta",
        "identifiability": "anchor" if anchor is not None else "sum-to-zero",
        "min_votes": min_votes,
        "control": list(feature_names),
        "feature_transform": "(a - b) / (a + b + 1)",
        "feature_transform_version": FEATURE_TRANSFORM_VERSION,
        "weights": weighted,
        "cluster_by_voter": cluster,
        "outcome": "probability" if soft else "winner",
        "self_battles_dropped": self_battles_dropped,
        "style_reference": opts.get("style_reference", "equal"),
        "bootstrap_cluster": boot_clustered and ci == "bootstrap",
        "tol": tol,
        "code_version": __version__,
    }
    message = f"Newton converged in {fit.iterations} iterations (last step {fit.last_step:.1e})"
    if ci == "bootstrap":
        message += (
            f"; {n_bootstrap} bootstrap refits converged (largest final step {boot_step:.1e}"
            f" = {SCALE * boot_step:.1e} Elo)"
        )
    if len(comps) > 1:
        message += f"; WARNING: {len(comps)} disconnected components tied together only by reg"
    return LeaderboardResult(
        models=models,
        style=style,
        method=method,
        n_battles=n_battles,
        converged=True,
        gradient_norm=fit.gradient_norm,
        iterations=fit.iterations,
        message=message,
        win_matrix=_win_matrix(theta[order], kappa),
        tie_log_nu=kappa,
        bootstrap_ratings=None if boot_r is None else boot_r[:, order],
        bootstrap_style=boot_s,
        covariance=_reorder(cov, order),
        components=comps,
    )


__all__ = ["FASTCHAT_REG", "SCALE", "Labels", "fit_leaderboard"]
