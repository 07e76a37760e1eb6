"""Can open answer streams take the site down? gevent (shipped) vs gthread, side by side.

One run, same host, same PostgreSQL server, same data. For each worker class:

1. ``--streams`` battles are created and their streams opened at once against *hanging*
   endpoints (``_hang.py``, one cheap process: the endpoint accepts and never answers, or
   with ``--hang after-headers`` sends a stream's head and then nothing), and held open.
2. While they are open a probe loads ``GET /`` and ``GET /api/v1/leaderboard`` back to back
   for ``--hold`` seconds (timeout 5 s; a timeout or non-200 is a failure). Reported: success
   rate, p50/p99 latency, worker memory per open stream (RSS of the workers with the streams
   open minus before, divided by the streams admitted), and the CPU of each part while
   holding (workers, arbiter, hung endpoint, demo endpoint, PostgreSQL, this load generator)
   with the load average.
3. All clients vanish at once; reported is how long until the endpoint saw its upstream
   connections closed (the server noticed through its keep-alive writes and cancelled them).
4. Slowloris: ``--slowloris`` connections send a request's headers one byte per second while
   the probe runs for ``--slow-hold`` seconds.

    python benchmarks/web/stream_capacity.py --streams 1000 \
        --database postgresql://postgres@127.0.0.1:5499/postgres

The database named ``bench_streams`` on that server is dropped and re-created per class.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

FAST = {"Alpha": "demo-brief", "Beta": "demo-markdown", "Gamma": "demo-scholar"}
HANG = {"Hang-1": "fault-hang", "Hang-2": "fault-hang"}


def seed(port: int, rounds: int) -> None:
    """Voted battles and a published leaderboard, so the probed JSON is a real one."""
    for i in range(rounds):
        public_id, url, cookie = h.create_battle(port, f"Seed question number {i}?")
        h.read_stream(port, url, cookie)
        status, _, body = h.request(port, "POST", f"/api/v1/battles/{public_id}/vote",
                                    {"winner": ("model_a", "model_b", "tie")[i % 3]},
                                    cookie=cookie)
        assert status == 200, body


class Holder:
    """Many open stream connections drained by one thread with a selector."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.status: dict[int, str] = {}
        self.socks: list[socket.socket] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def open(self, port: int, url: str, cookie: str) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"GET {url} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\n\r\n".encode())
        sock.setblocking(False)
        with self.lock:
            self.socks.append(sock)
            self.selector.register(sock, selectors.EVENT_READ)

    def _drain(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                if not self.socks:
                    ready = []
                else:
                    ready = self.selector.select(timeout=0)
            if not ready:
                time.sleep(0.05)
                continue
            for key, _ in ready:
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                fd = sock.fileno()
                if fd not in self.status and data:
                    self.status[fd] = data.split(b" ", 2)[1].decode()
                if not data:
                    with self.lock:
                        self.selector.unregister(sock)
                    self.status.setdefault(fd, "closed")

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for value in list(self.status.values()):
            counts[value] = counts.get(value, 0) + 1
        return counts

    def close_all(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.socks:
            sock.close()


def probe(port: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + seconds
    paths = ("/", "/api/v1/leaderboard")
    i = 0
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            status, _, _ = h.request(port, "GET", paths[i % 2], timeout=5)
            ok = status == 200
        except OSError:
            ok = False
        latencies.append(time.monotonic() - start)
        failures += not ok
        i += 1
        time.sleep(0.02)
    n = len(latencies)
    return {"probes": n, "success": (n - failures) / n if n else 0.0,
            "p50_ms": 1000 * h.percentile(latencies, 0.5),
            "p99_ms": 1000 * h.percentile(latencies, 0.99)}


def slowloris(port: int, n: int, seconds: float) -> dict[str, Any]:
    socks = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
        socks.append(sock)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(1.0):
            for sock in socks:
                try:
                    sock.sendall(b"X")
                except OSError:
                    pass

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        return probe(port, seconds)
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in socks:
            sock.close()


def self_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def run(worker: str, args: argparse.Namespace, demo: tuple[str, int, int],
        hang: tuple[str, int, int], workdir: Path) -> dict[str, Any]:
    demo_url, _, demo_pid = demo
    hang_url, hang_port, hang_pid = hang
    url = h.fresh_database(args.database, "bench_streams")
    env = h.app_env(url, ARENA_WORKER_CLASS=worker, ARENA_WORKERS=str(args.workers))
    h.flask(env, "db", "upgrade")
    h.sync_contenders(env, demo_url, FAST, {}, workdir)
    port = h.free_port()
    with h.gunicorn(env, port, cpus=args.server_cpus) as server:
        seed(port, args.seed_rounds)
        h.flask(env, "leaderboard", "publish", "--min-battles", "1")
        h.sync_contenders(env, demo_url, HANG, FAST, workdir,
                          urls=dict.fromkeys(HANG, hang_url))
        workers = h.children(server.pid)
        probe(port, 2)  # warm both workers
        rss_before = h.rss_bytes(workers)
        with ThreadPoolExecutor(8) as pool:
            battles = list(pool.map(lambda _: h.create_battle(port), range(args.streams)))
        holder = Holder()
        opened = time.monotonic()
        for _, stream_url, cookie in battles:
            holder.open(port, stream_url, cookie)
        while time.monotonic() - opened < 60 and sum(holder.counts().values()) < args.streams:
            time.sleep(0.2)
        open_s = time.monotonic() - opened
        admitted = holder.counts().get("200", 0)
        # Every admitted stream holds two upstream connections once both sides are calling.
        while time.monotonic() - opened < 90 and h.established(hang_port) < 2 * admitted:
            time.sleep(0.2)
        upstream_s = time.monotonic() - opened
        time.sleep(2)
        counts = holder.counts()
        upstream = h.established(hang_port)
        postgres = h.postgres_pids(args.database)
        parts = {"workers": workers, "arbiter": [server.pid], "hung endpoint": [hang_pid],
                 "demo endpoint": [demo_pid], "postgres": postgres}
        load_before = h.loadavg()
        cpu_before = {name: h.cpu_seconds(pids) for name, pids in parts.items()}
        cpu_before["load generator"] = self_cpu_seconds()
        start = time.monotonic()
        held = probe(port, args.hold)
        wall = time.monotonic() - start
        cpu = {name: h.cpu_seconds(pids) - cpu_before[name] for name, pids in parts.items()}
        cpu["load generator"] = self_cpu_seconds() - cpu_before["load generator"]
        load_after = h.loadavg()
        rss_open = h.rss_bytes(workers)
        left = time.monotonic()
        holder.close_all()
        while time.monotonic() - left < 60 and h.established(hang_port) > 0:
            time.sleep(0.2)
        released_s = time.monotonic() - left
        remaining = h.established(hang_port)
        slow = slowloris(port, args.slowloris, args.slow_hold)
    return {"worker": worker, "streams": args.streams, "answered": counts,
            "admitted": admitted, "open_s": open_s, "upstream_s": upstream_s,
            "upstream_open": upstream, "probe": held,
            "cpu_hold_s": cpu["workers"],
            "cores_while_holding": {name: round(v / wall, 3) for name, v in cpu.items()},
            "load_before": load_before, "load_after": load_after,
            "rss_per_stream_kib": (rss_open - rss_before) / max(admitted, 1) / 1024,
            "rss_before_mib": rss_before / 2**20, "rss_open_mib": rss_open / 2**20,
            "released_s": released_s, "upstream_left": remaining, "slowloris": slow}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hold", type=float, default=30.0)
    parser.add_argument("--slowloris", type=int, default=64)
    parser.add_argument("--slow-hold", type=float, default=15.0)
    parser.add_argument("--seed-rounds", type=int, default=30)
    parser.add_argument("--classes", default="gevent,gthread")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5499/postgres")
    parser.add_argument("--hang", choices=("before-headers", "after-headers"),
                        default="before-headers",
                        help="the hung endpoints never answer, or send a stream's head and "
                             "then nothing")
    parser.add_argument("--server-cpus", default=None,
                        help="pin gunicorn (arbiter and workers) with taskset -c, e.g. 0,1")
    args = parser.parse_args()
    rows = []
    with h.demo_server(delay=0.0) as (demo_url, demo_port), \
            h.hang_server(headers=args.hang == "after-headers") as hang, \
            tempfile.TemporaryDirectory() as tmp:
        demo_pid = h.listener_pid(demo_port)
        for worker in args.classes.split(","):
            row = run(worker, args, (demo_url, demo_port, demo_pid), hang, Path(tmp))
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(f"\n{args.streams} streams on hanging endpoints, {args.workers} workers, "
          f"probe {args.hold:.0f} s; slowloris {args.slowloris} connections; "
          f"gunicorn pinned to CPUs {args.server_cpus or '(not pinned)'}; endpoints hang "
          f"{args.hang}")
    print("| worker | streams answered | upstream open | `/` + leaderboard success | p50 ms |"
          " p99 ms | RSS / stream KiB | worker CPU while holding, s | upstream closed after"
          " clients left, s | slowloris success | slowloris p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p, s = r["probe"], r["slowloris"]
        print(f"| {r['worker']} | {r['answered']} | {r['upstream_open']} |"
              f" {100 * p['success']:.1f}% of {p['probes']} | {p['p50_ms']:.0f} |"
              f" {p['p99_ms']:.0f} | {r['rss_per_stream_kib']:.0f} | {r['cpu_hold_s']:.1f} |"
              f" {r['released_s']:.1f} ({r['upstream_left']} left) |"
              f" {100 * s['success']:.1f}% of {s['probes']} | {s['p99_ms']:.0f} |")
    print("\nCPU while holding, in cores (CPU seconds / probe seconds); load average before -> "
          "after")
    for r in rows:
        print(f"- {r['worker']}: " + ", ".join(
            f"{name} {v:.2f}" for name, v in r["cores_while_holding"].items())
            + f"; load {r['load_before']} -> {r['load_after']}")


if __name__ == "__main__":
    main()
