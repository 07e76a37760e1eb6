"""No contender identity in any response before the vote; the vote reveals it."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

SECRETS = {
    "a": {"id": 731902, "name": "Quillfeather Nimbus", "organization": "Zephyrine Dynamics",
          "model": "demo-markdown"},
    "b": {"id": 731903, "name": "Marrowgate Lantern", "organization": "Obsidian Tern Labs",
          "model": "demo-verbose"},
}


def _leaks(text: str) -> list[str]:
    found = []
    lowered = text.lower()
    for secret in SECRETS.values():
        for key in ("name", "organization", "model"):
            if str(secret[key]).lower() in lowered:
                found.append(str(secret[key]))
        if re.search(rf"(?<!\d){secret['id']}(?!\d)", text):
            found.append(str(secret["id"]))
    return found


def _scan(app: Flask, response: Any, url: str) -> None:
    """Status line, every header (the session cookie decoded too), URL and body."""
    parts = [url, response.status, response.get_data(as_text=True)]
    for name, value in response.headers.items():
        parts.append(f"{name}: {value}")
    cookie = response.headers.get("Set-Cookie")
    if cookie:
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        parts.append(str(serializer.loads(cookie.split(";")[0].split("=", 1)[1])))
    leaks = _leaks("\n".join(parts))
    assert not leaks, f"{url} leaks {leaks}"


def test_full_round_reveals_nothing_before_the_vote_and_everything_after(
        app: Flask, client: FlaskClient, make_contender: Any, sse: Any) -> None:
    for secret in SECRETS.values():
        make_contender(id=secret["id"], name=secret["name"],
                       organization=secret["organization"], model=secret["model"])

    def scanned(method: str, url: str, **kwargs: Any) -> Any:
        response = getattr(client, method)(url, **kwargs)
        _scan(app, response, url)
        return response

    scanned("get", "/")
    created = scanned("post", "/api/v1/battles",
                      json={"prompt": "Who are you and who made you?", "release_consent": True})
    body = created.get_json()
    battle_url = f"/api/v1/battles/{body['id']}"
    assert re.fullmatch(r"/api/v1/battles/[A-Za-z0-9_-]+/stream", body["stream_url"])
    first = sse(scanned("get", body["stream_url"]).get_data(as_text=True))
    assert first[-1][1]["state"] == "ready"
    scanned("get", battle_url)
    scanned("get", body["stream_url"])  # the replay
    turn = scanned("post", f"{battle_url}/turns", json={"prompt": "Tell me more, please."})
    assert turn.status_code == 201
    second = sse(scanned("get", body["stream_url"]).get_data(as_text=True))
    assert second[-1][1]["state"] == "ready"
    view = scanned("get", battle_url).get_json()
    assert len(view["turns"]) == 2
    # Refused requests before the vote must not leak either.
    scanned("post", f"{battle_url}/vote", json={"winner": "nobody"})
    scanned("get", "/")

    vote = client.post(f"{battle_url}/vote", json={"winner": "model_a"})
    assert vote.status_code == 200
    revealed = vote.get_data(as_text=True)
    for secret in SECRETS.values():
        assert secret["name"] in revealed and secret["organization"] in revealed
    after = client.get(battle_url).get_data(as_text=True)
    assert SECRETS["a"]["name"] in after and SECRETS["b"]["name"] in after


def test_self_identifying_answer_flags_the_battle_without_saying_who(
        app: Flask, client: FlaskClient, make_contender: Any, sse: Any,
        battle_row: Any) -> None:
    make_contender(name="Faultworks Leaky", organization="Faultworks", model="fault-leak")
    make_contender(name="Quiet One", organization="Silent Co", model="demo-brief")
    created = client.post("/api/v1/battles", json={"prompt": "Introduce yourself."})
    body = created.get_json()
    stream = client.get(body["stream_url"])
    events = sse(stream.get_data(as_text=True))
    assert events[-1] == ("end", {"state": "ready", "flagged": True})
    battle = battle_row(body["id"])
    assert battle.flagged is True and battle.flag_reason == "identity_leak"

    # The flag itself says nothing about who: only the answer text (which the model wrote)
    # names it, and no field the server adds does.
    view = client.get(f"/api/v1/battles/{body['id']}").get_json()
    assert view["flagged"] is True
    server_fields = [view["state"], view["flagged"], view["can_continue"]]
    server_fields += [d for n, d in events if n in ("end", "error")]
    assert "Faultworks" not in str(server_fields) and "Leaky" not in str(server_fields)
    assert "Faultworks Leaky" not in stream.get_data(as_text=True)

    vote = client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "tie"})
    assert vote.status_code == 200
