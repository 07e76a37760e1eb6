"""The engine's fit of one set of battles, refitted cheaply under changed battle weights.

Influence analyses (how far would the ratings move without these battles?) refit the same
battles many times with some of them left out. :class:`Refit` validates the battles and builds
the engine's problem once, like :func:`ratings.fit_leaderboard` with ``ci='none'``; each
:meth:`Refit.fit` then runs the engine's certified Newton solver on new per-battle weights,
warm-started at the full-data optimum with its Hessian factor as a chord (as bootstrap refits
are). A battle of weight 0 contributes nothing to the loss, its gradient or its Hessian, so
``fit(w)`` with ``w`` zero on some battles has the optimum of ``fit_leaderboard`` on the others,
to the solver's tolerance: tested in ``tests/ratings/test_refit.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.special import expit

from .api import Labels, _check_graph
from .data import _validate
from .errors import InputError
from .problem import HALF_SCORE, build_problem
from .solver import _Objective, factorize, newton


class Refit:
    """Battles validated once for repeated half-tie fits under per-battle weights.

    Parameters
    ----------
    model_a, model_b, winner, features, control, weights, reg, both_bad, tol, max_iter
        As for :func:`ratings.fit_leaderboard` (ties are always ``'half'``). Every battle must
        be kept by validation (no zero weights, no self-battles), so that battle ``k`` here is
        battle ``k`` of the input.

    Attributes
    ----------
    names : ndarray of str
        Item names; ``item_a``/``item_b`` index them.
    covariates : ndarray, shape (p, N)
        Transformed style covariates of each battle, A minus B (:func:`ratings.features.transform`).
    score : ndarray, shape (N,)
        Score of side A: 1 a win, 0 a loss, 0.5 a tie (and ``both_bad`` when it is one).
    weights : ndarray, shape (N,)
        Battle weights (1.0 where none were given).
    v : ndarray, shape (n + p,)
        The full-data optimum ``[theta, beta]`` in natural-log units.
    """

    def __init__(
        self,
        model_a: Labels,
        model_b: Labels,
        winner: Labels,
        *,
        features: Mapping[str, tuple[Any, Any]] | None = None,
        control: Sequence[str] | str = (),
        weights: Sequence[float] | np.ndarray | None = None,
        reg: float = 0.0,
        both_bad: str = "tie",
        tol: float = 1e-9,
        max_iter: int = 100,
    ) -> None:
        val = _validate(
            model_a, model_b, winner, features=features, control=control, weights=weights,
            voter=None, ties="half", both_bad=both_bad, reg=reg, ci="none", n_bootstrap=2,
            bootstrap_weights="poisson", anchor=None, min_votes=0,
        )  # fmt: skip
        if val.item_a.shape[0] != val.n_input:
            raise InputError(
                f"{val.n_input - val.item_a.shape[0]} battles would be dropped by validation "
                "(zero weight or a dropped outcome); pass only battles that are fitted"
            )
        self.names = val.names
        self.feature_names = val.feature_names
        self.item_a, self.item_b = val.item_a, val.item_b
        self.covariates = val.covariates
        self.score = HALF_SCORE[np.minimum(val.outcome, 2)]
        self.weights = np.ones(val.n_input) if val.weights is None else val.weights
        self.reg, self.tol, self.max_iter = float(reg), tol, max_iter
        self._prob = build_problem(val, per_battle=False)
        self._names = val.names.tolist()
        _check_graph(self._prob, self._names, self.reg)
        n, p = val.names.shape[0], val.covariates.shape[0]
        full = newton(
            self._prob, self._prob.row_w, np.zeros(n + p), reg=self.reg, davidson=False,
            tol=tol, max_iter=max_iter,
        )  # fmt: skip
        assert full.hessian is not None  # a cold fit certifies with a fresh Hessian
        self.v = full.v
        self._chord = factorize(full.hessian, n, self.reg)

    @property
    def n_items(self) -> int:
        return int(self.names.shape[0])

    def fit(self, weights: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """Optimum ``[theta, beta]`` with battle ``k`` weighted ``weights[k]``.

        Raises
        ------
        DisconnectedGraphError
            ``reg == 0`` and the battles left with weight do not connect every item.
        NotConvergedError
            As for :func:`ratings.fit_leaderboard`.
        """
        rw = self._prob.row_weights(np.asarray(weights, dtype=np.float64))
        if self.reg == 0:  # with a penalty every optimum exists and is unique
            _check_graph(replace(self._prob, row_w=rw), self._names, self.reg)
        v0 = self.v if start is None else start
        return newton(
            self._prob, rw, v0, reg=self.reg, davidson=False, tol=self.tol,
            max_iter=self.max_iter, chord=self._chord,
        ).v  # fmt: skip

    def win_probability(self, v: np.ndarray) -> np.ndarray:
        """Fitted probability that side A wins each battle (a tie counting half) at ``v``."""
        n = self.n_items
        eta = v[self.item_a] - v[self.item_b] + v[n:] @ self.covariates
        return np.asarray(expit(eta))

    def hessian(self, v: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Penalised Hessian of the weighted loss over ``[theta, beta]`` at ``v``."""
        rw = self._prob.row_weights(np.asarray(weights, dtype=np.float64))
        return _Objective(self._prob, v, rw, self.reg, False, need_loss=False).hessian()


__all__ = ["Refit"]
