"""Whole-command time of "nothing new": `flask --app wsgi leaderboard publish` on a database
whose publication is up to date, this checkout against another one, runs alternating.

The publish itself is an index lookup (~0.04 s at any size, see README), so what this measures
is the command's start-up: the interpreter and the app's imports.

    python benchmarks/publish/startup.py --before /tmp/before [--runs 8]

(``/tmp/before``: ``git archive <commit> | tar -x -C /tmp/before``.) Prints one JSON line per
run and a Markdown row per revision: median wall and user CPU seconds, and the range.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _publish(tree: Path, env: dict[str, str]) -> dict[str, float]:
    argv = [sys.executable, "-m", "flask", "--app", "wsgi", "leaderboard", "publish"]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"publish failed in {tree}:\n{err[-2000:]}")
    return {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "up_to_date": float(out.startswith("up to date"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve(), "this checkout": ROOT}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = {**os.environ, "ARENA_DATABASE_URL": f"sqlite:///{tmp}/arena.sqlite3",
               "ARENA_LOG_LEVEL": "WARNING"}
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        _publish(ROOT, env)  # the first publication; every run below finds nothing new
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for k in range(args.runs):
            order = list(trees.items()) if k % 2 == 0 else list(trees.items())[::-1]
            for name, tree in order:
                run = _publish(tree, env)
                if not run["up_to_date"]:
                    raise RuntimeError(f"{name} did not find the publication up to date")
                runs[name].append(run)
                print(json.dumps({"revision": name, **run}), flush=True)
    print("| revision | wall s, median (range) | user CPU s, median |")
    print("|---|---|---|")
    for name, done in runs.items():
        walls = [r["wall_s"] for r in done]
        print(f"| {name} | {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) "
              f"| {statistics.median(r['user_s'] for r in done):.2f} |")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
