"""Calibration of the integrity screens on honest-only worlds at the attack benchmark's scale.

Seeded worlds of 100 contenders, 200,000 honest battles from 12,000 Zipf-active pseudonyms
(Davidson BT with ties, as ``attack.py``), each screened as at publish time (model refitted,
both screens with the selective-voting test, alpha 0.01). Every other world has a sampler
that changes half-way (ten contenders served five times as often in the second half), which
the selective-voting test's per-block shares must absorb. Reports the honest pseudonyms
flagged, the selective-voting p-values' calibration and the stage-1 z of every contender.
Rerun: ``nice -n 10 .venv/bin/python benchmarks/integrity/calibration.py``.
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
    zs, sel_p, flagged, tested, uneven = [], [], 0, 0, 0
    for seed in range(args.seed, args.seed + args.worlds):
        rng = np.random.default_rng(seed)
        model = stats.TieModel(np.sort(rng.normal(0, 0.6, 100))[::-1], 0.05)
        a, b, o, v = simulate.honest(rng, model, 200_000, 12_000)
        if seed % 2:  # the sampler changes half-way: ten contenders served 5x as often
            later = np.ones(100)
            later[rng.choice(100, 10, replace=False)] = 5.0
            a[100_000:], b[100_000:] = simulate.random_pairs(rng, 100_000, 100, later)
            o[100_000:] = simulate.sample_outcomes(rng, model, a[100_000:], b[100_000:])
        sel_p.append(stats.selective_test(a, b, v, 12_000, 100, min_votes=5, alpha=1.0).p)
        det = detection.detect(a, b, o, v, n_items=100, n_voters=12_000, alpha=0.01,
                               reg=1e-6)
        flagged += det.flagged.size
        uneven += len(det.uneven)
        tested += int((np.bincount(v, minlength=12_000) >= 5).sum())
        zs.append(twostage.dispersion_test(det.model.probs(a, b), a, b, o, v, 12_000, 100,
                                           min_votes=5).z)
    z = np.concatenate(zs)
    p = np.concatenate(sel_p)
    print("selective-voting p-values of honest pseudonyms (>= 5 votes): "
          + ", ".join(f"P(p <= {x:g}) = {(p <= x).mean():.5f}" for x in (1e-4, 1e-3, 1e-2, 0.05))
          + f" over {p.size}")
    print(f"{args.worlds} honest worlds in {time.perf_counter() - started:.0f} s: "
          f"{flagged} of {tested} pseudonyms with >= 5 votes flagged; stage 1 flagged "
          f"{uneven} of {z.size} contenders; stage-1 z mean {z.mean():.3f}, sd {z.std():.3f}, "
          f"share above 3.09 {(z > 3.09).mean():.4f} (normal: 0.0010), max {z.max():.2f}")


if __name__ == "__main__":
    main()
