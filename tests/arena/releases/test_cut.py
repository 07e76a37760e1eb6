"""`flask releases cut`: windows and embargo, idempotent re-runs, exclusions, pseudonyms, files."""

from __future__ import annotations

import fcntl
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from arena.models import Battle, Contender, DataRelease, Vote, Voter

# Seeded votes run from 2026-01-03 09:30 for 95 days (to 2026-04-08).
FIRST = datetime(2026, 1, 3, tzinfo=UTC)


def _cut(runner: FlaskCliRunner, now: str) -> str:
    result = runner.invoke(args=["releases", "cut", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def _releases(db: Session) -> list[DataRelease]:
    db.expire_all()
    return list(db.scalars(select(DataRelease).order_by(DataRelease.window_start)))


def _rows(releases_dir: Path, name: str) -> list[dict[str, Any]]:
    return pq.read_table(releases_dir / name / "battles.parquet").to_pylist()


def test_windows_start_at_the_first_votes_day_and_wait_for_the_embargo(
        runner: FlaskCliRunner, db: Session, seed_votes: Any) -> None:
    seed_votes(limit=300)
    # The first window ends 2026-02-02; with a 14-day embargo it is due from 2026-02-16.
    assert "nothing to release; the next window can be released from 2026-02-16" in _cut(
        runner, "2026-02-15T23:59:59Z")
    assert _releases(db) == []
    out = _cut(runner, "2026-02-16T00:00:00Z")
    assert "released 2026-01-03_2026-02-02" in out
    [release] = _releases(db)
    assert (release.window_start, release.window_end) == (FIRST, FIRST + timedelta(days=30))
    votes_in_window = db.scalar(select(Vote.id).where(Vote.created_at >= release.window_end)
                                .order_by(Vote.created_at).limit(1))
    assert votes_in_window is not None  # later votes exist but wait for their own window


def test_catching_up_releases_every_missing_window_once_and_reruns_are_no_ops(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seeded = seed_votes(limit=300)
    out = _cut(runner, "2026-06-01T00:00:00Z")
    names = [r.name for r in _releases(db)]
    # Windows [01-03, 02-02), [02-02, 03-04), [03-04, 04-03), [04-03, 05-03): the last one
    # ends 2026-05-03 <= 2026-06-01 - 14 days.
    assert names == ["2026-01-03_2026-02-02", "2026-02-02_2026-03-04",
                     "2026-03-04_2026-04-03", "2026-04-03_2026-05-03"]
    assert all(f"released {n}" in out for n in names)
    assert sum(r.n_battles for r in _releases(db)) == seeded.battles
    before = {n: (releases_dir / n / "manifest.json").read_bytes() for n in names}

    again = _cut(runner, "2026-06-01T00:00:00Z")
    assert "nothing to release" in again
    assert [r.name for r in _releases(db)] == names
    assert {n: (releases_dir / n / "manifest.json").read_bytes() for n in names} == before
    assert sorted(p.name for p in releases_dir.iterdir() if p.is_dir()) == names  # no temp ones


def test_window_boundaries_partition_votes_exactly(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes(limit=300)
    _cut(runner, "2026-06-01T00:00:00Z")
    for release in _releases(db):
        count = len(list(db.scalars(select(Vote.id).where(
            Vote.created_at >= release.window_start, Vote.created_at < release.window_end))))
        assert release.n_battles == count
        for row in _rows(releases_dir, release.name):
            assert release.window_start.timestamp() <= row["tstamp"] < \
                release.window_end.timestamp()
            assert row["tstamp"] % 3600 == 0


def test_a_folder_left_by_a_crash_before_commit_is_replaced(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes(limit=300)
    stale = releases_dir / "2026-01-03_2026-02-02"
    stale.mkdir(parents=True)
    (stale / "battles.parquet").write_bytes(b"half-written")
    _cut(runner, "2026-02-16T00:00:00Z")
    [release] = _releases(db)
    manifest = json.loads((stale / "manifest.json").read_text())
    for entry in manifest["files"]:
        data = (stale / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
    assert release.manifest_sha256 == hashlib.sha256(
        (stale / "manifest.json").read_bytes()).hexdigest()


def test_manifest_lists_rows_sizes_and_checksums_of_every_file(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes(limit=300)
    _cut(runner, "2026-02-16T00:00:00Z")
    [release] = _releases(db)
    folder = releases_dir / release.name
    manifest = json.loads((folder / "manifest.json").read_text())
    names = {f["name"] for f in manifest["files"]}
    assert names == {"battles.parquet", "battles.jsonl", "leaderboard.json", "README.md",
                     "ledger.jsonl"}
    assert {f["name"] for f in release.files} == names | {"manifest.json"}
    by_name = {f["name"]: f for f in manifest["files"]}
    assert by_name["battles.parquet"]["rows"] == by_name["battles.jsonl"]["rows"] \
        == manifest["rows"] == release.n_battles
    jsonl = [json.loads(line) for line in (folder / "battles.jsonl").read_text().splitlines()]
    assert jsonl == _rows(releases_dir, release.name)


def test_unreleased_contenders_flagged_and_failed_battles_are_left_out(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seeded = seed_votes(limit=300)
    secret_id = seeded.contenders["gpt-4"]
    db.execute(update(Contender).where(Contender.id == secret_id).values(is_public=False))
    first_battles = list(db.scalars(select(Battle).join(Vote).where(
        Vote.created_at < FIRST + timedelta(days=30),
        Battle.contender_a_id != secret_id, Battle.contender_b_id != secret_id)
        .order_by(Battle.id)))
    flagged, failed = first_battles[10], first_battles[11]
    flagged.flagged = True
    failed.state = "failed"
    db.commit()
    _cut(runner, "2026-02-16T00:00:00Z")
    [release] = _releases(db)
    rows = _rows(releases_dir, release.name)
    assert rows and all("gpt-4" not in (r["model_a"], r["model_b"]) for r in rows)
    folder = releases_dir / release.name
    for name in ("battles.jsonl", "README.md", "leaderboard.json", "manifest.json"):
        assert "gpt-4" not in (folder / name).read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["excluded"]["unreleased_contender"] > 0
    in_window = len(list(db.scalars(select(Vote.id).where(
        Vote.created_at >= release.window_start, Vote.created_at < release.window_end))))
    assert release.n_battles == in_window - 2 - manifest["excluded"]["unreleased_contender"]


def test_opted_out_and_deleted_voters_are_left_out_of_later_releases(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes(limit=300)
    _cut(runner, "2026-02-16T00:00:00Z")
    first = _releases(db)[0]
    voters_before = {r["voter"] for r in _rows(releases_dir, first.name)}
    assert len(voters_before) == 40
    db.execute(update(Voter).where(Voter.id == "v01").values(opted_out_at=datetime.now(UTC)))
    db.execute(update(Voter).where(Voter.id == "v02").values(
        deletion_requested_at=datetime.now(UTC)))
    db.commit()
    _cut(runner, "2026-03-20T00:00:00Z")
    second = _releases(db)[1]
    manifest = json.loads((releases_dir / second.name / "manifest.json").read_text())
    assert manifest["excluded"]["voter_opted_out"] > 0
    assert manifest["excluded"]["voter_deleted"] > 0
    cast = len(list(db.scalars(select(Vote.id).where(
        Vote.created_at >= second.window_start, Vote.created_at < second.window_end,
        Vote.voter_id.not_in(["v01", "v02"])))))
    assert second.n_battles == cast
    assert len({r["voter"] for r in _rows(releases_dir, second.name)}) == 38


def test_pseudonyms_differ_per_release_and_never_expose_site_ids(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes(limit=300)
    _cut(runner, "2026-03-20T00:00:00Z")
    first, second = _releases(db)
    rows1, rows2 = _rows(releases_dir, first.name), _rows(releases_dir, second.name)
    voters1, voters2 = {r["voter"] for r in rows1}, {r["voter"] for r in rows2}
    assert len(voters1) == len(voters2) == 40
    assert voters1.isdisjoint(voters2)
    public_ids = set(db.scalars(select(Battle.public_id)))
    voter_ids = set(db.scalars(select(Voter.id)))
    text = "".join((releases_dir / r.name / "battles.jsonl").read_text() for r in (first,
                                                                                  second))
    assert not any(pid in text for pid in public_ids)
    assert not any(f'"{vid}"' in text for vid in voter_ids)
    assert "f" * 64 not in text  # the ip_hash of every seeded battle
    assert "mail me at" not in text  # vote feedback is never released


def test_linkable_pseudonyms_keep_one_voter_across_releases(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path,
        app: Any) -> None:
    app.config["RELEASE_LINKABLE_PSEUDONYMS"] = True
    seed_votes(limit=300)
    _cut(runner, "2026-03-20T00:00:00Z")
    first, second = _releases(db)
    voters1 = {r["voter"] for r in _rows(releases_dir, first.name)}
    voters2 = {r["voter"] for r in _rows(releases_dir, second.name)}
    assert voters1 == voters2


def test_texts_appear_only_for_consenting_voters_and_are_scrubbed(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes(limit=300)
    battle = db.scalars(select(Battle).where(Battle.voter_id == "v00").order_by(Battle.id)).first()
    assert battle is not None
    battle.turns[0].prompt = "My email is jane.doe@example.com, call me on (201) 555-0123."
    db.commit()
    _cut(runner, "2026-02-16T00:00:00Z")
    [release] = _releases(db)
    rows = _rows(releases_dir, release.name)
    consenting = {r["voter"] for r in rows if r["conversation_a"] is not None}
    silent = {r["voter"] for r in rows if r["conversation_a"] is None}
    assert len(consenting) == len(silent) == 20  # even-numbered voters consented
    assert consenting.isdisjoint(silent)
    prompts = [r["conversation_a"][0]["content"] for r in rows if r["conversation_a"]]
    assert "My email is [EMAIL], call me on [PHONE]." in prompts
    text = (releases_dir / release.name / "battles.jsonl").read_text()
    assert "jane.doe@example.com" not in text and "555-0123" not in text
    with_text = [r for r in rows if r["conversation_a"]]
    assert all(r["conversation_a"][0]["role"] == "user"
               and r["conversation_a"][1]["role"] == "assistant" for r in with_text)
    assert all(r["completion_tokens_a"] is not None and r["latency_ms_b"] is not None
               for r in rows)


def test_an_overlapping_run_does_nothing(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes(limit=300)
    releases_dir.mkdir(parents=True)
    with (releases_dir / ".cut.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        out = _cut(runner, "2026-06-01T00:00:00Z")
    assert "another `releases cut` is running" in out
    assert _releases(db) == []
    assert "released" in _cut(runner, "2026-06-01T00:00:00Z")


def test_nothing_eligible_is_nothing_to_release(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["releases", "cut"])
    assert result.exit_code == 0
    assert "nothing to release" in result.output
    assert _releases(db) == []


def test_a_bad_now_is_a_clear_error(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["releases", "cut", "--now", "next tuesday"])
    assert result.exit_code != 0
    assert "--now must be an ISO 8601 timestamp" in result.output


def test_release_carries_the_ledger_up_to_the_window_end(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    from arena import ledger

    seed_votes(limit=300)
    ledger.record(db, "policy_changed", details={"policy": "weighted"},
                  now=datetime(2026, 1, 2, tzinfo=UTC))
    ledger.record(db, "weight_changed", subject="guanaco-65b", details={"from": 1, "to": 2},
                  now=datetime(2026, 1, 20, tzinfo=UTC))
    ledger.record(db, "contender_retired", subject="guanaco-65b",
                  now=datetime(2026, 3, 1, tzinfo=UTC))  # after the first window
    db.commit()
    _cut(runner, "2026-02-16T00:00:00Z")
    [release] = _releases(db)
    folder = releases_dir / release.name
    lines = [json.loads(x) for x in (folder / "ledger.jsonl").read_text().splitlines()]
    assert [e["kind"] for e in lines] == ["policy_changed", "weight_changed"]
    assert lines[1]["details"] == {"from": 1, "to": 2}
    assert "ledger.jsonl" in (folder / "README.md").read_text()


def test_rows_are_written_batch_by_batch_with_the_same_content(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path,
        tmp_path: Path, app: Any, monkeypatch: Any) -> None:
    # Regression (memory): every text of a window was held at once, several times over
    # (~2.8 GB at 100k battles, ~25 GB at 1M); rows are now built and written in batches.
    import arena.releases.rows as rows_module

    seed_votes(limit=300)
    _cut(runner, "2026-02-16T00:00:00Z")
    [whole] = _releases(db)
    db.execute(delete(DataRelease))
    db.commit()
    monkeypatch.setattr(rows_module, "ROW_BATCH", 7)
    app.config["RELEASES_DIR"] = str(tmp_path / "batched")
    _cut(runner, "2026-02-16T00:00:00Z")
    batched = tmp_path / "batched" / whole.name
    assert pq.ParquetFile(batched / "battles.parquet").metadata.num_row_groups > 10
    assert pq.ParquetFile(releases_dir / whole.name / "battles.parquet").metadata \
        .num_row_groups == 1
    assert _rows(tmp_path / "batched", whole.name) == _rows(releases_dir, whole.name)
    for name in ("battles.jsonl", "leaderboard.json", "README.md"):
        assert (batched / name).read_bytes() == (releases_dir / whole.name / name).read_bytes()
