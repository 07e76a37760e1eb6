"""Image and audio battles through the API, on the demo endpoint, on every backend."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Answer, Battle, Contender, Voter

STYLES = {"image": ("demo-mondrian", "demo-sunset"), "speech": ("demo-baritone", "demo-soprano")}


def _arena(make_contender: Any, arena: str) -> list[Contender]:
    return [make_contender(name=f"{arena}-{m}", model=m, arena=arena) for m in STYLES[arena]]


@pytest.mark.parametrize("arena", ["image", "speech"])
def test_full_media_round(client: FlaskClient, app: Flask, db: Session, make_contender: Any,
                          start_battle: Any, arena: str) -> None:
    _arena(make_contender, arena)
    make_contender(name="a text model")  # never drawn into a media battle
    body, events = start_battle("a lighthouse at dusk", arena=arena)
    names = [name for name, _ in events]
    assert names == ["done", "done", "end"]  # both outputs together, nothing before
    assert events[-1][1]["state"] == "ready"
    urls = {data["side"]: data["media_url"] for name, data in events if name == "done"}
    assert urls == {s: f"/api/v1/battles/{body['id']}/media/{s}/0" for s in "ab"}
    served = {}
    for side, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.mimetype == ("image/png" if arena == "image" else "audio/wav")
        served[side] = response.data
        for model in STYLES[arena]:
            assert model.encode() not in response.data  # the demo tags itself; stripped
    if arena == "image":
        sizes = {Image.open(io.BytesIO(d)).size for d in served.values()}
        assert max(max(s) for s in sizes) == 768
    # Not the owner: no media before the vote.
    stranger = app.test_client()
    assert stranger.get(urls["a"]).status_code == 403
    view = client.get(f"/api/v1/battles/{body['id']}").get_json()
    assert view["arena"] == arena and view["can_continue"] is False
    assert view["turns"][0]["a"]["media_url"] == urls["a"]
    assert "reveal" not in view
    turn = client.post(f"/api/v1/battles/{body['id']}/turns", json={"prompt": "again"})
    assert turn.status_code == 409
    battle = db.scalar(select(Battle).where(Battle.public_id == body["id"]))
    assert battle is not None and battle.arena == arena
    assert battle.contender_a.arena == battle.contender_b.arena == arena
    expected = {"image": {"resolution", "aspect", "file_size"},
                "speech": {"duration", "loudness"}}[arena]
    assert set(battle.features or {}) == {f"{f}_{s}" for f in expected for s in "ab"}
    answers = list(db.scalars(select(Answer).where(Answer.media_sha256.is_not(None))))
    assert len(answers) == 2 and all(a.text == "" for a in answers)
    voted = client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "model_a"})
    assert voted.status_code == 200
    # The vote writes with Core statements; this test's session (shared with the test
    # client's requests through one app context) still holds the battle as it was read.
    db.expire_all()
    assert client.get(urls["a"]).status_code == 200
    # After the vote others see it only if the voter shares the battle (consent), as its page.
    assert stranger.get(urls["a"]).status_code == 403
    battle.release_consent = True
    voter = db.get(Voter, battle.voter_id)
    assert voter is not None
    voter.release_consent = True
    db.commit()
    shared = stranger.get(urls["a"])
    assert shared.status_code == 200 and shared.headers["Cache-Control"] == "private"


def test_media_store_is_content_addressed_under_the_instance(
        app: Flask, make_contender: Any, start_battle: Any) -> None:
    _arena(make_contender, "image")
    start_battle("same prompt", arena="image")
    start_battle("same prompt", arena="image")
    from pathlib import Path
    files = [p for p in Path(app.config["MEDIA_DIR"]).rglob("*") if p.is_file()]
    assert len(files) == 2  # two battles, same two pictures: stored once each
    assert all(len(p.parent.name) == 2 and len(p.name) == 62 for p in files)


def test_unknown_arena_is_a_clear_422(client: FlaskClient) -> None:
    response = client.post("/api/v1/battles", json={"prompt": "x", "arena": "smell"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_field"


def test_media_of_a_text_answer_or_bad_side_is_404(client: FlaskClient,
                                                   make_contender: Any) -> None:
    make_contender()
    make_contender()
    created = client.post("/api/v1/battles", json={"prompt": "hi"}).get_json()
    client.get(created["stream_url"])
    for url in (f"/api/v1/battles/{created['id']}/media/a/0",
                f"/api/v1/battles/{created['id']}/media/c/0",
                f"/api/v1/battles/{created['id']}/media/a/7"):
        response = client.get(url)
        assert response.status_code == 404 and response.is_json


def test_failing_media_endpoint_fails_the_battle_and_counts(
        db: Session, make_contender: Any, start_battle: Any) -> None:
    good = make_contender(name="good", model="demo-sunset", arena="image")
    bad = make_contender(name="bad", model="no-such-painter", arena="image")
    body, events = start_battle("a lighthouse at dusk", arena="image")
    assert [n for n, _ in events] == ["error", "end"]
    assert events[0][1]["code"] == "endpoint_http_error"
    assert events[-1][1]["state"] == "failed"
    db.expire_all()
    assert db.get(Contender, bad.id).consecutive_failures == 1  # type: ignore[union-attr]
    assert db.get(Contender, good.id).consecutive_failures == 0  # type: ignore[union-attr]


def test_each_arena_has_its_own_page(client: FlaskClient, make_contender: Any) -> None:
    _arena(make_contender, "image")
    _arena(make_contender, "speech")
    page = client.get("/arena/image")
    assert page.status_code == 200 and b'data-arena="image"' in page.data
    assert b"<script>" not in page.data  # the CSP forbids inline scripts
    assert b'data-gate-s="5"' in client.get("/arena/speech").data  # MEDIA_LISTEN_GATE_S
    assert client.get("/arena/text").status_code == 302
    assert client.get("/arena/smell").status_code == 404


def test_an_arena_no_contender_competes_in_is_absent_not_busy(
        client: FlaskClient, db: Session, make_contender: Any) -> None:
    """Regression: a battle asked of a registered arena the site does not run answered 503
    ``no_contenders`` ("try again later"), and its page rendered an arena that could never
    work. It is a 404 on both, while a run arena whose endpoints are all cooling down stays 503.
    """
    painters = _arena(make_contender, "image")
    response = client.post("/api/v1/battles", json={"prompt": "a song", "arena": "music"})
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "arena_not_offered"
    page = client.get("/arena/music")
    assert page.status_code == 404 and b"<html" in page.data.lower()
    tabs = client.get("/arena/image").data
    assert b'href="/arena/image"' in tabs and b"/arena/music" not in tabs
    # One image contender left active: the arena runs, but no pair can meet right now.
    db.get(Contender, painters[0].id).active = False  # type: ignore[union-attr]
    db.commit()
    busy = client.post("/api/v1/battles", json={"prompt": "a boat", "arena": "image"})
    assert busy.status_code == 503 and busy.get_json()["error"]["code"] == "no_contenders"


def test_text_arena_links_only_to_media_arenas_with_contenders(
        client: FlaskClient, make_contender: Any) -> None:
    assert b"/arena/image" not in client.get("/").data
    make_contender(name="painter", model="demo-sunset", arena="image")
    page = client.get("/").data
    assert b'href="/arena/image"' in page and b"/arena/speech" not in page
