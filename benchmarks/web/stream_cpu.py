"""Worker CPU per delivered token: today's stream path vs ours vs a bare relay, one run.

The demo endpoint streams long answers (demo-verbose vs demo-scholar) at ``--delay`` s per
token (0.02 = 50 tokens/s per side, a realistic model). ``--battles`` browsers each run
``--rounds`` full battles (create + stream) at once against ONE gunicorn worker; the worker's
CPU time (utime + stime from /proc) over the whole load, divided by the tokens the browsers
received, is its CPU per token. Modes, all against the same endpoint in the same run:

* ``relay``  - ``_relay.py``: the same two upstream streams forwarded byte for byte (floor);
* ``today``  - the code at ``--baseline`` (git revision) with its own gunicorn.conf.py;
* ``ours``   - this tree as shipped (gevent worker);
* ``ours-gthread`` - this tree on gthread workers (separates framing from the worker class);
* ``today-instant``, ``ours-instant`` - the same battles from an endpoint that answers at once
  (no delay): what a battle costs besides streaming over time (creating it, the requests,
  parsing, storing and rendering the answers), so ``mode - mode-instant`` is the streaming.

Then huggingface_hub's share of the remaining stream CPU is profiled in-process (cProfile
over ``arena.inference.stream_pair`` with the same endpoint and framing).

    python benchmarks/web/stream_cpu.py --battles 16 --rounds 2 --delay 0.01 \
        --modes relay,today,ours,today-instant,ours-instant \
        --database postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

sys.path.insert(0, str(h.REPO))

MODELS = {"Verbose": "demo-verbose", "Scholar": "demo-scholar"}


def _tokens_in_events(raw: str) -> int:
    from arena.demo_endpoint import _pieces
    texts: dict[str, str] = {"a": "", "b": ""}
    for name, data in h.sse_events(raw):
        if name == "delta":
            texts[data["side"]] += data["text"]
    return sum(len(_pieces(t)) for t in texts.values())


def _battle_round(port: int, rounds: int) -> int:
    tokens = 0
    for i in range(rounds):
        _, url, cookie = h.create_battle(port, f"Tell me about bridges, part {i}.")
        tokens += _tokens_in_events(h.read_stream(port, url, cookie, timeout=300))
    return tokens


def _relay_round(port: int, rounds: int, demo_url: str) -> int:
    tokens = 0
    for _ in range(rounds):
        path = (f"/relay?url={demo_url}/chat/completions&a=demo-verbose&b=demo-scholar")
        body = h.request(port, "GET", path, timeout=300)[2]
        tokens += body.count(b'"delta": {"content": ')
    return tokens


def measure(mode: str, args: argparse.Namespace, demo_url: str, workdir: Path,
            baseline: Path) -> dict[str, Any]:
    port = h.free_port()
    cwd = baseline if mode.startswith("today") else h.REPO
    env: dict[str, str]
    if mode == "relay":
        env = h.app_env("sqlite://", PYTHONPATH=str(h.REPO / "benchmarks/web"))
        server = h.gunicorn(env, port, "--workers", "1", app="_relay:app")
    else:
        url = h.fresh_database(args.database, args.db_name)
        env = h.app_env(url, PYTHONPATH=str(cwd))
        if mode == "ours-gthread":
            env["ARENA_WORKER_CLASS"] = "gthread"
        h.flask(env, "db", "upgrade", cwd=cwd)
        h.sync_contenders(env, demo_url, MODELS, {}, workdir, cwd=cwd)
        server = h.gunicorn(env, port, "--workers", "1", cwd=cwd)
    with server as proc:
        workers = h.children(proc.pid)
        if mode == "relay":
            _relay_round(port, 1, demo_url)  # warm-up
        else:
            _battle_round(port, 1)
        cpu0 = h.cpu_seconds(workers)
        wall0 = time.monotonic()
        with ThreadPoolExecutor(args.battles) as pool:
            if mode == "relay":
                counts = list(pool.map(lambda _: _relay_round(port, args.rounds, demo_url),
                                       range(args.battles)))
            else:
                counts = list(pool.map(lambda _: _battle_round(port, args.rounds),
                                       range(args.battles)))
        wall = time.monotonic() - wall0
        cpu = h.cpu_seconds(workers) - cpu0
    tokens = sum(counts)
    return {"mode": mode, "tokens": tokens, "cpu_s": cpu, "wall_s": wall,
            "us_per_token": 1e6 * cpu / max(tokens, 1), "cpu_share": cpu / wall}


def hub_share(demo_url: str, answers: int) -> dict[str, float]:
    """huggingface_hub's share of in-process stream CPU (cProfile, tottime by file)."""
    from arena.battles.generation import FRAME_S
    from arena.inference import Endpoint, _Call, _stream
    messages = [{"role": "user", "content": "Tell me about bridges."}]
    profile = cProfile.Profile(time.process_time)  # CPU time, not time spent waiting
    # One side's reader, in this thread (cProfile sees only the thread it runs in), with the
    # pacing the pair reader uses.
    profile.enable()
    for i in range(answers):
        endpoint = Endpoint(demo_url, ("demo-verbose", "demo-scholar")[i % 2])
        for _event in _stream(endpoint, messages, _Call(), FRAME_S):
            pass
    profile.disable()
    stats = pstats.Stats(profile)
    total = hub = httpx = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        if "huggingface_hub" in filename:
            hub += tottime
        elif any(name in filename for name in ("httpx2", "httpcore2", "/h11/")):
            httpx += tottime
    return {"huggingface_hub": hub / total, "httpx2/httpcore2/h11": httpx / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--baseline", default="b04b6de")
    parser.add_argument("--modes", default="relay,today,ours,ours-gthread")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5499/postgres")
    # Another name lets two runs (two worktrees) share the server without dropping each other's.
    parser.add_argument("--db-name", default="bench_cpu")
    args = parser.parse_args()
    rows = []
    with h.demo_server(delay=args.delay) as (demo_url, _), \
            tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "baseline"
        baseline.mkdir()
        archive = subprocess.run(["git", "archive", args.baseline], cwd=h.REPO, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        for mode in [m for m in args.modes.split(",") if m]:
            if mode.endswith("-instant"):
                with h.demo_server(delay=0.0) as (instant_url, _):
                    row = measure(mode.removesuffix("-instant"), args, instant_url, Path(tmp),
                                  baseline)
                row["mode"] = mode
            else:
                row = measure(mode, args, demo_url, Path(tmp), baseline)
            print(json.dumps(row), flush=True)
            rows.append(row)
        share = hub_share(demo_url, 4)
    by_mode = {r["mode"]: r for r in rows}
    print(f"\n{args.battles} concurrent browsers x {args.rounds} battles, demo delay "
          f"{args.delay} s/token per side, one gunicorn worker")
    print("| mode | tokens delivered | worker CPU, s | wall, s | CPU µs / token |"
          " vs relay | vs today |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        relay = by_mode.get("relay", r)["us_per_token"]
        today = by_mode.get("today", r)["us_per_token"]
        print(f"| {r['mode']} | {r['tokens']} | {r['cpu_s']:.1f} | {r['wall_s']:.1f} |"
              f" {r['us_per_token']:.0f} | {r['us_per_token'] / relay:.2f}x |"
              f" {today / r['us_per_token']:.1f}x lower |")
    print(f"huggingface_hub share of in-process stream CPU: {100 * share['huggingface_hub']:.1f}%"
          f"; httpx2/httpcore2/h11: {100 * share['httpx2/httpcore2/h11']:.1f}%")
    for name in ("today", "ours"):
        if name in by_mode and f"{name}-instant" in by_mode:
            streaming = by_mode[name]["us_per_token"] - by_mode[f"{name}-instant"]["us_per_token"]
            print(f"{name}: streaming over time {streaming:.0f} µs/token, the rest of a battle "
                  f"{by_mode[f'{name}-instant']['us_per_token']:.0f} µs/token")
    if "ours" in by_mode:
        ours = by_mode["ours"]
        # Measured, not assumed: the demo's real pace (its delay plus its own overhead).
        rate = ours["tokens"] / ours["wall_s"] / args.battles / 2
        per_battle = ours["cpu_share"] / args.battles  # cores one answering battle keeps busy
        print(f"CPU-bound capacity at {rate:.0f} tokens/s per side: {1 / per_battle:.0f} "
              f"concurrent answering battles ({2 / per_battle:.0f} streams) per core; at 50 "
              f"tokens/s per side at least {1e6 / (100 * ours['us_per_token']):.0f} per core")

if __name__ == "__main__":
    main()
