"""Races a busy site meets: two tabs creating one voter, the reaper against a live stream."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.battles import reap_stale
from arena.battles.lifecycle import ensure_voter
from arena.db import new_session
from arena.models import Answer, Contender, Voter, utcnow


def test_concurrent_first_requests_of_one_voter_create_one_row(app: Flask, db: Session) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def first_request() -> None:
        try:
            with new_session(app) as session:
                barrier.wait(timeout=10)
                ensure_voter(session, "same-browser", release_consent=True)
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Voter)) == 1
    assert db.get(Voter, "same-browser").release_consent is True


def test_battle_reaped_while_generating_stays_abandoned_without_answers(
        app: Flask, client: FlaskClient, make_contender: Any, battle_row: Any, db: Session,
        sse: Any) -> None:
    pair = [make_contender(model="demo-brief", consecutive_failures=2),
            make_contender(model="fault-slow", consecutive_failures=2)]
    body = client.post("/api/v1/battles", json={"prompt": "Name a colour."}).get_json()
    response = client.get(body["stream_url"])
    chunks = (c.decode() if isinstance(c, bytes) else c for c in response.response)
    assert next(chunks).startswith(":")
    assert battle_row(body["id"]).state == "generating"

    with new_session(app) as session:  # the cron job, while the slow side still thinks
        counts = reap_stale(session, now=utcnow() + timedelta(hours=1),
                            pending_after=timedelta(hours=24),
                            generating_after=timedelta(minutes=30))
        session.commit()
    assert counts["generating"] == 1

    events = sse("".join(chunks))
    assert events[-1] == ("end", {"state": "abandoned", "flagged": False})
    assert battle_row(body["id"]).state == "abandoned"
    assert list(db.scalars(select(Answer))) == []
    db.expire_all()  # the lost outcome left the endpoints' health alone too
    assert [db.get(Contender, c.id).consecutive_failures for c in pair] == [2, 2]
    vote = client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "tie"})
    assert vote.status_code == 409 and vote.get_json()["error"]["code"] == "battle_failed"
