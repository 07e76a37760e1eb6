"""Calibration of the integrity screens on honest-only worlds at the attack benchmark's scale.

Seeded worlds of 100 contenders, 200,000 honest battles from 12,000 Zipf-active pseudonyms
(Davidson BT with ties, as ``attack.py``), each screened as at publish time (model refitted,
both screens, alpha 0.01). Reports the honest pseudonyms flagged and the stage-1 z of every
contender. Rerun: ``nice -n 10 .venv/bin/python benchmarks/integrity/calibration.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from arena.integrity import detection, simulate, stats, twostage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    started = time.perf_counter()
    zs, flagged, tested, uneven = [], 0, 0, 0
    for seed in range(args.seed, args.seed + args.worlds):
        rng = np.random.default_rng(seed)
        model = stats.TieModel(np.sort(rng.normal(0, 0.6, 100))[::-1], 0.05)
        a, b, o, v = simulate.honest(rng, model, 200_000, 12_000)
        det = detection.detect(a, b, o, v, n_items=100, n_voters=12_000, alpha=0.01,
                               reg=1e-6)
        flagged += det.flagged.size
        uneven += len(det.uneven)
        tested += int((np.bincount(v, minlength=12_000) >= 5).sum())
        zs.append(twostage.dispersion_test(det.model.probs(a, b), a, b, o, v, 12_000, 100,
                                           min_votes=5).z)
    z = np.concatenate(zs)
    print(f"{args.worlds} honest worlds in {time.perf_counter() - started:.0f} s: "
          f"{flagged} of {tested} pseudonyms with >= 5 votes flagged; stage 1 flagged "
          f"{uneven} of {z.size} contenders; stage-1 z mean {z.mean():.3f}, sd {z.std():.3f}, "
          f"share above 3.09 {(z > 3.09).mean():.4f} (normal: 0.0010), max {z.max():.2f}")


if __name__ == "__main__":
    main()
