"""Publish (and release cut) against the pure engine on the same views, on synthetic votes in SQL.

One run, side by side: ``generate`` fills a fresh PostgreSQL database with N voted battles
(about 100 contenders, four style features on every battle and citations on a third, ten
prompt languages skewed towards English, 1-3 turns, 5% of battles in 50 flood groups) with
``INSERT … SELECT generate_series`` on the server, then each measurement runs in its own
process so its peak RSS is its own:

* ``publish``: :func:`arena.leaderboard.publish.publish` with the site defaults (100 bootstrap
  rounds), facts table already filled (as the votes wrote it);
* ``again``: the same with nothing new (the "up to date" answer);
* ``engine``: the same views' :func:`ratings.fit_leaderboard` calls alone, on arrays prepared
  before the clock starts (the pure engine time publish is compared with).

Usage::

    nice python benchmarks/publish/bench.py run --battles 1000000 \
        --admin-url postgresql://postgres@127.0.0.1:5432/postgres

The database (``bench_pipe10_<N>``) is dropped at the end unless ``--keep``.

``release --battles N`` generates the same battles with texts (voters who consented, turns
whose prompts are the Vicuna-80 questions, answers drawn from the 720 real Vicuna-80 answers,
a few with an e-mail address, phone number or street address appended) in
``bench_release_<N>``, times ``flask releases scrub`` (the cron job that scrubs newly voted
texts) and then ``flask releases cut``, each as its own process, then the engine on the
release's rows: each view's ``python -m ratings`` command from the release's snapshot, run in
the release folder. ``--cold`` first times a cut with nothing scrubbed beforehand (it scrubs
every text itself) and checks that both cuts write the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

N_CONTENDERS = 100
LANGS = ("en", "zh", "de", "es", "fr", "ru", "ja", "ko", "pt", "it")


#: The battles are labelled, as the publishes before this one left them: labelling is paid
#: per new vote by the publish after it (~1 ms each), not measured here.
from arena.categories.classify import CLASSIFIER_VERSION  # noqa: E402

#: Every ordered pair drawn uniformly (the sampler stores this per battle).
PROPENSITY = 1.0 / (N_CONTENDERS * (N_CONTENDERS - 1))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process (user + system): less moved by other jobs than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _engine(url: str) -> Any:
    from arena.db import make_engine
    return make_engine(url, pool=2)


def _db_url(admin: str, name: str) -> str:
    return admin.rsplit("/", 1)[0] + "/" + name


def generate(admin: str, name: str, n: int, *, texts: bool = False) -> dict[str, Any]:
    """Create database ``name`` with the schema and ``n`` synthetic voted battles (``texts``:
    with voters who consented to releases, turns and answers, see :func:`_add_texts`)."""
    import psycopg
    from sqlalchemy import text

    from arena.models import Base
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = _engine(_db_url(admin, name))
    Base.metadata.create_all(engine)
    langs = "(array[" + ",".join(f"'{c}'" for c in LANGS) + "])"
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        conn.execute(text(
            "INSERT INTO contender (id, name, organization, license, link, base_url, "
            "upstream_model, params, connect_timeout, read_timeout, total_timeout, weight, "
            "is_public, active, consecutive_failures, created_at, updated_at) "
            "SELECT i, 'model-' || i, 'org', 'MIT', '', '', 'm' || i, '{}', 5, 60, 300, 1, "
            "i % 17 <> 0, true, 0, now(), now() FROM generate_series(1, :k) i"),
            {"k": N_CONTENDERS})
        # One staging row per battle; everything else is derived from it.
        conn.execute(text(f"""
            CREATE UNLOGGED TABLE g AS
            SELECT i AS id, a, 1 + (a + 1 + floor(random() * (:k - 1))::int - 1) % :k AS b,
                   random() AS u, random() AS t,
                   {langs}[1 + floor(power(random(), 3) * 10)::int] AS lang,
                   1 + floor(power(random(), 4) * 3)::int AS turns,
                   floor(20 + power(random(), 3) * 3000)::int AS chars,
                   CASE WHEN random() < 0.05 THEN floor(random() * 50)::bigint
                        ELSE i + 1000 END AS pkey,
                   floor(100 + random() * 900) AS la, floor(100 + random() * 900) AS lb,
                   floor(random() * 4) AS ha, floor(random() * 4) AS hb,
                   floor(random() * 6) AS lia, floor(random() * 6) AS lib,
                   floor(random() * 5) AS ba, floor(random() * 5) AS bb,
                   CASE WHEN random() < 0.33 THEN floor(random() * 4) END AS ca,
                   CASE WHEN random() < 0.33 THEN floor(random() * 4) END AS cb,
                   timestamptz '2025-01-01' + i * interval '1 second' AS at
            FROM (SELECT i, 1 + floor(random() * :k)::int AS a
                  FROM generate_series(1, :n) i) s"""), {"n": n, "k": N_CONTENDERS})
        conn.execute(text("""
            INSERT INTO battle (id, public_id, contender_a_id, contender_b_id, state, anony,
                                source, flagged, language, release_consent, created_at,
                                updated_at, propensity, category_version)
            SELECT id, md5(id::text) || 'x', a, b, 'voted', true, 'arena', false, lang, false,
                   at, at, :p, :v FROM g"""), {"p": PROPENSITY, "v": CLASSIFIER_VERSION})
        winner = """CASE WHEN t < 0.1 THEN 'tie'
                         WHEN u < 1 / (1 + exp((a - b) / 30.0)) THEN 'model_a'
                         ELSE 'model_b' END"""
        conn.execute(text(f"INSERT INTO vote (battle_id, winner, created_at) "
                          f"SELECT id, {winner}, at FROM g"))
        conn.execute(text(f"""
            INSERT INTO battle_fact (battle_id, voted_at, contender_a_id, contender_b_id,
                winner, turn_count, prompt_chars, language, prompt_key, feature_names,
                feature_values, anony, flagged, source, synced_at, propensity)
            SELECT id, at, a, b, {winner}, turns, chars, lang, pkey,
                CASE WHEN ca IS NULL THEN
                  'length_a,length_b,markdown_bold_a,markdown_bold_b,markdown_header_a,'
                  'markdown_header_b,markdown_list_a,markdown_list_b'
                ELSE 'citations_a,citations_b,length_a,length_b,markdown_bold_a,'
                  'markdown_bold_b,markdown_header_a,markdown_header_b,markdown_list_a,'
                  'markdown_list_b' END,
                CASE WHEN ca IS NULL THEN ''::bytea
                     ELSE float8send(ca) || float8send(coalesce(cb, 0)) END
                  || float8send(la) || float8send(lb) || float8send(ba) || float8send(bb)
                  || float8send(ha) || float8send(hb) || float8send(lia) || float8send(lib),
                true, false, 'arena', timestamptz '2025-06-01', :p
            FROM g"""), {"p": PROPENSITY})
        if texts:
            _add_texts(conn)
        conn.execute(text("DROP TABLE g"))
        conn.execute(text("SELECT setval('battle_id_seq', :n)"), {"n": n})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))"
                                 )).scalar()
    engine.dispose()
    return {"generate_s": round(time.perf_counter() - t0, 1), "db_size": size}


VICUNA = ROOT.parent / "shared" / "data" / "arena" / "qlora_vicuna80_human"
N_VOTERS = 5000
#: Shares of answers and prompts given a piece of personal data for the scrubber to find.
PII_ANSWERS, PII_PROMPTS = 0.05, 0.02


def _add_texts(conn: Any) -> None:
    """Voters (all consenting to releases), each battle's turns (prompts: the 80 Vicuna
    questions) and both answers (drawn from the 720 real Vicuna-80 answers, ~1,540 characters
    on average), a few with an e-mail address, phone number or street address appended."""
    from sqlalchemy import text

    def pool(file: str, table: str) -> None:
        lines = (VICUNA / file).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line)["text"] for line in lines]
        conn.execute(text(f"CREATE TEMP TABLE {table} (i int PRIMARY KEY, text text)"))
        conn.execute(text(f"INSERT INTO {table} VALUES (:i, :t)"),
                     [{"i": i, "t": t} for i, t in enumerate(rows)])

    pool("answers.jsonl", "pool_a")
    pool("questions.jsonl", "pool_q")
    conn.execute(text("INSERT INTO voter (id, created_at, release_consent) SELECT 'v' || j, "
                      "timestamptz '2024-12-01', true FROM generate_series(0, :k - 1) j"),
                 {"k": N_VOTERS})
    conn.execute(text("UPDATE battle SET voter_id = 'v' || (id % :k), release_consent = true"),
                 {"k": N_VOTERS})
    conn.execute(text("UPDATE battle_fact SET voter_id = 'v' || (battle_id % :k)"),
                 {"k": N_VOTERS})
    pii = ("CASE floor(random() * 3)::int "
           "WHEN 0 THEN ' Write to jane.doe' || {id} || '@example.org for details.' "
           "WHEN 1 THEN ' Call me on +1 415 555 ' || lpad(({id} % 10000)::text, 4, '0') || '.' "
           "ELSE ' I live at ' || ({id} % 900 + 100) || ' Maple Street, Springfield, IL 62704.' "
           "END")
    conn.execute(text(f"""
        INSERT INTO turn (battle_id, position, prompt, created_at)
        SELECT x.id, x.p, q.text || CASE WHEN x.r < :share THEN {pii.format(id="x.id")}
                                    ELSE '' END, x.at
        FROM (SELECT g.id, p, g.at, random() AS r, floor(random() * 80)::int AS k
              FROM g, generate_series(0, g.turns - 1) p) x JOIN pool_q q ON q.i = x.k"""),
                 {"share": PII_PROMPTS})
    conn.execute(text(f"""
        INSERT INTO answer (turn_id, side, text, completion_tokens, prompt_tokens, latency_ms,
                            citations, created_at)
        SELECT x.id, x.side, a.text || CASE WHEN x.r < :share THEN {pii.format(id="x.id")}
                                       ELSE '' END,
               length(a.text) / 4, 40, 1500 + x.id % 2000, '[]', x.at
        FROM (SELECT t.id, t.created_at AS at, s.side, random() AS r,
                     floor(random() * 720)::int AS k
              FROM turn t, (VALUES ('a'), ('b')) s(side)) x JOIN pool_a a ON a.i = x.k"""),
                 {"share": PII_ANSWERS})


def _session(url: str) -> Any:
    from sqlalchemy.orm import Session
    return Session(_engine(url))


def run_publish(url: str) -> dict[str, Any]:
    from arena.leaderboard.publish import publish
    db = _session(url)
    t0, c0, load = time.perf_counter(), _cpu_s(), _load()
    report = publish(db, n_bootstrap=100, seed=42, min_votes=30)
    db.commit()
    wall = time.perf_counter() - t0
    return {"wall_s": round(wall, 2), "cpu_s": round(_cpu_s() - c0, 2), "load": [load, _load()],
            "peak_mb": round(_peak_mb()), "up_to_date":
            report.up_to_date, "views": len(report.published), "battles": report.n_battles}


def run_engine(url: str) -> dict[str, Any]:
    import numpy as np

    import ratings
    from arena.leaderboard.data import (
        FIT_OPTIONS,
        FLOOD_K,
        MIN_VIEW_BATTLES,
        configured_reg,
        varying_features,
        view_battles,
        views_for,
    )
    from arena.leaderboard.facts import load_facts
    db = _session(url)
    facts = load_facts(db, flood_k=FLOOD_K)
    calls = []
    for spec in views_for(facts):
        chosen = view_battles(facts, spec)
        if len(chosen) < MIN_VIEW_BATTLES:
            continue
        control = varying_features(chosen, spec)
        feats = {n: (chosen.feature(f"{n}_a").copy(), chosen.feature(f"{n}_b").copy())
                 for n in control}
        w = chosen.weight.copy()
        calls.append((chosen.names("a"), chosen.names("b"),
                      chosen.winner_labels(), feats or None, control,
                      None if bool(np.all(w == 1.0)) else w))
    del facts
    t0, c0, load = time.perf_counter(), _cpu_s(), _load()
    for a, b, w, feats, control, weights in calls:
        ratings.fit_leaderboard(a, b, w, features=feats, control=control, weights=weights,
                                **FIT_OPTIONS, reg=configured_reg(None), n_bootstrap=100,
                                seed=42, min_votes=0)
    wall = time.perf_counter() - t0
    return {"wall_s": round(wall, 2), "cpu_s": round(_cpu_s() - c0, 2), "load": [load, _load()],
            "peak_mb": round(_peak_mb()), "views": len(calls)}


def _timed(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command as its own process: wall seconds, its own peak RSS and CPU seconds."""
    import tempfile
    with tempfile.TemporaryFile("w+") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"{argv} failed:\n{log.read()[-4000:]}")
    return {"wall_s": round(wall, 2), "peak_mb": round(usage.ru_maxrss / 1024),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}


#: The cut sees one due window: the generated votes start on 2025-01-01 and span days.
RELEASE_NOW = "2025-03-01T00:00:00+00:00"


def _cut(env: dict[str, str]) -> tuple[dict[str, Any], Path]:
    cut = _timed([sys.executable, "-m", "flask", "--app", "wsgi", "releases", "cut",
                  "--now", RELEASE_NOW], cwd=ROOT, env=env)
    releases = Path(env["ARENA_RELEASES_DIR"])
    (folder,) = [p for p in releases.iterdir() if not p.name.startswith(".")]
    cut["manifest_sha256"] = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    return cut, folder


def run_release(url: str, n: int, *, cold: bool = False) -> dict[str, Any]:
    """As an operator runs them: ``flask releases scrub`` (the cron job that scrubs newly voted
    texts), then ``flask releases cut``, then the engine on the release's rows: each view's
    ``python -m ratings`` command from the snapshot, run in the release folder.

    ``cold`` first cuts the same window with nothing scrubbed beforehand (the cut scrubs every
    text itself), then forgets that release and its scrubbed copies, in the same run.
    """
    import shlex
    import tempfile

    import psycopg
    with psycopg.connect(url) as conn:
        found = conn.execute("""
            SELECT sum(length(t.prompt)
                       + (SELECT coalesce(sum(length(a.text)), 0) FROM answer a
                          WHERE a.turn_id = t.id))
            FROM turn t JOIN battle b ON b.id = t.battle_id
            JOIN contender ca ON ca.id = b.contender_a_id
            JOIN contender cb ON cb.id = b.contender_b_id
            WHERE ca.is_public AND cb.is_public""").fetchone()
    chars = found[0] if found else 0
    out: dict[str, Any] = {"battles": n}
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        env = {**os.environ, "ARENA_DATABASE_URL": url, "ARENA_RELEASES_DIR": tmp + "/cold",
               "ARENA_SECRET_KEY": "bench-release-secret-key", "ARENA_LOG_LEVEL": "WARNING"}
        if cold:
            out["cold_cut"], _ = _cut(env)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DELETE FROM data_release")
                conn.execute("DELETE FROM scrubbed_turn")
        env["ARENA_RELEASES_DIR"] = tmp + "/releases"
        scrub = _timed([sys.executable, "-m", "flask", "--app", "wsgi", "releases", "scrub"],
                       cwd=ROOT, env=env)
        scrub.update(chars=int(chars), chars_per_s=round(int(chars) / scrub["wall_s"]))
        cut, folder = _cut(env)
        snapshot = json.loads((folder / "leaderboard.json").read_text())
        manifest = json.loads((folder / "manifest.json").read_text())
        runs = [_timed([sys.executable, "-m", "ratings", *shlex.split(view["command"])[3:]],
                       cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)})
                for view in snapshot["views"].values()]
    engine = {"wall_s": round(sum(r["wall_s"] for r in runs), 2),
              "cpu_s": round(sum(r["cpu_s"] for r in runs), 2),
              "peak_mb": max(r["peak_mb"] for r in runs), "views": len(runs)}
    cut.update(rows=manifest["rows"], rows_with_text=manifest["rows_with_text"])
    if cold:  # the same files, whether the cut scrubbed or read the copies
        out["same_files"] = out["cold_cut"]["manifest_sha256"] == cut["manifest_sha256"]
    out.update(scrub=scrub, cut=cut, engine=engine, load=_load())
    return out


def _child(what: str, url: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, what, "--url", url], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def release(args: argparse.Namespace) -> int:
    """Generate battles with texts, cut their release, fit the same rows with the engine."""
    name = f"bench_release_{args.battles}"
    url = _db_url(args.admin_url, name)
    generated = generate(args.admin_url, name, args.battles, texts=True)
    print(json.dumps(generated), flush=True)
    try:
        result = run_release(url, args.battles, cold=args.cold)
        result["generate"] = generated
        print(json.dumps(result), flush=True)
    finally:
        if not args.keep:
            import psycopg
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    c, e, sc = result["cut"], result["engine"], result["scrub"]
    cold = result.get("cold_cut")
    cold_cell = (f"{cold['wall_s']} s, {cold['peak_mb']} MB ({cold['wall_s'] / e['wall_s']:.1f}x)"
                 if cold else "–")
    print(f"| {args.battles:,} | {sc['wall_s']} s, {sc['peak_mb']} MB, "
          f"{sc['chars'] / 1e6:.0f} M chars, {sc['chars_per_s']:,}/s | {c['wall_s']} s, "
          f"{c['peak_mb']} MB | {e['wall_s']} s, {e['peak_mb']} MB | "
          f"{c['wall_s'] / e['wall_s']:.2f}x | {cold_cell} | {c['rows']:,} "
          f"({c['rows_with_text']:,} with text) | {result.get('same_files', '–')} | "
          f"{result['load']} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["run", "publish", "engine", "generate", "release"])
    parser.add_argument("--battles", type=int, default=100_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--url")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--cold", action="store_true",
                        help="release: also time a cut with nothing scrubbed beforehand")
    args = parser.parse_args(argv)
    if args.what == "publish":
        print(json.dumps(run_publish(args.url)))
        return 0
    if args.what == "engine":
        print(json.dumps(run_engine(args.url)))
        return 0
    if args.what == "release":
        return release(args)
    name = f"bench_pipe10_{args.battles}"
    url = _db_url(args.admin_url, name)
    result: dict[str, Any] = {"battles": args.battles}
    result["generate"] = generate(args.admin_url, name, args.battles)
    print(json.dumps(result), flush=True)
    if args.what == "generate":
        return 0
    try:
        result["engine"] = _child("engine", url)
        result["publish"] = _child("publish", url)
        result["again"] = _child("publish", url)
        print(json.dumps(result), flush=True)
    finally:
        if not args.keep:
            import psycopg
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    e, p, a = result["engine"], result["publish"], result["again"]
    print(f"| {args.battles:,} | {p['wall_s']} s, {p['peak_mb']} MB | {e['wall_s']} s, "
          f"{e['peak_mb']} MB | {p['wall_s'] / e['wall_s']:.2f}x | "
          f"{p['cpu_s'] / e['cpu_s']:.2f}x | {a['wall_s']} s, {a['peak_mb']} MB | {p['views']} | "
          f"{e['load'][0]}-{p['load'][1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
