"""Comparison-graph checks: connectivity (identifiability) and existence of the optimum.

Plain numpy label propagation over the pair list, not scipy.sparse.csgraph: importing that
costs about 0.3 s of CPU, a sixth of a whole ``python -m ratings fit`` on a million battles,
while graphs here have at most a few thousand nodes.
"""

from __future__ import annotations

import numpy as np

from .problem import LOSS, TIE, WIN, Problem


def _min_labels(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Smallest node index of each node's (undirected) component."""
    labels = np.arange(n)
    while True:
        low = np.minimum(labels[src], labels[dst])
        new = labels.copy()
        np.minimum.at(new, src, low)
        np.minimum.at(new, dst, low)
        new = new[new]  # pointer jumping: follow labels to their own labels
        if np.array_equal(new, labels):
            return labels
        labels = new


def _reaches_all(n: int, src: np.ndarray, dst: np.ndarray) -> bool:
    """Whether every node is reachable from node 0 along directed edges ``src -> dst``."""
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    while True:
        new = seen.copy()
        new[dst[seen[src]]] = True
        if np.array_equal(new, seen):
            return bool(seen.all())
        seen = new


def components(prob: Problem, row_w: np.ndarray) -> list[np.ndarray]:
    """Item indices of each weakly connected component (positive weight), largest first."""
    pw = np.bincount(prob.row_pair, row_w, minlength=prob.n_pairs) > 0
    labels = _min_labels(prob.n_items, prob.pair_i[pw], prob.pair_j[pw])
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
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
    # One strong component: everything reachable from node 0, forwards and backwards.
    return _reaches_all(n, src, dst) and _reaches_all(n, dst, src)


def direction_weights(prob: Problem, row_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether item i took a win or tie (first) and a loss or tie (second)."""
    k = prob.n_pairs
    up = (prob.row_out != LOSS) * row_w
    down = (prob.row_out != WIN) * row_w
    return (
        np.bincount(prob.row_pair, up, minlength=k) > 0,
        np.bincount(prob.row_pair, down, minlength=k) > 0,
    )
