"""A battle's own URL (/b/<id>): resume for its owner, the revealed conversation after the vote
to others only with the voter's consent, and per-side facts only after the vote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient


def _voted(client: FlaskClient, start_battle: Callable[..., Any], **extra: Any) -> str:
    body, _ = start_battle("Compare two sorting algorithms", **extra)
    assert client.post(f"/api/v1/battles/{body['id']}/vote",
                       json={"winner": "model_a"}).status_code == 200
    return str(body["id"])


def test_unvoted_battle_url_resumes_for_its_owner_only(
        app: Flask, client: FlaskClient, make_contender: Any,
        start_battle: Callable[..., Any]) -> None:
    make_contender()
    make_contender()
    body, _ = start_battle("Hello there", release_consent=True)
    mine = client.get(f"/b/{body['id']}")
    assert mine.status_code == 200
    assert f'data-battle-id="{body["id"]}"' in mine.get_data(as_text=True)
    assert app.test_client().get(f"/b/{body['id']}").status_code == 404
    assert client.get("/b/no-such-battle").status_code == 404


def test_facts_appear_in_the_battle_state_only_after_the_vote(
        client: FlaskClient, make_contender: Any, start_battle: Callable[..., Any]) -> None:
    make_contender()
    make_contender()
    body, _ = start_battle("What is entropy?")
    before = client.get(f"/api/v1/battles/{body['id']}").get_json()
    assert "facts" not in before and "reveal" not in before
    client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "tie"})
    facts = client.get(f"/api/v1/battles/{body['id']}").get_json()["facts"]
    for side in "ab":
        assert facts[side]["tokens"] > 0 and facts[side]["latency_ms"] >= 0
        assert facts[side]["first_token_ms"] is not None


def test_shared_battle_page_needs_the_voters_consent_and_links_to_the_leaderboard(
        app: Flask, client: FlaskClient, make_contender: Any,
        start_battle: Callable[..., Any]) -> None:
    a, b = make_contender(), make_contender()
    stranger = app.test_client()
    private = _voted(client, start_battle, release_consent=False)
    assert stranger.get(f"/b/{private}").status_code == 404
    own = client.get(f"/b/{private}").get_data(as_text=True)
    assert 'id="not-shared"' in own and a.name in own

    shared = _voted(client, start_battle, release_consent=True)
    page = stranger.get(f"/b/{shared}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert a.name in html and b.name in html and "Compare two sorting algorithms" in html
    assert "/leaderboard" in html and 'id="not-shared"' not in html
    # Withdrawing consent (or opting out) takes the page down for everyone else.
    client.post("/api/v1/me", json={"release_consent": False})
    assert stranger.get(f"/b/{shared}").status_code == 404
    assert client.get(f"/b/{shared}").status_code == 200
