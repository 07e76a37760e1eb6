"""A battle through the API: creation, streamed generation, stored answers, turns, replay."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.battles import claim_generation, plan_generation
from arena.db import engine_for, new_session
from arena.models import Answer, Battle, Turn, Voter, utcnow


def test_create_returns_opaque_id_and_stream_url(
        client: FlaskClient, make_contender: Any, battle_row: Any) -> None:
    make_contender()
    make_contender()
    response = client.post("/api/v1/battles", json={"prompt": "What is a prime number?"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "state", "turn", "stream_url", "prompt_html"}
    assert body["state"] == "pending" and body["turn"] == 0
    assert body["stream_url"] == f"/api/v1/battles/{body['id']}/stream"
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", body["id"])
    battle = battle_row(body["id"])
    assert body["id"] != str(battle.id)
    assert battle.state == "pending"


def test_create_reads_the_voter_once_and_writes_battle_and_turn_without_the_orm(
        app: Flask, client: FlaskClient, make_contender: Any, battle_row: Any,
        sql_statements: Any) -> None:
    make_contender()
    make_contender()
    # Whatever the test machine's speed, the contenders read by the first battle are reused.
    app.extensions["arena.sampler"].pool_ttl_s = 600.0
    # The first battle creates the voter (and the sampler's once-per-process reads).
    assert client.post("/api/v1/battles", json={"prompt": "First."}).status_code == 201
    with sql_statements() as statements:
        response = client.post("/api/v1/battles", json={"prompt": "Second."})
    assert response.status_code == 201
    # The eligible contenders were read a moment ago. PostgreSQL: battle and turn are one
    # statement that also checks the voter row (revocation, consent), not read before it.
    # SQLite: the revoked-cookie check's voter row serves the consent too (it was read twice).
    if engine_for(app).dialect.name == "postgresql":
        assert len(statements) == 1, statements
        assert statements[0].startswith("WITH new_battle AS (INSERT INTO battle "), statements
        assert "FROM voter" in statements[0] and "INSERT INTO turn " in statements[0]
    else:
        assert statements[0].startswith("SELECT voter."), statements
        assert [s.split(" ", 2)[:2] for s in statements[1:]] == \
            [["INSERT", "INTO"], ["INSERT", "INTO"]], statements
    battle = battle_row(response.get_json()["id"])
    assert [t.prompt for t in battle.turns] == ["Second."] and battle.state == "pending"


def test_battle_stores_voter_and_keyed_ip_hash_not_the_address(
        client: FlaskClient, make_contender: Any, battle_row: Any, db: Session) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "What is a prime number?"},
                       environ_base={"REMOTE_ADDR": "203.0.113.77"}).get_json()
    battle = battle_row(body["id"])
    assert battle.voter_id is not None and db.get(Voter, battle.voter_id) is not None
    assert battle.ip_hash is not None and re.fullmatch(r"[0-9a-f]{64}", battle.ip_hash)
    assert "203.0.113.77" not in battle.ip_hash


def test_language_is_detected_only_when_confident(
        client: FlaskClient, make_contender: Any, battle_row: Any) -> None:
    make_contender()
    make_contender()
    german = client.post("/api/v1/battles", json={
        "prompt": "Wie funktioniert ein Verbrennungsmotor in einem Auto?"}).get_json()
    short = client.post("/api/v1/battles", json={"prompt": "2+2?"}).get_json()
    assert battle_row(german["id"]).language == "de"
    assert battle_row(short["id"]).language is None


def test_stream_sends_deltas_done_and_end_and_stores_answers(
        client: FlaskClient, make_contender: Any, sse: Any, battle_row: Any,
        db: Session) -> None:
    make_contender(model="demo-markdown")
    make_contender(model="demo-brief")
    body = client.post("/api/v1/battles", json={"prompt": "Explain TCP slow start."}).get_json()
    response = client.get(body["stream_url"])
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    raw = response.get_data(as_text=True)
    assert raw.startswith(":")  # a comment first, so proxies flush early
    events = sse(raw)
    assert events[-1] == ("end", {"state": "ready", "flagged": False})
    done = {data["side"]: data for name, data in events if name == "done"}
    assert set(done) == {"a", "b"}
    streamed = {side: "".join(d["text"] for n, d in events if n == "delta" and d["side"] == side)
                for side in "ab"}

    battle = battle_row(body["id"])
    assert battle.state == "ready" and battle.ready_at is not None
    answers = {a.side: a for a in db.scalars(select(Answer).join(Turn)
                                             .where(Turn.battle_id == battle.id))}
    for side in "ab":
        answer = answers[side]
        assert answer.text == streamed[side] and answer.text
        assert answer.finish_reason == "stop" and answer.completion_tokens
        assert set(done[side]) == {"side", "html"}  # nothing per contender before the vote
        assert answer.latency_ms is not None and answer.first_token_ms is not None
        assert answer.error_code is None
    markdown_side = "a" if battle.contender_a.upstream_model == "demo-markdown" else "b"
    assert "<h2>" in done[markdown_side]["html"] and "<script" not in done[markdown_side]["html"]
    assert answers[markdown_side].citations  # the markdown style links a guide


def test_features_sum_each_sides_answers_over_all_turns(
        client: FlaskClient, make_contender: Any, start_battle: Any, battle_row: Any,
        db: Session) -> None:
    from ratings.features import extract_features

    make_contender(model="demo-markdown")
    make_contender(model="demo-verbose")
    body, _ = start_battle("How do I plan a garden?")
    turn = client.post(f"/api/v1/battles/{body['id']}/turns",
                       json={"prompt": "And in a shady yard?"}).get_json()
    client.get(turn["stream_url"]).get_data()
    battle = battle_row(body["id"])
    assert battle.features is not None
    for side in "ab":
        texts = [a.text for a in db.scalars(select(Answer).join(Turn).where(
            Turn.battle_id == battle.id, Answer.side == side).order_by(Turn.position))]
        assert len(texts) == 2
        expected = extract_features([{"role": "assistant", "content": t} for t in texts])
        for name, value in expected.items():
            assert battle.features[f"{name}_{side}"] == value
    assert battle.features["length_a"] > 0 and battle.features["length_b"] > 0


def test_each_side_sees_its_own_earlier_answers(
        app: Flask, client: FlaskClient, make_contender: Any, start_battle: Any,
        db: Session) -> None:
    make_contender(model="demo-markdown")
    make_contender(model="demo-brief")
    body, _ = start_battle("Name three rivers.")
    client.post(f"/api/v1/battles/{body['id']}/turns", json={"prompt": "Which is longest?"})
    with new_session(app) as session:
        battle = session.scalar(select(Battle).where(Battle.public_id == body["id"]))
        assert battle is not None
        first = {a.side: a.text for a in battle.turns[0].answers}
        plan = plan_generation(session, battle)
    assert first["a"] != first["b"]
    for side in "ab":
        assert plan.messages[side] == [
            {"role": "user", "content": "Name three rivers."},
            {"role": "assistant", "content": first[side]},
            {"role": "user", "content": "Which is longest?"},
        ]


def test_turns_continue_the_same_pair_and_battle_view_lists_them(
        client: FlaskClient, make_contender: Any, start_battle: Any, sse: Any,
        battle_row: Any) -> None:
    make_contender()
    make_contender()
    body, _ = start_battle("First question here?")
    pair = (battle_row(body["id"]).contender_a_id, battle_row(body["id"]).contender_b_id)
    turn = client.post(f"/api/v1/battles/{body['id']}/turns", json={"prompt": "Second?"})
    assert turn.status_code == 201
    assert turn.get_json() == {"id": body["id"], "state": "pending", "turn": 1,
                               "prompt_html": "<p>Second?</p>\n",
                               "stream_url": body["stream_url"]}
    assert battle_row(body["id"]).state == "pending"
    events = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert events[-1][1]["state"] == "ready"
    battle = battle_row(body["id"])
    assert (battle.contender_a_id, battle.contender_b_id) == pair

    view = client.get(f"/api/v1/battles/{body['id']}").get_json()
    assert view["id"] == body["id"] and view["state"] == "ready"
    assert [t["prompt"] for t in view["turns"]] == ["First question here?", "Second?"]
    assert all(t[s]["text"] and t[s]["html"] for t in view["turns"] for s in "ab")
    assert view["can_continue"] is True and view["voted"] is False
    assert "reveal" not in view and "winner" not in view


def test_second_stream_of_a_ready_battle_replays_the_stored_answers(
        client: FlaskClient, make_contender: Any, start_battle: Any, sse: Any,
        db: Session) -> None:
    make_contender(model="demo-verbose")
    make_contender(model="demo-brief")
    body, first = start_battle("Why do cats purr?")
    again = sse(client.get(body["stream_url"]).get_data(as_text=True))

    def texts(events: list[tuple[str, Any]]) -> dict[str, str]:
        return {s: "".join(d["text"] for n, d in events if n == "delta" and d["side"] == s)
                for s in "ab"}

    assert texts(again) == texts(first)
    assert again[-1] == ("end", {"state": "ready", "flagged": False})
    assert len(list(db.scalars(select(Answer)))) == 2  # nothing generated twice


def test_stream_of_a_battle_generating_elsewhere_is_already_streaming(
        app: Flask, client: FlaskClient, make_contender: Any, sse: Any) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Hello, what is up?"}).get_json()
    with new_session(app) as session:
        battle = session.scalar(select(Battle).where(Battle.public_id == body["id"]))
        assert battle is not None
        assert claim_generation(session, battle.id, utcnow()) is not None
        session.commit()
    events = sse(client.get(body["stream_url"]).get_data(as_text=True))
    assert events[0][0] == "error" and events[0][1]["code"] == "already_streaming"
    assert events[-1] == ("end", {"state": "generating", "flagged": False})


def test_generation_is_claimed_by_exactly_one_session(
        app: Flask, client: FlaskClient, make_contender: Any) -> None:
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Hello, what is up?"}).get_json()
    with new_session(app) as one, new_session(app) as two:
        battle_id = one.scalar(select(Battle.id).where(Battle.public_id == body["id"]))
        assert battle_id is not None
        first = claim_generation(one, battle_id, utcnow())
        one.commit()
        second = claim_generation(two, battle_id, utcnow())
        two.commit()
    assert first is not None and second is None


def test_client_leaving_mid_stream_abandons_the_battle(
        client: FlaskClient, make_contender: Any, battle_row: Any, db: Session) -> None:
    make_contender(model="demo-verbose")
    make_contender(model="fault-slow")
    body = client.post("/api/v1/battles", json={"prompt": "Tell me a long story."}).get_json()
    response = client.get(body["stream_url"])
    chunks = (c.decode() if isinstance(c, bytes) else c for c in response.response)
    assert next(chunks).startswith(":")
    # Read until the fast side is answering while the slow side has not started yet.
    assert any(chunk.startswith("event: delta") for chunk in chunks)
    assert battle_row(body["id"]).state == "generating"
    response.close()  # what the server does when the browser goes away
    battle = battle_row(body["id"])
    assert battle.state == "abandoned"
    assert list(db.scalars(select(Answer))) == []
    vote = client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "tie"})
    assert vote.status_code == 409 and vote.get_json()["error"]["code"] == "battle_failed"


def test_release_consent_is_stored_and_sticky_per_voter(
        client: FlaskClient, make_contender: Any, battle_row: Any, db: Session) -> None:
    make_contender()
    make_contender()
    first = client.post("/api/v1/battles",
                        json={"prompt": "A question?", "release_consent": True}).get_json()
    voter_id = battle_row(first["id"]).voter_id
    assert db.get(Voter, voter_id).release_consent is True
    client.post("/api/v1/battles", json={"prompt": "Another question?"})
    db.expire_all()
    assert db.get(Voter, voter_id).release_consent is True
    client.post("/api/v1/battles", json={"prompt": "Third question?", "release_consent": False})
    db.expire_all()
    assert db.get(Voter, voter_id).release_consent is False


def test_the_stream_url_of_a_new_turn_is_url_fors(app: Any) -> None:
    """The creation response builds ``stream_url`` from a cached template per script root:
    the same string as ``url_for`` under any mount point, for issued and odd ids alike."""
    import secrets

    from flask import url_for

    from arena.api import _stream_url

    ids = [secrets.token_urlsafe(24) for _ in range(5)] + ["a b", "x/y", "é", "PUBLIC0ID"]
    for root in ("", "/arena", "/deep/mount/point"):
        with app.test_request_context("/", environ_base={"SCRIPT_NAME": root}):
            for public_id in ids:
                assert _stream_url(public_id) == url_for("api.stream", public_id=public_id)
