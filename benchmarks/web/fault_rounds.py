"""Full rounds through faults: ``kill -9`` of a gunicorn worker and a PostgreSQL restart.

``--clients`` browsers run full rounds (create, stream, vote) against gunicorn (shipped
configuration: gevent, 2 workers) on a *dedicated* PostgreSQL cluster for ``--duration``
seconds. At 25% of the run one worker is killed with SIGKILL; at 60% the cluster is restarted
(``pg_ctlcluster <version> <cluster> restart``; its duration is reported). A browser whose
stream breaks does what the page does: it reads the battle and streams again (a battle whose
generator died becomes streamable once its heartbeat is stale), for up to 3 minutes; a vote
whose answer was lost is re-sent (409 ``already_voted`` then means it had landed).

After the run and a further 2 minutes, reported: acknowledged votes lost (acknowledged but
not in the database, or stored with another winner), duplicates (votes stored twice or not
acknowledged by anyone), battles still stuck in ``generating`` after an owner read, and
latencies.

    python benchmarks/web/fault_rounds.py --cluster 15/bench8b \
        --database postgresql://postgres@127.0.0.1:5499/postgres

Never point it at a cluster others use: it restarts the cluster.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

MODELS = {"Alpha": "demo-brief", "Beta": "demo-markdown", "Gamma": "demo-scholar"}
WINNERS = ("model_a", "model_b", "tie", "both_bad")


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}  # battle id -> winner the server acknowledged
        self.lat: dict[str, list[float]] = {"create": [], "stream": [], "vote": [],
                                            "round": []}
        self.errors: dict[str, int] = {}
        self.retried_streams = 0
        self.gave_up = 0
        self.owners: dict[str, str] = {}  # battle id -> cookie

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


def _stream_until_ready(port: int, public_id: str, url: str, cookie: str,
                        stats: Stats) -> bool:
    deadline = time.monotonic() + 180
    first = True
    while time.monotonic() < deadline:
        if not first:
            with stats.lock:
                stats.retried_streams += 1
            time.sleep(3)
            try:
                status, _, body = h.request(port, "GET", f"/api/v1/battles/{public_id}",
                                            cookie=cookie, timeout=10)
            except (OSError, http.client.HTTPException):
                stats.error("state read: connection")
                continue
            if status != 200:
                stats.error(f"state read: {status}")
                continue
            state = json.loads(body)["state"]
            if state == "ready":
                return True
            if state in ("failed", "abandoned", "voted"):
                return False
            if state == "generating":
                continue  # its generator may still be alive; wait for it or its staleness
        first = False
        started = time.monotonic()
        try:
            raw = h.read_stream(port, url, cookie, timeout=60)
        except (OSError, http.client.HTTPException):
            stats.error("stream: cut")
            continue
        events = h.sse_events(raw)
        with stats.lock:
            stats.lat["stream"].append(time.monotonic() - started)
        if events and events[-1][0] == "end" and events[-1][1]["state"] == "ready":
            return True
        codes = [d.get("code") for n, d in events if n == "error"]
        stats.error(f"stream: {codes[0] if codes else 'cut'}")
    return False


def _vote(port: int, public_id: str, cookie: str, winner: str, stats: Stats) -> None:
    for _ in range(30):
        started = time.monotonic()
        try:
            status, _, body = h.request(port, "POST", f"/api/v1/battles/{public_id}/vote",
                                        {"winner": winner}, cookie=cookie, timeout=20)
        except (OSError, http.client.HTTPException):
            stats.error("vote: connection")
            time.sleep(1)
            continue
        if status == 200 or (status == 409 and b"already_voted" in body):
            with stats.lock:
                stats.acked[public_id] = winner
                stats.lat["vote"].append(time.monotonic() - started)
            return
        stats.error(f"vote: {status}")
        time.sleep(1)


def browser(port: int, stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    cookie: str | None = None
    while not stop.is_set():
        round_started = time.monotonic()
        try:
            started = time.monotonic()
            public_id, url, cookie = h.create_battle(port, f"Question {rng.random():.6f}?",
                                                     cookie=cookie)
            with stats.lock:
                stats.lat["create"].append(time.monotonic() - started)
                stats.owners[public_id] = cookie
        except (OSError, http.client.HTTPException, RuntimeError) as exc:
            stats.error(f"create: {str(exc)[:40]}")
            time.sleep(1)
            continue
        if not _stream_until_ready(port, public_id, url, cookie, stats):
            with stats.lock:
                stats.gave_up += 1
            continue
        _vote(port, public_id, cookie, rng.choice(WINNERS), stats)
        with stats.lock:
            stats.lat["round"].append(time.monotonic() - round_started)


def psql(url: str, sql: str) -> list[list[str]]:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    out = subprocess.run(["psql", "-h", parts.hostname or "127.0.0.1", "-p",
                          str(parts.port), "-U", parts.username or "postgres",
                          "-d", parts.path.lstrip("/"), "-AtF", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--delay", type=float, default=0.01)
    parser.add_argument("--cluster", default="15/bench8b", help="VERSION/NAME for pg_ctlcluster")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5499/postgres")
    parser.add_argument("--settle", type=float, default=120.0)
    args = parser.parse_args()
    version, cluster = args.cluster.split("/")
    stats = Stats()
    faults: dict[str, Any] = {}
    with h.demo_server(delay=args.delay) as (demo_url, _), \
            tempfile.TemporaryDirectory() as tmp:
        url = h.fresh_database(args.database, "bench_fault")
        env = h.app_env(url)
        h.flask(env, "db", "upgrade")
        h.sync_contenders(env, demo_url, MODELS, {}, Path(tmp))
        port = h.free_port()
        with h.gunicorn(env, port, "--workers", "2") as server:
            stop = threading.Event()
            browsers = [threading.Thread(target=browser, args=(port, stop, stats, i))
                        for i in range(args.clients)]
            started = time.monotonic()
            for thread in browsers:
                thread.start()
            time.sleep(0.25 * args.duration)
            victim = h.children(server.pid)[0]
            os.kill(victim, signal.SIGKILL)
            faults["killed_worker_at_s"] = round(time.monotonic() - started, 1)
            time.sleep(0.35 * args.duration)
            t0 = time.monotonic()
            subprocess.run(["pg_ctlcluster", version, cluster, "restart"], check=True)
            faults["pg_restart_s"] = round(time.monotonic() - t0, 2)
            faults["pg_restart_at_s"] = round(t0 - started, 1)
            time.sleep(max(0.0, args.duration - (time.monotonic() - started)))
            stop.set()
            for thread in browsers:
                thread.join(timeout=240)
            faults["load_s"] = round(time.monotonic() - started, 1)
            time.sleep(args.settle)
            # The owners look at their unfinished battles (what reopening the page does).
            stuck_before = [r[0] for r in psql(url, "SELECT public_id FROM battle "
                                                    "WHERE state = 'generating'")]
            for public_id in stuck_before:
                cookie = stats.owners.get(public_id)
                if cookie:
                    try:
                        h.request(port, "GET", f"/api/v1/battles/{public_id}", cookie=cookie)
                    except (OSError, http.client.HTTPException):
                        stats.error("owner read")
    votes = {r[0]: r[1] for r in psql(url, "SELECT b.public_id, v.winner FROM vote v "
                                           "JOIN battle b ON b.id = v.battle_id")}
    vote_rows = int(psql(url, "SELECT count(*) FROM vote")[0][0])
    states = dict((r[0], int(r[1])) for r in psql(url, "SELECT state, count(*) FROM battle "
                                                      "GROUP BY state"))
    lost = [b for b, w in stats.acked.items() if votes.get(b) != w]
    unacked = [b for b in votes if b not in stats.acked]
    result = {
        **faults, "clients": args.clients, "acknowledged_votes": len(stats.acked),
        "votes_stored": vote_rows, "acknowledged_votes_lost": len(lost),
        "duplicates": vote_rows - len(votes), "stored_but_unacknowledged": len(unacked),
        "generating_after_settle": len(stuck_before),
        "stuck_after_owner_read": states.get("generating", 0), "battle_states": states,
        "stream_retries": stats.retried_streams, "rounds_given_up": stats.gave_up,
        "errors_seen": stats.errors,
        "latency_ms": {k: {"p50": round(1000 * h.percentile(v, 0.5)),
                           "p99": round(1000 * h.percentile(v, 0.99)), "n": len(v)}
                       for k, v in stats.lat.items()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
