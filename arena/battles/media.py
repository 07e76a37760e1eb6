"""Generating a media battle (image/audio arenas): both sides at once, shown together.

The text path streams deltas; a media answer arrives whole, so both endpoints are called
concurrently, each output is sanitised (:mod:`arena.modalities`) and stored content-addressed
(:mod:`arena.media`), and the two ``done`` events go out together only when both are stored —
which side finished first is never announced. Health, heartbeat, lease and failure handling
are the text path's (:mod:`arena.battles.generation`).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from datetime import datetime
from functools import partial

from flask import Flask, url_for
from sqlalchemy import update

from arena import db as arena_db
from arena import modalities
from arena.battles.generation import (
    KEEPALIVE_S,
    SIDES,
    Event,
    GenerationPlan,
    Heartbeat,
    StorageUnavailable,
    _persist_failed,
    _retrying,
    _unfinished,
    claim_ready,
)
from arena.battles.sampling import record_success
from arena.errors import InferenceError
from arena.media import media_store
from arena.modalities.base import Sanitised
from arena.modalities.clients import generate_sanitised
from arena.models import Answer, Battle, utcnow

log = logging.getLogger(__name__)


def media_url(public_id: str, side: str, position: int) -> str:
    """The only URL a media answer is ever served from (owner-only before the vote)."""
    return url_for("api.media", public_id=public_id, side=side, n=position)


def _worker(side: str, plan: GenerationPlan, arena: str, max_bytes: int,
            out: queue.SimpleQueue[tuple[str, Sanitised | InferenceError]]) -> None:
    try:
        prompt = plan.messages[side][-1]["content"]
        out.put((side, generate_sanitised(plan.endpoints[side], modalities.get(arena), prompt,
                                          max_bytes=max_bytes)))
    except InferenceError as exc:
        out.put((side, exc))
    except Exception:  # a bug here must not leave the consumer waiting forever
        log.exception("unexpected error generating side %s of battle %s", side, plan.battle_id)
        out.put((side, InferenceError()))


def run_media_generation(app: Flask, plan: GenerationPlan, lease: datetime, *, arena: str,
                         public_id: str, position: int, max_bytes: int,
                         failure_threshold: int, cooldown_s: int) -> Iterator[Event]:
    """Events for one media turn: ``open``, keep-alives, then both ``done`` and ``end``."""
    results: queue.SimpleQueue[tuple[str, Sanitised | InferenceError]] = queue.SimpleQueue()
    for side in SIDES:
        threading.Thread(target=_worker, args=(side, plan, arena, max_bytes, results),
                         name=f"arena-media-{side}", daemon=True).start()
    finished: dict[str, Sanitised] = {}
    settled = False
    heartbeat = Heartbeat(app, plan.battle_id)
    try:
        yield "open", {}
        while len(finished) < 2:
            try:
                side, result = results.get(timeout=KEEPALIVE_S)
            except queue.Empty:
                yield "keepalive", {}
                renewed = heartbeat.renew(lease)
                if renewed is None:
                    settled = True
                    yield from _unfinished("battle_taken_over")
                    return
                lease = renewed
                continue
            if isinstance(result, InferenceError):
                settled = True
                try:
                    _retrying(partial(_persist_failed, app, plan, lease, side, result, {},
                                      {"a": [], "b": []}, failure_threshold, cooldown_s))
                except StorageUnavailable:
                    pass
                yield "error", {"side": side, "code": result.code, "message": result.message}
                yield "end", {"state": "failed", "flagged": False}
                return
            finished[side] = result
        store = media_store(app)
        hashes = {s: store.put(finished[s].data) for s in SIDES}
        try:
            state = _retrying(partial(_persist_ready, app, plan, lease, arena, finished, hashes))
        except StorageUnavailable:
            settled = True
            yield from _unfinished("storage_unavailable")
            return
        settled = True
        with app.test_request_context():
            urls = {s: media_url(public_id, s, position) for s in SIDES}
        for s in SIDES:
            yield "done", {"side": s, "html": "", "media_url": urls[s],
                           "media_type": finished[s].media_type}
        yield "end", {"state": state, "flagged": False}
    except GeneratorExit:
        if not settled:
            with arena_db.new_session(app) as db:
                db.execute(update(Battle).where(Battle.id == plan.battle_id,
                                                Battle.state == "generating",
                                                Battle.heartbeat_at == lease)
                           .values(state="abandoned", updated_at=utcnow()))
                db.commit()
        raise


def media_features(arena: str, facts: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per-side style features (``<name>_a``, ``<name>_b``) from the sanitisers' facts."""
    modality = modalities.get(arena)
    features: dict[str, float] = {}
    for side in SIDES:
        for name, value in modality.style_features(facts[side]).items():
            features[f"{name}_{side}"] = value
    return features


def _persist_ready(app: Flask, plan: GenerationPlan, lease: datetime, arena: str,
                   finished: dict[str, Sanitised], hashes: dict[str, str]) -> str:
    now = utcnow()
    features = media_features(arena, {s: dict(finished[s].facts) for s in SIDES})
    with arena_db.new_session(app) as db:
        lost = claim_ready(db, plan.battle_id, lease, now, features)
        if lost is not None:
            return lost
        db.add_all(Answer(turn_id=plan.turn_id, side=s, text="", media_sha256=hashes[s],
                          media_type=finished[s].media_type, finish_reason="stop")
                   for s in SIDES)
        for s in SIDES:
            record_success(db, plan.contender_ids[s])
        db.commit()
    return "ready"
