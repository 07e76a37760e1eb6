"""Streamed fits: a Parquet battle file read one batch at a time, in bounded memory.

The fit needs only sums over battles, so no pass ever holds more than one batch:

* A first pass validates every batch and sums battle weights per (contender a, contender b,
  outcome) cell. Plain Bradley-Terry needs nothing else: the cells give exactly the aggregated
  problem of :func:`ratings.fit_leaderboard` (bootstrap on cells included), whatever N is.
* With style covariates each Newton iteration is one pass: every batch adds its loss,
  gradient and Hessian (and, near the optimum, the sandwich meat) to running sums of size
  O(pairs + contenders * features). Sums commute, so batch order changes only rounding.

Memory is one decoded batch (about 200 bytes per battle of ``chunk_rows``) plus those sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import linalg

from .api import _assemble, _check_graph, _solve, _vote_counts
from .bootstrap import ProgressFn
from .chunks import SIDE, Batch, Cells, Reader, keep_mask, plain_problem
from .data import _validate, check_anchor
from .errors import InputError, NotConvergedError
from .features import expand_control
from .intervals import _pseudo_inverse
from .problem import HALF_SCORE, TIE, Problem
from .result import LeaderboardResult
from .solver import NewtonResult, _singular, factorize, gradient, row_terms


class _Accumulator:
    """Penalised loss, gradient, Hessian (and sandwich meat) of one pass, summed by batch."""

    def __init__(self, n: int, p: int, q: int, cells: Problem, meat: bool, ranges: bool) -> None:
        self.n, self.p, self.q, self.meat, self.ranges = n, p, q, meat, ranges
        self.pair_i, self.pair_j = cells.pair_i, cells.pair_j
        self.keys = cells.pair_i * n + cells.pair_j  # sorted, as build_problem orders pairs
        self.k = n_pairs = self.keys.shape[0]
        self.lut = None  # pair index by key: a gather instead of a binary search, if small
        if n * n <= 1 << 24:
            self.lut = np.zeros(n * n, dtype=np.int64)
            self.lut[self.keys] = np.arange(n_pairs)
        dim = n + p + q
        self.loss, self.g = 0.0, np.zeros(dim)
        self.hp = np.zeros((2, n_pairs))  # pair sums of d2 (Hessian) and d1^2 (meat)
        self.hx = np.zeros((2, p + q, n_pairs))  # of x*d2 and dk-cross terms, per pair
        self.tail = np.zeros((2, p + q, p + q))
        self.lo = np.full(p, np.inf)
        self.hi = np.full(p, -np.inf)

    def add(self, prob: Problem, v: np.ndarray, davidson: bool) -> None:
        d = row_terms(prob, v, prob.row_w, davidson)
        assert d.loss is not None
        self.loss += d.loss
        self.g += gradient(prob, d)
        key = prob.pair_i * self.n + prob.pair_j
        pk = np.searchsorted(self.keys, key) if self.lut is None else self.lut[key]
        xt = prob.xt
        if self.p and self.ranges:  # for the constant-feature check (first pass only)
            self.lo = np.minimum(self.lo, xt.min(axis=1))
            self.hi = np.maximum(self.hi, xt.max(axis=1))
        terms = [(d.second(), d.dek, d.dkk)]
        if self.meat:  # per battle, row_w2 = w^2: meat terms are products of weighted scores
            terms.append((d.d1 * d.d1, None if d.dk is None else d.d1 * d.dk,
                          None if d.dk is None else d.dk * d.dk))  # fmt: skip
        for s, (d2, dek, dkk) in enumerate(terms):
            self.hp[s] += np.bincount(pk, d2, minlength=self.k)
            for c in range(self.p):
                self.hx[s, c] += np.bincount(pk, xt[c] * d2, minlength=self.k)
            self.tail[s, : self.p, : self.p] += (xt * d2) @ xt.T
            if dek is not None and dkk is not None:
                self.hx[s, self.p] += np.bincount(pk, dek, minlength=self.k)
                self.tail[s, : self.p, self.p] += xt @ dek
                self.tail[s, self.p, self.p] += dkk.sum()

    def matrix(self, s: int) -> np.ndarray:
        """Hessian (s=0) or meat (s=1) over ``[theta, beta, kappa]`` from the pair sums."""
        n, e, pair_i, pair_j = self.n, self.p + self.q, self.pair_i, self.pair_j
        h = np.zeros((n + e, n + e))
        hp = self.hp[s]
        h[np.arange(n), np.arange(n)] = np.bincount(pair_i, hp, minlength=n) + np.bincount(
            pair_j, hp, minlength=n
        )
        h[pair_i, pair_j] = -hp
        h[pair_j, pair_i] = -hp
        for c in range(e):
            col = np.bincount(pair_i, self.hx[s, c], minlength=n) - np.bincount(
                pair_j, self.hx[s, c], minlength=n
            )
            h[:n, n + c] = h[n + c, :n] = col
        tail = self.tail[s]  # upper triangle accumulated
        h[n:, n:] = np.triu(tail) + np.triu(tail, 1).T
        return h


def _newton(
    passes: Any, dim: int, n: int, *, reg: float, tol: float, max_iter: int, want_meat: bool
) -> tuple[NewtonResult, _Accumulator]:
    """Damped Newton as :func:`ratings.solver.newton`, one pass over the file per point.

    Each pass gives loss, gradient and Hessian together, so a backtracking trial that is
    accepted is already the next iterate. The sandwich meat is summed once steps are small
    (the next point is then almost surely the last); one more pass adds it if it was not.
    """
    v = np.zeros(dim)
    acc, loss, g = passes(v, False)
    size = np.inf
    for it in range(max_iter + 1):
        m = acc.n + acc.p  # theta and beta carry the penalty, kappa does not
        h = acc.matrix(0)
        h[np.arange(m), np.arange(m)] += reg
        try:
            factor = factorize(h, n, reg)
        except (linalg.LinAlgError, ValueError) as exc:
            raise _singular(it, g, exc) from None
        step = -linalg.cho_solve(factor, g)
        size = float(np.max(np.abs(step)))
        if not np.isfinite(size):
            raise _singular(it, g, ValueError("non-finite step"))
        if size < tol:
            if want_meat and not acc.meat:
                acc, loss, g = passes(v, True)
            return NewtonResult(v, h, it, float(np.max(np.abs(g))), size, loss), acc
        if it == max_iter:
            break
        near = want_meat and size < 1e-4
        if size <= 0.1:
            v = v + step
            acc, loss, g = passes(v, near)
            continue
        slope, t = float(g @ step), 1.0
        for _ in range(60):
            cand = passes(v + t * step, near)
            if cand[1] <= loss + 1e-4 * t * slope or cand[1] - loss <= 1e-13 * abs(loss):
                break
            t *= 0.5
        v = v + t * step
        acc, loss, g = cand
    raise NotConvergedError(
        f"Newton did not converge in {max_iter} iterations (last step {size:.3g}); use reg > 0",
        max_iter,
        float(np.max(np.abs(g))),
    )


def fit_parquet(
    path: str | Path,
    *,
    control: Sequence[str] | str = (),
    control_columns: Sequence[str] | str = (),
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
    chunk_rows: int = 1 << 20,
) -> LeaderboardResult:
    """:func:`ratings.fit_file` for a Parquet file of any size, read ``chunk_rows`` at a time.

    The same options and result as the in-memory fit, within rounding (the same floats for
    plain Bradley-Terry with unit weights), except: features come from ``<name>_a/_b``
    columns only, there is no voter clustering and no ``where`` filter, and the bootstrap
    needs plain Bradley-Terry with unit weights (style control: ``ci='sandwich'``).
    """
    feats = expand_control(control)
    feats += tuple(c for c in expand_control(control_columns) if c not in feats)
    # Option checks live in one place: validate them on a one-battle stand-in (whose two
    # contenders have one vote each, so a valid min_votes is checked as 1).
    stand_in_votes = 1 if isinstance(min_votes, int) and min_votes >= 1 else min_votes
    _validate(["a"], ["b"], ["model_a"], features=None, control=(), weights=None, voter=None,
              ties=ties, both_bad=both_bad, reg=reg, ci=ci, n_bootstrap=n_bootstrap,
              bootstrap_weights=bootstrap_weights, anchor=None, min_votes=stand_in_votes,
              )  # fmt: skip
    if ci == "bootstrap" and feats:
        raise InputError(
            "a chunked fit with style control gives ci='sandwich' or 'none' (a bootstrap "
            "would need every battle in memory)"
        )
    if not (isinstance(chunk_rows, int) and chunk_rows > 0):
        raise InputError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    reader = Reader(Path(path), feats, chunk_rows)
    cells = Cells(*(np.zeros(0, t) for t in (np.int64, float, float, float)))
    n_input, ones = 0, True
    for _, bt in reader.batches():
        keep = keep_mask(bt, ties, both_bad)
        key = (bt.a[keep] << 22) | (bt.b[keep] << 2) | bt.code[keep].astype(np.int64)
        cells.add(key, None if bt.w is None else bt.w[keep])
        n_input += bt.a.shape[0]
        ones = ones and (bt.w is None or bool(np.all(bt.w == 1.0)))
    if n_input == 0:
        raise InputError("no battles given")
    ca, cb, co = cells.key >> 22, (cells.key >> 2) & (SIDE - 1), cells.key & 3
    n_ids = len(reader.ids)
    alive = np.ones(n_ids, dtype=bool)
    while min_votes > 0:  # the same repeated dropping as validation, on cell counts
        ok = alive[ca] & alive[cb]
        votes = np.bincount(ca, cells.count * ok, n_ids) + np.bincount(cb, cells.count * ok, n_ids)
        low = (votes < min_votes) & (votes > 0)
        if not low.any():
            break
        alive &= ~low
    ok = alive[ca] & alive[cb]
    if not ok.any():
        raise InputError("no battles left after applying min_votes, weights and tie options")
    used = np.zeros(n_ids, dtype=bool)
    used[ca[ok]] = used[cb[ok]] = True
    id_names = np.array(list(reader.ids), dtype=object)
    order = sorted(np.flatnonzero(used).tolist(), key=lambda i: id_names[i])
    final = np.full(n_ids, -1, dtype=np.int64)
    final[order] = np.arange(len(order))
    names = [str(id_names[i]) for i in order]
    check_anchor(anchor, names)
    a, b, code = final[ca[ok]], final[cb[ok]], co[ok]
    kept = Cells(cells.key[ok], cells.count[ok], cells.w[ok], cells.w2[ok])
    n, n_battles, unit = len(names), int(kept.count.sum()), ones
    if unit:  # all-ones weights are no weights, as in validation
        kept.w = kept.w2 = kept.count
    plain = plain_problem(a, b, code, kept, n, n_battles, unit)
    votes = np.bincount(a, kept.count, n) + np.bincount(b, kept.count, n)
    counts = (votes.astype(np.int64), *_vote_counts(a, b, code, kept.w, n)[1:])
    opts = dict(
        ties=ties, both_bad=both_bad, reg=reg, ci=ci, n_bootstrap=n_bootstrap,
        bootstrap_weights=bootstrap_weights, seed=seed, anchor=anchor, min_votes=min_votes,
        offset=offset, tol=tol,
    )  # fmt: skip
    done: dict[str, Any] = dict(n_battles=n_battles, weighted=not unit, cluster=False, opts=opts)
    if not feats:
        if ci == "bootstrap" and not unit:
            raise InputError(
                "a chunked bootstrap needs unit weights (a weight column makes every battle "
                "its own resampling unit): use ci='sandwich' or the in-memory fit"
            )
        fit, comps, draws, step, cov_v = _solve(
            plain, names, opts, max_iter=max_iter, n_threads=n_threads, progress=progress
        )
        return _assemble(names, feats, fit, comps, draws, step, cov_v, counts, **done)
    comps = _check_graph(plain, names, reg, plain=False)
    davidson, p = ties == "davidson", len(feats)
    q = int(davidson)

    def one_pass(v: np.ndarray, meat: bool) -> tuple[_Accumulator, float, np.ndarray]:
        acc = _Accumulator(n, p, q, plain, meat, ranges=not v.any())
        for _, bt in reader.batches():
            keep = keep_mask(bt, ties, both_bad) & alive[bt.a] & alive[bt.b]
            acc.add(_oriented(bt, keep, final, n, unit), v, davidson)
            del bt
        for c in np.flatnonzero(acc.lo == acc.hi):
            raise InputError(
                f"control feature {feats[c]!r} is constant across the battles used "
                "(its coefficient is not identified); remove it from control"
            )
        g = acc.g.copy()
        g[: n + p] += reg * v[: n + p]
        return acc, acc.loss + 0.5 * reg * float(v[: n + p] @ v[: n + p]), g

    fit, acc = _newton(
        one_pass, n + p + q, n, reg=reg, tol=tol, max_iter=max_iter, want_meat=ci == "sandwich"
    )
    cov_v = None
    if ci == "sandwich":
        assert fit.hessian is not None
        bread = _pseudo_inverse(fit.hessian, n, reg)
        cov_v = bread @ acc.matrix(1) @ bread
    return _assemble(names, feats, fit, comps, None, 0.0, cov_v, counts, **done)


def _oriented(bt: Batch, keep: np.ndarray, final: np.ndarray, n: int, unit: bool) -> Problem:
    """One row per kept battle, oriented as ``build_problem`` does (lower item first)."""
    a, b, code = final[bt.a[keep]], final[bt.b[keep]], bt.code[keep]
    flip = a > b
    out = np.minimum(code, TIE).astype(np.int8)
    decided = out < TIE
    out[decided & flip] = 1 - out[decided & flip]
    x = bt.x[:, keep]
    x *= np.where(flip, -1.0, 1.0)
    w = np.ones(a.shape[0]) if unit or bt.w is None else bt.w[keep]
    m = a.shape[0]
    return Problem(
        n_items=n,
        pair_i=np.where(flip, b, a),
        pair_j=np.where(flip, a, b),
        row_pair=np.arange(m),  # every battle its own "pair": the solver's sums stay per row
        row_out=out,
        row_y=HALF_SCORE[out],
        row_w=w,
        row_w2=w * w,
        xt=x,
        battle_row=np.arange(m),
        battle_w=w,
        unit_weights=unit,
        aggregated=False,
        voter=None,
    )
