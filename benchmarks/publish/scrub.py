"""PII scrubbing throughput (characters/s): this tree's scrubber against a baseline revision's.

Both scrub the same texts in one run, alternating three rounds each (the best round counts):
every answer and question of the Vicuna-80 study (real model answers, ~1.1M characters) and
the PII test corpus. The outputs must be identical, so recall and precision are unchanged.

    nice python benchmarks/publish/scrub.py [--baseline b04b6de]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "arena" / "qlora_vicuna80_human"
CORPUS = REPO / "tests" / "arena" / "releases" / "pii_corpus.yaml"


def _texts(data: Path) -> list[str]:
    texts: list[str] = []
    for name in ("answers.jsonl", "questions.jsonl"):
        for line in (data / name).read_text(encoding="utf-8").splitlines():
            texts += [v for v in json.loads(line).values() if isinstance(v, str)]
    texts += [item["text"] for item in yaml.safe_load(CORPUS.read_text(encoding="utf-8"))]
    return texts


def _baseline(revision: str) -> ModuleType:
    source = subprocess.run(["git", "show", f"{revision}:arena/releases/scrub.py"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_scrub.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_scrub", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_scrub"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="b04b6de")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    from arena.releases import scrub as ours
    theirs = _baseline(args.baseline)
    texts = _texts(args.data)
    chars = sum(map(len, texts))
    best = {"baseline": float("inf"), "ours": float("inf")}
    outputs = {}
    for _ in range(3):
        for name, module in (("baseline", theirs), ("ours", ours)):
            t0 = time.perf_counter()
            outputs[name] = [module.scrub(t) for t in texts]
            best[name] = min(best[name], time.perf_counter() - t0)
    same = outputs["baseline"] == outputs["ours"]
    print(f"{len(texts)} texts, {chars:,} characters; outputs identical: {same}")
    print("| scrubber | best of 3, s | characters/s |")
    print("|---|---|---|")
    for name in ("baseline", "ours"):
        print(f"| {name} | {best[name]:.2f} | {chars / best[name]:,.0f} |")
    print(f"speed-up: {best['baseline'] / best['ours']:.2f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
