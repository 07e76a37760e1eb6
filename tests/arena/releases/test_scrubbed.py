"""Scrubbed copies of texts (`flask releases scrub`, `scrubbed_turn`): a cut reads them instead of
scrubbing again, and its files are the same as when it scrubs everything itself."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from arena.db import new_session
from arena.leaderboard.data import eligible_battles
from arena.models import Battle, DataRelease, ScrubbedTurn, Turn
from arena.releases.rows import release_rows, turn_texts
from arena.releases.scrub import scrub, scrubber_version
from arena.releases.scrubbed import ScrubReport, pending_battles, scrub_pending, scrub_turns
from arena.releases.voters import request_deletion

CUT_AT = "2026-02-16T00:00:00Z"  # releases the first 30-day window of the seeded votes
PII = "My email is jane.doe@example.com, call me on (201) 555-0123."


def _run(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["releases", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _files(releases_dir: Path) -> dict[str, str]:
    # every file of every release folder (the lock file beside them is not part of one)
    return {p.relative_to(releases_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(releases_dir.glob("*/**/*")) if p.is_file()}


def _copies(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(ScrubbedTurn)) or 0)


def _release_rows(db: Session, release: DataRelease | None = None) -> Any:
    """The rows of ``release``'s window (default: of every eligible battle)."""
    window = {"since": release.window_start, "until": release.window_end} if release else {}
    data = release_rows(db, eligible_battles(db, **window), release="r", secret_key="k",
                        linkable=False)
    assert data.rows is not None  # built (and texts scrubbed) as they are read
    return data


def _with_pii(db: Session) -> Turn:
    battle = db.scalars(select(Battle).where(Battle.voter_id == "v00").order_by(Battle.id)).first()
    assert battle is not None
    battle.turns[0].prompt = PII
    db.commit()
    return battle.turns[0]


def test_scrub_stores_every_consented_voted_turn_once(
        runner: FlaskCliRunner, db: Session, seed_votes: Any) -> None:
    seed_votes(limit=200)
    turn = _with_pii(db)
    consented = db.scalar(select(func.count()).select_from(Turn).join(Battle).where(
        Battle.release_consent.is_(True))) or 0
    assert consented == 100
    assert "scrubbed the texts of 100 turns" in _run(runner, "scrub", "--batch", "30")
    assert _copies(db) == 100 and pending_battles(db, limit=10) == []
    copy = db.get(ScrubbedTurn, turn.id)
    assert copy is not None and copy.version == scrubber_version()
    assert copy.prompt == "My email is [EMAIL], call me on [PHONE]."
    assert copy.answer_a == scrub(turn.answers[0].text)
    # Battles typed without release consent are never scrubbed (their texts are never released).
    assert db.scalar(select(func.count()).select_from(ScrubbedTurn).join(Turn).join(Battle)
                     .where(Battle.release_consent.is_(False))) == 0
    assert "of 0 turns" in _run(runner, "scrub")  # idempotent


def test_a_cut_reads_the_copies_and_writes_the_same_files(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path,
        tmp_path: Path, app: Any) -> None:
    seed_votes(limit=200)
    _with_pii(db)
    # Reference: a cut with no copies scrubs every text itself, in memory (it stores none).
    _run(runner, "cut", "--now", CUT_AT)
    reference = _files(releases_dir)
    assert reference and _copies(db) == 0
    release = db.scalars(select(DataRelease)).one()
    assert _release_rows(db, release).scrubbing.reused == 0
    _run(runner, "scrub")
    # every text of the window now comes from a copy
    rows = _release_rows(db, release)
    assert rows.scrubbing.turns == 0 and rows.scrubbing.reused == rows.with_text > 0
    # Cut the same window again from the copies alone.
    db.execute(delete(DataRelease))
    db.commit()
    app.config["RELEASES_DIR"] = str(tmp_path / "again")
    _run(runner, "cut", "--now", CUT_AT)
    assert _files(tmp_path / "again") == reference


def test_a_stale_copy_is_scrubbed_again(
        runner: FlaskCliRunner, db: Session, seed_votes: Any) -> None:
    seed_votes(limit=200)
    turn = _with_pii(db)
    _run(runner, "scrub")
    # A text edited after it was scrubbed (e.g. redacted by hand): the old copy must not be used.
    turn.prompt = "Redacted by the operator; write to jd@example.org instead."
    # A copy from another scrubber version: scrubbed again too, by the cut and by `scrub`.
    other = db.scalars(select(ScrubbedTurn).where(ScrubbedTurn.turn_id != turn.id)).first()
    assert other is not None
    other.version = "older"
    db.commit()
    assert len(pending_battles(db, limit=10)) == 1
    data = _release_rows(db)
    assert data.scrubbing.turns == 2
    prompts = [r["conversation_a"][0]["content"] for r in data.rows if r["conversation_a"]]
    assert "Redacted by the operator; write to [EMAIL] instead." in prompts
    assert not any("jane.doe" in p or "[PHONE]" in p for p in prompts)
    db.rollback()
    _run(runner, "scrub")
    assert db.get(ScrubbedTurn, other.turn_id).version == scrubber_version()
    # the edited turn's copy stays as it was (`scrub` reads no texts to compare), so every
    # cut scrubs that turn again, in memory
    assert db.get(ScrubbedTurn, turn.id).prompt == "My email is [EMAIL], call me on [PHONE]."
    assert _release_rows(db).scrubbing.turns == 1


def test_a_new_phone_number_library_makes_every_copy_stale(
        runner: FlaskCliRunner, db: Session, seed_votes: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: copies carried the rules' version only, so upgrading phonenumbers (whose
    # data decides which numbers are valid) left every copy "current" with the old verdicts.
    import phonenumbers

    seed_votes(limit=200)
    _run(runner, "scrub")
    assert pending_battles(db, limit=1000) == []
    monkeypatch.setattr(phonenumbers, "__version__", phonenumbers.__version__ + ".1")
    assert len(pending_battles(db, limit=1000)) == 100
    assert _release_rows(db).scrubbing.reused == 0
    assert "scrubbed the texts of 100 turns" in _run(runner, "scrub")


def test_copies_written_by_two_jobs_at_once_replace_each_other(
        app: Any, db: Session, seed_votes: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: copies were written with a plain INSERT, so two jobs storing the same turns
    # at once (`releases scrub` from cron and one by hand) failed on the primary key.
    import arena.releases.scrubbed as scrubbed

    seed_votes(limit=20)
    texts = turn_texts(db, list(db.scalars(select(Battle.id).where(
        Battle.release_consent.is_(True)))))
    real = scrubbed.scrub_many
    other_job: list[int] = []

    def meanwhile(raw: Any, **kwargs: Any) -> Any:
        if not other_job:  # the other job stores the same turns between our read and write
            other_job.append(1)
            with new_session(app) as other:
                scrub_turns(other, texts, store=True)
                other.commit()
        return real(raw, **kwargs)

    monkeypatch.setattr(scrubbed, "scrub_many", meanwhile)
    report = ScrubReport()
    scrub_turns(db, texts, report, store=True)
    db.commit()
    assert other_job and report.turns == len(texts) == _copies(db) == 10
    assert set(db.scalars(select(ScrubbedTurn.version))) == {scrubber_version()}


def test_scrub_survives_a_deletion_request_under_a_batch(
        app: Any, db: Session, seed_votes: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: a voter's deletion committed while a batch was being scrubbed made the job
    # fail on the foreign key (the copy of a turn that no longer exists).
    import arena.releases.rows as rows

    seed_votes(limit=60)
    real = rows.turn_texts
    calls: list[int] = []

    def deleted_meanwhile(session: Session, ids: list[int]) -> Any:
        found = real(session, ids)
        if not calls:
            with new_session(app) as other:
                request_deletion(other, "v00", db.scalar(select(func.max(Battle.updated_at))))
                other.commit()
        calls.append(len(ids))
        return found

    monkeypatch.setattr(rows, "turn_texts", deleted_meanwhile)
    report = scrub_pending(db, batch=1000)
    assert len(calls) == 2  # the batch again, without the deleted voter's turns
    assert report.turns == _copies(db) == 30 - 2  # v00 typed 2 of the 30 consented battles
    assert db.scalar(select(func.count()).select_from(ScrubbedTurn).join(Turn).join(Battle)
                     .where(Battle.voter_id == "v00")) == 0


def test_deleting_a_voters_texts_deletes_their_copies(
        runner: FlaskCliRunner, db: Session, seed_votes: Any) -> None:
    seed_votes(limit=200)
    _run(runner, "scrub")
    mine = select(func.count()).select_from(ScrubbedTurn).join(Turn).join(Battle).where(
        Battle.voter_id == "v00")
    assert (db.scalar(mine) or 0) > 0
    before = _copies(db)
    report = request_deletion(db, "v00", db.scalar(select(func.max(Battle.updated_at))))
    db.commit()
    assert report.texts_erased > 0
    # The copies went with the turns (ON DELETE CASCADE), on SQLite and PostgreSQL alike.
    assert _copies(db) == before - report.texts_erased
    assert db.scalar(select(func.count()).select_from(ScrubbedTurn).where(
        ScrubbedTurn.turn_id.not_in(select(Turn.id)))) == 0


def test_scrub_limit_and_batches_commit_as_they_go(
        runner: FlaskCliRunner, db: Session, seed_votes: Any) -> None:
    seed_votes(limit=200)
    report = scrub_pending(db, batch=7, limit=20)
    assert report.turns == 20 and _copies(db) == 20
    db.rollback()  # each batch was committed: nothing to lose
    assert _copies(db) == 20
    db.execute(update(Battle).where(Battle.id.in_(pending_battles(db, limit=1000)))
               .values(state="abandoned"))
    db.commit()
    assert pending_battles(db, limit=10) == []
