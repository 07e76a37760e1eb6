"""Sampling benchmark: the real policy code (arena.sampling.policies) on a simulated arena.

Scenarios (seeded, one run):

1. **Newcomer.** A 50-model board with 200,000 votes (uniform pairs, Bradley-Terry outcomes
   with ~30% ties). A 51st model joins. Battles arrive; every ``--refit`` battles a "publish"
   refits the board (plain BT, sandwich intervals, the real engine) and the sampler reads the
   new snapshot, exactly as the web process does. Reported: battles until the newcomer's 95%
   half-width is ≤ 20 Elo, and the largest share of any contender in any window of
   ``--hour`` battles (one "hour" of traffic), per policy.
2. **Settled board.** 50 models, 20,000 votes already; 30,000 more under each policy. Mean 95%
   half-width afterwards (adaptive vs uniform, equal votes).
3. **Declared vs realised shares.** 50,000 draws under ``boost-new`` with caps off; largest
   gap between a contender's realised share and the share the ledger declares.
4. **Cost per draw.** ``pair_probabilities`` + ``draw`` for 100 contenders, per policy.

Run: ``.venv/bin/python benchmarks/sampling/bench.py`` (≈ 5 min on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ratings  # noqa: E402
from arena.sampling.policies import (  # noqa: E402
    Candidate,
    PolicySettings,
    draw,
    expected_shares,
    pair_probabilities,
)

TIE = 0.3
OUTCOMES = np.array(["model_a", "model_b", "tie"])


def outcome(rng: np.random.Generator, ra: float, rb: float) -> int:
    """0 = A wins, 1 = B wins, 2 = tie: a tie with probability 0.3, else Bradley-Terry."""
    if rng.random() < TIE:
        return 2
    p = 1.0 / (1.0 + 10 ** ((rb - ra) / 400.0))
    return 0 if rng.random() < p else 1


class Board:
    """All battles as integer arrays, refitted with the real engine (sandwich intervals).

    Battles are passed one row each: the engine's ``weights`` are importance weights (its
    sandwich squares them), so aggregated counts would overstate the intervals.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[tuple[int, int, int]] = []

    def add(self, a: int, b: int, o: int) -> None:
        self.rows.append((a, b, o))

    def battles_of(self, i: int) -> int:
        arr = np.asarray(self.rows)
        return int(np.sum((arr[:, 0] == i) | (arr[:, 1] == i)))

    def fit(self, names: list[str]) -> dict[str, tuple[float, float, int]]:
        arr = np.asarray(self.rows)
        labels = np.asarray(names)
        res = ratings.fit_leaderboard(labels[arr[:, 0]], labels[arr[:, 1]],
                                      OUTCOMES[arr[:, 2]], ci="sandwich", reg=0.0)
        per = np.bincount(arr[:, 0], minlength=self.n) + np.bincount(arr[:, 1],
                                                                      minlength=self.n)
        index = {name: i for i, name in enumerate(names)}
        return {m.name: (m.rating, (m.ci_high - m.ci_low) / 2.0, int(per[index[m.name]]))
                for m in res.models}


def candidates(names: list[str], fit: dict[str, tuple[float, float, int]],
               new_votes: np.ndarray) -> list[Candidate]:
    order = sorted(fit, key=lambda k: -fit[k][0])
    rank = {name: r for r, name in enumerate(order, start=1)}
    out = []
    for i, name in enumerate(names):
        if name in fit:
            rating, half, votes = fit[name]
            out.append(Candidate(i, True, 1.0, votes=votes + int(new_votes[i]),
                                 new_votes=int(new_votes[i]), rating=rating, half_width=half,
                                 rank=rank[name]))
        else:
            out.append(Candidate(i, True, 1.0, votes=int(new_votes[i]),
                                 new_votes=int(new_votes[i])))
    return out


def seeded_board(rng: np.random.Generator, truth: np.ndarray, n_votes: int) -> Board:
    n = len(truth)
    board = Board(n + 1)
    for _ in range(n_votes):
        a, b = rng.choice(n, 2, replace=False)
        board.add(a, b, outcome(rng, truth[a], truth[b]))
    return board


def newcomer(policy: str, args: argparse.Namespace) -> dict[str, object]:
    rng = np.random.default_rng(args.seed)
    pyrng = random.Random(args.seed)
    truth = rng.normal(1000, 80, 50)
    board = seeded_board(rng, truth, args.board_votes)
    truth = np.append(truth, float(np.median(truth)) + 25.0)
    names = [f"m{i:02d}" for i in range(51)]
    settings = PolicySettings(policy, max_share=args.max_share, cap_min_battles=20)
    fit = board.fit(names[:50])
    new_votes = np.zeros(51, dtype=int)
    window: deque[tuple[int, int]] = deque()
    in_window = np.zeros(51, dtype=int)
    max_share = 0.0
    n = 0
    half = float("inf")
    while n < args.max_battles:
        cands = candidates(names, fit, new_votes)
        probs = pair_probabilities(cands, settings, dict(enumerate(in_window.tolist())),
                                   len(window))
        a, b, _ = draw(probs, pyrng)
        board.add(a, b, outcome(rng, truth[a], truth[b]))
        new_votes[[a, b]] += 1
        window.append((a, b))
        in_window[[a, b]] += 1
        if len(window) > args.hour:
            x, y = window.popleft()
            in_window[[x, y]] -= 1
        if len(window) == args.hour:
            max_share = max(max_share, float(in_window.max()) / args.hour)
        n += 1
        if n % args.refit == 0:
            fit = board.fit(names)
            new_votes[:] = 0
            half = fit["m50"][1]
            if half <= 20.0:
                break
    return {"policy": policy, "battles_to_20_elo": n if half <= 20.0 else None,
            "final_half_width": round(half, 2), "newcomer_battles": board.battles_of(50),
            "max_hourly_share": round(max_share, 4)}


def settled(policy: str, args: argparse.Namespace) -> dict[str, object]:
    rng = np.random.default_rng(args.seed + 1)
    pyrng = random.Random(args.seed + 1)
    truth = rng.normal(1000, 80, 50)
    board = seeded_board(rng, truth, 20_000)
    board.n = 50
    names = [f"m{i:02d}" for i in range(50)]
    settings = PolicySettings(policy, max_share=args.max_share)
    fit = board.fit(names)
    new_votes = np.zeros(50, dtype=int)
    for k in range(1, args.settled_votes + 1):
        probs = pair_probabilities(candidates(names, fit, new_votes), settings)
        a, b, _ = draw(probs, pyrng)
        board.add(a, b, outcome(rng, truth[a], truth[b]))
        new_votes[[a, b]] += 1
        if k % args.refit == 0:
            fit = board.fit(names)
            new_votes[:] = 0
    fit = board.fit(names)
    return {"policy": policy, "mean_half_width": round(float(np.mean(
        [h for _, h, _ in fit.values()])), 3)}


def declared_vs_realised(args: argparse.Namespace) -> dict[str, object]:
    pyrng = random.Random(args.seed)
    rng = np.random.default_rng(args.seed)
    cands = [Candidate(i, True, float(rng.uniform(0.5, 2.0)), votes=int(rng.integers(0, 6000)),
                       rating=float(rng.normal(1000, 80)), half_width=10.0, rank=i + 1)
             for i in range(30)]
    settings = PolicySettings("boost-new", max_share=1.0)
    probs = pair_probabilities(cands, settings)
    declared = expected_shares(probs)
    seen = np.zeros(len(cands))
    for _ in range(args.share_draws):
        a, b, _ = draw(probs, pyrng)
        seen[[a, b]] += 1
    realised = seen / args.share_draws
    return {"draws": args.share_draws, "max_abs_gap_pp": round(
        float(np.max(np.abs(realised - declared))) * 100, 3)}


def cost(args: argparse.Namespace) -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    cands = [Candidate(i, i % 7 != 0, 1.0, votes=int(rng.integers(0, 6000)),
                       rating=float(rng.normal(1000, 80)), half_width=float(rng.uniform(5, 40)),
                       rank=i + 1) for i in range(100)]
    pyrng = random.Random(0)
    out = []
    for policy in ("uniform", "weighted", "boost-new", "adaptive"):
        settings = PolicySettings(policy)
        reps = 300
        start = time.perf_counter()
        for _ in range(reps):
            draw(pair_probabilities(cands, settings, {3: 10}, 100), pyrng)
        out.append({"policy": policy,
                    "us_per_draw": round((time.perf_counter() - start) / reps * 1e6, 1)})
    return out


def api_cost(args: argparse.Namespace) -> dict[str, object]:
    """``POST /api/v1/battles`` per policy, interleaved in one run (SQLite, 50 contenders)."""
    import tempfile

    from arena import create_app
    from arena import db as arena_db
    from arena.models import (
        Base,
        Contender,
        LeaderboardSnapshot,
        Publication,
        SnapshotEntry,
        utcnow,
    )

    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/bench.sqlite3"
    apps = {}
    for policy in ("weighted", "adaptive"):
        apps[policy] = create_app({"DATABASE_URL": url, "SECRET_KEY": "x" * 32,
                                   "RATELIMIT_ENABLED": False, "SAMPLING_POLICY": policy},
                                  instance_path=f"{tmp}/{policy}")
    with apps["weighted"].app_context():
        Base.metadata.create_all(arena_db.engine_for())
        session = arena_db.session()
        now = utcnow()
        pub = Publication(data_cutoff=now, n_battles=1, battles_hash="h", code_version="b")
        snap = LeaderboardSnapshot(view="overall", n_battles=1, converged=True,
                                   gradient_norm=0.0)
        pub.snapshots.append(snap)
        for i in range(50):
            c = Contender(name=f"m{i}", base_url="http://127.0.0.1:9/v1", upstream_model="x")
            session.add(c)
            session.flush()
            if i < 49:
                snap.entries.append(SnapshotEntry(contender_id=c.id, rating=1000 + i,
                                                  ci_low=990 + i, ci_high=1010 + i, rank=50 - i,
                                                  rank_ub=50 - i, votes=5000))
        session.add(pub)
        session.commit()
    clients = {k: a.test_client() for k, a in apps.items()}
    times: dict[str, list[float]] = {k: [] for k in apps}
    for _ in range(args.api_requests):
        for policy, client in clients.items():
            start = time.perf_counter()
            response = client.post("/api/v1/battles", json={"prompt": "hello there"})
            times[policy].append(time.perf_counter() - start)
            assert response.status_code == 201, response.get_json()
    med = {k: float(np.median(v)) * 1000 for k, v in times.items()}
    return {"requests_each": args.api_requests,
            "median_ms": {k: round(v, 3) for k, v in med.items()},
            "adaptive_over_weighted": round(med["adaptive"] / med["weighted"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--board-votes", type=int, default=200_000)
    parser.add_argument("--max-battles", type=int, default=40_000)
    parser.add_argument("--refit", type=int, default=250)
    parser.add_argument("--hour", type=int, default=1000)
    parser.add_argument("--max-share", type=float, default=0.35)
    parser.add_argument("--settled-votes", type=int, default=30_000)
    parser.add_argument("--share-draws", type=int, default=50_000)
    parser.add_argument("--api-requests", type=int, default=400)
    parser.add_argument("--policies", default="uniform,boost-new,adaptive")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    results: dict[str, object] = {}
    policies = args.policies.split(",")
    results["newcomer"] = [newcomer(p, args) for p in policies]
    print(json.dumps(results["newcomer"], indent=1), flush=True)
    results["settled"] = [settled(p, args) for p in ("uniform", "adaptive")]
    print(json.dumps(results["settled"], indent=1), flush=True)
    results["shares"] = declared_vs_realised(args)
    results["cost"] = cost(args)
    results["api"] = api_cost(args)
    print(json.dumps({k: results[k] for k in ("shares", "cost", "api")}, indent=1), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
