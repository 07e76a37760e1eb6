"""Reading battle files (JSON list, JSONL, CSV, Parquet) in FastChat's ``clean_battle`` shape.

Columns: ``model_a``, ``model_b``, ``winner`` (required); optional ``weight`` (non-negative
float, applied exactly like ``weights=``), ``voter`` or ``judge`` (cluster id), flat numeric
``<feature>_a`` / ``<feature>_b`` pairs, ``conv_metadata`` (FastChat's token and markdown
counts), ``conversation_a``/``conversation_b`` (OpenAI message lists) or
``response_a``/``response_b`` (text). Parquet needs ``pyarrow``, imported only for ``.parquet``.
Numbers are parsed with Python's correctly rounded ``float``, so a value written with ``repr``
to CSV/JSON reads back as the same float64 it is in Parquet or in memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .data import CodedLabels
from .errors import InputError
from .features import FEATURE_NAMES, expand_control, extract_features

_REQUIRED = ("model_a", "model_b", "winner")
# FastChat conv_metadata keys for the built-in features (citations have none).
_META = {
    "length": "sum_assistant_{}_tokens",
    "markdown_header": "header_count_{}",
    "markdown_list": "list_count_{}",
    "markdown_bold": "bold_count_{}",
}


@dataclass(frozen=True, eq=False)
class Battles:
    """Parsed battles: required columns as arrays, everything else kept raw until asked for."""

    model_a: np.ndarray
    model_b: np.ndarray
    winner: np.ndarray
    weights: np.ndarray | None
    voter: np.ndarray | None
    columns: dict[str, Any] = field(default_factory=dict)
    #: String columns also as codes into their distinct values (Parquet dictionary pages):
    #: ``fit_file`` validates these without hashing one string per battle.
    coded: dict[str, CodedLabels] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.model_a.shape[0])

    def column_pair(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Numeric ``<name>_a`` / ``<name>_b`` columns as float64."""
        for side in "ab":
            if f"{name}_{side}" not in self.columns:
                raise InputError(f"missing column '{name}_{side}' (needed for feature {name!r})")
        return (
            _floats(self.columns[f"{name}_a"], f"{name}_a"),
            _floats(self.columns[f"{name}_b"], f"{name}_b"),
        )

    def features(self, names: Sequence[str], *, columns_only: bool = False) -> dict[str, Any]:
        """Raw per-side values of features, from columns, ``conv_metadata`` or answer texts."""
        out: dict[str, Any] = {}
        for name in names:
            if columns_only or f"{name}_a" in self.columns or name not in FEATURE_NAMES:
                out[name] = self.column_pair(name)
            elif name in _META and "conv_metadata" in self.columns:
                out[name] = self._from_metadata(name)
            else:
                out[name] = self._from_texts(name)
        return out

    def _from_metadata(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        sides = []
        for side in "ab":
            key = _META[name].format(side)
            vals = []
            for row, meta in enumerate(self.columns["conv_metadata"]):
                if not isinstance(meta, Mapping) or key not in meta:
                    raise InputError(f"row {row}: column 'conv_metadata' has no key {key!r}")
                val = meta[key]
                vals.append(float(sum(val.values()) if isinstance(val, Mapping) else val))
            sides.append(np.array(vals, dtype=np.float64))
        return sides[0], sides[1]

    def _from_texts(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        for prefix in ("conversation", "response"):
            if f"{prefix}_a" in self.columns and f"{prefix}_b" in self.columns:
                sides = []
                for side in "ab":
                    col = self.columns[f"{prefix}_{side}"]
                    vals = []
                    for row, answer in enumerate(col):
                        try:
                            vals.append(extract_features(answer)[name])
                        except TypeError as exc:
                            msg = f"row {row}: column '{prefix}_{side}': {exc}"
                            raise InputError(msg) from None
                    sides.append(np.array(vals, dtype=np.float64))
                return sides[0], sides[1]
        raise InputError(
            f"feature {name!r} needs columns '{name}_a'/'{name}_b', 'conv_metadata', "
            "'conversation_a'/'conversation_b' or 'response_a'/'response_b'"
        )


def _floats(col: Any, name: str) -> np.ndarray:
    if isinstance(col, np.ndarray) and col.dtype.kind in "fiu":
        return col.astype(np.float64)
    out = np.empty(len(col))
    for row, value in enumerate(col):
        try:
            if isinstance(value, bool) or value is None:
                raise ValueError
            out[row] = float(value)
        except (TypeError, ValueError):
            raise InputError(f"row {row}: column '{name}' is not a number: {value!r}") from None
    return out


def _records_to_columns(records: Any, path: Path) -> dict[str, Any]:
    if not isinstance(records, list):
        raise InputError(f"{path}: expected a JSON list of battle objects")
    keys: dict[str, None] = {}
    for row, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise InputError(f"row {row}: expected an object, got {type(rec).__name__}")
        keys.update(dict.fromkeys(rec))
    cols: dict[str, Any] = {}
    for key in keys:
        cols[key] = [rec.get(key) for rec in records]
    for key in _REQUIRED:
        if key in cols:
            for row, rec in enumerate(records):
                if key not in rec:
                    raise InputError(f"row {row}: missing column '{key}'")
    return cols


_ARROW_NUMPY = {"double": "float64", "float": "float32", "halffloat": "float16"}


def _numpy(col: Any) -> np.ndarray:
    """A null-free numeric pyarrow column as numpy, straight from its buffers.

    ``to_numpy`` would import pandas (about a second of start-up) for no benefit here.
    """
    kind = str(col.type)
    dtype = np.dtype(_ARROW_NUMPY.get(kind, kind))
    parts = [
        np.frombuffer(c.buffers()[1], dtype=dtype, count=len(c), offset=c.offset * dtype.itemsize)
        for c in getattr(col, "chunks", [col])
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _coded(col: Any) -> CodedLabels:
    """Codes of a dictionary-encoded pyarrow column, one table for all its chunks."""
    index: dict[Any, int] = {}
    parts = []
    for chunk in col.chunks:
        labels = chunk.dictionary.to_pylist()
        lut = np.array([index.setdefault(x, len(index)) for x in labels], dtype=np.int64)
        parts.append(lut[_numpy(chunk.indices)])
    table = np.empty(len(index), dtype=object)
    table[:] = list(index)
    return CodedLabels(np.concatenate(parts) if parts else np.zeros(0, np.int64), table)


def _read_parquet(
    path: Path, columns: Collection[str] | None
) -> tuple[dict[str, Any], dict[str, CodedLabels], list[str]]:
    # ParquetFile, not read_table: read_table goes through pyarrow.dataset, which imports
    # pandas (about a second of start-up). String columns are read as their dictionary pages
    # and decoded by one take per column, sharing one Python string per distinct value.
    import pyarrow as pa
    import pyarrow.parquet as pq  # lazy: only Parquet input needs pyarrow

    try:
        schema = pq.read_schema(path)
        read = [c for c in schema.names if columns is None or c in columns]
        strings = [f.name for f in schema if str(f.type) in ("string", "large_string")]
        table = pq.ParquetFile(path, read_dictionary=strings).read(columns=read)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    cols: dict[str, Any] = {}
    coded: dict[str, CodedLabels] = {}
    for name in table.column_names:
        col = table.column(name)
        kind = str(col.type)
        if col.null_count == 0 and name in strings:
            coded[name] = _coded(col)
            cols[name] = np.asarray(coded[name])
        elif kind.startswith(("double", "float", "int", "uint")) and col.null_count == 0:
            cols[name] = _numpy(col)
        else:
            cols[name] = col.to_pylist()
    return cols, coded, schema.names


def _parquet_columns(path: str | Path) -> set[str] | None:
    """The column names of a Parquet file (its footer only); None for other formats and for
    a file that cannot be read (:func:`load_battles` then says why)."""
    if Path(path).suffix.lower() != ".parquet":
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq  # lazy: only Parquet input needs pyarrow

    try:
        return set(pq.read_schema(path).names)
    except (OSError, pa.ArrowException):
        return None


def _read_columns(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames or []
        return {name: [r[name] for r in rows] for name in header}
    with path.open(encoding="utf-8") as fh:
        if suffix == ".jsonl":
            records = []
            for line_no, line in enumerate(fh):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{path}: line {line_no + 1} is not JSON: {exc}") from None
            return _records_to_columns(records, path)
        try:
            return _records_to_columns(json.load(fh), path)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON: {exc}") from None


def _matches(value: Any, wanted: str) -> bool:
    return str(value).strip().lower() == wanted.strip().lower()


def load_battles(
    path: str | Path,
    *,
    where: Mapping[str, str] | None = None,
    columns: Collection[str] | None = None,
    outcome_column: str | None = None,
) -> Battles:
    """Read a battle file; ``where`` keeps rows whose column equals a value (case-insensitive).

    ``columns``: read only these columns of a Parquet file (other formats are read whole).
    With ``outcome_column`` (soft outcomes: probability that A wins) the ``winner`` column is
    not required; ``Battles.winner`` is then all ``None`` if the file has none.

    Raises
    ------
    InputError
        Unreadable file, missing required column (named), or bad ``weight`` values (row named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    coded: dict[str, CodedLabels] = {}
    if path.suffix.lower() == ".parquet":
        cols, coded, have = _read_parquet(path, columns)
    else:
        cols = _read_columns(path)
        have = list(cols)
    if outcome_column is not None:
        if outcome_column not in cols:
            raise InputError(f"{path}: missing outcome column {outcome_column!r}")
        if "winner" not in cols:
            cols["winner"] = [None] * len(cols[outcome_column])
    for key in _REQUIRED:
        if key not in cols:
            raise InputError(f"{path}: missing column '{key}' (have: {', '.join(have) or 'none'})")
    if where:
        keep = np.ones(len(cols["model_a"]), dtype=bool)
        for key, wanted in where.items():
            if key not in cols:
                raise InputError(f"--filter: no column '{key}'")
            keep &= np.array([_matches(x, wanted) for x in cols[key]], dtype=bool)
        idx = np.flatnonzero(keep)
        cols = {
            k: (c[idx] if isinstance(c, np.ndarray) else [c[i] for i in idx])
            for k, c in cols.items()
        }
        coded = {k: c[idx] for k, c in coded.items()}
    voter_col = "voter" if "voter" in cols else "judge" if "judge" in cols else None
    return Battles(
        model_a=np.asarray(cols["model_a"], dtype=object),
        model_b=np.asarray(cols["model_b"], dtype=object),
        winner=np.asarray(cols["winner"], dtype=object),
        weights=_floats(cols["weight"], "weight") if "weight" in cols else None,
        voter=None if voter_col is None else np.asarray(cols[voter_col], dtype=object),
        columns=cols,
        coded=coded,
    )


def fit_file(
    path: str | Path,
    *,
    control: Sequence[str] | str = (),
    control_columns: Sequence[str] | str = (),
    where: Mapping[str, str] | None = None,
    cluster: bool = False,
    outcome_column: str | None = None,
    bootstrap_cluster: str | None = None,
    **options: Any,
) -> Any:
    """Load ``path`` and call :func:`ratings.fit_leaderboard` with the file's columns.

    ``control`` names built-in features (from columns, ``conv_metadata`` or texts);
    ``control_columns`` names arbitrary ``<name>_a``/``<name>_b`` numeric columns. The file's
    ``weight`` column is passed as ``weights``; its voter column only with ``cluster=True``.
    ``outcome_column`` names a column of soft outcomes (probability that A wins) used instead
    of ``winner``; ``bootstrap_cluster`` names a column whose values are resampled as units.
    """
    from .api import fit_leaderboard

    names = expand_control(control)
    extra = tuple(c for c in expand_control(control_columns) if c not in names)
    # Only what the fit uses: a release file's answer texts cost more to read than the fit.
    wanted = {
        *_REQUIRED,
        "weight",
        *(where or {}),
        *(f"{c}_{s}" for c in names + extra for s in "ab"),
    }
    if cluster:
        wanted |= {"voter", "judge"}
    wanted |= {c for c in (outcome_column, bootstrap_cluster) if c is not None}
    present = _parquet_columns(path) if names else None
    if names and (present is None or any(f"{c}_{s}" not in present for c in names for s in "ab")):
        # built-in features without their own columns come from metadata or answer texts
        wanted |= {
            "conv_metadata",
            *(f"{c}_{s}" for c in ("conversation", "response") for s in "ab"),
        }
    battles = load_battles(path, where=where, columns=wanted, outcome_column=outcome_column)
    soft = _soft_options(battles, outcome_column, bootstrap_cluster)
    feats = battles.features(names)
    feats.update(battles.features(extra, columns_only=True))
    labels: list[Any] = [battles.coded.get(k, getattr(battles, k)) for k in _REQUIRED]
    if outcome_column is not None:
        labels[2] = None  # soft outcomes replace the winner column
    weights, voter = battles.weights, battles.voter if cluster else None
    del battles  # the raw columns are dead weight during the fit (about 90 bytes a battle)
    return fit_leaderboard(
        labels[0],
        labels[1],
        labels[2],
        features=feats,
        control=names + extra,
        weights=weights,
        voter=voter,
        **soft,
        **options,
    )


def _soft_options(
    battles: Battles, outcome_column: str | None, bootstrap_cluster: str | None
) -> dict[str, Any]:
    """``outcome_prob`` / ``bootstrap_cluster`` arguments from named columns of a file."""
    out: dict[str, Any] = {}
    if outcome_column is not None:
        out["outcome_prob"] = _floats(battles.columns[outcome_column], outcome_column)
    if bootstrap_cluster is not None:
        if bootstrap_cluster not in battles.columns:
            raise InputError(f"--bootstrap-cluster: no column {bootstrap_cluster!r}")
        out["bootstrap_cluster"] = np.asarray(battles.columns[bootstrap_cluster], dtype=object)
    return out
