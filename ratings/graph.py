"""Comparison-graph checks: connectivity (identifiability) and existence of the optimum."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .problem import LOSS, TIE, WIN, Problem


def components(prob: Problem, row_w: np.ndarray) -> list[np.ndarray]:
    """Item indices of each weakly connected component (positive weight), largest first."""
    pw = np.bincount(prob.row_pair, row_w, minlength=prob.n_pairs) > 0
    n = prob.n_items
    adj = coo_matrix((np.ones(int(pw.sum())), (prob.pair_i[pw], prob.pair_j[pw])), shape=(n, n))
    count, labels = connected_components(adj, directed=False)
    groups = [np.flatnonzero(labels == c) for c in range(count)]
    return sorted(groups, key=lambda g: (-g.size, int(g[0])))


def strongly_connected(prob: Problem, row_w: np.ndarray) -> bool:
    """Whether the "scored against" digraph is strongly connected (Ford/Zermelo condition).

    Edge i -> j when i took a win or a tie from j. Without style covariates and without a
    penalty, the maximum-likelihood ratings exist (are finite) exactly when this holds.
    """
    n = prob.n_items
    out = prob.row_out
    pos = row_w > 0
    fwd = pos & ((out == WIN) | (out == TIE))
    bwd = pos & ((out == LOSS) | (out == TIE))
    src = np.concatenate([prob.pair_i[prob.row_pair[fwd]], prob.pair_j[prob.row_pair[bwd]]])
    dst = np.concatenate([prob.pair_j[prob.row_pair[fwd]], prob.pair_i[prob.row_pair[bwd]]])
    adj = coo_matrix((np.ones(src.shape[0]), (src, dst)), shape=(n, n))
    return connected_components(adj, directed=True, connection="strong")[0] == 1


def direction_weights(prob: Problem, row_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether item i took a win or tie (first) and a loss or tie (second)."""
    k = prob.n_pairs
    up = (prob.row_out != LOSS) * row_w
    down = (prob.row_out != WIN) * row_w
    return (
        np.bincount(prob.row_pair, up, minlength=k) > 0,
        np.bincount(prob.row_pair, down, minlength=k) > 0,
    )
