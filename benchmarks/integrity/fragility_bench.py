"""Fragility at scale: the top-20 adjacent pairs of a 100-contender board of 1M battles.

Times :func:`arena.integrity.fragility.fragility` (influence plans + engine refits) on seeded
battles, and the fit it starts from, side by side. Plain (default): Davidson-BT battles in
``(a, b, outcome)`` cells refitted with :func:`ratings.fit_leaderboard`. ``--style``: the
style-controlled board of ``benchmarks/ratings/synth.py`` (length and three markdown counts,
covariates of the ``ratio-v1`` transform), one unit per battle, refitted by
:class:`ratings.Refit`; its ``fit_s`` is the ``fit_leaderboard`` call a publish makes (no
bootstrap) and ``setup_s`` building the refitter (validation, problem, full fit).
Rerun: ``nice -n 10 .venv/bin/python benchmarks/integrity/fragility_bench.py [--style]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "ratings"))

from synth import FEATURES, LABELS, make_battles  # noqa: E402

import ratings  # noqa: E402
from arena.integrity import fragility as fr  # noqa: E402
from arena.integrity import simulate, stats  # noqa: E402
from ratings import FASTCHAT_REG  # noqa: E402


def _plain(args: argparse.Namespace) -> tuple[fr.Votes, list[int], dict[str, float]]:
    rng = np.random.default_rng(args.seed)
    model = stats.TieModel(np.sort(rng.normal(0, 0.6, args.models))[::-1], 0.05)
    a, b = simulate.random_pairs(rng, args.battles, args.models)
    o = simulate.sample_outcomes(rng, model, a, b)
    t0 = time.perf_counter()
    cells = fr.Cells.from_battles(a, b, o, args.models)
    theta = fr.refit(cells, np.zeros(cells.count.size, dtype=np.int64), reg=FASTCHAT_REG)
    t_fit = time.perf_counter() - t0
    return (fr.CellVotes(cells, FASTCHAT_REG), [int(i) for i in np.argsort(-theta)],
            {"fit_s": round(t_fit, 2)})


def _style(args: argparse.Namespace) -> tuple[fr.Votes, list[int], dict[str, float]]:
    data = make_battles(args.battles, args.models, seed=args.seed)
    names = np.array([f"m{i:03d}" for i in range(args.models)])
    model_a, model_b, winner = names[data["a"]], names[data["b"]], LABELS[data["winner"]]
    features = {f: (data[f"{f}_a"], data[f"{f}_b"]) for f in FEATURES}
    t0 = time.perf_counter()
    res = ratings.fit_leaderboard(model_a, model_b, winner, features=features,
                                  control=FEATURES, reg=FASTCHAT_REG, ci="none")
    t_fit = time.perf_counter() - t0
    t1 = time.perf_counter()
    engine = ratings.Refit(model_a, model_b, winner, features=features, control=FEATURES,
                           reg=FASTCHAT_REG)
    t_setup = time.perf_counter() - t1
    index = {n: i for i, n in enumerate(engine.names.tolist())}
    return (fr.BattleVotes(engine), [index[m.name] for m in res.models],
            {"fit_s": round(t_fit, 2), "setup_s": round(t_setup, 2)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--style", action="store_true",
                        help="a style-controlled board (4 features) instead of a plain one")
    args = parser.parse_args()
    votes, order, timings = (_style if args.style else _plain)(args)
    t1 = time.perf_counter()
    pairs = fr.fragility(votes, order, top=20)
    t_frag = time.perf_counter() - t1
    out = {"battles": args.battles, "models": args.models, "style": args.style, **timings,
           "fragility_s": round(t_frag, 2), "refits": sum(p.refits for p in pairs),
           "votes_to_swap": [p.votes_to_swap for p in pairs],
           "linear_estimate": [p.linear_estimate for p in pairs],
           "shared": sum(1 for p in pairs if p.share is not None and p.share < 0.001)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
