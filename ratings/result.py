"""Result objects of a leaderboard fit and their JSON / table renderings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ContenderRating:
    """One leaderboard row.

    ``rank`` is 1 + the number of contenders with a strictly higher rating; ``rank_ub`` is
    FastChat's "rank (UB)": 1 + the number of contenders whose ``ci_low`` exceeds this one's
    ``ci_high``. ``rank_ci_low``/``rank_ci_high`` are 2.5%/97.5% quantiles of the rank over
    bootstrap replicates (``None`` without bootstrap).
    """

    name: str
    rating: float
    ci_low: float
    ci_high: float
    rank: int
    rank_ub: int
    votes: int
    wins: float
    losses: float
    ties: float
    both_bad: float
    rank_ci_low: int | None = None
    rank_ci_high: int | None = None


@dataclass(frozen=True)
class StyleCoefficient:
    """Coefficient of one style covariate, in logit units per unit of the transformed feature.

    ``mean`` is the (weighted) mean of the transformed difference ``x`` (A minus B) over the
    battles used: the reference point of ``style_reference='mean'``.
    """

    name: str
    coef: float
    ci_low: float
    ci_high: float
    mean: float = 0.0


@dataclass(frozen=True, eq=False)
class LeaderboardResult:
    """Outcome of :func:`ratings.fit_leaderboard`.

    Attributes
    ----------
    models : tuple of ContenderRating
        Sorted by rating, best first.
    style : tuple of StyleCoefficient
    method : dict
        Every setting, the feature-transform version and the code version.
    n_battles : int
        Battles used in the fit (after ``min_votes`` and dropped outcomes).
    converged : bool
        Always ``True`` for a returned result: a fit that did not converge raises.
    gradient_norm : float
        Max-norm of the gradient of the penalised objective at the returned optimum.
    iterations : int
    message : str
    win_matrix : ndarray, shape (n, n)
        Predicted expected score of row contender against column contender (a tie counts
        half) with no style difference, in the order of ``models``.
    tie_log_nu : float or None
        Davidson tie parameter ``log nu`` (``None`` for other tie models).
    bootstrap_ratings : ndarray or None, shape (n_bootstrap, n)
        Raw bootstrap distribution of the ratings (columns in the order of ``models``).
    bootstrap_style : ndarray or None, shape (n_bootstrap, p)
    covariance : ndarray or None
        Covariance of [ratings (Elo units), style coefs] from the sandwich (``ci='sandwich'``).
    components : list of list of str
        Connected components of the comparison graph (one unless ``reg > 0`` allowed more).
    """

    models: tuple[ContenderRating, ...]
    style: tuple[StyleCoefficient, ...]
    method: dict[str, Any]
    n_battles: int
    converged: bool
    gradient_norm: float
    iterations: int
    message: str
    win_matrix: np.ndarray
    tie_log_nu: float | None = None
    bootstrap_ratings: np.ndarray | None = None
    bootstrap_style: np.ndarray | None = None
    covariance: np.ndarray | None = None
    components: list[list[str]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def rating_of(self, name: str) -> float:
        """Rating of contender ``name``."""
        for m in self.models:
            if m.name == name:
                return m.rating
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written by ``python -m ratings fit`` (plain Python types only)."""
        models = [
            {
                "name": m.name,
                "rating": m.rating,
                "ci_low": m.ci_low,
                "ci_high": m.ci_high,
                "rank": m.rank,
                "rank_ub": m.rank_ub,
                "rank_ci_low": m.rank_ci_low,
                "rank_ci_high": m.rank_ci_high,
                "votes": m.votes,
                "wins": m.wins,
                "losses": m.losses,
                "ties": m.ties,
                "both_bad": m.both_bad,
            }
            for m in self.models
        ]
        return {
            "models": models,
            "style": {
                s.name: {"coef": s.coef, "ci_low": s.ci_low, "ci_high": s.ci_high, "mean": s.mean}
                for s in self.style
            },
            "method": self.method,
            "n_battles": self.n_battles,
            "converged": self.converged,
            "gradient_norm": self.gradient_norm,
            "iterations": self.iterations,
            "message": self.message,
            "tie_log_nu": self.tie_log_nu,
            "components": self.components,
            "win_matrix": {
                "names": self.names,
                "p": [[float(x) for x in row] for row in self.win_matrix],
            },
        }


def format_table(res: LeaderboardResult) -> str:
    """Human-readable leaderboard (CLI ``--format table``)."""
    width = max([len("model")] + [len(m.name) for m in res.models])
    head = f"{'rank':>4} {'UB':>4}  {'model':<{width}} {'rating':>9} {'95% CI':>19} {'votes':>8}"
    lines = [head, "-" * len(head)]
    for m in res.models:
        ci = f"[{m.ci_low:.1f}, {m.ci_high:.1f}]"
        lines.append(
            f"{m.rank:>4} {m.rank_ub:>4}  {m.name:<{width}} {m.rating:>9.2f} {ci:>19} {m.votes:>8}"
        )
    for s in res.style:
        lines.append(f"style {s.name}: {s.coef:+.4f} [{s.ci_low:+.4f}, {s.ci_high:+.4f}]")
    lines.append(
        f"{res.n_battles} battles, {res.iterations} Newton iterations, "
        f"gradient max-norm {res.gradient_norm:.2e}; {res.message}"
    )
    return "\n".join(lines)
