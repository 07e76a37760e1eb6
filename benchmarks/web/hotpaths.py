"""Vote and battle creation against the framework floor, side by side in one run.

The floor is ``floor_app.py`` (bare Flask + SQLAlchemy, one INSERT per request). Both run under
gunicorn, 2 ``gthread`` workers x 8 threads, access log off, on one fresh PostgreSQL database;
``wrk`` drives 16 connections (2 threads). Order: floor, vote, create, floor again (the floor
figure is the mean of its two runs). Reported: req/s, share of the floor, p50/p99 latency, and
gunicorn workers' CPU time per request (from /proc, all workers summed).

    nice python benchmarks/web/hotpaths.py [--duration 10] [--rounds 1] \
        [--before ../main-checkout] \
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

``--before`` serves a second arena from another checkout (e.g. ``git worktree add /tmp/before
8a6bc9f``) on the same database and measures it in the same run, path by path: before, then
this checkout. The schema is this checkout's (a superset: it only adds indexes).

Votes go to ready battles seeded beforehand (one per request, owned by the cookie's voter, one
turn with two ~1,200-character answers), so every vote is a real first vote. Rate limits are
off for the run unless ``--rate-limits`` (then counted as shipped, in the SQLite file, with
limits never reached). The database is dropped at the end. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DB_NAME = "bench_pipe10_web"
CLK = os.sysconf("SC_CLK_TCK")

VOTE_LUA = """
local ids = {}
local n = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  local i = 0
  for line in io.lines(os.getenv("IDS_FILE")) do
    i = i + 1
    if i %% 2 == tid - 1 then table.insert(ids, line) end
  end
end
request = function()
  n = n + 1
  local id = ids[n] or ids[#ids]  -- out of seeded battles: repeats show up as non-2xx
  return wrk.format("POST", "/api/v1/battles/" .. id .. "/vote",
    {["Content-Type"] = "application/json", ["Cookie"] = "%(cookie)s"},
    '{"winner": "model_a"}')
end
"""
CREATE_LUA = """
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/battles",
    {["Content-Type"] = "application/json", ["Cookie"] = "%(cookie)s"},
    '{"prompt": "Explain, briefly, why the sky is blue. Variant ' .. n .. '"}')
end
"""
FLOOR_LUA = """
request = function()
  return wrk.format("POST", "/floor", {["Content-Type"] = "application/json"}, "{}")
end
"""


def create_tables(engine: Any) -> None:
    """The arena's tables, the floor's table and 8 active contenders."""
    from sqlalchemy import text

    from arena.models import Base

    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE floor_row (id serial PRIMARY KEY, payload varchar(64), "
                          "created_at timestamptz)"))
        conn.execute(text(
            "INSERT INTO contender (name, organization, license, link, base_url, "
            "upstream_model, params, connect_timeout, read_timeout, total_timeout, weight, "
            "is_public, active, consecutive_failures, created_at, updated_at) "
            "SELECT 'model-' || i, 'org', 'MIT', '', 'http://127.0.0.1:9/v1', 'm', '{}', 5, "
            "60, 300, 1, true, true, 0, now(), now() FROM generate_series(1, 8) i"))


def seed_ready_battles(engine: Any, n: int) -> list[str]:
    """``n`` ready battles owned by the voter of the first battle (created through the app);
    their public ids in order."""
    from sqlalchemy import text

    with engine.begin() as conn:
        voter = conn.execute(text("SELECT voter_id FROM battle LIMIT 1")).scalar_one()
        conn.execute(text("""
            INSERT INTO battle (public_id, voter_id, contender_a_id, contender_b_id, state,
                anony, source, flagged, language, release_consent, prompt_group,
                created_at, updated_at, ready_at)
            SELECT 'bench-' || i || '-' || left(md5(i::text), 24), :voter, 1 + i % 8,
                   1 + (i + 1) % 8, 'ready', true, 'arena', false, 'en', false,
                   md5('p' || i), now(), now(), now()
            FROM generate_series(1, :n) i"""), {"voter": voter, "n": n})
        conn.execute(text("""
            INSERT INTO turn (battle_id, position, prompt, created_at)
            SELECT id, 0, 'Explain why the sky is blue.', now() FROM battle
            WHERE public_id LIKE 'bench-%'"""))
        # Both answers, ~1,200 characters each: the vote labels the whole conversation.
        conn.execute(text("""
            INSERT INTO answer (turn_id, side, text, citations, created_at)
            SELECT t.id, s.side, repeat(s.sentence, 12), '[]', now()
            FROM turn t CROSS JOIN (VALUES
              ('a', 'Sunlight is scattered by air molecules; blue light scatters most. '),
              ('b', 'Rayleigh scattering favours short wavelengths, so the sky is blue. ')
            ) AS s(side, sentence)"""))
        ids = [r[0] for r in conn.execute(text(
            "SELECT public_id FROM battle WHERE public_id LIKE 'bench-%' ORDER BY id"))]
    return ids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def _cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Any,
                 cwd: Path = REPO) -> None:
        self.port = port
        self.proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd,
                                     stdout=subprocess.DEVNULL, stderr=log,
                                     start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("server did not start")
        time.sleep(1.0)
        self.workers = _children(self.proc.pid)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def _gunicorn(app: str, port: int, extra: list[str]) -> list[str]:
    return [str(Path(sys.executable).with_name("gunicorn")), *extra, "-w", "2", "-k", "gthread",
            "--threads", "8", "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
            app]


def _wrk(port: int, script: Path, duration: int, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{duration}s", "--latency", "-s",
                          str(script), f"http://127.0.0.1:{port}"], capture_output=True,
                         text=True, env={**os.environ, **env}, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "requests": total, "p50": lat.get("50"), "p99": lat.get("99"),
            "non_2xx": int(bad.group(1)) if bad else 0}


def _measure(server: Server, script: Path, duration: int,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    before = _cpu_s(server.workers)
    result = _wrk(server.port, script, duration, env or {})
    used = _cpu_s(server.workers) - before
    result["cpu_ms_per_req"] = round(1000 * used / max(1, result["requests"]), 2)
    return result


def _ms(latency: str | None) -> float:
    """wrk's latency ("950.00us", "12.3ms", "1.02s") in milliseconds."""
    if not latency:
        return float("nan")
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", latency).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _summary(per_round: list[dict[str, Any]]) -> dict[str, Any]:
    """Per path: the median over rounds of req/s, share of the round's floor, latency and CPU
    (one round: that round's figures)."""
    from statistics import median

    out: dict[str, Any] = {}
    for key in per_round[0]:
        runs = [measured[key] for measured in per_round]
        shares = [measured[key]["rps"] * 2 / (measured["floor_1"]["rps"]
                                              + measured["floor_2"]["rps"])
                  for measured in per_round]
        out[key] = {"rps": median(r["rps"] for r in runs), "share": median(shares),
                    "p50": f"{median(_ms(r['p50']) for r in runs):.2f}ms",
                    "p99": f"{median(_ms(r['p99']) for r in runs):.2f}ms",
                    "cpu_ms_per_req": round(median(r["cpu_ms_per_req"] for r in runs), 2),
                    "non_2xx": sum(r["non_2xx"] for r in runs)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--battles", type=int, default=40_000, help="ready battles seeded")
    parser.add_argument("--before", type=Path, help="checkout of the revision to compare with")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every path this many times, alternating which revision "
                             "goes first, and report medians (steadier on a shared machine)")
    parser.add_argument("--rate-limits", action="store_true",
                        help="keep rate limiting on (the shipped SQLite counters), with limits "
                             "high enough that nothing is refused")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    import psycopg
    from sqlalchemy import text

    from arena.db import make_engine

    url = args.admin_url.rsplit("/", 1)[0] + "/" + DB_NAME
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    engine = make_engine(url)
    create_tables(engine)
    tmp = Path(tempfile.mkdtemp(prefix="hotpaths-"))
    servers: list[Server] = []
    per_round: list[dict[str, Any]] = []
    try:
        port_a, port_f = _free_port(), _free_port()
        arena_env = {"ARENA_DATABASE_URL": url, "ARENA_SECRET_KEY": "b" * 32,
                     "ARENA_RATELIMIT_ENABLED": "false", "ARENA_WORKERS": "2",
                     "ARENA_THREADS": "8", "ARENA_LOG_LEVEL": "WARNING"}
        if args.rate_limits:
            arena_env.update(ARENA_RATELIMIT_ENABLED="true",
                             ARENA_RATELIMIT_VOTES="10000000 per minute",
                             ARENA_RATELIMIT_BATTLES="10000000 per minute")
        arena = Server(_gunicorn("wsgi:app", port_a, ["-c", "gunicorn.conf.py"]), arena_env,
                       port_a, (tmp / "arena.log").open("w"))
        servers.append(arena)
        floor = Server(_gunicorn("benchmarks.web.floor_app:app", port_f, []),
                       {"FLOOR_DATABASE_URL": url}, port_f, (tmp / "floor.log").open("w"))
        servers.append(floor)
        before = None
        if args.before is not None:
            port_b = _free_port()
            before = Server(_gunicorn("wsgi:app", port_b, ["-c", "gunicorn.conf.py"]),
                            arena_env, port_b, (tmp / "before.log").open("w"),
                            cwd=args.before.resolve())
            servers.append(before)
        # A voter cookie: the first battle's response sets it.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port_a}/api/v1/battles", data=b'{"prompt": "hello"}',
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        ids = seed_ready_battles(engine, args.battles)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        rest = ids[3000:]
        rounds = max(1, args.rounds)
        (tmp / "warm.txt").write_text("\n".join(ids[:1500]) + "\n")
        (tmp / "warm_before.txt").write_text("\n".join(ids[1500:3000]) + "\n")
        # Each round and revision votes on battles of its own: every vote is a first vote.
        share = len(rest) // (2 * rounds)
        for r in range(rounds):
            mine = rest[(2 * r + 1) * share:(2 * r + 2) * share]
            theirs = rest[2 * r * share:(2 * r + 1) * share]
            (tmp / f"ids_{r}.txt").write_text("\n".join(mine) + "\n")
            (tmp / f"ids_before_{r}.txt").write_text("\n".join(theirs) + "\n")
        (tmp / "vote.lua").write_text(VOTE_LUA % {"cookie": cookie})
        (tmp / "create.lua").write_text(CREATE_LUA % {"cookie": cookie})
        (tmp / "floor.lua").write_text(FLOOR_LUA)
        _wrk(port_f, tmp / "floor.lua", 2, {})  # warm both servers' pools and imports
        _wrk(port_a, tmp / "create.lua", 2, {})
        _wrk(port_a, tmp / "vote.lua", 1, {"IDS_FILE": str(tmp / "warm.txt")})
        if before is not None:
            _wrk(before.port, tmp / "create.lua", 2, {})
            _wrk(before.port, tmp / "vote.lua", 1, {"IDS_FILE": str(tmp / "warm_before.txt")})
        for r in range(rounds):
            measured: dict[str, Any] = {}
            measured["floor_1"] = _measure(floor, tmp / "floor.lua", args.duration)
            # Odd rounds measure this checkout first, so a drifting load favours neither.
            order = [("_before", before), ("", arena)] if before is not None else [("", arena)]
            if r % 2:
                order.reverse()
            for suffix, server in order:
                ids_file = tmp / f"ids{suffix}_{r}.txt"
                measured[f"vote{suffix}"] = _measure(server, tmp / "vote.lua", args.duration,
                                                     {"IDS_FILE": str(ids_file)})
            for suffix, server in order:
                measured[f"create{suffix}"] = _measure(server, tmp / "create.lua",
                                                       args.duration)
            measured["floor_2"] = _measure(floor, tmp / "floor.lua", args.duration)
            per_round.append(measured)
    finally:
        for server in servers:
            server.stop()
        engine.dispose()
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    results = _summary(per_round)
    results["loadavg"] = {"start": load_start, "end": os.getloadavg()}
    print(json.dumps({"rounds": per_round, "summary": results}))
    print("| path | revision | req/s | share of floor | p50 | p99 | worker CPU ms / request "
          "| non-2xx |")
    print("|---|---|---|---|---|---|---|---|")
    vote, create = "POST /api/v1/battles/<id>/vote", "POST /api/v1/battles"
    for key, label, revision in (
            ("floor_1", "floor (1st)", ""), ("vote_before", vote, "before"),
            ("vote", vote, "this checkout"), ("create_before", create, "before"),
            ("create", create, "this checkout"), ("floor_2", "floor (2nd)", "")):
        if key not in results:
            continue
        r = results[key]
        print(f"| {label} | {revision} | {r['rps']:.0f} | {r['share']:.0%} | "
              f"{r['p50']} | {r['p99']} | {r['cpu_ms_per_req']} | {r['non_2xx']} |")
    if len(per_round) > 1:
        print(f"medians of {len(per_round)} rounds; share of floor: the median of each "
              f"round's share of that round's floor (mean of its two runs)")
    print(f"load average (1 min) at start {load_start[0]:.2f}, "
          f"at end {results['loadavg']['end'][0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
