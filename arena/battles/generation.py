"""Generating one turn of a battle: both sides stream concurrently, then one short write.

No database session is open while the endpoints answer: :func:`plan_generation` reads what the
streams need inside the request, and :func:`run_generation` writes the outcome afterwards in a
session of its own. It yields ``(event, payload)`` pairs that the API sends as server-sent events.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from arena import db as arena_db
from arena.battles.lifecycle import conversation
from arena.battles.sampling import record_failure, record_success
from arena.errors import InferenceError, StreamBroken
from arena.identity import identity_leak
from arena.inference import Delta, Endpoint, Finished, stream_pair
from arena.models import Answer, Battle, Contender, Turn, utcnow
from arena.render import render_markdown
from ratings.features import extract_features

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
SIDES = ("a", "b")


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


def _endpoint(contender: Contender) -> Endpoint:
    key = os.environ.get(contender.api_key_env) if contender.api_key_env else None
    return Endpoint(base_url=contender.base_url, model=contender.upstream_model, api_key=key,
                    connect_timeout=contender.connect_timeout,
                    read_timeout=contender.read_timeout,
                    total_timeout=contender.total_timeout, params=dict(contender.params or {}))


def plan_generation(db: Session, battle: Battle) -> GenerationPlan:
    """Read the conversation so far; the last turn is the one to answer."""
    turns, answers = conversation(db, battle.id)
    messages: dict[str, list[dict[str, str]]] = {"a": [], "b": []}
    earlier: dict[str, list[str]] = {"a": [], "b": []}
    for turn in turns[:-1]:
        for side in SIDES:
            # Each side sees only its own earlier answers: the two conversations stay apart.
            answer = answers.get((turn.id, side))
            text = answer.text if answer is not None else ""
            messages[side] += [{"role": "user", "content": turn.prompt},
                               {"role": "assistant", "content": text}]
            earlier[side].append(text)
    for side in SIDES:
        messages[side].append({"role": "user", "content": turns[-1].prompt})
    contenders = {"a": battle.contender_a, "b": battle.contender_b}
    identities = tuple(dict.fromkeys(
        value for c in contenders.values()
        for value in (c.name, c.organization, c.upstream_model) if value))
    return GenerationPlan(
        battle_id=battle.id, turn_id=turns[-1].id,
        contender_ids={s: c.id for s, c in contenders.items()},
        endpoints={s: _endpoint(c) for s, c in contenders.items()},
        messages=messages, earlier=earlier, identities=identities, flagged=battle.flagged)


def _done(side: str, answer: Finished | Answer) -> Event:
    # A fresh answer and a stored one (replayed) give the same event.
    return "done", {"side": side, "html": render_markdown(answer.text),
                    "finish_reason": answer.finish_reason,
                    "tokens": answer.completion_tokens, "latency_ms": answer.latency_ms}


def _close(events: Iterator[Any]) -> None:
    # stream_pair returns a generator; closing it cancels both endpoint calls.
    close = getattr(events, "close", None)
    if close is not None:
        close()


def run_generation(app: Flask, plan: GenerationPlan, *, failure_threshold: int,
                   cooldown_s: int) -> Iterator[Event]:
    """Stream both sides' events; persist the outcome; end with an ``end`` event.

    Closing the iterator early (the client went away) stops both endpoint calls and marks the
    battle ``abandoned``.
    """
    events = stream_pair((plan.endpoints["a"], plan.messages["a"]),
                         (plan.endpoints["b"], plan.messages["b"]))
    finished: dict[str, Finished] = {}
    partial: dict[str, list[str]] = {"a": [], "b": []}
    settled = False
    try:
        # Inside the try: a client that leaves before the first answer event still abandons.
        yield "open", {}
        for side, event in events:
            if isinstance(event, Delta):
                partial[side].append(event.text)
                yield "delta", {"side": side, "text": event.text}
            elif isinstance(event, Finished):
                finished[side] = event
                if len(finished) == 2:
                    # Written before the last events go out, so a client leaving now loses
                    # nothing that was complete.
                    state, flagged = _persist_ready(app, plan, finished)
                    settled = True
                    yield _done(side, event)
                    yield "end", {"state": state, "flagged": flagged}
                    return
                yield _done(side, event)
            elif isinstance(event, InferenceError):
                _close(events)  # the other side's answer could not be voted on anyway
                _persist_failed(app, plan, side, event, finished, partial,
                                failure_threshold, cooldown_s)
                settled = True
                yield "error", {"side": side, "code": event.code, "message": event.message}
                yield "end", {"state": "failed", "flagged": False}
                return
        # Both streams ended, yet not both with an answer: treat it as a broken stream.
        missing = next(s for s in SIDES if s not in finished)
        error = StreamBroken()
        _persist_failed(app, plan, missing, error, finished, partial,
                        failure_threshold, cooldown_s)
        settled = True
        yield "error", {"side": missing, "code": error.code, "message": error.message}
        yield "end", {"state": "failed", "flagged": False}
    except GeneratorExit:
        _close(events)
        if not settled:
            _mark(app, plan.battle_id, "abandoned", None)
            log.info("battle %s abandoned: client disconnected mid-stream", plan.battle_id)
        raise
    except Exception:
        _close(events)
        log.exception("generation of battle %s failed unexpectedly", plan.battle_id)
        if not settled:
            _mark(app, plan.battle_id, "failed", "internal_error")
        yield "error", {"side": None, "code": "internal_error",
                        "message": "Something went wrong on our side. Please start a new battle."}
        yield "end", {"state": "failed", "flagged": False}


def _mark(app: Flask, battle_id: int, state: str, error_code: str | None) -> None:
    with arena_db.new_session(app) as db:
        db.execute(update(Battle).where(Battle.id == battle_id, Battle.state == "generating")
                   .values(state=state, error_code=error_code, updated_at=utcnow()))
        db.commit()


def _answer(turn_id: int, side: str, finished: Finished) -> Answer:
    return Answer(turn_id=turn_id, side=side, text=finished.text,
                  completion_tokens=finished.completion_tokens,
                  prompt_tokens=finished.prompt_tokens, latency_ms=finished.latency_ms,
                  first_token_ms=finished.first_token_ms, finish_reason=finished.finish_reason,
                  citations=list(finished.citations))


def style_features(answers_by_side: dict[str, list[str]]) -> dict[str, float]:
    """Per-side raw style features summed over all of that side's answers."""
    features: dict[str, float] = {}
    for side in SIDES:
        messages = [{"role": "assistant", "content": t} for t in answers_by_side[side]]
        for name, value in extract_features(messages).items():
            features[f"{name}_{side}"] = value
    return features


def _persist_ready(app: Flask, plan: GenerationPlan,
                   finished: dict[str, Finished]) -> tuple[str, bool]:
    now = utcnow()
    leaked = any(identity_leak(finished[s].text, plan.identities) is not None for s in SIDES)
    flagged = plan.flagged or leaked
    if leaked:
        # The log is operator-only; the client learns only that the battle is flagged.
        log.warning("battle %s flagged: an answer revealed an identity", plan.battle_id)
    features = style_features({s: plan.earlier[s] + [finished[s].text] for s in SIDES})
    with arena_db.new_session(app) as db:
        values: dict[str, Any] = {"state": "ready", "ready_at": now, "updated_at": now,
                                  "features": features, "error_code": None}
        if flagged:
            values.update(flagged=True, flag_reason="identity_leak")
        result = db.execute(update(Battle).where(Battle.id == plan.battle_id,
                                                 Battle.state == "generating").values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            # `battles reap` gave up on this battle while it was still generating: it stays
            # abandoned (not votable), so storing its answers would only mislead.
            db.rollback()
            log.warning("battle %s was reaped while generating; answers dropped",
                        plan.battle_id)
            return "abandoned", flagged
        db.add_all(_answer(plan.turn_id, s, finished[s]) for s in SIDES)
        for s in SIDES:
            record_success(db, plan.contender_ids[s])
        db.commit()
    return "ready", flagged


def _persist_failed(app: Flask, plan: GenerationPlan, side: str, error: InferenceError,
                    finished: dict[str, Finished], partial: dict[str, list[str]],
                    threshold: int, cooldown_s: int) -> None:
    now = utcnow()
    log.warning("battle %s failed: side %s %s", plan.battle_id, side, error.code)
    with arena_db.new_session(app) as db:
        for s in SIDES:
            if s in finished:
                db.add(_answer(plan.turn_id, s, finished[s]))
            else:
                # Kept for diagnosis; a failed battle is never voted, rated or released.
                db.add(Answer(turn_id=plan.turn_id, side=s, text="".join(partial[s]),
                              error_code=error.code if s == side else "cancelled"))
        db.execute(update(Battle).where(Battle.id == plan.battle_id,
                                        Battle.state == "generating")
                   .values(state="failed", error_code=error.code, updated_at=now))
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
        for answer in db.scalars(select(Answer).where(Answer.turn_id == turn.id)
                                 .order_by(Answer.side)):
            events.append(("delta", {"side": answer.side, "text": answer.text}))
            events.append(_done(answer.side, answer))
    events.append(("end", {"state": battle.state, "flagged": battle.flagged}))
    return events
