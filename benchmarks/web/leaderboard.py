"""Leaderboard serving against the framework floor, side by side in one run.

One PostgreSQL schema (or SQLite file), ``--contenders`` contenders and ``--battles`` synthetic
voted battles (with style features and a language, so several views are published), one
publication. Then, under the same gunicorn settings (``--workers`` gthread workers ×
``--threads``; access log off), ``wrk`` with ``--connections`` connections measures in turn:

* ``floor``: a bare Flask + SQLAlchemy endpoint that inserts one row (benchmarks/web/floor_app.py)
* ``json 200``: ``GET /api/v1/leaderboard``
* ``json 304``: the same with ``If-None-Match`` set to its ETag
* ``page``: ``GET /leaderboard``

and the floor once more at the end (the machine is shared; the two floor runs bound the drift).
Reported per route: req/s, share of the mean floor, p50/p99 latency, worker CPU per request
(utime + stime of the gunicorn workers over the run) and the response size.

    ARENA_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
      nice -n 10 /work/main/.venv/bin/python benchmarks/web/leaderboard.py [--duration 10]

Traffic goes to 127.0.0.1 only; servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


def _schema_url(base: str) -> tuple[str, str]:
    schema = f"bench_lb_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    from sqlalchemy import create_engine, text
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def populate(url: str, n_contenders: int, n_battles: int, seed: int) -> dict[str, object]:
    """Create tables, contenders and voted battles, and publish once (in this process)."""
    from sqlalchemy import insert, select

    from arena import create_app, db
    from arena.leaderboard.publish import publish
    from arena.models import Base, Battle, Contender, Turn, Vote

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-0123456789abcdef",
                      "RATELIMIT_ENABLED": False})
    rng = random.Random(seed)
    with app.app_context():
        session = db.session()
        Base.metadata.create_all(session.get_bind())
        os.environ["FLOOR_DATABASE_URL"] = url
        from benchmarks.web import floor_app
        floor_app.meta.create_all(session.get_bind())
        names = [f"bench-model-{i:03d}-instruct" for i in range(n_contenders)]
        session.execute(insert(Contender), [
            {"name": n, "organization": f"Org {i % 17}", "license": "Apache-2.0",
             "base_url": "", "upstream_model": n, "link": f"https://example.org/{n}",
             "active": i % 10 != 9} for i, n in enumerate(names)])
        ids = list(session.scalars(select(Contender.id).order_by(Contender.id)))
        strength = {cid: rng.gauss(0, 1) for cid in ids}
        t0 = datetime.now(UTC) - timedelta(days=30)
        battles = []
        for k in range(n_battles):
            a, b = rng.sample(ids, 2)
            p = 1 / (1 + 10 ** ((strength[b] - strength[a]) / 2))
            u = rng.random()
            winner = "tie" if u > 0.9 else ("model_a" if u < p * 0.9 else "model_b")
            at = t0 + timedelta(seconds=k * 60)
            battles.append({
                "public_id": secrets.token_urlsafe(32), "contender_a_id": a, "contender_b_id": b,
                "state": "voted", "anony": True, "language": "en" if k % 2 else "de",
                "features": {"length_a": rng.randint(50, 900), "length_b": rng.randint(50, 900),
                             "markdown_header_a": rng.randint(0, 3),
                             "markdown_header_b": rng.randint(0, 3),
                             "markdown_list_a": rng.randint(0, 5),
                             "markdown_list_b": rng.randint(0, 5),
                             "markdown_bold_a": rng.randint(0, 4),
                             "markdown_bold_b": rng.randint(0, 4)},
                "created_at": at, "updated_at": at, "_winner": winner})
        rows = [{k: v for k, v in b.items() if k != "_winner"} for b in battles]
        session.execute(insert(Battle), rows)
        by_public = dict(session.execute(select(Battle.public_id, Battle.id)).all())
        session.execute(insert(Turn), [
            {"battle_id": by_public[b["public_id"]], "position": 0,
             "prompt": f"benchmark prompt {i}", "created_at": b["created_at"]}
            for i, b in enumerate(battles)])
        session.execute(insert(Vote), [
            {"battle_id": by_public[b["public_id"]], "winner": b["_winner"],
             "created_at": b["created_at"] + timedelta(seconds=30)} for b in battles])
        session.commit()
        started = time.monotonic()
        report = publish(session, n_bootstrap=20, seed=1, min_votes=30)
        session.commit()
        return {"views": report.published, "publish_s": round(time.monotonic() - started, 1)}


def _worker_cpu(master: int) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _serve(app_spec: str, env: dict[str, str], workers: int, threads: int) -> tuple[
        subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", str(workers),
         "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--access-logfile",
         "/dev/null", app_spec], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    return server, f"http://127.0.0.1:{port}"


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def wrk(url: str, master: int, duration: int, connections: int,
        headers: dict[str, str] | None = None) -> dict[str, float]:
    """One wrk run; req/s, p50/p99 latency (ms), worker CPU per request (ms)."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    cpu0 = _worker_cpu(master)
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    cpu = _worker_cpu(master) - cpu0
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore
            "p50": _ms(re.search(r"50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
            "p99": _ms(re.search(r"99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
            "cpu_ms": 1000 * cpu / max(total, 1), "errors": int(bad.group(1)) if bad else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contenders", type=int, default=100)
    parser.add_argument("--battles", type=int, default=20000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--cache-ms", type=int, default=2000,
                        help="LEADERBOARD_CACHE_MS of the arena (0: ask the database per request)")
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    base = os.environ.get("ARENA_TEST_POSTGRES_URL")
    tmp = tempfile.TemporaryDirectory()
    schema = None
    if base:
        url, schema = _schema_url(base)
    else:
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    servers: list[subprocess.Popen[bytes]] = []
    try:
        setup = populate(url, args.contenders, args.battles, seed=7)
        env = {**os.environ, "ARENA_DATABASE_URL": url, "ARENA_RATELIMIT_ENABLED": "false",
               "ARENA_SECRET_KEY": "bench-secret-0123456789abcdef", "FLOOR_DATABASE_URL": url,
               "ARENA_LEADERBOARD_CACHE_MS": str(args.cache_ms),
               "PYTHONPATH": str(REPO)}
        arena, arena_url = _serve("wsgi:app", env, args.workers, args.threads)
        floor, floor_url = _serve("benchmarks.web.floor_app:app", env, args.workers,
                                  args.threads)
        servers += [arena, floor]
        deadline = time.monotonic() + 60
        _wait_up(arena_url + "/api/v1/leaderboard", deadline)
        _wait_up(floor_url + "/floor", deadline)
        with urllib.request.urlopen(arena_url + "/api/v1/leaderboard") as r:
            etag, json_bytes = r.headers["ETag"], len(r.read())
        with urllib.request.urlopen(arena_url + "/leaderboard") as r:
            page_bytes = len(r.read())
        plan = [("floor", floor, floor_url + "/floor", None),
                ("json 200", arena, arena_url + "/api/v1/leaderboard", None),
                ("json 304", arena, arena_url + "/api/v1/leaderboard", {"If-None-Match": etag}),
                ("page", arena, arena_url + "/leaderboard", None),
                ("floor (again)", floor, floor_url + "/floor", None)]
        results = {}
        for name, server, target, headers in plan:
            results[name] = wrk(target, server.pid, args.duration, args.connections, headers)
        floor_rps = (results["floor"]["rps"] + results["floor (again)"]["rps"]) / 2
        sizes = {"json 200": json_bytes, "json 304": 0, "page": page_bytes}
        print(f"{args.contenders} contenders, {args.battles} battles, views "
              f"{', '.join(setup['views'])}; gunicorn {args.workers} gthread workers × "
              f"{args.threads}; LEADERBOARD_CACHE_MS={args.cache_ms}; "
              f"wrk {args.connections} connections, {args.duration} s each; "
              f"{'PostgreSQL' if base else 'SQLite'}")
        print("| route | req/s | share of floor | p50 ms | p99 ms | worker CPU/request ms "
              "| bytes |")
        print("|---|---|---|---|---|---|---|")
        for name, r in results.items():
            print(f"| {name} | {r['rps']:.0f} | {100 * r['rps'] / floor_rps:.0f}% | "
                  f"{r['p50']:.2f} | {r['p99']:.2f} | {r['cpu_ms']:.2f} | "
                  f"{sizes.get(name, '')} |" + (f" {r['errors']} errors" if r["errors"] else ""))
        if args.output:
            args.output.write_text(json.dumps({"setup": setup, "results": results,
                                               "sizes": sizes}, indent=2))
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if schema and base:
            _drop_schema(base, schema)
        tmp.cleanup()


if __name__ == "__main__":
    main()
