"""Graph checks (numpy label propagation) agree with scipy.sparse.csgraph on random graphs."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ratings.graph import components, strongly_connected
from ratings.problem import HALF_SCORE, Problem


def _problem(n: int, i: np.ndarray, j: np.ndarray, out: np.ndarray) -> Problem:
    k = i.shape[0]
    return Problem(
        n_items=n, pair_i=i, pair_j=j, row_pair=np.arange(k), row_out=out,
        row_y=HALF_SCORE[out], row_w=np.ones(k), row_w2=np.ones(k), xt=np.empty((0, k)),
        battle_row=np.arange(k), battle_w=np.ones(k), unit_weights=True, aggregated=True,
        voter=None,
    )  # fmt: skip


def test_components_and_strong_connectivity_match_scipy() -> None:
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(2, 25))
        keys = np.unique(rng.integers(0, n * n, int(rng.integers(0, 2 * n))))
        i, j = keys // n, keys % n
        keep = i < j
        i, j = i[keep], j[keep]
        out = rng.integers(0, 3, i.shape[0]).astype(np.int8)
        prob = _problem(n, i, j, out)
        adj = coo_matrix((np.ones(i.shape[0]), (i, j)), shape=(n, n))
        count, labels = connected_components(adj, directed=False)
        expected = sorted(
            (np.flatnonzero(labels == c) for c in range(count)),
            key=lambda g: (-g.size, int(g[0])),
        )
        got = components(prob, prob.row_w)
        assert [g.tolist() for g in got] == [g.tolist() for g in expected], trial
        src = np.concatenate([i[out != 1], j[out != 0]])
        dst = np.concatenate([j[out != 1], i[out != 0]])
        digraph = coo_matrix((np.ones(src.shape[0]), (src, dst)), shape=(n, n))
        strong = connected_components(digraph, directed=True, connection="strong")[0] == 1
        assert strongly_connected(prob, prob.row_w) == strong, trial


def test_fit_start_up_does_not_import_scipy_sparse() -> None:
    # scipy.sparse.csgraph cost ~0.3 CPU-s of every `python -m ratings fit`.
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, ratings.cli; print('scipy.sparse' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"
