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


_F = re.IGNORECASE | re.UNICODE
#: Shapes of code and of calculations that n-grams of one language's words see only piecewise:
#: each is counted in the raw text (case and layout kept) and enters as its own feature.
SHAPES = {
    "brackets": re.compile(r"[{}\[\]]|\w\(|\)\s*[{:;]"),
    "line_end_semicolon": re.compile(r";\s*$", re.M),
    "indented_line": re.compile(r"^(?: {2,}|\t)\S", re.M),
    "camel_case": re.compile(r"\b[a-z]+[A-Z][a-zA-Z]*\b"),
    "snake_case": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "dotted_call": re.compile(r"\b\w+\.\w+\("),
    "file_extension": re.compile(
        r"\.(?:py|js|ts|tsx|jsx|java|cpp|hpp|c|h|cs|go|rs|rb|php|sh|sql|html|css|json|yaml|yml|"
        r"toml|xml|csv|md|ipynb|kt|swift)\b"),
    "code_operator": re.compile(r"==|!=|=>|->|::|&&|\|\||\+=|<=|>=|</?\w+>"),
    "error_trace": re.compile(r"traceback|exception|error:|errno|stack ?trace|segfault|"
                              r"line \d+|undefined|null ?pointer|npm |pip |git ", _F),
    "backtick": re.compile(r"`"),
    "digit_run": re.compile(r"\d+(?:[.,]\d+)?"),
    "arithmetic": re.compile(r"\d\s*[-+*/^×÷=<>]\s*\(?\s*[\dxyzn]|[xyzn]\s*[-+*/^=]\s*\d|"
                             r"\d\s*[xyzn]\b|[xyz]\^?²|√|∫|∑|π"),
    "percent_or_fraction": re.compile(r"\d\s*%|\d+/\d+|prozent|pourcent|por ?ciento|процент"
                                      r"|百分|パーセント", _F),
    "latex": re.compile(r"\\(?:frac|int|sum|sqrt|cdot|times|lim|infty|mathbb|binom)|\$[^$]+\$"),
    "quantity_unit": re.compile(
        r"\d\s*(?:km|kg|g|m|cm|mm|l|ml|h|min|s|mph|km/h|m/s|€|\$|dollars?|euros?|hours?|"
        r"minutes?|apples?|metres?|meters?|miles?|liters?|litres?|years?|stunden|jahre|"
        r"heures|ans|horas|años|часов|лет|个|本|円|元|개|살)\b", _F),
    "math_verb": re.compile(
        r"solve|prove|calculate|compute|evaluate|simplify|derivative|integral|equation|"
        r"probability|how many|how much|berechne|löse|beweise|wie viele?|ableitung|gleichung|"
        r"calcule|résou|démontre|combien|équation|calcula|resuelve|demuestra|cu[aá]nt[oa]s?|"
        r"ecuaci[oó]n|calcola|risolvi|dimostra|quant[io]|equazione|calcule|resolva|quantos?|"
        r"equação|oblicz|rozwiąż|ile |вычисли|реши|докажи|сколько|уравнени|производн|"
        r"计算|求|解方程|证明|多少|計算|解け|証明|いくつ|何個|방정식|계산|몇", _F),
    "number_word": re.compile(
        r"\b(?:two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|"
        r"half|twice|zwei|drei|vier|fünf|zehn|hundert|halb|deux|trois|quatre|cinq|dix|cent|"
        r"dos|tres|cuatro|cinco|diez|cien|due|quattro|dieci|cento|dois|três|quatro|dez|"
        r"dwa|trzy|cztery|pięć|dziesięć|два|три|четыре|пять|десять|сто)\b"
        r"|[两三四五六七八九十百千]", _F),
}


#: Context shapes (2026.11.7, the optional ``context`` block): software-tool vocabulary in
#: several languages and scripts (short tool questions and non-English programming questions
#: have few code shapes), Latin identifiers inside CJK, Hangul or Cyrillic text, and the
#: signs of a long professional request (business and clinical words, many sentences), which
#: carries figures without asking for a computed quantity.
CONTEXT = {
    "tool_word": re.compile(
        r"\b(?:chmod|chown|sudo|bash|zsh|shell|terminal|git|commit|branch|rebase|merge|vim|"
        r"emacs|regex|regexp|excel|vlookup|xlookup|sumif|countif|spreadsheet|sheets|macro|vba|"
        r"api|json|yaml|sql|database|query|docker|kubernetes|npm|pip|cli|linux|ubuntu|"
        r"powershell|cron|ssh|http|css|html|python|java|javascript|typescript|node|react|vue|"
        r"django|flask|fastapi|spring|kotlin|swift|rust|golang|c\+\+|c#|php|ruby|goroutines?|"
        r"arraylist|hashmap|async|await|thread|compiler|debug|script|function|variable|array|"
        r"programm\w*|código|codice|kod\w*|komórk\w*|formuł\w*|fonction|funci[oó]n|funzione|"
        r"fonksiyon|dosya\w*|betik)\b"
        r"|代码|编程|函数|变量|爬虫|程序|コード|関数|変数|プログラム|코드|함수|변수|프로그램|"
        r"파이썬|자바|리액트|엑셀|код|функци|программ|скрипт", _F),
    "latin_in_other_script": re.compile(
        r"(?<=[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0400-\u04ff])\s*[A-Za-z][\w.#+]{1,}"
        r"|[A-Za-z][\w.#+]{1,}(?=\s*[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af])"),
    "business_word": re.compile(
        r"\b(?:revenue|churn|margin|arr|mrr|cac|ltv|budget|costs?|pricing|profit|sales|"
        r"startup|company|employees|customers|clients|strategy|market|stakeholders?|patient|"
        r"clinical|diagnos\w*|umsatz|mitarbeiter\w*|unternehmen|kunden|empresa|clientes|"
        r"paciente|entreprise|salariés|azienda|clienti|firma|klient\w*|"
        r"компания|клиент\w*|выручк\w*)\b|公司|成本|客户|会社|顧客|회사|고객", _F),
    "sentence": re.compile(r"[.!?。！？](?:\s|$)"),
}


def _shape_features(text: str, shapes: dict[str, re.Pattern[str]] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The :data:`SHAPES` (or ``shapes``) counts of ``text``, damped (``log1p``, capped at 1)
    and hashed into buckets of their own names."""
    names, values = [], []
    for name, pattern in (SHAPES if shapes is None else shapes).items():
        count = len(pattern.findall(text))
        if count:
            names.append(zlib.crc32(f"s {name}".encode()) % DIMENSIONS)
            values.append(min(1.0, np.log1p(count) / np.log(8.0)))
    return np.array(names, dtype=np.int64), np.array(values)


def features(text: str, *, words: bool = True, chars: bool = True,
             shape: bool = False, context: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sparse feature vector of ``text``: sorted bucket indices and their values.

    Each n-gram block (words and word pairs; character n-grams) is counted, damped with
    ``log1p`` and scaled to unit length, so a long prompt does not outweigh a short one; the
    shape block (:data:`SHAPES`) is one damped count per shape.
    """
    raw = text[:MAX_CHARS]
    text = _SPACE.sub(" ", raw.lower()).strip()
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
    if shape:
        shape_buckets, shape_values = _shape_features(raw)
        if len(shape_buckets):
            indices.append(shape_buckets)
            values.append(shape_values)
    if context:
        context_buckets, context_values = _shape_features(raw, CONTEXT)
        if len(context_buckets):
            indices.append(context_buckets)
            values.append(context_values)
    if not indices:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    index = np.concatenate(indices)
    value = np.concatenate(values)
    # Two blocks may share a bucket: add them up.
    unique, inverse = np.unique(index, return_inverse=True)
    return unique, np.bincount(inverse, weights=value)


#: How a label's model and rule may combine (:attr:`LabelModel.mode`).
MODES = ("or", "and", "model", "rules")


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
    shape: bool = False
    context: bool = False
    #: How the model and the label's rule combine: "or" (either says yes), "and" (both),
    #: "model" (the model alone) or "rules" (the rule alone).
    mode: str = "or"

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
        arrays[f"{label}.blocks"] = np.array([model.words, model.chars, model.shape,
                                              model.context])
        arrays[f"{label}.mode"] = np.array(model.mode)
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
                words=bool(data[f"{label}.blocks"][0]), chars=bool(data[f"{label}.blocks"][1]),
                shape=len(data[f"{label}.blocks"]) > 2 and bool(data[f"{label}.blocks"][2]),
                context=len(data[f"{label}.blocks"]) > 3 and bool(data[f"{label}.blocks"][3]),
                mode=str(data[f"{label}.mode"]) if f"{label}.mode" in data else "or")
            for label in data["labels"]}
        unknown = {m.mode for m in models.values()} - set(MODES)
        if unknown:
            raise ValueError(f"{path}: unknown combination mode(s) {sorted(unknown)}")
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
    vectors: dict[tuple[bool, bool, bool, bool], tuple[np.ndarray, np.ndarray]] = {}
    out = {}
    for label, model in models()[1].items():
        key = (model.words, model.chars, model.shape, model.context)
        if key not in vectors:
            vectors[key] = features(text, words=model.words, chars=model.chars,
                                    shape=model.shape, context=model.context)
        out[label] = model.probability(*vectors[key])
    return out


def learned_labels(text: str) -> set[str]:
    """The labels whose model reaches its threshold on ``text``."""
    thresholds = {label: model.threshold for label, model in models()[1].items()}
    return {label for label, p in probabilities(text).items() if p >= thresholds[label]}


def combine(mode: str, rule: bool, model: bool) -> bool:
    """A label from its rule's and its model's verdicts, as :attr:`LabelModel.mode` says."""
    if mode == "and":
        return rule and model
    if mode == "model":
        return model
    if mode == "rules":
        return rule
    return rule or model


def combined_labels(text: str, rules: dict[str, bool]) -> set[str]:
    """The learned labels given for ``text``, each rule's verdict (``rules``) combined with its
    model's as the model's :attr:`~LabelModel.mode` says; labels without a model keep their
    rule's verdict."""
    trained = models()[1]
    said = learned_labels(text)
    return {label for label, rule in rules.items()
            if (combine(trained[label].mode, rule, label in said) if label in trained else rule)}
