"""Voter gates through the real vote API: proof of work, daily caps, sign-in with a loopback
stand-in of the Hugging Face OAuth provider, and an outage that keeps the vote."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from arena.integrity.gates import gate_alerts, record_gate
from arena.integrity.models import GateHourly, GateResult, VoterAccount
from arena.models import Battle, Vote

SUB = "hf-user-42"


class StandIn:
    """A tiny OAuth 2 / OIDC provider on 127.0.0.1: authorize, token and userinfo."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.requests: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.app)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @Request.application
    def app(self, request: Request) -> Response:
        self.requests.append(request.path)
        if request.path == "/oauth/authorize":
            code = f"code-{len(self.codes)}"
            self.codes[code] = SUB
            target = request.args["redirect_uri"] + "?" + urllib.parse.urlencode(
                {"code": code, "state": request.args["state"]})
            return Response(status=302, headers={"Location": target})
        if request.path == "/oauth/token":
            sub = self.codes.pop(request.form.get("code", ""), None)
            if sub is None or request.form.get("client_id") != "arena-client":
                return Response(json.dumps({"error": "invalid_grant"}), status=400)
            self.tokens["tok-" + sub] = sub
            return Response(json.dumps({"access_token": "tok-" + sub, "token_type": "bearer"}),
                            content_type="application/json")
        if request.path == "/oauth/userinfo":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return Response(status=401)
            return Response(json.dumps({"sub": self.tokens[token], "name": "Someone"}),
                            content_type="application/json")
        return Response(status=404)


@pytest.fixture
def provider() -> Iterator[StandIn]:
    stand_in = StandIn()
    stand_in.thread.start()
    yield stand_in
    stand_in.server.shutdown()


@pytest.fixture
def ready_battle(client: FlaskClient, make_contender: Any) -> Callable[[], str]:
    make_contender(name="Alpha Model")
    make_contender(name="Beta Model")

    def start() -> str:
        created = client.post("/api/v1/battles", json={"prompt": "Explain tides."})
        assert created.status_code == 201, created.get_json()
        body = created.get_json()
        stream = client.get(body["stream_url"])
        assert stream.status_code == 200
        stream.get_data()  # read to the end: the battle is ready
        return str(body["id"])

    return start


def _gates(db: Session, public_id: str) -> dict[str, str]:
    db.rollback()
    battle = db.scalar(select(Battle).where(Battle.public_id == public_id))
    assert battle is not None
    return {g.gate: g.status for g in db.scalars(
        select(GateResult).where(GateResult.battle_id == battle.id))}


def _sign_in(client: FlaskClient) -> None:
    start = client.get("/auth/hf/login")
    assert start.status_code == 302
    # the browser follows the provider's redirect; urllib stands in for it
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(start.headers["Location"], timeout=5)
    except urllib.error.HTTPError as exc:
        back = exc.headers["Location"]
    parts = urllib.parse.urlsplit(back)
    done = client.get(f"{parts.path}?{parts.query}")
    assert done.status_code == 302


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_gates_are_off_by_default_and_record_nothing(
        client: FlaskClient, db: Session, ready_battle: Callable[[], str]) -> None:
    battle = ready_battle()
    assert client.post(f"/api/v1/battles/{battle}/vote",
                       json={"winner": "tie"}).status_code == 200
    assert _gates(db, battle) == {}


def test_proof_of_work_is_verified_and_a_failure_keeps_the_vote(
        app: Flask, client: FlaskClient, db: Session, ready_battle: Callable[[], str]) -> None:
    app.config["GATE_POW_BITS"] = 8
    solved = ready_battle()
    nonce = next(str(n) for n in range(100_000) if hashlib.sha256(
        f"{solved}:{n}".encode()).digest()[0] == 0)
    assert client.post(f"/api/v1/battles/{solved}/vote",
                       json={"winner": "model_a", "pow": nonce}).status_code == 200
    assert _gates(db, solved) == {"pow": "passed"}
    unsolved = ready_battle()
    # a nonce that fails for this battle: a fixed one would pass by chance once in 2**8 runs
    wrong = next(str(n) for n in range(100_000) if hashlib.sha256(
        f"{unsolved}:{n}".encode()).digest()[0] != 0)
    assert client.post(f"/api/v1/battles/{unsolved}/vote",
                       json={"winner": "model_a", "pow": wrong}).status_code == 200
    assert _gates(db, unsolved) == {"pow": "failed"}
    assert db.scalar(select(func.count()).select_from(Vote)) == 2


def test_daily_cap_marks_votes_beyond_it_failed(
        app: Flask, client: FlaskClient, db: Session, ready_battle: Callable[[], str]) -> None:
    app.config["GATE_DAILY_CAP"] = 2
    ids = [ready_battle() for _ in range(3)]
    for battle in ids:
        assert client.post(f"/api/v1/battles/{battle}/vote",
                           json={"winner": "model_b"}).status_code == 200
    assert [_gates(db, b)["daily_cap"] for b in ids] == ["passed", "passed", "failed"]


def test_sign_in_with_stand_in_provider_stores_only_a_keyed_hash(
        app: Flask, client: FlaskClient, db: Session, provider: StandIn,
        ready_battle: Callable[[], str]) -> None:
    app.config.update(GATE_HF_OAUTH=True, HF_OAUTH_CLIENT_ID="arena-client",
                      HF_OAUTH_CLIENT_SECRET="s3cret", HF_OAUTH_BASE_URL=provider.url)
    battle = ready_battle()
    _sign_in(client)
    assert provider.requests == ["/oauth/authorize", "/oauth/token", "/oauth/userinfo"]
    account = db.scalars(select(VoterAccount)).one()
    assert account.provider == "hf" and len(account.account_hash) == 64
    assert SUB not in account.account_hash and "Someone" not in repr(account.__dict__)
    assert client.post(f"/api/v1/battles/{battle}/vote",
                       json={"winner": "model_a"}).status_code == 200
    assert _gates(db, battle) == {"hf_account": "passed"}


def test_provider_outage_keeps_the_vote_and_marks_the_gate_unavailable(
        app: Flask, client: FlaskClient, db: Session, provider: StandIn,
        ready_battle: Callable[[], str]) -> None:
    app.config.update(GATE_HF_OAUTH=True, HF_OAUTH_CLIENT_ID="arena-client",
                      HF_OAUTH_BASE_URL=provider.url, GATE_TIMEOUT_S=2.0)
    battle = ready_battle()
    start = client.get("/auth/hf/login")
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(start.headers["Location"]).query)[
        "state"][0]
    provider.server.shutdown()  # the provider goes down between authorize and token
    provider.server.server_close()
    done = client.get(f"/auth/hf/callback?code=code-0&state={state}")
    assert done.status_code == 302
    assert db.scalar(select(func.count()).select_from(VoterAccount)) == 0
    vote = client.post(f"/api/v1/battles/{battle}/vote", json={"winner": "model_b"})
    assert vote.status_code == 200
    assert _gates(db, battle) == {"hf_account": "unavailable"}
    assert db.scalar(select(func.count()).select_from(Vote)) == 1


def test_callback_with_a_forged_state_is_a_readable_400(
        app: Flask, client: FlaskClient, provider: StandIn) -> None:
    app.config.update(GATE_HF_OAUTH=True, HF_OAUTH_CLIENT_ID="arena-client",
                      HF_OAUTH_BASE_URL=provider.url)
    client.get("/auth/hf/login")
    response = client.get("/auth/hf/callback?code=x&state=forged")
    assert response.status_code == 400
    assert client.get("/auth/hf/login").status_code == 302
    app.config["GATE_HF_OAUTH"] = False
    assert client.get("/auth/hf/login").status_code == 404


def test_sharp_change_of_pass_rate_is_reported(db: Session, make_contender: Any) -> None:
    a, b = make_contender(), make_contender()
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    for k in range(60):
        battle = Battle(public_id=f"gate-{k}", contender_a_id=a.id, contender_b_id=b.id,
                        state="voted")
        db.add(battle)
        db.flush()
        recent = k >= 30
        at = now - timedelta(hours=2 if recent else 48)
        passed = (k % 10 < 9) if not recent else (k % 10 < 3)
        record_gate(db, battle.id, "pow", "passed" if passed else "failed", now=at)
    db.commit()
    hours = db.scalars(select(GateHourly).order_by(GateHourly.hour)).all()
    assert [(h.passed, h.failed) for h in hours] == [(27, 3), (9, 21)]
    alerts = gate_alerts(db, now=now)
    assert len(alerts) == 1 and "gate pow: pass rate 30%" in alerts[0] and "90%" in alerts[0]
    assert gate_alerts(db, now=now, change=0.7) == []


def test_arena_page_loads_the_gate_script_only_when_a_gate_is_on(
        app: Flask, client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "gates.js" not in page
    app.config.update(GATE_POW_BITS=16, GATE_HF_OAUTH=True)
    page = client.get("/").get_data(as_text=True)
    assert 'data-pow-bits="16"' in page and "static/gates.js" in page
    assert "/auth/hf/login" in page
    script = client.get("/static/gates.js")
    assert script.status_code == 200 and b"crypto.subtle.digest" in script.get_data()
    script.close()
