"""Worker CPU of a whole text battle besides streaming over time, in process (issue 10).

What ``stream_cpu.py``'s ``ours-instant`` mode measures, without the server: the demo endpoint
answers at once (``--delay 0``, its own process), and this process, monkey-patched by gevent
as a shipped worker is (so both sides' readers run in this thread where ``cProfile`` sees
them), calls the arena's WSGI app directly: create a battle, read its whole stream. It prints
the CPU (``time.process_time``) per battle and per phase; ``--profile`` runs ``cProfile``
with the CPU clock over the battles and prints the top functions (cumulative and own).

    nice python benchmarks/web/battle_profile.py [--battles 200] [--profile]

Creates its own PostgreSQL database (dropped at the end). The database's own CPU is in
another process and not counted.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from statistics import median  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402
from hotpaths_profile import _by_package, _environ  # noqa: E402

sys.path.insert(0, str(h.REPO))
DB_NAME = "bench_battle_profile"
MODELS = {"Verbose": "demo-verbose", "Scholar": "demo-scholar"}


def _get(path: str, cookie: str) -> dict[str, object]:
    environ = _environ(path, b"", cookie)
    environ.update(REQUEST_METHOD="GET", CONTENT_LENGTH="0")
    del environ["CONTENT_TYPE"]
    return environ


def _stream(app: object, path: str, cookie: str) -> bytes:
    chunks: list[bytes] = []

    def start_response(status: str, headers: object, exc_info: object = None) -> object:
        assert status.startswith("200"), status
        return chunks.append

    result = app(_get(path, cookie), start_response)  # type: ignore[operator]
    body = b"".join(result)
    result.close()
    assert b'"state": "ready"' in body, body[-300:]
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--battles", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    # Another name lets two runs (two worktrees) share the server without dropping each other's.
    parser.add_argument("--db-name", default=DB_NAME)
    args = parser.parse_args()
    import json

    url = h.fresh_database(args.admin_url, args.db_name)
    env = h.app_env(url)
    app: Any = None
    try:
        with h.demo_server(delay=0.0) as (demo_url, _), tempfile.TemporaryDirectory() as tmp:
            h.flask(env, "db", "upgrade")
            h.sync_contenders(env, demo_url, MODELS, {}, Path(tmp))
            from arena import create_app

            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 32,
                              "RATELIMIT_ENABLED": False})
            cookie: str | None = None
            counter = iter(range(10**9))

            def battle() -> tuple[float, float]:
                nonlocal cookie
                body = b'{"prompt": "Tell me about bridges, part %d."}' % next(counter)
                start = time.process_time()
                status: list[object] = []
                result = app(_environ("/api/v1/battles", body, cookie),
                             lambda s, hs, e=None: status.append((s, hs)) or (lambda d: None))
                data = json.loads(b"".join(result))
                result.close()
                if cookie is None:
                    cookie = next(v for k, v in status[0][1] if k == "Set-Cookie").split(";")[0]
                created = time.process_time()
                _stream(app, data["stream_url"], cookie)
                return created - start, time.process_time() - created

            for _ in range(10):  # warm pools, caches and imports
                battle()
            if args.profile:
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for _ in range(args.battles):
                    battle()
                profiler.disable()
                for order in ("cumulative", "tottime"):
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
                    print(out.getvalue())
                print(_by_package(pstats.Stats(profiler, stream=io.StringIO())))
            else:
                phases = [battle() for _ in range(args.battles)]
                print(f"CPU ms per battle (median of {args.battles}): create "
                      f"{1000 * median(p[0] for p in phases):.2f}, stream "
                      f"{1000 * median(p[1] for p in phases):.2f}, total "
                      f"{1000 * median(p[0] + p[1] for p in phases):.2f}")
    finally:
        from arena.db import engine_for

        if app is not None:
            engine_for(app).dispose()
        import psycopg

        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
