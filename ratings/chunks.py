"""Reading a Parquet battle file in validated batches for :mod:`ratings.stream` (internal).

Contender ids are assigned in order of first appearance and shared by every pass; each batch
is checked like :func:`ratings.fit_leaderboard`'s input, with errors naming the file row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import _numeric, _outcome_codes
from .errors import InputError
from .features import transform
from .io import _coded, _numpy
from .problem import HALF_SCORE, TIE, Problem

SIDE = 1 << 20  # contenders per file at most (cell keys pack two ids and an outcome)


def _shifted(exc: InputError, offset: int) -> InputError:
    """The same error with its batch-local row number made a file row number."""
    return InputError(re.sub(r"^row (\d+)", lambda m: f"row {int(m[1]) + offset}", str(exc)))


@dataclass
class Batch:
    a: np.ndarray  # contender ids in order of first appearance in the file
    b: np.ndarray
    code: np.ndarray  # outcome codes 0..3 (data.OUTCOME_CODES)
    w: np.ndarray | None
    x: np.ndarray  # (p, m) covariates, a minus b


class Reader:
    """Validated batches of a Parquet file; contender ids are shared by all batches."""

    def __init__(self, path: Path, features: tuple[str, ...], chunk_rows: int) -> None:
        import pyarrow.parquet as pq  # lazy: only Parquet input needs pyarrow

        if not path.is_file():
            raise InputError(f"{path}: no such file")
        schema = pq.read_schema(path)
        have = schema.names
        for key in ("model_a", "model_b", "winner"):
            if key not in have:
                raise InputError(f"{path}: missing column '{key}' (have: {', '.join(have)})")
        for name in features:
            for side in "ab":
                if f"{name}_{side}" not in have:
                    raise InputError(
                        f"missing column '{name}_{side}' (needed for feature {name!r}; a "
                        "chunked fit reads features from <name>_a/<name>_b columns only)"
                    )
        self.weighted = "weight" in have
        self.columns = ["model_a", "model_b", "winner"] + (["weight"] if self.weighted else [])
        self.columns += [f"{f}_{s}" for f in features for s in "ab"]
        self.file = pq.ParquetFile(path, read_dictionary=["model_a", "model_b", "winner"])
        self.features, self.chunk_rows = features, chunk_rows
        self.ids: dict[str, int] = {}

    def batches(self) -> Iterator[tuple[int, Batch]]:
        offset = 0
        for rb in self.file.iter_batches(batch_size=self.chunk_rows, columns=self.columns):
            try:
                batch = self._decode(rb)
            except InputError as exc:
                raise _shifted(exc, offset) from None
            m = rb.num_rows
            del rb  # hold one decoded batch at a time, never the raw one beside the next
            yield offset, batch
            offset += m

    def _labels(self, col: Any, what: str) -> np.ndarray:
        if col.null_count:
            row = int(np.flatnonzero(np.asarray(col.is_null()))[0])
            raise InputError(f"row {row}: {what} must be a non-empty string, got None")
        from pyarrow import chunked_array

        if not str(col.type).startswith("dictionary"):  # not a string column (read_dictionary)
            raise InputError(f"row 0: {what} must be a non-empty string, got {col[0].as_py()!r}")
        coded = _coded(chunked_array([col]))
        table = coded.table.tolist()
        for k, t in enumerate(table):
            if not isinstance(t, str) or not t:
                if (coded.codes == k).any():
                    row = int(np.flatnonzero(coded.codes == k)[0])
                    raise InputError(f"row {row}: {what} must be a non-empty string, got {t!r}")
        ids = self.ids
        if len(ids) + len(table) > SIDE:
            raise InputError(f"more than {SIDE} contenders")
        lut = np.array([ids.setdefault(t, len(ids)) for t in table], dtype=np.int64)
        return lut[coded.codes]

    def _decode(self, rb: Any) -> Batch:
        from pyarrow import chunked_array

        m = rb.num_rows
        a = self._labels(rb.column(0), "model_a")
        b = self._labels(rb.column(1), "model_b")
        same = np.flatnonzero(a == b)
        if same.size:
            row = int(same[0])
            name = rb.column(0)[row].as_py()
            raise InputError(f"row {row}: model_a and model_b are the same contender {name!r}")
        # Codes of the dictionary, not one Python object per battle (to_pylist on a
        # dictionary column costs microseconds per value).
        winner = rb.column(2)
        if winner.null_count:
            code = _outcome_codes(np.asarray(winner.to_pylist(), dtype=object))
        else:
            code = _outcome_codes(_coded(chunked_array([winner])))
        k = 3
        w = None
        if self.weighted:
            w = _numeric(self._column(rb.column(k), _numpy), "weight", m)
            k += 1
        x = np.empty((len(self.features), m))
        for c, name in enumerate(self.features):
            fa = _numeric(self._column(rb.column(k), _numpy), f"feature column '{name}_a'", m)
            fb = _numeric(self._column(rb.column(k + 1), _numpy), f"feature column '{name}_b'", m)
            x[c] = transform(fa, fb)
            k += 2
        return Batch(a, b, code, w, x)

    @staticmethod
    def _column(col: Any, to_numpy: Any) -> Any:
        kind = str(col.type)
        if kind.startswith(("double", "float", "int", "uint")) and col.null_count == 0:
            return to_numpy(col)
        return np.asarray(col.to_pylist(), dtype=object)


def keep_mask(batch: Batch, ties: str, both_bad: str) -> np.ndarray:
    """The same outcome and weight filters as validation."""
    keep = np.ones(batch.code.shape[0], dtype=bool)
    if both_bad == "drop":
        keep &= batch.code != 3
    if ties == "drop":
        keep &= batch.code < 2
    if batch.w is not None:
        keep &= batch.w > 0
    return keep


@dataclass
class Cells:
    """Per (a, b, outcome) cell: battles, summed weight and squared weight (first pass)."""

    key: np.ndarray
    count: np.ndarray
    w: np.ndarray
    w2: np.ndarray

    def add(self, key: np.ndarray, w: np.ndarray | None) -> None:
        uniq, inv = np.unique(key, return_inverse=True)
        ww = np.ones(key.shape[0]) if w is None else w
        parts = (np.bincount(inv), np.bincount(inv, ww), np.bincount(inv, ww * ww))
        allk = np.concatenate([self.key, uniq])
        merged, inv2 = np.unique(allk, return_inverse=True)
        k = merged.shape[0]
        self.count = np.bincount(inv2, np.concatenate([self.count, parts[0]]), minlength=k)
        self.w = np.bincount(inv2, np.concatenate([self.w, parts[1]]), minlength=k)
        self.w2 = np.bincount(inv2, np.concatenate([self.w2, parts[2]]), minlength=k)
        self.key = merged


def plain_problem(a: np.ndarray, b: np.ndarray, code: np.ndarray, cells: Cells, n: int,
                   n_battles: int, unit: bool) -> Problem:  # fmt: skip
    """The aggregated problem of ``build_problem`` from cells in final contender codes."""
    flip = a > b
    lo, hi = np.where(flip, b, a), np.where(flip, a, b)
    out = np.minimum(code, TIE)
    out = np.where((out < TIE) & flip, 1 - out, out)
    pair_key = lo * n + hi
    pairs = np.unique(pair_key)
    rows, inv = np.unique(np.searchsorted(pairs, pair_key) * 3 + out, return_inverse=True)
    r = rows.shape[0]
    row_out = (rows % 3).astype(np.int8)
    return Problem(
        n_items=n,
        pair_i=pairs // n,
        pair_j=pairs % n,
        row_pair=rows // 3,
        row_out=row_out,
        row_y=HALF_SCORE[row_out],
        row_w=np.bincount(inv, cells.w, minlength=r),
        row_w2=np.bincount(inv, cells.w2, minlength=r),
        xt=np.empty((0, r)),
        # Per-battle arrays are never materialised: with unit weights the bootstrap draws on
        # cells and reads only N from battle_w (a zero-stride view); with other weights the
        # streamed fit refuses the bootstrap, which would need each battle's weight.
        battle_row=np.zeros(0, dtype=np.int64),
        battle_w=np.broadcast_to(np.float64(1.0), (n_battles,)),
        unit_weights=unit,
        aggregated=True,
        voter=None,
    )
