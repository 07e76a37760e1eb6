"""Precision and recall of the prompt classifier per label, and its speed on one core.

    python benchmarks/categories/evaluate.py [eval_set.jsonl heldout_set.jsonl ...]

Language labels are scored per code and together (``language``: the predicted code must be
the gold one). Speed: wall time of :func:`arena.categories.classify` per item (prompts and
answers), after one warm-up call that loads the language model, in this one process.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from arena.categories import CLASSIFIER_VERSION, LABELS, classify  # noqa: E402

TARGETS = {"coding": 0.9, "math": 0.9, "language": 0.9, "multi_turn": 0.9, "long_query": 0.9,
           "refusal": 0.9, "creative_writing": 0.8, "instruction_following": 0.8,
           "hard_prompt": 0.8}


def _predict(item: dict) -> frozenset[str]:
    return classify(item["turns"], [tuple(pair) for pair in item.get("answers", [])])


def evaluate(items: list[dict], *, verbose: bool = False) -> dict[str, tuple[float, float, int]]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for item in items:
        gold, pred = set(item["labels"]), set(_predict(item))
        for label in gold | pred:
            key = [label] + (["language"] if label.startswith("language:") else [])
            for k in key:
                if label in gold and label in pred:
                    tp[k] += 1
                elif label in pred:
                    fp[k] += 1
                    if verbose and k == label:
                        print(f"  FP {label:22} {item['id']}: {item['turns'][0][:90]!r}")
                else:
                    fn[k] += 1
                    if verbose and k == label:
                        print(f"  FN {label:22} {item['id']}: {item['turns'][0][:90]!r}")
    out = {}
    for label in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else float("nan")
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else float("nan")
        out[label] = (p, r, tp[label] + fn[label])
    return out


def speed(items: list[dict], repeats: int = 3) -> float:
    _predict(items[0])  # loads py3langid's model
    start = time.perf_counter()
    for _ in range(repeats):
        for item in items:
            _predict(item)
    return (time.perf_counter() - start) * 1000 / (repeats * len(items))


def main() -> None:
    verbose = "-v" in sys.argv
    paths = [Path(a) for a in sys.argv[1:] if a != "-v"] or [
        p for p in (HERE / "eval_set.jsonl", HERE / "heldout_set.jsonl",
                    HERE / "heldout2_set.jsonl", HERE / "heldout3_set.jsonl") if p.exists()]
    print(f"classifier {CLASSIFIER_VERSION}")
    for path in paths:
        items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        print(f"\n{path.name}: {len(items)} items")
        scores = evaluate(items, verbose=verbose)
        print("| label | support | precision | recall | target |\n|---|---|---|---|---|")
        order = [*LABELS, "language"] + sorted(k for k in scores if k.startswith("language:"))
        for label in order:
            if label not in scores:
                continue
            p, r, n = scores[label]
            target = TARGETS.get(label)
            mark = "" if target is None else (
                f"{target:.2f} {'ok' if p >= target and r >= target else 'MISSED'}")
            print(f"| {label} | {n} | {p:.3f} | {r:.3f} | {mark} |")
        print(f"\nspeed: {speed(items):.2f} ms per item (one core, mean over 3 passes)")


if __name__ == "__main__":
    main()
