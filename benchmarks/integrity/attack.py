"""Rigging attacks through our own pipeline: rows in SQL, then `flask leaderboard publish`.

One seeded honest arena (100 contenders, Zipf-active pseudonyms, Davidson BT outcomes with
about 30% ties), then for each scenario the attacker's pseudonyms and votes are written as
battle/vote rows, the board is published twice through the real CLI command (once with the
integrity screen off: undefended; once on: defended) and the attack rows are deleted again.

Attackers identify models perfectly and see K battles, sampled by the platform like everyone
else's:

* ``target``: vote only in battles with the target, always for it;
* ``omni``: vote in every battle seen: for the target when it is there, against the 10
  contenders ranked just above it when one of them is there, honestly otherwise.

Rerun: ``nice -n 10 .venv/bin/python benchmarks/integrity/attack.py`` (``--help``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from arena import create_app, db  # noqa: E402
from arena.integrity import simulate, stats  # noqa: E402
from arena.integrity.models import PublicationFilter, VoterFlag  # noqa: E402
from arena.leaderboard.facts import sync_facts  # noqa: E402
from arena.models import (  # noqa: E402
    Base,
    Battle,
    BattleFact,
    Contender,
    LeaderboardSnapshot,
    Publication,
    Vote,
    Voter,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINNER = np.array(["model_a", "model_b", "tie"])
ESTABLISHED_RANK, NEW_RANK = 30, 45  # true ranks (1-based) of the two targets
RIVALS = 10


def build_world(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    n = args.models
    theta = np.sort(rng.normal(0.0, 0.6, n))[::-1]  # about 100 Elo standard deviation
    model = stats.TieModel(theta, args.log_nu)
    weight = np.ones(n)
    est, new = ESTABLISHED_RANK - 1, NEW_RANK - 1
    # the targets keep the evidence whatever the arena's size: an established model
    # with ~20,000 honest battles, a new one with ~3,000
    per_model = 2 * args.honest / n
    weight[est] = 20_000 / per_model
    weight[new] = 3_000 / per_model
    a, b, o, v = simulate.honest(rng, model, args.honest, args.voters, item_weight=weight)
    return {"rng": rng, "model": model, "weight": weight, "a": a, "b": b, "o": o, "v": v,
            "targets": {"established": est, "new": new}}


def attack(world: dict[str, Any], kind: str, target: int, n_pseudonyms: int,
           seen: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng, model = world["rng"], world["model"]
    a, b = simulate.random_pairs(rng, seen, model.theta.shape[0], world["weight"])
    who = np.arange(seen) % n_pseudonyms
    has_target = (a == target) | (b == target)
    vote_for_target = np.where(a == target, stats.A_WINS, stats.B_WINS)
    if kind == "target":
        return a[has_target], b[has_target], vote_for_target[has_target], who[has_target]
    rivals = np.arange(max(0, target - RIVALS), target)  # true ranks just above the target
    ra, rb = np.isin(a, rivals), np.isin(b, rivals)
    honest = simulate.sample_outcomes(rng, model, a, b)
    # against a rival; with two rivals, for the one rated lower (further from the target)
    against = np.where(ra & rb, np.where(a > b, stats.A_WINS, stats.B_WINS),
                       np.where(ra, stats.B_WINS, stats.A_WINS))
    o = np.where(has_target, vote_for_target, np.where(ra | rb, against, honest))
    return a, b, o, who


def _battle_rows(a: np.ndarray, b: np.ndarray, o: np.ndarray, voters: list[str],
                 who: np.ndarray, ids: list[int], start: int,
                 seconds: np.ndarray) -> tuple[list[dict], list[dict]]:
    battles, votes = [], []
    for k, (x, y, z, w, sec) in enumerate(zip(a.tolist(), b.tolist(), o.tolist(), who.tolist(),
                                              seconds.tolist(), strict=True)):
        at = T0 + timedelta(seconds=sec)
        battles.append({"id": start + k + 1, "public_id": secrets.token_urlsafe(24),
                        "voter_id": voters[w], "contender_a_id": ids[x], "contender_b_id": ids[y],
                        "state": "voted", "anony": True, "source": "arena", "flagged": False,
                        "release_consent": False, "created_at": at, "updated_at": at})
        votes.append({"battle_id": start + k + 1, "winner": str(WINNER[z]),
                      "voter_id": voters[w], "created_at": at})
    return battles, votes


def insert_battles(session: Any, a: np.ndarray, b: np.ndarray, o: np.ndarray, who: np.ndarray,
                   voters: list[str], ids: list[int], start: int,
                   seconds: np.ndarray | None = None) -> None:
    """Battles ``start + 1, …`` voted at ``T0 + seconds`` (default: one a second from
    ``start``)."""
    session.execute(insert(Voter), [{"id": v, "created_at": T0} for v in voters])
    if seconds is None:
        seconds = start + np.arange(a.shape[0], dtype=float)
    chunk = 50_000
    for lo in range(0, a.shape[0], chunk):
        sl = slice(lo, lo + chunk)
        battles, votes = _battle_rows(a[sl], b[sl], o[sl], voters, who[sl], ids, start + lo,
                                      seconds[sl])
        session.execute(insert(Battle), battles)
        session.execute(insert(Vote), votes)
    after_insert(session)


def after_insert(session: Any) -> None:
    """Derive the per-battle facts as the vote path would (publish would sync them too)."""
    sync_facts(session)


def publish(app: Any, screen: bool) -> dict[str, Any]:
    app.config["INTEGRITY_SCREEN"] = screen
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["leaderboard", "publish"])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    with app.app_context():
        s = db.session()
        pub = s.scalars(select(Publication).order_by(Publication.id.desc()).limit(1)).one()
        snap = s.scalars(select(LeaderboardSnapshot).where(
            LeaderboardSnapshot.publication_id == pub.id,
            LeaderboardSnapshot.view == "overall")).one()
        entries = {e.contender_id: e for e in snap.entries}
        flags = set(s.scalars(select(VoterFlag.voter_id).where(
            VoterFlag.publication_id == pub.id)))
        filters = {f.name: (f.votes_removed, f.voters_removed) for f in s.scalars(
            select(PublicationFilter).where(PublicationFilter.publication_id == pub.id))}
        two_stage = set(s.scalars(select(VoterFlag.voter_id).where(
            VoterFlag.publication_id == pub.id, VoterFlag.statistic == "two_stage")))
        selective = set(s.scalars(select(VoterFlag.voter_id).where(
            VoterFlag.publication_id == pub.id, VoterFlag.statistic == "selective")))
        summary = (pub.settings or {}).get("integrity_summary") or {}
        out = {"seconds": seconds, "flags": flags, "two_stage": two_stage,
               "selective": selective, "filters": filters,
               "uneven": sorted(int(c) for c in summary.get("uneven_contenders", {})),
               "median_gap": (snap.extra.get("ranking") or {}).get("median_gap"),
               "rank": {cid: e.rank for cid, e in entries.items()},
               # what the site publishes: the snapshot entry's flag (ranking.apply's rule)
               "provisional": {cid: bool(e.provisional) for cid, e in entries.items()},
               "half_width": {cid: (e.ci_high - e.ci_low) / 2 for cid, e in entries.items()},
               "fragility": (snap.extra.get("fragility") or {}).get("seconds")}
        s.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--honest", type=int, default=200_000)
    parser.add_argument("--voters", type=int, default=12_000)
    parser.add_argument("--seen", type=int, default=10_000, help="K, battles the attacker sees")
    parser.add_argument("--log-nu", type=float, default=0.05, help="Davidson tie parameter")
    parser.add_argument("--bootstrap", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    world = build_world(args)
    tmp = Path(tempfile.mkdtemp(prefix="integrity-bench-"))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                      "SECRET_KEY": "bench-secret-key-0123456789", "RATELIMIT_ENABLED": False,
                      "LEADERBOARD_BOOTSTRAP": args.bootstrap}, instance_path=str(tmp / "inst"))
    honest_voters = [secrets.token_hex(16) for _ in range(args.voters)]
    with app.app_context():
        s = db.session()
        Base.metadata.create_all(s.get_bind())
        s.add_all(Contender(name=f"model-{i:03d}", organization="bench", license="MIT",
                            base_url="", upstream_model=f"m{i}") for i in range(args.models))
        s.flush()
        ids = list(s.scalars(select(Contender.id).order_by(Contender.id)))
        insert_battles(s, world["a"], world["b"], world["o"], world["v"], honest_voters, ids, 0)
        s.commit()
    votes_per_voter = np.bincount(world["v"], minlength=args.voters)
    honest_testable = {honest_voters[i] for i in np.flatnonzero(votes_per_voter >= 5)}
    print(f"honest arena: {args.honest} battles, {args.voters} pseudonyms "
          f"({len(honest_testable)} with >= 5 votes), ties {np.mean(world['o'] == 2):.1%}, "
          f"loaded in {time.perf_counter() - started:.0f} s", flush=True)

    base = publish(app, screen=True)
    app.config["INTEGRITY_FRAGILITY_TOP"] = 0  # measured once, on the honest board
    base_raw = publish(app, screen=False)
    rows = [{"scenario": "honest only", "flagged_honest": len(base["flags"]),
             "honest_testable": len(honest_testable),
             "honest_votes_removed": base["filters"].get("flagged_voters", (0, 0))[0],
             "uneven_contenders": len(base["uneven"]),
             "provisional_share": round(float(np.mean(list(base["provisional"].values()))), 3),
             "median_gap": base["median_gap"],
             "seconds": round(base["seconds"], 1), "fragility_s": base["fragility"]}]
    print(json.dumps(rows[-1]), flush=True)
    next_id = args.honest
    for which, target in world["targets"].items():
        cid = ids[target]
        for kind in ("target", "omni"):
            for n_ps in (10, 100):
                a, b, o, who = attack(world, kind, target, n_ps, args.seen)
                riggers = [secrets.token_hex(16) for _ in range(n_ps)]
                # the attack runs alongside the honest traffic, not after it
                seconds = np.sort(world["rng"].uniform(0, args.honest, a.shape[0]))
                with app.app_context():
                    s = db.session()
                    insert_battles(s, a, b, o, who, riggers, ids, next_id, seconds)
                    s.commit()
                undefended = publish(app, screen=False)
                defended = publish(app, screen=True)
                flagged = defended["flags"]
                true_pos = len(flagged & set(riggers))
                removed = defended["filters"].get("flagged_voters", (0, 0))[0]
                rigged_removed = int(sum(np.isin(who, [i for i, r in enumerate(riggers)
                                                       if r in flagged])))
                row = {
                    "scenario": f"{which} target, {kind}, N={n_ps}", "votes": int(a.shape[0]),
                    "target_votes": int(np.sum((a == target) | (b == target))),
                    "rank_honest": base_raw["rank"][cid],
                    "rank_undefended": undefended["rank"][cid],
                    "rank_defended": defended["rank"][cid],
                    "gain_undefended": base_raw["rank"][cid] - undefended["rank"][cid],
                    "gain_defended": base["rank"][cid] - defended["rank"][cid],
                    "provisional_defended": defended["provisional"][cid],
                    "provisional_share": round(float(np.mean(list(
                        defended["provisional"].values()))), 3),
                    "half_width": round(defended["half_width"][cid], 1),
                    "median_gap": defended["median_gap"],
                    "uneven_contenders": len(defended["uneven"]),
                    "target_uneven": cid in defended["uneven"],
                    "flagged_by_two_stage_only": len(defended["two_stage"]),
                    "strongest_selective": len(defended["selective"] & set(riggers)),
                    "precision": true_pos / len(flagged) if flagged else None,
                    "recall": true_pos / n_ps,
                    "flagged_honest": len(flagged - set(riggers)),
                    "honest_votes_removed": removed - rigged_removed,
                    "seconds": round(undefended["seconds"] + defended["seconds"], 1),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
                with app.app_context():
                    s = db.session()
                    s.execute(delete(BattleFact).where(BattleFact.battle_id > next_id))
                    s.execute(delete(Vote).where(Vote.battle_id > next_id))
                    s.execute(delete(Battle).where(Battle.id > next_id))
                    s.execute(delete(Voter).where(Voter.id.in_(riggers)))
                    s.commit()
    result = {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows,
              "honest_votes": args.honest, "total_seconds": round(time.perf_counter() - started)}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"done in {result['total_seconds']} s; wrote {args.out}")


if __name__ == "__main__":
    main()
