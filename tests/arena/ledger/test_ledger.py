"""The ledger: sync decisions recorded, append-only, private tests revealed and never retracted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from arena import ledger
from arena.contenders import PrivateTestError, parse_contenders, sync_contenders
from arena.models import Battle, Contender, LedgerEntry, Vote, utcnow

FILE = """\
contenders:
  - name: Alpha
    organization: Lab A
    base_url: http://127.0.0.1:9/v1
    model: alpha
    weight: 2
  - name: Beta
    organization: Lab A
    base_url: http://127.0.0.1:9/v1
    model: beta
  - name: Gamma Secret
    organization: Lab G
    base_url: http://127.0.0.1:9/v1
    model: gamma
    public: false
"""


def _kinds(db: Session) -> list[tuple[str, str | None]]:
    return [(e.kind, e.subject) for e in db.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]


def test_sync_records_additions_private_tests_weights_and_retirements(db: Session) -> None:
    sync_contenders(db, parse_contenders(FILE))
    db.commit()
    gamma = db.scalars(select(Contender).where(Contender.name == "Gamma Secret")).one()
    assert gamma.alias and gamma.alias.startswith("anonymous-")
    assert _kinds(db) == [("contender_added", "Alpha"), ("contender_added", "Beta"),
                          ("contender_added", gamma.alias),
                          ("private_test_started", gamma.alias)]
    # The ledger never names an unreleased contender.
    assert "Gamma" not in str([ledger.entry_json(e) for e in db.scalars(select(LedgerEntry))])

    changed = FILE.replace("weight: 2", "weight: 3").replace(
        "    model: beta\n", "    model: beta\n    deprecated: superseded by Beta 2\n")
    sync_contenders(db, parse_contenders(changed))
    db.commit()
    new = _kinds(db)[4:]
    assert ("contender_deprecated", "Beta") in new and ("weight_changed", "Alpha") in new
    deprecated = db.scalars(select(LedgerEntry).where(
        LedgerEntry.kind == "contender_deprecated")).one()
    assert deprecated.reason == "superseded by Beta 2" and deprecated.details["date"]
    weight = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "weight_changed")).one()
    assert weight.details == {"from": 2.0, "to": 3.0}

    sync_contenders(db, parse_contenders(changed))  # nothing changed: nothing recorded
    db.commit()
    assert len(_kinds(db)) == 6


def test_ledger_entries_cannot_be_changed_or_deleted(db: Session) -> None:
    ledger.record(db, "policy_changed", details={"policy": "uniform"})
    db.commit()
    entry = db.scalars(select(LedgerEntry)).one()
    entry.reason = "rewritten history"
    with pytest.raises(ledger.LedgerIsAppendOnly):
        db.flush()
    db.rollback()
    with pytest.raises(ledger.LedgerIsAppendOnly):
        db.execute(update(LedgerEntry).values(reason="x"))
    with pytest.raises(ledger.LedgerIsAppendOnly):
        db.execute(delete(LedgerEntry))
    db.rollback()
    db.delete(db.scalars(select(LedgerEntry)).one())
    with pytest.raises(ledger.LedgerIsAppendOnly):
        db.flush()
    db.rollback()
    assert db.scalars(select(LedgerEntry)).one().reason is None


def test_revealed_private_test_cannot_be_retracted(db: Session) -> None:
    sync_contenders(db, parse_contenders(FILE))
    db.commit()
    gamma = db.scalars(select(Contender).where(Contender.name == "Gamma Secret")).one()
    ledger.reveal_due(db, now=utcnow() + timedelta(days=31), reveal_votes=3000, reveal_days=30)
    db.commit()
    assert gamma.is_public and gamma.revealed_at is not None
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "alias_revealed")).one()
    assert (entry.subject, entry.details["alias"]) == ("Gamma Secret", gamma.alias)
    with pytest.raises(PrivateTestError, match="cannot be made private again"):
        sync_contenders(db, parse_contenders(FILE))
    db.rollback()
    assert db.get(Contender, gamma.id).is_public  # type: ignore[union-attr]


def test_reveal_after_votes_whatever_the_score(db: Session) -> None:
    sync_contenders(db, parse_contenders(FILE))
    db.commit()
    ids = {c.name: c.id for c in db.scalars(select(Contender))}
    now = utcnow()
    for k in range(5):  # Gamma loses every one of its battles
        battle = Battle(public_id=f"p{k}", contender_a_id=ids["Alpha"],
                        contender_b_id=ids["Gamma Secret"], state="voted", created_at=now)
        db.add(battle)
        db.flush()
        db.add(Vote(battle_id=battle.id, winner="model_a", created_at=now))
    db.commit()
    assert ledger.reveal_due(db, now=now, reveal_votes=6, reveal_days=30) == []
    assert ledger.reveal_due(db, now=now, reveal_votes=5, reveal_days=30) == ["Gamma Secret"]
    db.commit()
    gamma_id = ids["Gamma Secret"]
    assert ledger.provisional_after_reveal(db, votes_after=1) == {gamma_id}


def test_organisation_cap_on_private_tests(db: Session) -> None:
    many = FILE + "".join(f"""\
  - name: G{i}
    organization: Lab G
    base_url: http://127.0.0.1:9/v1
    model: g{i}
    public: false
""" for i in range(3))
    with pytest.raises(PrivateTestError, match="at most 3"):
        sync_contenders(db, parse_contenders(many), max_private_per_org=3)
    db.rollback()
    assert db.scalars(select(Contender)).first() is None


def test_reveal_cli_and_alias_shown_after_vote(runner: FlaskCliRunner, db: Session,
                                               tmp_path: Any) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(FILE)
    assert runner.invoke(args=["contenders", "sync", str(path)]).exit_code == 0
    result = runner.invoke(args=["ledger", "reveal"])
    assert result.exit_code == 0 and "revealed 0" in result.output
