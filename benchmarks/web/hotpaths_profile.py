"""Worker CPU of the vote and of battle creation, in process: WSGI calls, no HTTP, no wrk.

Creates its own PostgreSQL database (dropped at the end), seeds ready battles as
``hotpaths.py`` does, then calls the arena's WSGI app directly with prebuilt environs (rate limits
off, as there) and the floor app the same way, in interleaved batches, and prints the median
CPU (``time.process_time``) per request of each. ``--profile vote|create`` runs ``cProfile``
with the CPU clock over that path instead and prints the top functions (cumulative and own).

    nice python benchmarks/web/hotpaths_profile.py [--requests 2000] [--profile vote]

Figures include the WSGI app only (no server, no sockets); the database's own CPU is in
another process and not counted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DB_NAME = "bench_hotpaths_profile"


def _environ(path: str, body: bytes, cookie: str | None) -> dict[str, Any]:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        "HTTP_HOST": "127.0.0.1:8000"}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


def _call(app: Any, environ: dict[str, Any]) -> str:
    status: list[str] = []

    def start_response(s: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(s)
        return lambda data: None

    result = app(environ, start_response)
    b"".join(result)
    close = getattr(result, "close", None)
    if close is not None:
        close()
    return status[0]


def _by_package(stats: pstats.Stats) -> str:
    """Own CPU time per top-level package (site-packages name, ``arena``, stdlib, builtins)."""
    own: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif filename.startswith(str(REPO)):
            package = filename[len(str(REPO)) + 1:].split("/", 1)[0]
        elif filename == "~":
            package = "builtins"
        else:
            package = "stdlib"
        own[package] = own.get(package, 0.0) + row[2]
    total = sum(own.values())
    lines = ["| package | own CPU share |", "|---|---|"]
    lines += [f"| {name} | {t / total:.1%} |"
              for name, t in sorted(own.items(), key=lambda item: -item[1]) if t / total >= 0.005]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=2000, help="per path (and batch set)")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--profile", choices=("vote", "create"))
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="with --profile: also write the raw stats to this file")
    args = parser.parse_args(argv)
    import psycopg
    from sqlalchemy import text

    from arena import create_app
    from arena.db import engine_for
    from benchmarks.web.hotpaths import create_tables, seed_ready_battles

    url = args.admin_url.rsplit("/", 1)[0] + "/" + DB_NAME
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.environ["FLOOR_DATABASE_URL"] = url
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 32,
                          "RATELIMIT_ENABLED": False, "WORKERS": 1, "THREADS": 1})
        engine = engine_for(app)
        create_tables(engine)
        from benchmarks.web.floor_app import app as floor_app

        client = app.test_client()
        response = client.post("/api/v1/battles", json={"prompt": "hello"})
        assert response.status_code == 201, response.get_data(as_text=True)
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        n_votes = args.requests * (1 if args.profile else args.batches) + 200
        ids = seed_ready_battles(engine, n_votes)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        ids_left = iter(ids)
        counter = iter(range(10**9))

        def vote_env() -> dict[str, Any]:
            return _environ(f"/api/v1/battles/{next(ids_left)}/vote",
                            b'{"winner": "model_a"}', cookie)

        def create_env() -> dict[str, Any]:
            body = b'{"prompt": "Explain, briefly, why the sky is blue. Variant %d"}'
            return _environ("/api/v1/battles", body % next(counter), cookie)

        def floor_env() -> dict[str, Any]:
            return _environ("/floor", b"{}", None)

        paths: dict[str, tuple[Any, Callable[[], dict[str, Any]], str]] = {
            "floor": (floor_app, floor_env, "200 OK"), "vote": (app, vote_env, "200 OK"),
            "create": (app, create_env, "201 CREATED")}
        for name, (wsgi, make, ok) in paths.items():  # warm pools, caches and imports
            for _ in range(50 if name != "vote" else 100):
                status = _call(wsgi, make())
                assert status == ok, (name, status)
        if args.profile:
            wsgi, make, ok = paths[args.profile]
            environs = [make() for _ in range(args.requests)]
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for environ in environs:
                _call(wsgi, environ)
            profiler.disable()
            if args.dump:
                profiler.dump_stats(args.dump)
            stats = pstats.Stats(profiler, stream=io.StringIO())
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
                print(out.getvalue())
            print(_by_package(stats))
            return 0
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        per_batch = args.requests // args.batches
        for _ in range(args.batches):
            for name, (wsgi, make, ok) in paths.items():
                environs = [make() for _ in range(per_batch)]
                start = time.process_time()
                for environ in environs:
                    status = _call(wsgi, environ)
                spent = time.process_time() - start
                assert status == ok, (name, status)
                cpu[name].append(1000 * spent / per_batch)
        floor_ms = median(cpu["floor"])
        print("| path | CPU ms / request (median of batches) | floor's CPU / path's CPU |")
        print("|---|---|---|")
        for name, values in cpu.items():
            print(f"| {name} | {median(values):.3f} | {floor_ms / median(values):.0%} |")
        print(f"{args.batches} interleaved batches of {per_batch} requests each; load average "
              f"{os.getloadavg()[0]:.2f}")
        return 0
    finally:
        from sqlalchemy import Engine

        for candidate in (locals().get("engine"),):
            if isinstance(candidate, Engine):
                candidate.dispose()
        floor_module = sys.modules.get("benchmarks.web.floor_app")
        if floor_module is not None:
            floor_module.engine.dispose()
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


if __name__ == "__main__":
    raise SystemExit(main())
