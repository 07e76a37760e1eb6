"""Fragility at scale: the top-20 adjacent pairs of a 100-contender board of 1M battles.

Times :func:`arena.integrity.fragility.fragility` (influence plans + engine refits) on seeded
Davidson-BT battles, and the plain fit it starts from, side by side.
Rerun: ``nice -n 10 .venv/bin/python benchmarks/integrity/fragility_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from arena.integrity import fragility as fr  # noqa: E402
from arena.integrity import simulate, stats  # noqa: E402
from ratings import FASTCHAT_REG  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    model = stats.TieModel(np.sort(rng.normal(0, 0.6, args.models))[::-1], 0.05)
    a, b = simulate.random_pairs(rng, args.battles, args.models)
    o = simulate.sample_outcomes(rng, model, a, b)
    t0 = time.perf_counter()
    cells = fr.Cells.from_battles(a, b, o, args.models)
    theta = fr.refit(cells, np.zeros(cells.count.size, dtype=np.int64), reg=FASTCHAT_REG)
    t_fit = time.perf_counter() - t0
    order = [int(i) for i in np.argsort(-theta)]
    t1 = time.perf_counter()
    pairs = fr.fragility(cells, order, reg=FASTCHAT_REG, top=20)
    t_frag = time.perf_counter() - t1
    out = {"battles": args.battles, "models": args.models, "fit_s": round(t_fit, 2),
           "fragility_s": round(t_frag, 2), "refits": sum(p.refits for p in pairs),
           "votes_to_swap": [p.votes_to_swap for p in pairs],
           "linear_estimate": [p.linear_estimate for p in pairs],
           "shared": sum(1 for p in pairs if p.share is not None and p.share < 0.001)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
