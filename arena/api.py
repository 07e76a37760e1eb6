"""JSON API under /api/v1 for battles and votes (the arena page uses it; others may too).

Views are thin: parse and check the request, call :mod:`arena.battles` / :mod:`arena.voting`,
commit, answer. Every error is an :class:`~arena.errors.ArenaError`, so clients always get
``{"error": {"code", "message"}}``. Nothing here names a contender before the vote.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena import battles, modalities
from arena import db as arena_db
from arena.battles.lifecycle import (
    NotYourBattle,
    TooManyTurns,
    create_known_voters_battle,
)
from arena.battles.media import run_media_generation
from arena.battles.sampling import NoContenders
from arena.battles.share import is_shared, side_facts
from arena.errors import BadRequest, ServiceUnavailable, ValidationError
from arena.integrity.gates import evaluate_gates, gates_enabled
from arena.integrity.oauth import HF_STATE_KEY
from arena.language import detect_language
from arena.limits import battles_limit, limited, limiter, votes_limit
from arena.media import MediaNotFound, media_store
from arena.models import Answer, Turn, utcnow
from arena.privacy import VOTER_KEY, ip_hash, owner_voter_id, stored_consent, voter_id
from arena.render import render_markdown
from arena.voting import cast_vote, validate_vote

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The system's entropy source: which pair meets must not be predictable from outside.
_rng = random.SystemRandom()
# Creating battles and adding turns both start generation, so they share one budget.
_generation_limit = limited(limiter.shared_limit(battles_limit, scope="battles"))


class InvalidJSON(BadRequest):
    code = "invalid_json"
    message = "Send a JSON object with the header Content-Type: application/json."


class InvalidField(ValidationError):
    code = "invalid_field"


class EmptyPrompt(ValidationError):
    code = "empty_prompt"
    message = "Please type a prompt."


class PromptTooLong(ValidationError):
    code = "prompt_too_long"


# What counts as blank in a prompt: exactly the whitespace of JSON Schema's (ECMA-262) ``\s``,
# so the published schema's pattern and this check agree on every string.
BLANK = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
         "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")


def validated_first(parse: Callable[[], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run ``parse`` (body checks, no database) before the rate limit decorator below it.

    A request rejected as invalid (400/422) therefore never spends the client's budget. The
    parsed value is left on ``g.body`` for the view.
    """
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            g.body = parse()
            return view(*args, **kwargs)
        return checked
    return decorate


def _json_object() -> dict[str, Any]:
    if not request.is_json:
        raise InvalidJSON()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidJSON("The request body must be a valid JSON object.")
    return body


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if prompt is None:
        raise EmptyPrompt()
    if not isinstance(prompt, str):
        raise InvalidField("prompt must be a string.")
    if "\x00" in prompt:
        raise InvalidField("prompt must not contain NUL characters.")
    if not prompt.strip(BLANK):
        raise EmptyPrompt()
    limit = int(current_app.config["MAX_PROMPT_CHARS"])
    if len(prompt) > limit:
        raise PromptTooLong(f"The prompt is {len(prompt)} characters long; "
                            f"the limit is {limit}.")
    return prompt


# Public ids as issued (secrets.token_urlsafe): nothing in them for a URL to quote.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")
_PLACEHOLDER = "PUBLIC0ID"
# The stream URL around its public id, per script root: url_for walks the routing map, which
# costs more than building the rest of the response; its result differs only by the id.
_stream_urls: dict[str, tuple[str, str]] = {}


def _stream_url(public_id: str) -> str:
    """``url_for("api.stream", public_id=public_id)``."""
    if not _PLAIN_ID.fullmatch(public_id):
        return url_for("api.stream", public_id=public_id)
    parts = _stream_urls.get(request.script_root)
    if parts is None:
        before, _, after = url_for("api.stream", public_id=_PLACEHOLDER).partition(_PLACEHOLDER)
        parts = _stream_urls[request.script_root] = (before, after)
    return parts[0] + public_id + parts[1]


def _turn_created(public_id: str, position: int, prompt: str) -> tuple[Response, int]:
    # prompt_html: the page shows the person's own prompt rendered like the answers.
    return jsonify({"id": public_id, "state": "pending", "turn": position,
                    "prompt_html": render_markdown(prompt),
                    "stream_url": _stream_url(public_id)}), 201


def _new_battle() -> tuple[str, bool | None, str]:
    body = _json_object()
    prompt = _prompt(body)
    # Absent means "not asked"; null is not a third answer (the schema says boolean).
    consent = body.get("release_consent")
    if "release_consent" in body and not isinstance(consent, bool):
        raise InvalidField("release_consent must be true or false.")
    arena = body.get("arena", "text")
    if not isinstance(arena, str) or arena not in modalities.names():
        raise InvalidField(f"arena must be one of: {', '.join(modalities.names())}.")
    return prompt, consent, arena


def _new_turn() -> str:
    return _prompt(_json_object())


@bp.post("/battles")
@validated_first(_new_battle)
@_generation_limit
def create() -> tuple[Response, int]:
    prompt, consent, arena = g.body
    sampler = current_app.extensions["arena.sampler"]
    now, language = utcnow(), detect_language(prompt)
    # PostgreSQL, a sampler that has recorded its policy, and a cookie of a known voter: the
    # battle with its first turn is the only write, one statement that also checks the voter
    # row (not revoked, consent as stored), run on an autocommit connection with no Session
    # and no BEGIN/COMMIT (arena.battles.lifecycle.create_known_voters_battle).
    conn = arena_db.statement_connection() if sampler.ledger_checked else None
    known = session.get(VOTER_KEY) if conn is not None else None
    if conn is not None and known is not None:
        try:
            battle = create_known_voters_battle(
                conn, voter_id=str(known), ip_hash=ip_hash(), prompt=prompt, rng=_rng,
                now=now, language=language, release_consent=consent, sampler=sampler,
                arena=arena)
        except NoContenders:
            battle = None  # the general way below raises the right error
        if battle is not None:
            return _turn_created(battle.public_id, 0, prompt)
    # Otherwise (a browser's first battle, a revoked pseudonym, a consent change, a process's
    # first draw, SQLite) the voter row is read first, and written in a Session if need be.
    vid = str(voter_id(conn=conn))
    stored = stored_consent(vid)
    if conn is not None and (stored is None or consent not in (None, stored)):
        arena_db.release_statement_connection()
        conn = None
    db = conn if conn is not None else arena_db.session()
    battle = battles.create_battle(
        db, voter_id=vid, ip_hash=ip_hash(), prompt=prompt, rng=_rng, now=now,
        language=language, release_consent=consent, sampler=sampler, arena=arena,
        stored_consent=stored)
    if conn is None:
        db.commit()
    return _turn_created(battle.public_id, 0, prompt)


@bp.post("/battles/<public_id>/turns")
@validated_first(_new_turn)
@_generation_limit
def add_turn(public_id: str) -> tuple[Response, int]:
    prompt = g.body
    db = arena_db.session()
    battle = battles.get_battle(db, public_id)
    if battle.arena != "text":
        # Media arenas rate one prompt and two outputs; there is no conversation to continue.
        raise TooManyTurns("Image and audio battles have one prompt. Please vote.")
    turn = battles.add_turn(db, battle, voter_id=voter_id(create=False), prompt=prompt,
                            max_turns=int(current_app.config["MAX_TURNS"]), now=utcnow())
    db.commit()
    return _turn_created(battle.public_id, turn.position, prompt)


@bp.get("/battles/<public_id>/stream")
def stream(public_id: str) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # PostgreSQL: the reads and the claim (one statement) run on an autocommit connection
    # with no Session and no BEGIN/COMMIT; elsewhere in the request's Session.
    conn = arena_db.statement_connection()
    db = conn if conn is not None else arena_db.session()
    # The battle and its owner's revocation in one Core query (battles.stream_target).
    battle = battles.stream_target(db, public_id)
    if owner_voter_id(battle.voter_id, battle.owner_revoked) is None:
        raise NotYourBattle()
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if request.method == "HEAD":
        # A probe (link checker, prefetch) must never start the endpoints nor claim the battle.
        return Response(b"", mimetype="text/event-stream", headers=headers)
    streams = _admission(app)
    if not streams.acquire(int(app.config["MAX_STREAMS_PER_WORKER"])):
        full = StreamsFull()
        return Response(json.dumps(full.to_dict()), status=full.status,
                        mimetype="application/json", headers={"Retry-After": "5"})
    try:
        events: Iterable[tuple[str, dict[str, Any]]]
        lease = battles.claim_generation(db, battle.id, utcnow())
        if lease is not None:
            if isinstance(db, Session):
                db.commit()
            plan = battles.plan_generation(db, battle)
            if battle.arena != "text":
                events = run_media_generation(
                    app, plan, lease, arena=battle.arena, public_id=battle.public_id,
                    position=plan.position, max_bytes=int(app.config["MEDIA_MAX_BYTES"]),
                    failure_threshold=int(app.config["ENDPOINT_FAILURE_THRESHOLD"]),
                    cooldown_s=int(app.config["ENDPOINT_COOLDOWN_S"]))
            else:
                events = battles.run_generation(
                    app, plan, lease,
                    failure_threshold=int(app.config["ENDPOINT_FAILURE_THRESHOLD"]),
                    cooldown_s=int(app.config["ENDPOINT_COOLDOWN_S"]))
        else:
            # Nothing to generate (rare): the stored state, read through the ORM.
            arena_db.release_statement_connection()
            db = arena_db.session()
            db.rollback()
            events = battles.replay_events(db, battles.get_battle(db, public_id))
        # End the reads now: no connection nor transaction may stay held while the endpoints
        # answer.
        if isinstance(db, Session):
            db.commit()
            db.close()
        arena_db.release_statement_connection()
    except BaseException:
        streams.release()
        raise
    response = Response(_sse(events), mimetype="text/event-stream", headers=headers)
    # On close, not in the generator's finally: a generator never started (the client left
    # before the first byte) runs no finally, and its slot would leak.
    response.call_on_close(streams.release)
    return response


class StreamsFull(ServiceUnavailable):
    code = "streams_full"
    message = "Too many answers are being generated right now. Please try again shortly."


class _Admission:
    """Bounded admission of streams per worker process (a semaphore that never blocks).

    Each open stream costs memory and two upstream connections; past the bound a new stream
    is refused with 503 + Retry-After at once, so the other routes stay fast.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def acquire(self, limit: int) -> bool:
        with self._lock:
            if limit and self.open >= limit:
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open -= 1


def _admission(app: Any) -> _Admission:
    # One counter per app in this process (a worker runs one app; tests run many).
    admission: _Admission = app.extensions.setdefault("arena_stream_admission", _Admission())
    return admission


# What json.dumps(..., ensure_ascii=False) gives, without building an encoder per event.
_event_json = json.JSONEncoder(ensure_ascii=False).encode


def _sse(events: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    iterator = iter(events)
    try:
        for name, payload in iterator:
            if name == "open":
                # A comment line: proxies flush the headers, clients ignore it.
                yield ": stream open\n\n"
            elif name == "keepalive":
                # Writing it is how a vanished client is noticed while endpoints are silent.
                yield ": keep-alive\n\n"
            elif name == "deltas":
                # One frame of both sides: one write, one delta event per side.
                yield "".join(f"event: delta\ndata: {_event_json(d)}\n\n"
                              for d in payload["deltas"])
            else:
                yield f"event: {name}\ndata: {_event_json(payload)}\n\n"
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _vote_request() -> tuple[str, str | None, Any]:
    body = _json_object()
    return (*validate_vote(body.get("winner"), body.get("feedback")), body.get("pow"))


@bp.post("/battles/<public_id>/vote")
@validated_first(_vote_request)
@limited(limiter.limit(votes_limit))
def vote(public_id: str) -> Response:
    winner, feedback, pow_nonce = g.body
    config = current_app.config
    gated = gates_enabled(config)
    # Without gates the vote is a read and one write statement (PostgreSQL, arena.voting): on
    # an autocommit connection, with no Session and no BEGIN/COMMIT. Gate verdicts take more
    # statements, so then the vote is a Session's transaction.
    conn = None if gated else arena_db.statement_connection()
    db = conn if conn is not None else arena_db.session()
    battle = battles.vote_target(db, public_id)
    now = utcnow()
    voter = owner_voter_id(battle.voter_id, battle.owner_revoked)
    gates = []
    if gated:
        assert isinstance(db, Session)
        gates = evaluate_gates(db, config, voter_id=voter, challenge=public_id,
                               pow_nonce=pow_nonce, hf_state=session.get(HF_STATE_KEY),
                               now=now)
    result = cast_vote(db, battle, voter_id=voter, winner=winner, feedback=feedback, now=now,
                       gates=gates)
    if conn is None:
        db.commit()
    return jsonify(result)


@bp.get("/battles/<public_id>")
def show(public_id: str) -> Response:
    db = arena_db.session()
    battle = battles.get_battle(db, public_id)
    battles.require_owner(battle, voter_id(create=False))
    if battles.recover_stale(db, battle, utcnow()):
        db.commit()
    body = battles.battle_view(db, battle, max_turns=int(current_app.config["MAX_TURNS"]))
    if battle.state == "voted":
        # Per-side facts are part of the reveal: never before the vote.
        body["facts"] = side_facts(db, battle)
    return jsonify(body)


@bp.get("/battles/<public_id>/media/<side>/<int:n>")
def media(public_id: str, side: str, n: int) -> Response:
    """A media answer, served only through its battle: to its owner, and after the vote to
    others only when the battle is shared (the voter's consent, as for its page)."""
    db = arena_db.session()
    battle = battles.get_battle(db, public_id)
    if not is_shared(db, battle):
        battles.require_owner(battle, voter_id(create=False))
    if side not in ("a", "b"):
        raise MediaNotFound()
    sha = db.scalar(select(Answer.media_sha256).join(Turn, Answer.turn_id == Turn.id)
                    .where(Turn.battle_id == battle.id, Turn.position == n,
                           Answer.side == side))
    if not sha:
        raise MediaNotFound()
    modality = modalities.get(battle.arena)
    data = media_store().get(sha)
    kind = "image/png" if modality.kind == "image" else "audio/wav"
    return Response(data, mimetype=kind, headers={
        # Never cached by a shared proxy: before the vote only the owner may see it.
        "Cache-Control": "private, no-store" if battle.state != "voted" else "private",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{side}.{kind.split("/")[1]}"'})


@bp.get("/openapi.json")
def openapi() -> Response:
    from arena.openapi import build_spec
    return jsonify(build_spec(max_prompt_chars=int(current_app.config["MAX_PROMPT_CHARS"])))
