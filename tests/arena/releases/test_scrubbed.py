"""Scrubbed copies of texts (`flask releases scrub`, `scrubbed_turn`): a cut reads them instead of
scrubbing again, and its files are the same as when it scrubs everything itself."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask.testing import FlaskCliRunner
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from arena.leaderboard.data import eligible_battles
from arena.models import Battle, DataRelease, ScrubbedTurn, Turn
from arena.releases.rows import release_rows
from arena.releases.scrub import SCRUBBER_VERSION, scrub
from arena.releases.scrubbed import pending_battles, scrub_pending
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
    return release_rows(db, eligible_battles(db, **window), release="r", secret_key="k",
                        linkable=False)


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
    assert copy is not None and copy.version == SCRUBBER_VERSION
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
    # Reference: a cut that scrubs every text itself (no copies yet); it stores them.
    _run(runner, "cut", "--now", CUT_AT)
    reference = _files(releases_dir)
    assert reference and _copies(db) > 0
    copies = _copies(db)
    release = db.scalars(select(DataRelease)).one()
    # every text of the window now comes from a copy
    assert _release_rows(db, release).scrubbing.turns == 0
    # Cut the same window again from the copies alone.
    db.execute(delete(DataRelease))
    db.commit()
    app.config["RELEASES_DIR"] = str(tmp_path / "again")
    _run(runner, "cut", "--now", CUT_AT)
    assert _files(tmp_path / "again") == reference
    assert _copies(db) == copies


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
    db.commit()
    assert db.get(ScrubbedTurn, turn.id).prompt.endswith("[EMAIL] instead.")
    assert db.get(ScrubbedTurn, other.turn_id).version == SCRUBBER_VERSION
    assert _release_rows(db).scrubbing.turns == 0


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
