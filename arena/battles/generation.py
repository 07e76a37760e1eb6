"""Generating one turn of a battle: both sides stream concurrently, then one short write.

No database session is open while the endpoints answer: :func:`plan_generation` reads what the
streams need inside the request, and :func:`run_generation` writes the outcome afterwards in a
session of its own. It yields ``(event, payload)`` pairs that the API sends as server-sent events.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import Connection, bindparam, exists, insert, select, union_all, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from arena import db as arena_db
from arena.battles.lifecycle import HEARTBEAT_S, BattleNotFound, beat
from arena.battles.sampling import HEALTHY, record_failure, record_success
from arena.db import Database, Prebuilt
from arena.errors import InferenceError, StreamBroken
from arena.identity import identity_leak
from arena.inference import Delta, Endpoint, Finished, Frame, Tick, stream_pair
from arena.models import Answer, Battle, Contender, Turn, Voter, utcnow
from arena.render import render_markdown
from ratings.features import extract_features

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
SIDES = ("a", "b")
# Text is sent in frames this often: one SSE write per frame for both sides, not one event per
# token and side, keeps a stream's CPU low, and 50 ms is below what a reader perceives as
# stutter (benchmarks/web/README.md, stream_cpu.py).
FRAME_S = 0.05
# With nothing to send for this long (up to half as long again: stream_pair's clock ticks
# every KEEPALIVE_S / 2) the stream sends an SSE comment: writing it is how the server notices
# a client that went away while the endpoints are silent.
KEEPALIVE_S = 2.0
# How long a final write keeps retrying through a database outage (restart, fail-over).
WRITE_RETRY_S = 12.0


@dataclass(frozen=True)
class GenerationPlan:
    """Everything one turn's generation needs, read before any endpoint is called."""

    battle_id: int
    turn_id: int
    contender_ids: dict[str, int]
    endpoints: dict[str, Endpoint]
    messages: dict[str, list[dict[str, str]]]
    # Each side's earlier answers, for style features summed over the whole conversation.
    earlier: dict[str, list[str]]
    identities: tuple[str, ...]
    flagged: bool = False
    #: The position of the turn to answer (0 for the first).
    position: int = 0


@dataclass(frozen=True)
class StreamTarget:
    """What the stream route reads of a battle, and whether its owner's cookie is revoked."""

    id: int
    public_id: str
    voter_id: str | None
    state: str
    arena: str
    flagged: bool
    contender_a_id: int
    contender_b_id: int
    #: The owner asked for deletion: their old cookies no longer stand for anybody.
    owner_revoked: bool


# Built once: constructing the statement costs more than running it, and the ORM's entity
# loading (the battle, then the voter row for the owner check) cost more than both queries.
_STREAM_TARGET = Prebuilt(
    select(Battle.id, Battle.public_id, Battle.voter_id, Battle.state, Battle.arena,
           Battle.flagged, Battle.contender_a_id, Battle.contender_b_id,
           Voter.deletion_requested_at)
    .outerjoin(Voter, Voter.id == Battle.voter_id)
    .where(Battle.public_id == bindparam("public_id")))


def stream_target(db: Database, public_id: str) -> StreamTarget:
    """What a stream request needs of a battle, in one Core query (no ORM objects).

    Raises :class:`~arena.battles.lifecycle.BattleNotFound`."""
    row = _STREAM_TARGET.first(arena_db.connection_of(db), {"public_id": public_id})
    if row is None:
        raise BattleNotFound()
    (battle_id, public_id_, voter_id, state, arena, flagged, contender_a_id, contender_b_id,
     deleted_at) = row
    return StreamTarget(battle_id, public_id_, voter_id, state, arena, bool(flagged),
                        contender_a_id, contender_b_id, deleted_at is not None)


def _endpoint(contender: Any) -> Endpoint:
    """The endpoint of a contender (a ``Contender`` or a row of :data:`_CONTENDER_COLUMNS`)."""
    key = os.environ.get(contender.api_key_env) if contender.api_key_env else None
    return Endpoint(base_url=contender.base_url, model=contender.upstream_model, api_key=key,
                    connect_timeout=contender.connect_timeout,
                    read_timeout=contender.read_timeout,
                    total_timeout=contender.total_timeout, params=dict(contender.params or {}))


# What a plan reads, as Core statements on the session's connection (built once; the ORM's
# entity loading cost more CPU than the queries).
_CONTENDER_COLUMNS = (Contender.id, Contender.name, Contender.organization,
                      Contender.upstream_model, Contender.base_url, Contender.api_key_env,
                      Contender.connect_timeout, Contender.read_timeout,
                      Contender.total_timeout, Contender.params)
_PLAN_CONTENDERS = select(*_CONTENDER_COLUMNS).where(
    Contender.id.in_([bindparam("contender_a"), bindparam("contender_b")]))
# Turns in order with their answers (none, one or two rows per turn).
_PLAN_CONVERSATION = (select(Turn.id, Turn.prompt, Answer.side, Answer.text)
                      .outerjoin(Answer, Answer.turn_id == Turn.id)
                      .where(Turn.battle_id == bindparam("battle_id"))
                      .order_by(Turn.position))


def plan_generation(db: Database, battle: Battle | StreamTarget) -> GenerationPlan:
    """Read the conversation so far; the last turn is the one to answer."""
    conn = arena_db.connection_of(db)
    turns: dict[int, str] = {}
    answers: dict[tuple[int, str], str] = {}
    for turn_id, prompt, side, text in conn.execute(_PLAN_CONVERSATION,
                                                    {"battle_id": battle.id}):
        turns[turn_id] = prompt
        if side is not None:
            answers[(turn_id, side)] = text
    *earlier_turns, (last_id, last_prompt) = turns.items()
    messages: dict[str, list[dict[str, str]]] = {"a": [], "b": []}
    earlier: dict[str, list[str]] = {"a": [], "b": []}
    for turn_id, prompt in earlier_turns:
        for side in SIDES:
            # Each side sees only its own earlier answers: the two conversations stay apart.
            text = answers.get((turn_id, side)) or ""
            messages[side] += [{"role": "user", "content": prompt},
                               {"role": "assistant", "content": text}]
            earlier[side].append(text)
    for side in SIDES:
        messages[side].append({"role": "user", "content": last_prompt})
    loaded = {row.id: row for row in conn.execute(_PLAN_CONTENDERS, {
        "contender_a": battle.contender_a_id, "contender_b": battle.contender_b_id})}
    contenders = {"a": loaded[battle.contender_a_id], "b": loaded[battle.contender_b_id]}
    identities = tuple(dict.fromkeys(
        value for c in contenders.values()
        for value in (c.name, c.organization, c.upstream_model) if value))
    return GenerationPlan(
        battle_id=battle.id, turn_id=last_id,
        contender_ids={s: c.id for s, c in contenders.items()},
        endpoints={s: _endpoint(c) for s, c in contenders.items()},
        messages=messages, earlier=earlier, identities=identities, flagged=bool(battle.flagged),
        position=len(turns) - 1)


def _done(side: str, answer: Finished | Answer) -> Event:
    # A fresh answer and a stored one (replayed) give the same event, and it carries nothing
    # that differs per contender besides the text: token counts, latency and finish reason
    # would tell the models apart, so they are stored and shown only after the vote.
    return "done", {"side": side, "html": render_markdown(answer.text)}


def _close(events: Iterator[Any]) -> None:
    # stream_pair returns a generator; closing it cancels both endpoint calls.
    close = getattr(events, "close", None)
    if close is not None:
        close()


class StorageUnavailable(Exception):
    """The database stayed unreachable for longer than the write retries wait."""


def run_generation(app: Flask, plan: GenerationPlan, lease: datetime, *,
                   failure_threshold: int, cooldown_s: int) -> Iterator[Event]:
    """Stream both sides' events; persist the outcome; end with an ``end`` event.

    ``lease`` is what :func:`~arena.battles.lifecycle.claim_generation` returned. Besides the
    answer events this yields ``keepalive`` whenever nothing was sent for
    :data:`KEEPALIVE_S` (the server's write then finds a vanished client within seconds), and
    renews the battle's heartbeat every :data:`HEARTBEAT_S`.

    Closing the iterator early (the client went away) stops both endpoint calls and marks the
    battle ``abandoned``.
    """
    events = stream_pair((plan.endpoints["a"], plan.messages["a"]),
                         (plan.endpoints["b"], plan.messages["b"]),
                         frame_s=FRAME_S, tick_s=KEEPALIVE_S)
    finished: dict[str, Finished] = {}
    texts: dict[str, list[str]] = {"a": [], "b": []}
    settled = False
    heartbeat = Heartbeat(app, plan.battle_id)
    try:
        # Inside the try: a client that leaves before the first answer event still abandons.
        yield "open", {}
        for side, event in events:
            renewed = heartbeat.renew(lease)
            if renewed is None:
                # Taken over after a stall (or reaped): the new owner's work wins.
                settled = True
                yield from _unfinished("battle_taken_over")
                return
            lease = renewed
            if isinstance(event, Tick):
                yield "keepalive", {}
            elif isinstance(event, Frame):
                # Both sides' text of one frame leaves in one write (see arena.api._sse).
                for s, text in event.texts.items():
                    texts[s].append(text)
                yield "deltas", {"deltas": [{"side": s, "text": text}
                                            for s, text in event.texts.items()]}
            elif isinstance(event, Delta):
                texts[side].append(event.text)
                yield "delta", {"side": side, "text": event.text}
            elif isinstance(event, Finished):
                finished[side] = event
                if len(finished) == 2:
                    # Written before the last events go out, so a client leaving now loses
                    # nothing that was complete. Both sides' completions go out together:
                    # when one side finished first is not announced by its own event.
                    try:
                        state, flagged = _retrying(
                            partial(_persist_ready, app, plan, lease, finished))
                    except StorageUnavailable:
                        settled = True
                        yield from _unfinished("storage_unavailable")
                        return
                    settled = True
                    for s in SIDES:
                        yield _done(s, finished[s])
                    yield "end", {"state": state, "flagged": flagged}
                    return
            elif isinstance(event, InferenceError):
                _close(events)  # the other side's answer could not be voted on anyway
                settled = True
                try:
                    _retrying(partial(_persist_failed, app, plan, lease, side, event,
                                      finished, texts, failure_threshold, cooldown_s))
                except StorageUnavailable:
                    pass  # the battle goes stale and is recovered; the client learns the same
                yield "error", {"side": side, "code": event.code, "message": event.message}
                yield "end", {"state": "failed", "flagged": False}
                return
        # Both streams ended, yet not both with an answer: treat it as a broken stream.
        missing = next(s for s in SIDES if s not in finished)
        error = StreamBroken()
        settled = True
        try:
            _retrying(partial(_persist_failed, app, plan, lease, missing, error, finished,
                              texts, failure_threshold, cooldown_s))
        except StorageUnavailable:
            pass
        yield "error", {"side": missing, "code": error.code, "message": error.message}
        yield "end", {"state": "failed", "flagged": False}
    except GeneratorExit:
        _close(events)
        if not settled:
            try:
                _mark(app, plan.battle_id, lease, "abandoned", None)
            except SQLAlchemyError:
                log.warning("battle %s: could not mark abandoned (database unavailable); "
                            "its heartbeat goes stale instead", plan.battle_id)
            log.info("battle %s abandoned: client disconnected mid-stream", plan.battle_id)
        raise
    except Exception:
        _close(events)
        log.exception("generation of battle %s failed unexpectedly", plan.battle_id)
        if not settled:
            try:
                _mark(app, plan.battle_id, lease, "failed", "internal_error")
            except SQLAlchemyError:
                log.warning("battle %s: could not mark failed", plan.battle_id)
        yield "error", {"side": None, "code": "internal_error",
                        "message": "Something went wrong on our side. Please start a new battle."}
        yield "end", {"state": "failed", "flagged": False}


def _unfinished(code: str) -> Iterator[Event]:
    yield "error", {"side": None, "code": code,
                    "message": "These answers could not be saved. Reload the page in a minute "
                               "to try again, or start a new battle."}
    yield "end", {"state": "failed", "flagged": False}


T = TypeVar("T")


def _retrying(write: Callable[[], T]) -> T:
    """Run a short write, retrying with backoff while the database is unreachable.

    A PostgreSQL restart or fail-over takes seconds; finished answers must survive it. Each
    attempt runs in a fresh session, so a connection broken mid-write is discarded by the pool
    (``pool_pre_ping`` then checks the next one).
    """
    deadline = time.monotonic() + WRITE_RETRY_S
    delay = 0.1
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + delay > deadline:
                log.error("database unavailable for %.0f s; giving up a write: %s",
                          WRITE_RETRY_S, type(exc).__name__)
                raise StorageUnavailable() from exc
            log.warning("database write failed (%s); retrying in %.1f s",
                        type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


class Heartbeat:
    """A generator's renewals of its battle's lease, one every :data:`HEARTBEAT_S`."""

    def __init__(self, app: Flask, battle_id: int) -> None:
        self.app, self.battle_id = app, battle_id
        self.due = time.monotonic() + HEARTBEAT_S

    def renew(self, lease: datetime) -> datetime | None:
        """``lease``, renewed when a beat is due; None when the battle was taken over after a
        stall or reaped (the generator then stops: the new owner's work wins)."""
        if time.monotonic() < self.due:
            return lease
        self.due = time.monotonic() + HEARTBEAT_S
        return _beat(self.app, self.battle_id, lease)


def _beat(app: Flask, battle_id: int, lease: datetime) -> datetime | None:
    try:
        with arena_db.new_session(app) as db:
            renewed = beat(db, battle_id, lease, utcnow())
            db.commit()
            return renewed
    except SQLAlchemyError as exc:
        # A missed beat is harmless (the next one renews); the stream goes on.
        log.warning("battle %s: heartbeat not written (%s)", battle_id, type(exc).__name__)
        return lease


def _mark(app: Flask, battle_id: int, lease: datetime, state: str,
          error_code: str | None) -> None:
    with arena_db.new_session(app) as db:
        db.execute(update(Battle).where(Battle.id == battle_id, Battle.state == "generating",
                                        Battle.heartbeat_at == lease)
                   .values(state=state, error_code=error_code, updated_at=utcnow()))
        db.commit()


def _answer_row(turn_id: int, side: str, finished: Finished) -> dict[str, Any]:
    return {"turn_id": turn_id, "side": side, "text": finished.text,
            "completion_tokens": finished.completion_tokens,
            "prompt_tokens": finished.prompt_tokens, "latency_ms": finished.latency_ms,
            "first_token_ms": finished.first_token_ms, "finish_reason": finished.finish_reason,
            "citations": list(finished.citations)}


def _answer(turn_id: int, side: str, finished: Finished) -> Answer:
    return Answer(**_answer_row(turn_id, side, finished))


def style_features(answers_by_side: dict[str, list[str]]) -> dict[str, float]:
    """Per-side raw style features summed over all of that side's answers."""
    features: dict[str, float] = {}
    for side in SIDES:
        messages = [{"role": "assistant", "content": t} for t in answers_by_side[side]]
        for name, value in extract_features(messages).items():
            features[f"{name}_{side}"] = value
    return features


# Built once (constructing a statement costs more than running it): the text battle's
# outcome, executed on a plain connection, not through the ORM session (its unit of work and
# in-Python evaluation of each UPDATE cost more CPU than parsing the answers;
# benchmarks/web/battle_profile.py).
_ANSWER_COLUMNS = ("turn_id", "side", "text", "completion_tokens", "prompt_tokens",
                   "latency_ms", "first_token_ms", "finish_reason", "citations", "created_at")


def _claim_ready_statement(flag: bool) -> Any:
    values: dict[str, Any] = {
        "state": "ready", "ready_at": bindparam("now", type_=Battle.ready_at.type),
        "updated_at": bindparam("now"), "error_code": None,
        "features": bindparam("features", type_=Battle.features.type)}
    if flag:
        values |= {"flagged": True, "flag_reason": "identity_leak"}
    return (update(Battle)
            .where(Battle.id == bindparam("battle_id"), Battle.state == "generating",
                   Battle.heartbeat_at == bindparam("lease", type_=Battle.heartbeat_at.type))
            .values(**values))


_CLAIM_READY = {flag: _claim_ready_statement(flag) for flag in (False, True)}
_INSERT_ANSWER = insert(Answer)
# Both contenders in one statement.
_HEALTHY = HEALTHY.where(Contender.id.in_([bindparam("contender_a"), bindparam("contender_b")]))


def _store_ready_statement(flag: bool) -> Any:
    """PostgreSQL: the claim, both answers and both contenders' health as one statement.

    ``WITH claimed AS (UPDATE battle … WHERE state = 'generating' AND heartbeat_at = :lease
    RETURNING id), stored AS (INSERT INTO answer … SELECT … FROM claimed), healthy AS (UPDATE
    contender … WHERE EXISTS (claimed)) SELECT id FROM claimed``: one round trip in autocommit
    instead of BEGIN, three statements and COMMIT, the same guarantees (nothing is stored
    unless this lease still held the battle; all or nothing).
    """
    claimed = _CLAIM_READY[flag].returning(Battle.id).cte("claimed")
    rows = union_all(*(
        select(*(bindparam(f"{side}_{name}", type_=Answer.__table__.c[name].type)
                 for name in _ANSWER_COLUMNS)).select_from(claimed)
        for side in SIDES))
    stored = insert(Answer).from_select(_ANSWER_COLUMNS, rows).cte("stored")
    healthy = _HEALTHY.where(exists(select(claimed.c.id))).cte("healthy")
    return select(claimed.c.id).add_cte(stored, healthy)


_STORE_READY = {flag: _store_ready_statement(flag) for flag in (False, True)}


def _persist_ready(app: Flask, plan: GenerationPlan, lease: datetime,
                   finished: dict[str, Finished]) -> tuple[str, bool]:
    now = utcnow()
    leaked = any(identity_leak(finished[s].text, plan.identities) is not None for s in SIDES)
    flagged = plan.flagged or leaked
    if leaked:
        # The log is operator-only; the client learns only that the battle is flagged.
        log.warning("battle %s flagged: an answer revealed an identity", plan.battle_id)
    features = style_features({s: plan.earlier[s] + [finished[s].text] for s in SIDES})
    claim = {"battle_id": plan.battle_id, "lease": lease, "now": now, "features": features,
             "contender_a": plan.contender_ids["a"], "contender_b": plan.contender_ids["b"]}
    rows = {s: _answer_row(plan.turn_id, s, finished[s]) | {"created_at": now} for s in SIDES}
    autocommit = arena_db.autocommit_engine(app)
    if autocommit is not None:
        with autocommit.connect() as conn:
            params = claim | {f"{s}_{name}": value for s in SIDES
                              for name, value in rows[s].items()}
            if conn.execute(_STORE_READY[flagged], params).first() is None:
                return _lost(conn, plan.battle_id, lease), flagged
        return "ready", flagged
    with arena_db.engine_for(app).connect() as conn:
        lost = claim_ready(conn, plan.battle_id, lease, now, features, flagged=flagged)
        if lost is not None:
            return lost, flagged
        conn.execute(_INSERT_ANSWER, list(rows.values()))
        conn.execute(_HEALTHY, claim)
        conn.commit()
    return "ready", flagged


def claim_ready(db: Session | Connection, battle_id: int, lease: datetime, now: datetime,
                features: dict[str, float], *, flagged: bool = False) -> str | None:
    """Move the battle from ``generating`` to ``ready`` if this lease still holds it.

    None: claimed, the caller stores the answers and commits. Otherwise (rolled back) the
    outcome to report: ``"ready"`` when an earlier attempt of this lease committed but its
    answer was lost with the connection, ``"abandoned"`` when ``battles reap`` or a takeover
    owns the battle now (storing these answers would only mislead).
    """
    result = arena_db.connection_of(db).execute(_CLAIM_READY[flagged], {
        "battle_id": battle_id, "lease": lease, "now": now, "features": features})
    if result.rowcount == 1:
        return None
    db.rollback()
    return _lost(db, battle_id, lease)


def _lost(db: Session | Connection, battle_id: int, lease: datetime) -> str:
    """What to report when this lease no longer held the battle (see :func:`claim_ready`)."""
    row = db.execute(select(Battle.state, Battle.heartbeat_at)
                     .where(Battle.id == battle_id)).one()
    if row.state in ("ready", "voted") and row.heartbeat_at == lease:
        return "ready"
    log.warning("battle %s was reaped while generating; answers dropped", battle_id)
    return "abandoned"


def _persist_failed(app: Flask, plan: GenerationPlan, lease: datetime, side: str,
                    error: InferenceError,
                    finished: dict[str, Finished], texts: dict[str, list[str]],
                    threshold: int, cooldown_s: int) -> None:
    now = utcnow()
    log.warning("battle %s failed: side %s %s", plan.battle_id, side, error.code)
    with arena_db.new_session(app) as db:
        # The state change goes first: only the lease holder may store this turn's answers.
        result = db.execute(update(Battle).where(Battle.id == plan.battle_id,
                                                 Battle.state == "generating",
                                                 Battle.heartbeat_at == lease)
                            .values(state="failed", error_code=error.code, updated_at=now))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            return
        for s in SIDES:
            if s in finished:
                db.add(_answer(plan.turn_id, s, finished[s]))
            else:
                # Kept for diagnosis; a failed battle is never voted, rated or released.
                db.add(Answer(turn_id=plan.turn_id, side=s, text="".join(texts[s]),
                              error_code=error.code if s == side else "cancelled"))
        record_failure(db, plan.contender_ids[side], now, threshold=threshold,
                       cooldown_s=cooldown_s)
        for s in finished:
            record_success(db, plan.contender_ids[s])
        db.commit()


def replay_events(db: Session, battle: Battle) -> list[Event]:
    """Events for a stream request on a battle that is not ``pending`` (nothing to generate)."""
    if battle.state == "generating":
        return [("open", {}), ("error", {"side": None, "code": "already_streaming",
                           "message": "These answers are already being generated "
                                      "in another request."}),
                ("end", {"state": "generating", "flagged": battle.flagged})]
    if battle.state in ("failed", "abandoned"):
        return [("open", {}), ("error", {"side": None, "code": "battle_failed",
                           "message": "This battle failed. Please start a new one."}),
                ("end", {"state": battle.state, "flagged": battle.flagged})]
    turn = db.scalar(select(Turn).where(Turn.battle_id == battle.id)
                     .order_by(Turn.position.desc()).limit(1))
    events: list[Event] = [("open", {})]
    if turn is not None:
        answers = list(db.scalars(select(Answer).where(Answer.turn_id == turn.id)
                                  .order_by(Answer.side)))
        # The same order as a live stream: text first, then both completions together.
        events += [("delta", {"side": a.side, "text": a.text}) for a in answers]
        events += [_done(a.side, a) for a in answers]
    events.append(("end", {"state": battle.state, "flagged": battle.flagged}))
    return events
