"""Endpoint failures end to end: demo fault models over loopback, through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Answer, Contender, utcnow


@pytest.fixture
def threshold_one(app_config: dict[str, Any]) -> None:
    app_config["ENDPOINT_FAILURE_THRESHOLD"] = 1
    app_config["ENDPOINT_COOLDOWN_S"] = 600


@pytest.mark.parametrize(("fault", "code", "timeouts"), [
    ("fault-hang", "endpoint_timeout", {"read_timeout": 0.5}),
    ("fault-500", "endpoint_http_error", {}),
    ("fault-cut", "stream_broken", {}),
])
def test_endpoint_failure_fails_the_battle_and_counts_on_health(
        client: FlaskClient, make_contender: Any, start_battle: Any, battle_row: Any,
        db: Session, fault: str, code: str, timeouts: dict[str, float]) -> None:
    faulty = make_contender(name="Faulty", model=fault, **timeouts)
    healthy = make_contender(name="Healthy", model="demo-brief")
    body, events = start_battle("Please answer this.")

    errors = [data for name, data in events if name == "error"]
    assert len(errors) == 1
    battle = battle_row(body["id"])
    faulty_side = "a" if battle.contender_a_id == faulty.id else "b"
    assert errors[0]["side"] == faulty_side and errors[0]["code"] == code
    message = errors[0]["message"]
    assert message and all(s not in message for s in (fault, "Faulty", "127.0.0.1"))
    assert events[-1] == ("end", {"state": "failed", "flagged": False})
    assert battle.state == "failed" and battle.error_code == code
    failed_answer = db.scalar(select(Answer).where(Answer.side == faulty_side))
    assert failed_answer is not None and failed_answer.error_code == code

    db.expire_all()
    assert db.get(Contender, faulty.id).consecutive_failures == 1
    assert db.get(Contender, healthy.id).consecutive_failures == 0

    vote = client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "model_a"})
    assert vote.status_code == 409 and vote.get_json()["error"]["code"] == "battle_failed"
    turn = client.post(f"/api/v1/battles/{body['id']}/turns", json={"prompt": "Again?"})
    assert turn.status_code == 409 and turn.get_json()["error"]["code"] == "battle_failed"
    assert client.post("/api/v1/battles", json={"prompt": "A new round?"}).status_code == 201


def test_failed_battle_stream_again_reports_battle_failed(
        client: FlaskClient, make_contender: Any, start_battle: Any, sse: Any) -> None:
    make_contender(model="fault-500")
    make_contender(model="demo-brief")
    body, _ = start_battle("Please answer this.")
    again = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert [n for n, _ in again] == ["error", "end"]
    assert again[0][1]["code"] == "battle_failed" and again[1][1]["state"] == "failed"


def test_unhealthy_contender_leaves_sampling_and_new_battles_use_the_others(
        threshold_one: None, client: FlaskClient, make_contender: Any, start_battle: Any,
        battle_row: Any, db: Session) -> None:
    faulty = make_contender(name="Faulty", model="fault-500")
    make_contender(name="Healthy 1")
    start_battle("First round.")
    db.expire_all()
    assert db.get(Contender, faulty.id).unhealthy_until is not None

    refused = client.post("/api/v1/battles", json={"prompt": "Second round."})
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "no_contenders"

    make_contender(name="Healthy 2")
    for _ in range(5):
        body, events = start_battle("Another round.")
        assert events[-1][1]["state"] == "ready"
        battle = battle_row(body["id"])
        assert faulty.id not in (battle.contender_a_id, battle.contender_b_id)


def test_unreachable_endpoint_fails_with_endpoint_unreachable(
        make_contender: Any, start_battle: Any, battle_row: Any) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    make_contender(base_url=f"http://127.0.0.1:{port}/v1", model="demo-brief")
    make_contender(model="demo-brief")
    body, events = start_battle("Hello?")
    errors = [d for n, d in events if n == "error"]
    assert errors and errors[0]["code"] == "endpoint_unreachable"
    assert battle_row(body["id"]).state == "failed"


def test_a_ready_battle_stores_both_answers_and_makes_its_two_endpoints_healthy(
        make_contender: Any, start_battle: Any, battle_row: Any, db: Session) -> None:
    # One statement stores the outcome on PostgreSQL, three on SQLite: both must store the
    # same rows and touch only the battle's own contenders.
    expired = utcnow() - timedelta(minutes=5)
    pair = [make_contender(model=model, consecutive_failures=2, unhealthy_until=expired)
            for model in ("demo-brief", "demo-scholar")]
    bystander = make_contender(model="demo-brief", active=False, consecutive_failures=2,
                               unhealthy_until=expired)
    body, events = start_battle("Please answer this.")
    assert events[-1] == ("end", {"state": "ready", "flagged": False})
    battle = battle_row(body["id"])
    assert battle.state == "ready" and battle.ready_at is not None
    assert set(battle.features) >= {"length_a", "length_b"}
    answers = {a.side: a for a in db.scalars(select(Answer))}
    assert set(answers) == {"a", "b"}
    streamed = {side: "".join(d["text"] for name, d in events
                              if name == "delta" and d["side"] == side) for side in "ab"}
    for side, answer in answers.items():
        assert answer.text == streamed[side] and answer.text
        assert answer.finish_reason == "stop" and answer.error_code is None
        assert answer.completion_tokens and answer.latency_ms is not None
        assert answer.created_at is not None and isinstance(answer.citations, list)
    assert answers[_side_of(battle, pair[1])].citations  # the scholar cites its sources
    db.expire_all()
    for contender in pair:
        row = db.get(Contender, contender.id)
        assert row.consecutive_failures == 0 and row.unhealthy_until is None
    row = db.get(Contender, bystander.id)
    assert row.consecutive_failures == 2 and row.unhealthy_until is not None


def _side_of(battle: Any, contender: Contender) -> str:
    return "a" if battle.contender_a_id == contender.id else "b"


def test_a_ready_battle_that_makes_an_endpoint_healthy_refreshes_the_cached_pool(
        app: Any, client: FlaskClient, make_contender: Any, db: Session) -> None:
    # Regression: on PostgreSQL the outcome is one SELECT whose CTE updates ``contender``;
    # the sampler's watch saw only UPDATE statements, so the pool cached while the endpoint
    # cooled down kept it out of the draws after the answer had made it healthy again.
    sampler = app.extensions["arena.sampler"]
    sampler.pool_ttl_s = 600.0
    pair = [make_contender(model=model) for model in ("demo-brief", "demo-scholar")]
    db.commit()
    created = client.post("/api/v1/battles", json={"prompt": "Please answer this."})
    assert created.status_code == 201
    # Meanwhile another battle's failure puts one of them in its cooldown (seen at once).
    pair[0].consecutive_failures, pair[0].unhealthy_until = 3, utcnow() + timedelta(hours=1)
    db.commit()
    assert {c.id for c in sampler.pool(db, utcnow())} == {pair[1].id}
    db.commit()
    stream = client.get(created.get_json()["stream_url"])
    assert '"state": "ready"' in stream.get_data(as_text=True)
    assert {c.id for c in sampler.pool(db, utcnow())} == {pair[0].id, pair[1].id}
