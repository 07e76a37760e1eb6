"""Votes: the reveal, what is stored, and every way a vote is refused without writing anything."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Vote


@pytest.fixture
def ready_battle(make_contender: Any, start_battle: Any) -> str:
    make_contender(name="Alpha Model", organization="Alpha Org", license="Apache-2.0")
    make_contender(name="Beta Model", organization="Beta Org", license="MIT")
    body, events = start_battle("Compare two sorting algorithms.")
    assert events[-1][1]["state"] == "ready"
    return str(body["id"])


def _vote(client: FlaskClient, battle_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/battles/{battle_id}/vote", json=body)


@pytest.mark.parametrize("winner", ["model_a", "model_b", "tie", "both_bad"])
def test_vote_reveals_both_contenders_and_marks_battle_voted(
        client: FlaskClient, ready_battle: str, battle_row: Any, db: Session,
        winner: str) -> None:
    response = _vote(client, ready_battle, winner=winner, feedback="  B was clearer.  ")
    assert response.status_code == 200
    body = response.get_json()
    battle = battle_row(ready_battle)
    expected = {c.name: {"name": c.name, "organization": c.organization,
                         "license": c.license, "public": True}
                for c in (battle.contender_a, battle.contender_b)}
    assert body == {"winner": winner, "a": expected[battle.contender_a.name],
                    "b": expected[battle.contender_b.name]}
    assert battle.state == "voted"
    vote = db.scalar(select(Vote).where(Vote.battle_id == battle.id))
    assert vote is not None
    assert vote.winner == winner and vote.feedback == "B was clearer."
    assert vote.voter_id == battle.voter_id
    assert vote.seconds_to_vote is not None and 0 <= vote.seconds_to_vote < 60


def test_battle_view_after_vote_has_winner_and_reveal(
        client: FlaskClient, ready_battle: str) -> None:
    revealed = _vote(client, ready_battle, winner="model_b").get_json()
    view = client.get(f"/api/v1/battles/{ready_battle}").get_json()
    assert view["voted"] is True and view["can_continue"] is False
    assert view["winner"] == "model_b"
    assert view["reveal"] == {"a": revealed["a"], "b": revealed["b"]}


def test_unreleased_contender_stays_unnamed_in_the_reveal(
        client: FlaskClient, make_contender: Any, start_battle: Any) -> None:
    make_contender(name="Secret Project", organization="Hidden Lab", is_public=False)
    make_contender(name="Public Model", organization="Open Lab")
    body, _ = start_battle("Say something nice.")
    response = _vote(client, body["id"], winner="tie")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Secret Project" not in text and "Hidden Lab" not in text
    assert "Public Model" in text
    sides = response.get_json()
    unreleased = sides["a"] if sides["a"]["public"] is False else sides["b"]
    assert unreleased["name"] == "Unreleased model"


def test_second_vote_is_409_already_voted_and_first_is_kept(
        client: FlaskClient, ready_battle: str, db: Session, row_counts: Any) -> None:
    assert _vote(client, ready_battle, winner="model_a").status_code == 200
    before = row_counts()
    again = _vote(client, ready_battle, winner="model_b")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_voted"
    assert row_counts() == before
    assert [v.winner for v in db.scalars(select(Vote))] == ["model_a"]


def test_unique_constraint_refuses_a_second_vote_row(
        client: FlaskClient, ready_battle: str, battle_row: Any, db: Session,
        row_counts: Any) -> None:
    # A vote row that the state check cannot see (state still "ready"): only the database's
    # UNIQUE constraint stands between it and a second vote.
    battle = battle_row(ready_battle)
    db.add(Vote(battle_id=battle.id, voter_id=battle.voter_id, winner="tie"))
    db.commit()
    before = row_counts()
    response = _vote(client, ready_battle, winner="model_a")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_voted"
    assert row_counts() == before
    assert battle_row(ready_battle).state == "ready"


def test_vote_from_another_session_is_403_not_your_battle(
        app: Flask, ready_battle: str, battle_row: Any, row_counts: Any) -> None:
    before = row_counts()
    stranger = app.test_client()
    response = _vote(stranger, ready_battle, winner="model_a")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_your_battle"
    assert row_counts() == before
    assert battle_row(ready_battle).state == "ready"


def test_vote_while_answers_pending_is_409_battle_not_ready(
        client: FlaskClient, make_contender: Any, row_counts: Any) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Too early?"}).get_json()
    before = row_counts()
    response = _vote(client, body["id"], winner="tie")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "battle_not_ready"
    assert row_counts() == before


def test_vote_during_a_new_turn_is_409_battle_not_ready(
        client: FlaskClient, ready_battle: str, row_counts: Any) -> None:
    client.post(f"/api/v1/battles/{ready_battle}/turns", json={"prompt": "More please."})
    before = row_counts()
    response = _vote(client, ready_battle, winner="tie")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "battle_not_ready"
    assert row_counts() == before


@pytest.mark.parametrize("winner", ["model_c", "", None, 1, "TIE"])
def test_invalid_winner_is_422(client: FlaskClient, ready_battle: str, row_counts: Any,
                               winner: Any) -> None:
    before = row_counts()
    response = _vote(client, ready_battle, winner=winner)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_winner"
    assert row_counts() == before


def test_feedback_over_2000_chars_is_422_and_2000_is_accepted(
        client: FlaskClient, ready_battle: str, row_counts: Any, db: Session) -> None:
    before = row_counts()
    too_long = _vote(client, ready_battle, winner="tie", feedback="x" * 2001)
    assert too_long.status_code == 422
    assert too_long.get_json()["error"]["code"] == "feedback_too_long"
    assert row_counts() == before
    assert _vote(client, ready_battle, winner="tie", feedback="y" * 2000).status_code == 200
    assert db.scalar(select(Vote.feedback)) == "y" * 2000


def test_feedback_of_wrong_type_is_422(client: FlaskClient, ready_battle: str) -> None:
    response = _vote(client, ready_battle, winner="tie", feedback=["not", "text"])
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_field"


def test_vote_on_unknown_battle_is_404(client: FlaskClient, ready_battle: str) -> None:
    response = _vote(client, "no-such-battle-id", winner="tie")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "battle_not_found"


def test_vote_reads_battle_and_contenders_in_one_query_and_writes_its_fact(
        app: Flask, client: FlaskClient, ready_battle: str, db: Session) -> None:
    from sqlalchemy import event

    from arena.db import engine_for

    seen: list[tuple[str, bool]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # With each statement: whether the driver runs it outside a transaction (autocommit).
        autocommit = bool(getattr(conn.connection.dbapi_connection, "autocommit", False))
        seen.append((" ".join(statement.split()), autocommit))

    engine = engine_for(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _vote(client, ready_battle, winner="model_a").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statements = [s for s, _ in seen]
    # One joined read of the battle, both contenders and the owner's revocation, never a lazy
    # load of a contender (the reveal used to cost two) nor a separate voter lookup. Then the
    # state, the vote and the fact; labels are left to the next facts sync (arena.categories).
    assert statements[0].startswith("SELECT battle."), statements
    assert not any(s.startswith(("SELECT contender.", "SELECT voter.")) for s in statements), \
        statements
    if db.get_bind().dialect.name == "postgresql":
        # The three writes are one statement, so neither needs a transaction around it: no
        # BEGIN/COMMIT round trips (psycopg sends them only outside autocommit).
        assert len(statements) == 2, statements
        assert statements[1].startswith("WITH moved AS (UPDATE battle SET state"), statements
        assert "INSERT INTO vote " in statements[1], statements
        assert "INSERT INTO battle_fact " in statements[1], statements
        assert all(autocommit for _, autocommit in seen), seen
    else:
        assert sum(s.startswith(("INSERT INTO vote", "UPDATE battle SET state"))
                   for s in statements) == 2, statements
        assert statements[3].startswith("INSERT INTO battle_fact"), statements
        assert len(statements) == 4, statements
    from arena.models import Battle, BattleFact
    battle = db.scalar(select(Battle).where(Battle.public_id == ready_battle))
    fact = db.get(BattleFact, battle.id)
    assert fact is not None and fact.winner == "model_a" and fact.turn_count == 1
    assert battle.category_version is None  # labelled by the next facts sync


def test_vote_without_gates_runs_outside_a_session_on_postgresql(
        app: Flask, client: FlaskClient, ready_battle: str, db: Session) -> None:
    """PostgreSQL: the vote's read and its one write run on an autocommit connection, with no
    Session transaction around them; the connection goes back to the pool out of autocommit.
    SQLite: the three writes stay one Session transaction."""
    from sqlalchemy import event

    from arena.db import engine_for

    begun: list[object] = []
    checked_in: list[bool] = []

    def on_begin(session: Any, _transaction: Any, _connection: Any) -> None:
        begun.append(session)

    def on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            checked_in.append(bool(getattr(dbapi_connection, "autocommit", False)))

    engine = engine_for(app)
    event.listen(Session, "after_begin", on_begin)
    event.listen(engine, "checkin", on_checkin)
    statuses: list[int] = []
    # In a thread of its own, as a server runs it: the request has its own app context (this
    # test's fixtures hold one), torn down when it ends.
    voter = threading.Thread(target=lambda: statuses.append(
        _vote(client, ready_battle, winner="model_b").status_code))
    try:
        voter.start()
        voter.join(timeout=30)
    finally:
        event.remove(Session, "after_begin", on_begin)
        event.remove(engine, "checkin", on_checkin)
    assert statuses == [200]
    if db.get_bind().dialect.name == "postgresql":
        assert begun == []
    else:
        assert len(begun) == 1
    assert checked_in and not any(checked_in), checked_in
    assert db.scalar(select(Vote.winner)) == "model_b"


def _writes(db: Session) -> tuple[int, int, str]:
    """Votes, facts, and the state of the one battle: what a refused vote must not change."""
    from sqlalchemy import func

    from arena.models import Battle, BattleFact
    db.rollback()  # see the app's commits
    return (int(db.scalar(select(func.count()).select_from(Vote)) or 0),
            int(db.scalar(select(func.count()).select_from(BattleFact)) or 0),
            str(db.scalar(select(Battle.state))))


def test_a_vote_that_lost_the_race_to_another_vote_is_409_and_writes_nothing(
        client: FlaskClient, ready_battle: str, db: Session) -> None:
    # Both read the battle ready; the other vote stores first. (On PostgreSQL the loser's one
    # statement finds no ready row to move, so its vote and fact are not inserted either.)
    from arena.battles import vote_target
    from arena.battles.lifecycle import AlreadyVoted
    from arena.models import utcnow
    from arena.voting import cast_vote

    stale = vote_target(db, ready_battle)
    db.rollback()
    assert _vote(client, ready_battle, winner="model_b").status_code == 200
    after_first = _writes(db)
    assert after_first == (1, 1, "voted")
    with pytest.raises(AlreadyVoted):
        cast_vote(db, stale, voter_id=stale.voter_id, winner="tie", feedback=None,
                  now=utcnow())
    db.commit()
    assert _writes(db) == after_first
    assert db.scalar(select(Vote.winner)) == "model_b"


def test_a_vote_that_lost_the_race_to_a_new_turn_is_409_not_ready_and_writes_nothing(
        client: FlaskClient, ready_battle: str, db: Session) -> None:
    from arena.battles import vote_target
    from arena.battles.lifecycle import BattleNotReady
    from arena.models import utcnow
    from arena.voting import cast_vote

    stale = vote_target(db, ready_battle)
    db.rollback()
    turn = client.post(f"/api/v1/battles/{ready_battle}/turns", json={"prompt": "More."})
    assert turn.status_code == 201
    with pytest.raises(BattleNotReady):
        cast_vote(db, stale, voter_id=stale.voter_id, winner="tie", feedback=None,
                  now=utcnow())
    db.commit()
    assert _writes(db) == (0, 0, "pending")


def test_a_vote_refused_by_the_unique_vote_leaves_the_battle_ready_and_writes_nothing(
        ready_battle: str, db: Session) -> None:
    # A vote row already stored for a battle still ready (only hand-made data gets here): the
    # UNIQUE(vote.battle_id) refusal undoes the state change too, on both backends.
    from sqlalchemy import insert

    from arena.battles import vote_target
    from arena.battles.lifecycle import AlreadyVoted
    from arena.models import Battle, utcnow
    from arena.voting import cast_vote

    target = vote_target(db, ready_battle)
    db.execute(insert(Vote).values(battle_id=target.id, voter_id=target.voter_id,
                                   winner="tie", created_at=utcnow()))
    db.commit()
    target = vote_target(db, ready_battle)
    with pytest.raises(AlreadyVoted):
        cast_vote(db, target, voter_id=target.voter_id, winner="model_a", feedback=None,
                  now=utcnow())
    db.commit()
    assert _writes(db) == (1, 0, "ready")
    assert db.scalar(select(Battle.state).where(Battle.id == target.id)) == "ready"
