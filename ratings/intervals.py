"""Sandwich covariance of the fitted parameters (internal).

``cov = H+ M H+`` with ``H`` the penalised Hessian and ``M`` the sum over independent units of
outer products of per-unit scores. Units are battles, or voters when voter ids are given
(cluster-robust, with the usual ``C / (C - 1)`` small-sample factor). With ``reg == 0`` the
ratings are identified only up to a shift; ``H+`` is then the pseudo-inverse on the sum-to-zero
subspace, ``(H + u u^T)^-1 - u u^T`` for the unit shift direction ``u``. Under the ``half`` tie
convention the loss is a quasi-likelihood, which is why the robust form (not ``H^-1``) is used.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .problem import Problem
from .solver import Derivs, row_terms
from .solver import hessian as hessian_of


def _pseudo_inverse(h: np.ndarray, n: int, reg: float) -> np.ndarray:
    if reg > 0:
        return linalg.inv(h)
    u = np.zeros(h.shape[0])
    u[:n] = 1.0 / np.sqrt(n)
    return linalg.inv(h + np.outer(u, u)) - np.outer(u, u)


def _cluster_meat(prob: Problem, unit: Derivs, w: np.ndarray) -> np.ndarray:
    n, p = prob.n_items, prob.n_features
    codes = prob.voter
    assert codes is not None
    n_clusters = int(codes.max()) + 1
    s1 = w * unit.d1
    i = prob.pair_i[prob.row_pair]
    j = prob.pair_j[prob.row_pair]
    cols = [
        (
            np.bincount(codes * n + i, s1, minlength=n_clusters * n)
            - np.bincount(codes * n + j, s1, minlength=n_clusters * n)
        ).reshape(n_clusters, n)
    ]
    cols += [np.bincount(codes, s1 * prob.xt[c], minlength=n_clusters)[:, None] for c in range(p)]
    if unit.dk is not None:
        cols.append(np.bincount(codes, w * unit.dk, minlength=n_clusters)[:, None])
    scores = np.hstack(cols)
    factor = n_clusters / (n_clusters - 1) if n_clusters > 1 else 1.0
    return factor * (scores.T @ scores)


def sandwich_covariance(
    prob: Problem, v: np.ndarray, hessian: np.ndarray, *, reg: float, davidson: bool
) -> np.ndarray:
    """Robust covariance of ``v`` (natural units), cluster-robust when ``prob.voter`` is set."""
    unit = row_terms(prob, v, np.ones(prob.row_w.shape[0]), davidson)
    if prob.voter is not None:
        meat = _cluster_meat(prob, unit, prob.row_w)
    else:
        w2 = prob.row_w2
        zeros = np.zeros_like(w2)
        meat_terms = Derivs(
            0.0,
            d1=zeros,
            d2=w2 * unit.d1 * unit.d1,
            dk=None if unit.dk is None else zeros,
            dkk=None if unit.dk is None else w2 * unit.dk * unit.dk,
            dek=None if unit.dk is None else w2 * unit.d1 * unit.dk,
        )
        meat = hessian_of(prob, meat_terms)
    bread = _pseudo_inverse(hessian, prob.n_items, reg)
    return bread @ meat @ bread
