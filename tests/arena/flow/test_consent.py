"""Consent to releasing texts is per battle, as given when it was created (issue 9's privacy bug).

Both directions: ticking "Share my prompts" on a later battle must not release an earlier
battle typed without it, and the arena page must not silently revoke a consent given on
/privacy (the box shows the stored choice, and a battle created without a choice keeps it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from arena.leaderboard.data import eligible_battles
from arena.models import Voter
from arena.releases.rows import release_rows


@pytest.fixture
def play(client: FlaskClient, start_battle: Callable[..., Any],
         battle_row: Callable[[str], Any]) -> Callable[..., int]:
    """One whole voted round through the API; returns the battle's row id."""

    def round_(prompt: str, **extra: Any) -> int:
        body, events = start_battle(prompt, **extra)
        assert events[-1][0] == "end" and events[-1][1]["state"] == "ready", events[-1]
        voted = client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "tie"})
        assert voted.status_code == 200
        return int(battle_row(body["id"]).id)

    return round_


def released_texts(db: Session) -> dict[int, bool]:
    """Battle id → whether a release cut now would publish its conversation."""
    db.rollback()
    battles = eligible_battles(db)
    rows = release_rows(db, battles, release="test", secret_key="k" * 32, linkable=False)
    return {b.battle_id: row["conversation_a"] is not None
            for b, row in zip(rows.kept, rows.rows, strict=True)}


def test_consent_ticked_on_a_later_battle_does_not_release_an_earlier_one(
        make_contender: Any, play: Callable[..., int], battle_row: Any, db: Session) -> None:
    make_contender()
    make_contender()
    first = play("What is a good first programming language?", release_consent=False)
    second = play("How do tides work?", release_consent=True)
    texts = released_texts(db)
    assert texts == {first: False, second: True}


def test_consent_given_on_privacy_holds_for_battles_created_without_a_choice(
        client: FlaskClient, make_contender: Any, play: Callable[..., int], db: Session) -> None:
    make_contender()
    make_contender()
    assert client.post("/api/v1/me", json={"release_consent": True}).status_code == 200
    battle = play("Why is the sea salty?")  # the page sends no choice when the box is unchanged
    assert client.get("/api/v1/me").get_json()["release_consent"] is True
    assert released_texts(db) == {battle: True}


def test_consent_withdrawn_before_the_cut_keeps_texts_out(
        client: FlaskClient, make_contender: Any, play: Callable[..., int], db: Session) -> None:
    make_contender()
    make_contender()
    battle = play("How do vaccines work?", release_consent=True)
    assert client.post("/api/v1/me", json={"release_consent": False}).status_code == 200
    assert released_texts(db) == {battle: False}


def test_a_battle_records_the_consent_in_force_when_it_was_created(
        client: FlaskClient, make_contender: Any, battle_row: Any, db: Session) -> None:
    make_contender()
    make_contender()
    given = client.post("/api/v1/battles", json={"prompt": "One?", "release_consent": True})
    omitted = client.post("/api/v1/battles", json={"prompt": "Two?"})
    refused = client.post("/api/v1/battles", json={"prompt": "Three?", "release_consent": False})
    assert [battle_row(r.get_json()["id"]).release_consent for r in (given, omitted, refused)] \
        == [True, True, False]
    voter = db.get(Voter, battle_row(given.get_json()["id"]).voter_id)
    assert voter is not None and voter.release_consent is False


def _consent_box(html: str) -> str:
    match = re.search(r'<input[^>]*id="release-consent"[^>]*>', html)
    assert match, "the arena page has no consent box"
    return match.group(0)


def test_arena_page_consent_box_shows_the_stored_choice(client: FlaskClient) -> None:
    assert "checked" not in _consent_box(client.get("/").get_data(as_text=True))
    client.post("/api/v1/me", json={"release_consent": True})
    assert "checked" in _consent_box(client.get("/").get_data(as_text=True))
    client.post("/api/v1/me", json={"release_consent": False})
    assert "checked" not in _consent_box(client.get("/").get_data(as_text=True))


def test_battles_of_a_known_voter_skip_the_session_but_consent_changes_do_not(
        app: Any, client: FlaskClient, make_contender: Any, db: Session) -> None:
    """PostgreSQL: a known voter's battle whose consent stays as stored is one statement on an
    autocommit connection (no Session); a browser's first battle and a consent change are a
    Session transaction. Either way the battle records the consent in force."""
    import threading

    from sqlalchemy import event, select

    from arena.models import Battle

    make_contender()
    make_contender()
    begun: list[object] = []

    def on_begin(session: Any, _transaction: Any, _connection: Any) -> None:
        begun.append(session)

    def create(body: dict[str, Any]) -> int:
        # A thread of its own: the request gets (and tears down) its own app context.
        done: list[int] = []
        worker = threading.Thread(target=lambda: done.append(
            client.post("/api/v1/battles", json=body).status_code))
        worker.start()
        worker.join(timeout=30)
        return done[0]

    event.listen(Session, "after_begin", on_begin)
    try:
        sessions = []
        for body in ({"prompt": "First.", "release_consent": False}, {"prompt": "Second."},
                     {"prompt": "Third.", "release_consent": False},
                     {"prompt": "Fourth.", "release_consent": True}):
            before = len(begun)
            assert create(body) == 201
            sessions.append(len(begun) - before)
    finally:
        event.remove(Session, "after_begin", on_begin)
    if db.get_bind().dialect.name == "postgresql":
        assert sessions == [1, 0, 0, 1], sessions
    else:
        assert sessions == [1, 1, 1, 1], sessions
    db.expire_all()
    consents = db.scalars(select(Battle.release_consent).order_by(Battle.id)).all()
    assert consents == [False, False, False, True]
    assert db.scalar(select(Voter.release_consent)) is True


def test_the_one_statement_battle_checks_the_voter_row_and_writes_nothing_otherwise(
        app: Any, make_contender: Any, db: Session) -> None:
    """PostgreSQL: the known voter's battle (arena.battles.lifecycle.create_known_voters_battle)
    is written only for a voter row that exists, has not asked for deletion and keeps its
    stored consent, and records that consent; in every other case it writes nothing, so the
    request takes the general way (a new pseudonym, a new voter row, a stored new consent)."""
    import random
    from datetime import timedelta

    from sqlalchemy import func, select

    from arena.battles.lifecycle import create_known_voters_battle
    from arena.db import autocommit_engine
    from arena.models import Battle, Turn, utcnow

    engine = autocommit_engine(app)
    if engine is None:
        pytest.skip("the one-statement battle is PostgreSQL's")
    make_contender()
    make_contender()
    now = utcnow()
    db.add_all([Voter(id="kept", release_consent=False, created_at=now),
                Voter(id="shared", release_consent=True, created_at=now),
                Voter(id="gone", release_consent=True, created_at=now,
                      deletion_requested_at=now - timedelta(minutes=1))])
    db.commit()
    sampler = app.extensions["arena.sampler"]
    sampler.draw(db, random.Random(0), now)  # records the policy: later draws only read
    db.commit()
    cases = [("kept", None, False), ("kept", False, False), ("kept", True, None),
             ("shared", None, True), ("shared", True, True), ("shared", False, None),
             ("gone", None, None), ("nobody", None, None)]
    for voter, wanted, recorded in cases:
        with engine.connect() as conn:
            created = create_known_voters_battle(
                conn, voter_id=voter, ip_hash="h" * 64, prompt=f"For {voter}, {wanted}?",
                rng=random.Random(1), now=now, language="en", release_consent=wanted,
                sampler=sampler)
        db.rollback()
        count = db.scalar(select(func.count()).select_from(Battle)
                          .where(Battle.voter_id == voter,
                                 Battle.turns.any(Turn.prompt == f"For {voter}, {wanted}?")))
        if recorded is None:
            assert created is None and count == 0, (voter, wanted)
            continue
        assert created is not None and count == 1, (voter, wanted)
        battle = db.get(Battle, created.id)
        assert battle is not None and battle.public_id == created.public_id
        assert (battle.release_consent, battle.state, battle.language) == \
            (recorded, "pending", "en")
        assert [(t.position, t.prompt) for t in battle.turns] == [(0, f"For {voter}, {wanted}?")]
    assert db.scalar(select(func.count()).select_from(Voter)) == 3  # none inserted
