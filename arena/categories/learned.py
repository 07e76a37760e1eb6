"""A small learned component beside the rules: one L2-regularised logistic regression per
topical label over hashed word and character n-grams.

Trained here, on the labelled evaluation sets, by ``benchmarks/categories/train_learned.py``
(deterministic: same sets, same file). Only the non-zero weights are stored, in
``learned_weights.npz`` next to this module, and loaded once per process. Scoring needs numpy
and the standard library: the features of a prompt are hashed into :data:`DIMENSIONS` buckets
with a hash that does not depend on the process (no ``hash()``, which is salted).
"""

from __future__ import annotations

import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Buckets of the hashed feature space (a power of two).
DIMENSIONS = 1 << 18
#: Lengths of the character n-grams, read over the lower-cased text with runs of whitespace
#: made one space: they catch code syntax, formulas, inflected and unsegmented (CJK) words.
CHAR_NGRAMS = (2, 3, 4)
#: Characters of the text the features read (the classifier passes the request's head).
MAX_CHARS = 2000
WEIGHTS_FILE = Path(__file__).with_name("learned_weights.npz")

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
# Multipliers of the polynomial character hash, one per n-gram length (odd 64-bit numbers).
_MULT = np.uint64(0x9E3779B97F4A7C15)
_SALT = {n: np.uint64(0x632BE59BD9B4E019 * (n + 1) & 0xFFFFFFFFFFFFFFFF) for n in range(1, 9)}


def _char_hashes(text: str) -> np.ndarray:
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    out = []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            if len(codes) < n:
                continue
            h = np.full(len(codes) - n + 1, _SALT[n], dtype=np.uint64)
            for k in range(n):
                h = h * _MULT + codes[k:len(codes) - n + 1 + k]
            out.append(h ^ (h >> np.uint64(29)))
    if not out:
        return np.zeros(0, dtype=np.uint64)
    return np.concatenate(out)


def _word_hashes(text: str) -> np.ndarray:
    words = _WORD.findall(text)
    grams = [f"w {w}" for w in words] + [f"b {a} {b}" for a, b in zip(words, words[1:],
                                                                          strict=False)]
    return np.array([zlib.crc32(g.encode()) for g in grams], dtype=np.uint64)


def features(text: str, *, words: bool = True,
             chars: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Sparse feature vector of ``text``: sorted bucket indices and their values.

    Each block (words and word pairs; character n-grams) is counted, damped with
    ``log1p`` and scaled to unit length, so a long prompt does not outweigh a short one.
    """
    text = _SPACE.sub(" ", text[:MAX_CHARS].lower()).strip()
    indices, values = [], []
    blocks = ([_word_hashes(text)] if words else []) + (
        [_char_hashes(f" {text} ")] if chars else [])
    for hashes in blocks:
        if not len(hashes):
            continue
        buckets, counts = np.unique(hashes % np.uint64(DIMENSIONS), return_counts=True)
        weight = np.log1p(counts.astype(np.float64))
        indices.append(buckets.astype(np.int64))
        values.append(weight / np.linalg.norm(weight))
    if not indices:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    index = np.concatenate(indices)
    value = np.concatenate(values)
    # Two blocks may share a bucket: add them up.
    unique, inverse = np.unique(index, return_inverse=True)
    return unique, np.bincount(inverse, weights=value)


@dataclass(frozen=True)
class LabelModel:
    """One label's logistic regression: non-zero weights by bucket, the intercept, and the
    probability from which the model alone gives the label."""

    buckets: np.ndarray
    weights: np.ndarray
    intercept: float
    threshold: float
    words: bool = True
    chars: bool = True

    def probability(self, index: np.ndarray, value: np.ndarray) -> float:
        if not len(self.buckets) or not len(index):
            return float(1.0 / (1.0 + np.exp(-self.intercept)))
        where = np.searchsorted(self.buckets, index)
        where = np.minimum(where, len(self.buckets) - 1)
        hit = self.buckets[where] == index
        z = self.intercept + float(np.dot(self.weights[where[hit]], value[hit]))
        return float(1.0 / (1.0 + np.exp(-z)))


def save(path: Path, models: dict[str, LabelModel], *, version: str) -> None:
    """Write ``models`` (the training script's output) as one ``.npz`` file."""
    arrays: dict[str, np.ndarray] = {"version": np.array(version),
                                     "labels": np.array(sorted(models))}
    for label, model in models.items():
        arrays[f"{label}.buckets"] = model.buckets.astype(np.int32)
        arrays[f"{label}.weights"] = model.weights.astype(np.float32)
        arrays[f"{label}.intercept"] = np.array(model.intercept, dtype=np.float64)
        arrays[f"{label}.threshold"] = np.array(model.threshold, dtype=np.float64)
        arrays[f"{label}.blocks"] = np.array([model.words, model.chars])
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def load(path: Path = WEIGHTS_FILE) -> tuple[str, dict[str, LabelModel]]:
    """The trained version's name and its models, read from ``path``."""
    with np.load(path, allow_pickle=False) as data:
        models = {
            str(label): LabelModel(
                buckets=data[f"{label}.buckets"].astype(np.int64),
                weights=data[f"{label}.weights"].astype(np.float64),
                intercept=float(data[f"{label}.intercept"]),
                threshold=float(data[f"{label}.threshold"]),
                words=bool(data[f"{label}.blocks"][0]), chars=bool(data[f"{label}.blocks"][1]))
            for label in data["labels"]}
        return str(data["version"]), models


_lock = threading.Lock()
_loaded: tuple[str, dict[str, LabelModel]] | None = None


def models() -> tuple[str, dict[str, LabelModel]]:
    """The shipped models, loaded on first use (once per process)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = load()
        return _loaded


def probabilities(text: str) -> dict[str, float]:
    """Each learned label's probability for ``text``."""
    vectors: dict[tuple[bool, bool], tuple[np.ndarray, np.ndarray]] = {}
    out = {}
    for label, model in models()[1].items():
        key = (model.words, model.chars)
        if key not in vectors:
            vectors[key] = features(text, words=model.words, chars=model.chars)
        out[label] = model.probability(*vectors[key])
    return out


def learned_labels(text: str) -> set[str]:
    """The labels whose model reaches its threshold on ``text``."""
    thresholds = {label: model.threshold for label, model in models()[1].items()}
    return {label for label, p in probabilities(text).items() if p >= thresholds[label]}
