"""Do long answer streams starve other requests? gthread (ours) vs gunicorn's sync worker.

One run, same machine, same app, same data: the demo endpoint streams slowly (``--delay``
seconds between chunks, so each battle streams for several seconds); ``--streams`` browsers
hold a battle stream open at once while a probe loads the home page and the leaderboard JSON
every 100 ms and records its latency. Reported per worker class: probe latency (median, p95,
max; a probe with no answer within 5 s counts as 5 s), probes that failed, and how many
streams completed.

    .venv/bin/python benchmarks/web/streams.py [--streams 24] [--delay 0.05]

Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from arena import demo_endpoint  # noqa: E402

CONTENDERS = """contenders:
  - {name: Alpha, base_url: "%(url)s", model: demo-verbose}
  - {name: Beta, base_url: "%(url)s", model: demo-markdown}
  - {name: Gamma, base_url: "%(url)s", model: demo-scholar}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


def _stream_once(base: str) -> bool:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = json.dumps({"prompt": "Plan a week of vegetarian dinners."}).encode()
    request = urllib.request.Request(f"{base}/api/v1/battles", data=body,
                                     headers={"Content-Type": "application/json"})
    with opener.open(request, timeout=30) as response:
        stream_url = json.load(response)["stream_url"]
    with opener.open(f"{base}{stream_url}", timeout=120) as response:
        return b"event: end" in response.read()


def _probe(base: str, stop: threading.Event, latencies: list[float], failures: list[str]) -> None:
    paths = ("/", "/api/v1/leaderboard/snapshots")
    for i in range(2000):  # bounded; stops earlier when the streams are done
        if stop.is_set():
            return
        start = time.monotonic()
        try:
            with urllib.request.urlopen(base + paths[i % 2], timeout=5) as response:
                response.read()
            latencies.append(time.monotonic() - start)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            failures.append(type(exc).__name__)
            # A probe that got no answer counts at the 5 s limit in the percentiles.
            latencies.append(max(5.0, time.monotonic() - start))
        time.sleep(0.1)


def run(worker: str, n_streams: int, demo_url: str, workdir: Path) -> dict[str, object]:
    db = workdir / f"{worker}.sqlite3"
    env = {**os.environ, "ARENA_DATABASE_URL": f"sqlite:///{db}",
           "ARENA_RATELIMIT_ENABLED": "false", "ARENA_SECRET_KEY": "bench-secret-0123456789"}
    flask = [str(REPO / ".venv/bin/flask"), "--app", "wsgi"]
    contenders = workdir / "contenders.yaml"
    contenders.write_text(CONTENDERS % {"url": demo_url})
    subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    subprocess.run([*flask, "contenders", "sync", str(contenders)], cwd=REPO, env=env,
                   check=True, capture_output=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The same two processes either way; only the worker class (and its threads) differ.
    # (gunicorn silently upgrades "sync" to gthread when threads > 1, hence --threads 1.)
    extra = ["--worker-class", "sync", "--threads", "1"] if worker == "sync" else []
    server = subprocess.Popen(
        [str(REPO / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", *extra, "wsgi:app"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        _wait_up(base + "/", time.monotonic() + 30)
        latencies: list[float] = []
        failures: list[str] = []
        stop = threading.Event()
        probe = threading.Thread(target=_probe, args=(base, stop, latencies, failures))
        results: list[bool] = []
        lock = threading.Lock()

        def one_stream() -> None:
            try:
                ok = _stream_once(base)
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                ok = False
            with lock:
                results.append(ok)

        streams = [threading.Thread(target=one_stream) for _ in range(n_streams)]
        started = time.monotonic()
        probe.start()
        for thread in streams:
            thread.start()
        for thread in streams:
            thread.join(timeout=300)
        wall = time.monotonic() - started
        stop.set()
        probe.join(timeout=10)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    ordered = sorted(latencies) or [float("nan")]
    return {
        "worker": worker, "streams": n_streams, "completed": sum(results), "wall_s": wall,
        "probes": len(latencies), "probe_failures": len(failures),
        "median_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=24)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    rows = []
    with demo_endpoint.start(port=0, delay=args.delay) as demo, \
            tempfile.TemporaryDirectory() as tmp:
        for worker in ("gthread", "sync"):
            rows.append(run(worker, args.streams, demo.url, Path(tmp)))
    print(f"{args.streams} concurrent streams, demo delay {args.delay} s/chunk, 2 workers each")
    print("| worker | streams completed | wall, s | probes | probe failures | median ms |"
          " p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['worker']} | {row['completed']}/{row['streams']} | {row['wall_s']:.1f} |"
              f" {row['probes']} | {row['probe_failures']} | {row['median_ms']:.0f} |"
              f" {row['p95_ms']:.0f} | {row['max_ms']:.0f} |")
    ours, sync = rows
    print(f"p95 probe latency, sync / gthread: {sync['p95_ms'] / ours['p95_ms']:.1f}x; "
          f"wall time for all streams: {sync['wall_s'] / ours['wall_s']:.1f}x")


if __name__ == "__main__":
    main()
