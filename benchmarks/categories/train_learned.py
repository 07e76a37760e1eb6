"""Train the learned component of the prompt classifier, and choose how it joins the rules.

    python benchmarks/categories/train_learned.py cv      # model selection: prints CV tables
    python benchmarks/categories/train_learned.py fit  # → arena/categories/learned_weights.npz

Data: the four older sets only (``eval_set``, ``heldout_set``, ``heldout2_set``,
``heldout3_set``; 657 items). ``heldout4_set.jsonl`` is never read here: it is the clean test
of whatever this script produces.

Per topical label, an L2-regularised logistic regression over hashed word uni/bi-grams and
character 2-4-grams (:mod:`arena.categories.learned`), fitted with L-BFGS from zero, so the
output depends only on the data. The label is given when the rule says yes OR the model's
probability reaches a threshold (``or``), or by the model alone (``model``); ``cv`` compares
these and the rules alone. Thresholds are chosen by maximising F1 on out-of-fold
probabilities of the *training* part only (nested inside the outer folds), so the scores it
prints are not fitted to the fold they are measured on.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# One BLAS thread: the fits are small, and threads fighting over a shared machine's cores
# made them ten times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy import sparse  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from arena.categories.classify import TOPICAL, request_text, rule_labels  # noqa: E402
from arena.categories.learned import (  # noqa: E402
    DIMENSIONS,
    WEIGHTS_FILE,
    LabelModel,
    features,
    save,
)

SETS = ("eval_set.jsonl", "heldout_set.jsonl", "heldout2_set.jsonl", "heldout3_set.jsonl")
SEED = 20261129
FOLDS = 5


def load() -> tuple[list[dict], np.ndarray]:
    items, groups = [], []
    for n, name in enumerate(SETS):
        for line in (HERE / name).read_text().splitlines():
            if line.strip():
                items.append(json.loads(line))
                groups.append(n)
    return items, np.array(groups)


def matrix(texts: list[str], *, words: bool = True, chars: bool = True) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        index, value = features(text, words=words, chars=chars)
        rows.append(np.full(len(index), i))
        cols.append(index)
        vals.append(value)
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(len(texts), DIMENSIONS))


def fit(x: sparse.csr_matrix, y: np.ndarray, c: float,
        gram: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Minimise c * sum(log-loss) + ||w||^2 / 2 (intercept not penalised).

    The minimiser lies in the span of the training rows (w = X'a), so Newton's method runs
    over the n row coefficients and the intercept with the Gram matrix K = XX' (n = a few
    hundred), instead of over the 2^18 buckets.
    """
    k = (x @ x.T).toarray() if gram is None else gram
    n = len(y)
    s = 2.0 * y - 1.0
    a, b = np.zeros(n), 0.0

    def objective(a: np.ndarray, b: float) -> float:
        ka = k @ a
        return float(c * np.logaddexp(0.0, -s * (ka + b)).sum() + 0.5 * a @ ka)

    # Newton's method on (a, b): with g = dloss/df and D = its derivative, the step solves
    # [[cDK + I, cD1], [c1'DK, c1'D1]] [da; db] = [cg + a; c1'g] (K factored out of the
    # a-rows), with step halving so the objective never increases.
    current = objective(a, b)
    for _ in range(200):
        f = k @ a + b
        sig = 1.0 / (1.0 + np.exp(s * f))  # sigma(-s f)
        g = -s * sig
        d = sig * (1.0 - sig)
        grad_a, grad_b = c * g + a, c * g.sum()
        if max(np.abs(k @ grad_a).max(), abs(grad_b)) < 1e-6 * max(1.0, c):
            break
        system = np.empty((n + 1, n + 1))
        system[:n, :n] = c * d[:, None] * k
        system[np.arange(n), np.arange(n)] += 1.0
        system[:n, n] = c * d
        system[n, :n] = c * d @ k
        system[n, n] = c * d.sum() + 1e-12
        step = np.linalg.solve(system, np.concatenate([grad_a, [grad_b]]))
        t = 1.0
        while True:
            trial_a, trial_b = a - t * step[:n], b - t * float(step[n])
            value = objective(trial_a, trial_b)
            if value <= current or t < 1e-6:
                break
            t /= 2
        if value > current or current - value <= 1e-13 * abs(current):
            break  # no further progress in double precision
        a, b, current = trial_a, trial_b, value
    else:
        raise RuntimeError("logistic regression did not converge in 200 Newton steps")
    return np.asarray(x.T @ a).ravel(), float(b)


def predict(x: sparse.csr_matrix, w: np.ndarray, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ w + b)))


def folds(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Stratified fold numbers."""
    out = np.empty(len(y), dtype=int)
    for value in (0, 1):
        where = np.flatnonzero(y == value)
        rng.shuffle(where)
        out[where] = np.arange(len(where)) % k
    return out


def f1(pred: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(pred & (y == 1)))
    p = tp / max(1, pred.sum())
    r = tp / max(1, (y == 1).sum())
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def combine(mode: str, rule: np.ndarray, prob: np.ndarray, t: float) -> np.ndarray:
    if mode == "rules":
        return rule.copy()
    if mode == "model":
        return prob >= t
    return rule | (prob >= t)  # "or"


def choose_threshold(prob: np.ndarray, y: np.ndarray, precision: float) -> float:
    """The lowest threshold at which the model alone is at least ``precision`` precise on
    these out-of-fold probabilities (and says yes at least 3 times); 1.0 (never) if none.

    Rule-independent on purpose: the rules were written on most of these items, so their
    in-sample verdicts are too good, and a threshold tuned for "rule OR model" here would
    learn to trust them. The model's own precision bounds what it adds to the rules."""
    for t in np.arange(0.05, 0.951, 0.025):
        pred = prob >= t
        if pred.sum() >= 3 and f1(pred, y)[0] >= precision:
            return float(round(t, 3))
    return 1.0


def oof(x: sparse.csr_matrix, gram: np.ndarray, y: np.ndarray, c: float,
        fold: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities."""
    prob = np.zeros(len(y))
    for k in np.unique(fold):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        w, b = fit(x[train], y[train], c, gram[np.ix_(train, train)])
        prob[test] = predict(x[test], w, b)
    return prob


def nested(x: sparse.csr_matrix, gram: np.ndarray, y: np.ndarray, c: float, precision: float,
           outer: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[float]]:
    """Out-of-fold model predictions, each outer fold's threshold chosen by inner CV on the
    other folds (so no item's prediction used its own label)."""
    pred = np.zeros(len(y), dtype=bool)
    chosen = []
    for k in np.unique(outer):
        train, test = np.flatnonzero(outer != k), np.flatnonzero(outer == k)
        sub = gram[np.ix_(train, train)]
        inner = folds(y[train], FOLDS, rng)
        t = choose_threshold(oof(x[train], sub, y[train], c, inner), y[train], precision)
        chosen.append(t)
        w, b = fit(x[train], y[train], c, sub)
        pred[test] = predict(x[test], w, b) >= t
    return pred, chosen


def texts_and_rules(items: list[dict]) -> tuple[list[str], dict[str, np.ndarray]]:
    texts = [request_text(item["turns"]) for item in items]
    verdicts = [rule_labels(item["turns"]) for item in items]
    return texts, {label: np.array([v[label] for v in verdicts]) for label in TOPICAL}


#: Precision the model alone must reach (out of fold) before it may add a label to the
#: rules' ones: the target plus a margin, since the rules' own false positives add up.
MODEL_PRECISION = {"coding": 0.95, "math": 0.95, "creative_writing": 0.9,
                   "instruction_following": 0.9, "hard_prompt": 0.9}
VARIANTS = {"words+chars": {}, "words": {"chars": False}, "chars": {"words": False}}
CS = (1.0, 10.0, 100.0)


def cv() -> None:
    items, groups = load()
    texts, rules = texts_and_rules(items)
    gold = {label: np.array([label in item["labels"] for item in items], dtype=int)
            for label in TOPICAL}
    xs = {name: matrix(texts, **opts) for name, opts in VARIANTS.items()}
    grams = {name: (x @ x.T).toarray() for name, x in xs.items()}
    print(f"{len(items)} items from {', '.join(SETS)}.\n\n"
          f"A. The model alone, {FOLDS}-fold stratified CV (seed {SEED}); the threshold of each "
          f"outer fold is the lowest at which inner {FOLDS}-fold CV on the other folds gives "
          f"the precision floor.\n")
    print("| label | floor | features | C | P | R | thresholds |\n|---|---|---|---|---|---|---|")
    best: dict[str, tuple[float, str, float]] = {}
    for label in TOPICAL:
        y = gold[label]
        outer = folds(y, FOLDS, np.random.default_rng(SEED))
        for name, x in xs.items():
            for c in CS:
                pred, ts = nested(x, grams[name], y, c, MODEL_PRECISION[label], outer,
                                  np.random.default_rng(SEED + 1))
                p, r, _ = f1(pred, y)
                print(f"| {label} | {MODEL_PRECISION[label]} | {name} | {c:g} | {p:.3f} | "
                      f"{r:.3f} | {' '.join(f'{t:.2f}' for t in ts)} |", flush=True)
                # The most recall among settings that keep the floor out of fold.
                score = r if p >= MODEL_PRECISION[label] - 0.02 else r - 1.0
                if label not in best or score > best[label][0]:
                    best[label] = (score, name, c)
    print("\nChosen (most out-of-fold recall at the precision floor, within 0.02):")
    for label, (_, name, c) in best.items():
        print(f"  {label}: features {name}, C {c:g}")

    print("\nB. Rules vs rules OR model on held-out set 3, the one older set no rule was written "
          "on: model trained on dev + sets 1-2 with the chosen settings, threshold by 5-fold CV "
          "there.\n")
    print("| label | support | rules P / R | rules OR model P / R | model alone P / R | t |\n"
          "|---|---|---|---|---|---|")
    train, test = np.flatnonzero(groups != 3), np.flatnonzero(groups == 3)
    for label, (_, name, c) in best.items():
        x, y, rule = xs[name], gold[label], rules[label]
        sub = grams[name][np.ix_(train, train)]
        inner = folds(y[train], FOLDS, np.random.default_rng(SEED + 2))
        t = choose_threshold(oof(x[train], sub, y[train], c, inner), y[train],
                             MODEL_PRECISION[label])
        w, b = fit(x[train], y[train], c, sub)
        prob = predict(x[test], w, b)
        cells = [f1(combine(m, rule[test], prob, t), y[test])[:2] for m in ("rules", "or",
                                                                             "model")]
        print(f"| {label} | {int(y[test].sum())} | "
              + " | ".join(f"{p:.3f} / {r:.3f}" for p, r in cells) + f" | {t:.3f} |")


#: The settings `cv` chose (its "Chosen" lines, run of 2026-11-29), frozen for `fit`.
CHOSEN = {"coding": ("words+chars", 10.0), "math": ("chars", 100.0),
          "creative_writing": ("words+chars", 100.0),
          "instruction_following": ("words+chars", 100.0), "hard_prompt": ("chars", 100.0)}
#: Weights smaller than this are dropped from the shipped file (the change it makes to any
#: training item's probability is printed by `fit`).
PRUNE = 1e-3
VERSION = "rules+lr-2026.11.5"


def fit_all(path: Path = WEIGHTS_FILE) -> None:
    items, _ = load()
    texts, _ = texts_and_rules(items)
    models = {}
    for label in TOPICAL:
        name, c = CHOSEN[label]
        x = matrix(texts, **VARIANTS[name])
        y = np.array([label in item["labels"] for item in items], dtype=int)
        gram = (x @ x.T).toarray()
        fold = folds(y, FOLDS, np.random.default_rng(SEED + 3))
        t = choose_threshold(oof(x, gram, y, c, fold), y, MODEL_PRECISION[label])
        w, b = fit(x, y, c, gram)
        keep = np.flatnonzero(np.abs(w) >= PRUNE)
        pruned = np.zeros_like(w)
        pruned[keep] = w[keep]
        drift = np.abs(predict(x, pruned, b) - predict(x, w, b)).max()
        models[label] = LabelModel(buckets=keep, weights=w[keep], intercept=b, threshold=t,
                                   words=VARIANTS[name].get("words", True),
                                   chars=VARIANTS[name].get("chars", True))
        print(f"{label}: {name}, C {c:g}, threshold {t:.3f}, {len(keep)} weights kept of "
              f"{int(np.count_nonzero(w))}, largest probability change from pruning {drift:.1e}")
    save(path, models, version=VERSION)
    print(f"wrote {path} ({path.stat().st_size} bytes), version {VERSION}")


if __name__ == "__main__":
    {"cv": cv, "fit": fit_all}[sys.argv[1] if len(sys.argv) > 1 else "cv"]()
