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
#: Where style-controlled ratings are read off: at equal style (x = 0, the default) or at the
#: (weighted) mean transformed style difference of the fitted battles (LMArena / arena-hard).
STYLE_REFERENCES = ("equal", "mean")


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
    score: np.ndarray | None = None  # float64 in [0, 1]: soft outcome, probability A wins
    boot_cluster: np.ndarray | None = None  # int64 codes of bootstrap resampling clusters
    style_means: np.ndarray | None = None  # (p,) mean transformed style difference, A minus B
    n_self_battles: int = 0  # model-vs-itself rows dropped (drop_self_battles=True)


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
    winner: Sequence[str] | np.ndarray | None,
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
    outcome_prob: Any = None,
    drop_self_battles: bool = False,
    style_reference: str = "equal",
    bootstrap_cluster: Any = None,
) -> Validated:
    """Check every input and option once; raise :class:`InputError` naming row/column."""
    a = _as_1d(model_a, "model_a", None)
    n = a.shape[0]
    b = _as_1d(model_b, "model_b", n)
    if n == 0:
        raise InputError("no battles given")
    contenders, item_a, item_b = _factorize(a, b)
    not_self = item_a != item_b
    n_self = int(n - np.count_nonzero(not_self))
    if n_self and not drop_self_battles:
        row = int(np.flatnonzero(~not_self)[0])
        raise InputError(
            f"row {row}: model_a and model_b are the same contender {a[row]!r} "
            "(drop_self_battles=True / --drop-self-battles removes such rows)"
        )
    score, codes = _outcomes(winner, outcome_prob, n, ties)
    if style_reference not in STYLE_REFERENCES:
        raise InputError(
            f"style_reference must be one of {', '.join(STYLE_REFERENCES)}, got {style_reference!r}"
        )
    if bootstrap_cluster is not None and ci != "bootstrap":
        raise InputError("bootstrap_cluster needs ci='bootstrap'")
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
    vot = None if voter is None else _cluster_codes(voter, "voter", n)
    boot = None if bootstrap_cluster is None else _cluster_codes(bootstrap_cluster, "cluster", n)

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
    keep = not_self.copy()
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
    score = None if score is None else score[keep]
    if boot is not None:  # recode so that the clusters left are exactly 0..C-1
        boot = np.unique(boot[keep], return_inverse=True)[1].astype(np.int64)
    used = np.zeros(contenders.shape[0], dtype=bool)
    used[item_a] = used[item_b] = True
    if not used.all():  # contenders dropped by min_votes or by dropped outcomes
        remap = np.cumsum(used) - 1
        contenders, item_a, item_b = contenders[used], remap[item_a], remap[item_b]
    # Weighted mean of each transformed difference over the battles used; with
    # style_reference='mean' the covariates are centred on it, so ratings (and the win matrix)
    # are read off at the mean style difference, as LMArena's standardised features do.
    means = np.average(cov, axis=1, weights=wts) if names else np.zeros(0)
    if style_reference == "mean":
        cov = cov - means[:, None]
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
        score=score,
        boot_cluster=boot,
        style_means=means,
        n_self_battles=n_self,
    )


def _cluster_codes(values: Any, what: str, n: int) -> np.ndarray:
    """Integer codes of cluster ids (compared as strings, numbered by first appearance)."""
    ids: dict[str, int] = {}
    arr = _as_1d(values, what, n)
    return np.fromiter((ids.setdefault(str(x), len(ids)) for x in arr), np.int64, n)


def _outcomes(
    winner: Any, outcome_prob: Any, n: int, ties: str
) -> tuple[np.ndarray | None, np.ndarray]:
    """Soft scores (or ``None``) and outcome codes from ``winner`` or ``outcome_prob``.

    A soft outcome is the probability that A wins, fitted as the score of the half-tie
    (Bernoulli quasi-)likelihood; its codes are 0/1 for certain outcomes and 2 otherwise, which
    is what the graph checks need (a score strictly inside (0, 1) scores both ways).
    """
    if outcome_prob is None:
        if winner is None:
            raise InputError("give winner labels or outcome_prob")
        return None, _outcome_codes(_as_1d(winner, "winner", n))
    if winner is not None:
        raise InputError("give either winner labels or outcome_prob, not both")
    if ties != "half":
        raise InputError(
            f"ties={ties!r} needs discrete outcomes; a soft outcome is fitted as a fractional "
            "score (ties='half')"
        )
    arr = _as_1d(outcome_prob, "outcome_prob", n)
    try:
        score = arr.astype(np.float64)
    except (TypeError, ValueError):
        score = np.full(n, np.nan)
        for row, x in enumerate(arr):
            try:
                score[row] = float(x) if not isinstance(x, bool) and x is not None else np.nan
            except (TypeError, ValueError):
                pass
    bad = ~((score >= 0.0) & (score <= 1.0))  # also catches NaN
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"row {row}: outcome probability must be a number in [0, 1], got {arr[row]!r}"
        )
    codes = np.where(score == 1.0, 0, np.where(score == 0.0, 1, 2)).astype(np.int8)
    return score, codes
