"""Votes: exactly one per battle, only on a ready battle, only by the battle's own voter.

"Exactly one" is the database's job: ``vote.battle_id`` is UNIQUE, so of two concurrent
submits (threads, processes or hosts) one insert fails and is answered 409 ``already_voted``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.battles.lifecycle import (
    AlreadyVoted,
    VoteTarget,
    current_state,
    require_owner,
    reveal,
    state_error,
    vote_target,
)
from arena.db import Database, Prebuilt, connection_of
from arena.errors import ValidationError
from arena.integrity.gates import record_gate
from arena.leaderboard.facts import INSERT_VOTE_FACT, vote_fact_insert, vote_fact_params
from arena.models import WINNERS, Battle, Vote

MAX_FEEDBACK_CHARS = 2000


class InvalidWinner(ValidationError):
    code = "invalid_winner"
    message = f"winner must be one of: {', '.join(WINNERS)}."


class FeedbackTooLong(ValidationError):
    code = "feedback_too_long"
    message = f"Feedback may be at most {MAX_FEEDBACK_CHARS} characters."


class InvalidFeedback(ValidationError):
    code = "invalid_field"
    message = "feedback must be a string without NUL characters."


def validate_vote(winner: Any, feedback: Any) -> tuple[str, str | None]:
    """Checked ``(winner, feedback)``; blank feedback is stored as None."""
    if not isinstance(winner, str) or winner not in WINNERS:
        raise InvalidWinner()
    if feedback is not None and (not isinstance(feedback, str) or "\x00" in feedback):
        raise InvalidFeedback()
    if feedback is not None and len(feedback) > MAX_FEEDBACK_CHARS:
        raise FeedbackTooLong()
    return winner, (feedback.strip() or None) if feedback else None


# Built once: constructing a statement costs more than running it. (Statements of the mapped
# classes, executed on the session's Connection: no ORM layer.) The conditional UPDATE loses
# to a concurrent vote or new turn (row lock), and to any change of the battle since it was
# read (``updated_at``: e.g. a near-duplicate regrouping), whose columns the fact copies. It
# also marks the battle unlabelled: labels read whole answers, which costs more than the rest
# of the vote, so the next facts sync labels the final conversation
# (arena.categories.store.label_voted) before anything reads them, replacing what a relabel
# of the unvoted battle may have written.
_MARK_VOTED = (update(Battle)
               .where(Battle.id == bindparam("battle_id"), Battle.state == "ready",
                      Battle.updated_at == bindparam("seen", type_=Battle.updated_at.type))
               .values(state="voted", updated_at=bindparam("now"), category_version=None))
_INSERT_VOTE = insert(Vote)
_VOTE_COLUMNS = ("battle_id", "voter_id", "winner", "feedback", "seconds_to_vote", "created_at")


def _vote_statement() -> Any:
    """PostgreSQL: the state change, the vote and its fact as one data-modifying statement.

    ``WITH moved AS (UPDATE battle … WHERE state = 'ready' RETURNING id), cast AS (INSERT INTO
    vote … SELECT … FROM moved), fact AS (INSERT INTO battle_fact … HAVING EXISTS (moved))
    SELECT id FROM moved``: one round trip instead of three, the same guarantees. The vote and
    the fact are inserted only when the UPDATE moved the battle (it waits for, then re-checks,
    a concurrent vote's or turn's row lock); a second vote that got that far anyway fails the
    whole statement on ``UNIQUE(vote.battle_id)``. All parts see one snapshot, taken before
    the UPDATE: the fact's turn totals count the turns of a battle that was ``ready``, and a
    turn added later waits for this statement's lock and then finds the battle voted.
    """
    moved = _MARK_VOTED.returning(Battle.id).cte("moved")
    values = [bindparam(f"vote_{name}", type_=Vote.__table__.c[name].type)
              for name in _VOTE_COLUMNS[1:]]
    cast = insert(Vote).from_select(_VOTE_COLUMNS, select(moved.c.id, *values)).cte("cast")
    fact = vote_fact_insert(only_if=exists(select(moved.c.id))).cte("fact")
    return select(moved.c.id).add_cte(cast, fact)


_CAST_VOTE = Prebuilt(_vote_statement())


#: Reads of a battle that changed under the vote before it is refused (never in practice).
VOTE_ATTEMPTS = 3


def _store_vote(db: Database, battle: VoteTarget, *, voter_id: str | None, winner: str,
                feedback: str | None, now: datetime) -> bool:
    """The vote's statements; False if the battle was not ``ready`` as read (nothing written).
    A second vote that got this far fails on UNIQUE: rolled back, 409."""
    ready_at = battle.ready_at
    seconds = (now - ready_at).total_seconds() if ready_at is not None else None
    fact = vote_fact_params(db, battle, winner=winner, voter_id=voter_id, now=now)
    conn = connection_of(db)
    seen = {"battle_id": battle.id, "now": now, "seen": battle.updated_at}
    try:
        if conn.dialect.name == "postgresql":
            return _CAST_VOTE.first(conn, {
                **fact, **seen, "vote_voter_id": voter_id, "vote_winner": winner,
                "vote_feedback": feedback, "vote_seconds_to_vote": seconds,
                "vote_created_at": now}) is not None
        if conn.execute(_MARK_VOTED, seen).rowcount != 1:
            return False
        conn.execute(_INSERT_VOTE, {"battle_id": battle.id, "voter_id": voter_id,
                                    "winner": winner, "feedback": feedback,
                                    "seconds_to_vote": seconds, "created_at": now})
        conn.execute(INSERT_VOTE_FACT, fact)
        return True
    except IntegrityError:
        db.rollback()  # an autocommit Connection: the failed statement left nothing to undo
        raise AlreadyVoted() from None


def cast_vote(db: Database, battle: Battle | VoteTarget, *, voter_id: str | None,
              winner: str, feedback: str | None, now: datetime,
              gates: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """Store the vote and mark the battle ``voted``; return the reveal for the response.

    ``battle`` is what :func:`arena.battles.vote_target` read (the API), or an ORM battle.
    ``db`` is a ``Session``, or (PostgreSQL, no gates: one write statement) a Connection in
    autocommit (:func:`arena.db.statement_connection`).
    ``gates`` are the voter gates' verdicts ``(gate, status, detail)``: stored with the vote,
    never a reason to refuse it. The caller commits. On a lost race the session is rolled
    back and a 409 raised, so nothing of a rejected vote remains; a battle changed since it was
    read (still ``ready``) is read again and the vote retried.

    On PostgreSQL one statement (:func:`_vote_statement`); elsewhere three Core statements:
    the state change, the vote and its fact.
    """
    if isinstance(battle, Battle):
        assert isinstance(db, Session), "an ORM battle is voted through its Session"
        db.flush()
        orm, battle = battle, VoteTarget.of(battle)
        # The statements below bypass the ORM: reload the object's columns when next read.
        db.expire(orm)
    for attempt in range(VOTE_ATTEMPTS):
        require_owner(battle, voter_id)
        if battle.state != "ready":
            raise state_error(battle.state)
        if _store_vote(db, battle, voter_id=voter_id, winner=winner, feedback=feedback,
                       now=now):
            break
        # A vote or a new turn won the race since our read (a 409), or the battle changed
        # under it and the fact would copy stale columns: read it again and retry.
        state = current_state(db, battle.id)
        db.rollback()
        if state != "ready" or attempt == VOTE_ATTEMPTS - 1:
            raise state_error(state)
        battle = vote_target(db, battle.public_id)
    if gates:
        assert isinstance(db, Session), "gate verdicts are written in the vote's transaction"
        for gate, status, detail in gates:
            record_gate(db, battle.id, gate, status, now=now, detail=detail)
    return {"winner": winner, **reveal(battle)}
