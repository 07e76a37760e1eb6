"""Validation of fit inputs (the single place where user input is checked)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError
from .features import expand_control, transform

#: Outcome labels accepted on input and their codes (``tie (bothbad)`` is FastChat's spelling).
OUTCOME_CODES: dict[str, int] = {
    "model_a": 0,
    "model_b": 1,
    "tie": 2,
    "both_bad": 3,
    "tie (bothbad)": 3,
}
TIE_MODELS = ("half", "davidson", "drop")
BOTH_BAD_MODES = ("tie", "drop")
CI_METHODS = ("bootstrap", "sandwich", "none")
BOOTSTRAP_SCHEMES = ("multinomial", "poisson")


@dataclass(frozen=True, eq=False)
class Validated:
    """Checked, integer-coded battles and options (internal)."""

    names: np.ndarray  # contender names, sorted
    item_a: np.ndarray  # int64 index into names
    item_b: np.ndarray
    outcome: np.ndarray  # int8, OUTCOME_CODES values
    weights: np.ndarray | None  # float64 >= 0, None for unit weights
    voter: np.ndarray | None  # int64 cluster codes
    feature_names: tuple[str, ...]
    covariates: np.ndarray  # (p, n_battles) transformed style covariates, A minus B
    n_input: int  # battles before min_votes filtering


@dataclass(frozen=True, eq=False)
class CodedLabels:
    """Labels given as integer codes into a small table (a Parquet dictionary column).

    Validation reads the codes instead of hashing one Python string per battle; anything
    else sees the decoded object array (``np.asarray``), so results are the same either way.
    """

    codes: np.ndarray  # (N,) integer index into ``table``
    table: np.ndarray  # object array of labels

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.table[self.codes]
        return out if dtype is None else out.astype(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.codes.shape)

    @property
    def ndim(self) -> int:
        return int(self.codes.ndim)

    def __getitem__(self, index: Any) -> Any:
        """A label for an integer index, coded labels for a slice, mask or index array."""
        if isinstance(index, int | np.integer):
            return self.table[self.codes[index]]
        return CodedLabels(self.codes[index], self.table)


def _first_row(codes: np.ndarray, bad_entries: np.ndarray) -> int:
    return int(np.flatnonzero(bad_entries[codes])[0])


def _as_1d(values: Any, what: str, n: int | None) -> Any:
    # Coded labels stay coded (decoding would cost one object per battle for nothing).
    arr = values if isinstance(values, CodedLabels) else np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise InputError(f"{what} has {arr.shape[0]} entries, expected {n} (one per battle)")
    return arr


def _numeric(values: Any, what: str, n: int) -> np.ndarray:
    arr = _as_1d(values, what, n)
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError):
        for row, v in enumerate(arr):
            try:
                float(v)
            except (TypeError, ValueError):
                raise InputError(f"row {row}: {what} is not a number: {v!r}") from None
        raise
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"row {row}: {what} must be finite and >= 0, got {arr[row]!r}")
    return out


def _factorize(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted contender names and integer codes of both sides (hashing, no string sort)."""
    if isinstance(a, CodedLabels) and isinstance(b, CodedLabels):
        return _factorize_coded(a, b)
    both = np.concatenate([a, b])
    try:
        keys = sorted(set(both.tolist()))
        bad = [k for k in keys if not isinstance(k, str) or not k]
    except TypeError:  # unhashable or unorderable names
        bad = [None]
    if bad:
        values = both.tolist()
        ok = np.array([isinstance(x, str) and bool(x) for x in values], dtype=bool)
        pos = int(np.flatnonzero(~ok)[0])
        what = "model_a" if pos < a.shape[0] else "model_b"
        raise InputError(
            f"row {pos % a.shape[0]}: {what} must be a non-empty string, got {values[pos]!r}"
        )
    index = {k: i for i, k in enumerate(keys)}
    codes = np.fromiter(map(index.__getitem__, both.tolist()), np.int64, both.shape[0])
    names = np.array([str(k) for k in keys], dtype=object)
    return names, codes[: a.shape[0]], codes[a.shape[0] :]


def _factorize_coded(
    a: CodedLabels, b: CodedLabels
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_factorize` on table codes: the same names and codes, one lookup per label."""
    used = [np.bincount(x.codes, minlength=x.table.shape[0]) > 0 for x in (a, b)]
    for x, u, what in ((a, used[0], "model_a"), (b, used[1], "model_b")):
        ok = np.array([isinstance(t, str) and bool(t) for t in x.table.tolist()], dtype=bool)
        if (u & ~ok).any():
            row = _first_row(x.codes, ~ok)
            raise InputError(
                f"row {row}: {what} must be a non-empty string, got {x.table[x.codes[row]]!r}"
            )
    keys = sorted(set(a.table[used[0]].tolist()) | set(b.table[used[1]].tolist()))
    index = {k: i for i, k in enumerate(keys)}
    codes = [
        np.array([index.get(t, -1) for t in x.table.tolist()], dtype=np.int64)[x.codes]
        for x in (a, b)
    ]
    return np.array(keys, dtype=object), codes[0], codes[1]


def _outcome_codes(w: Any) -> np.ndarray:
    if isinstance(w, CodedLabels):
        table = w.table.tolist()
        lut = np.array(
            [OUTCOME_CODES.get(x, -1) if isinstance(x, str) else -1 for x in table], np.int8
        )
        if (lut < 0).any():  # only labels some battle uses are an error
            w = np.asarray(w)
        else:
            return lut[w.codes]
    try:
        codes = np.fromiter(map(OUTCOME_CODES.get, w.tolist()), np.int8, w.shape[0])
    except TypeError:  # an unknown (None from .get) or unhashable label: find which
        codes = np.array([OUTCOME_CODES.get(x, -1) if isinstance(x, str) else -1 for x in w])
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise InputError(
            f"row {row}: unknown outcome {w[row]!r} in column 'winner' "
            f"(expected one of {', '.join(OUTCOME_CODES)})"
        )
    return codes.astype(np.int8)


def check_anchor(anchor: Any, contenders: list[str]) -> None:
    """Raise unless ``anchor`` is ``(name, finite value)`` with a rated contender's name."""
    if anchor is not None:
        if not (isinstance(anchor, tuple | list) and len(anchor) == 2):
            raise InputError(f"anchor must be (name, value), got {anchor!r}")
        if not isinstance(anchor[0], str) or anchor[0] not in set(contenders):
            raise InputError(f"anchor contender {anchor[0]!r} is not among the rated contenders")
        try:
            finite = math.isfinite(float(anchor[1]))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            raise InputError(f"anchor value must be a finite number, got {anchor[1]!r}")


def _validate(
    model_a: Sequence[str] | np.ndarray,
    model_b: Sequence[str] | np.ndarray,
    winner: Sequence[str] | np.ndarray,
    *,
    features: Mapping[str, tuple[Any, Any]] | None,
    control: Sequence[str] | str,
    weights: Any,
    voter: Any,
    ties: str,
    both_bad: str,
    reg: float,
    ci: str,
    n_bootstrap: int,
    bootstrap_weights: str,
    anchor: tuple[str, float] | None,
    min_votes: int,
) -> Validated:
    """Check every input and option once; raise :class:`InputError` naming row/column."""
    a = _as_1d(model_a, "model_a", None)
    n = a.shape[0]
    b = _as_1d(model_b, "model_b", n)
    w = _as_1d(winner, "winner", n)
    if n == 0:
        raise InputError("no battles given")
    contenders, item_a, item_b = _factorize(a, b)
    same = np.flatnonzero(item_a == item_b)
    if same.size:
        row = int(same[0])
        raise InputError(f"row {row}: model_a and model_b are the same contender {a[row]!r}")
    codes = _outcome_codes(w)
    for what, value, allowed in (
        ("ties", ties, TIE_MODELS),
        ("both_bad", both_bad, BOTH_BAD_MODES),
        ("ci", ci, CI_METHODS),
        ("bootstrap_weights", bootstrap_weights, BOOTSTRAP_SCHEMES),
    ):
        if value not in allowed:
            raise InputError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    if not (isinstance(reg, int | float) and math.isfinite(reg) and reg >= 0):
        raise InputError(f"reg must be a finite number >= 0, got {reg!r}")
    if ci == "bootstrap" and (not isinstance(n_bootstrap, int) or n_bootstrap < 2):
        raise InputError(f"n_bootstrap must be an integer >= 2, got {n_bootstrap!r}")
    if not isinstance(min_votes, int) or min_votes < 0:
        raise InputError(f"min_votes must be an integer >= 0, got {min_votes!r}")

    wts = None if weights is None else _numeric(weights, "weight", n)
    if wts is not None and np.all(wts == 1.0):
        # All-ones weights are no weights: the same fit, bootstrap draws and output whether a
        # release file carries a constant ``weight`` column or the caller passes none.
        wts = None
    vot = None
    if voter is not None:
        ids: dict[str, int] = {}
        vot = np.fromiter(
            (ids.setdefault(str(x), len(ids)) for x in _as_1d(voter, "voter", n)), np.int64, n
        )

    names = tuple(expand_control(control))
    feats = dict(features or {})
    cov = np.empty((len(names), n))
    for k, name in enumerate(names):
        if name not in feats:
            have = ", ".join(sorted(feats)) or "none"
            raise InputError(f"control feature {name!r} has no values (features given: {have})")
        pair = feats[name]
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise InputError(f"features[{name!r}] must be a pair (values_a, values_b)")
        fa = _numeric(pair[0], f"feature column '{name}_a'", n)
        fb = _numeric(pair[1], f"feature column '{name}_b'", n)
        cov[k] = transform(fa, fb)
        del fa, fb

    # Drop contenders below min_votes until every remaining one has enough battles.
    keep = np.ones(n, dtype=bool)
    if both_bad == "drop":
        keep &= codes != 3
    if ties == "drop":
        keep &= codes < 2
    if wts is not None:
        keep &= wts > 0
    while min_votes > 0:
        counts = np.bincount(item_a[keep], minlength=contenders.shape[0]) + np.bincount(
            item_b[keep], minlength=contenders.shape[0]
        )
        low = (counts < min_votes) & (counts > 0)
        if not low.any():
            break
        keep &= ~(low[item_a] | low[item_b])
    if not keep.any():
        raise InputError("no battles left after applying min_votes, weights and tie options")

    if not keep.all():
        item_a, item_b, codes, cov = item_a[keep], item_b[keep], codes[keep], cov[:, keep]
    wts = None if wts is None else wts[keep]
    vot = None if vot is None else vot[keep]
    used = np.zeros(contenders.shape[0], dtype=bool)
    used[item_a] = used[item_b] = True
    if not used.all():  # contenders dropped by min_votes or by dropped outcomes
        remap = np.cumsum(used) - 1
        contenders, item_a, item_b = contenders[used], remap[item_a], remap[item_b]
    for k, name in enumerate(names):
        if np.all(cov[k] == cov[k, 0]):
            raise InputError(
                f"control feature {name!r} is constant across the battles used "
                "(its coefficient is not identified); remove it from control"
            )
    check_anchor(anchor, contenders.tolist())
    return Validated(
        names=contenders,
        item_a=item_a,
        item_b=item_b,
        outcome=codes,
        weights=wts,
        voter=vot,
        feature_names=names,
        covariates=cov,
        n_input=n,
    )
