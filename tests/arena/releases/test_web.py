"""Data page, release downloads and JSON, and the voter's consent/opt-out/deletion controls."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.models import Answer, Battle, Contender, DataRelease, Turn, Vote, Voter, utcnow


def _cut(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["releases", "cut", "--now", "2026-03-20T00:00:00Z"])
    assert result.exit_code == 0, result.output


def _as_voter(client: FlaskClient, voter_id: str) -> None:
    with client.session_transaction() as sess:
        sess["voter"] = voter_id


def _csrf(client: FlaskClient) -> str:
    page = client.get("/privacy").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _count(db: Session, model: Any, *where: Any) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_data_page_shows_an_empty_state_before_the_first_release(client: FlaskClient) -> None:
    page = client.get("/data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "No data release has been published yet" in html
    assert 'aria-current="page"' in html and ">Data</a>" in html
    assert client.get("/api/v1/releases").get_json() == {"releases": []}


def test_data_page_lists_windows_rows_sizes_checksums_and_commands(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, seed_votes: Any) -> None:
    seed_votes(limit=200)
    _cut(runner)
    releases = list(db.scalars(select(DataRelease).order_by(DataRelease.window_start)))
    html = client.get("/data").get_data(as_text=True)
    for release in releases:
        assert f'id="release-{release.name}"' in html
        assert f'<span class="release-rows">{release.n_battles}</span>' in html
        for f in release.files:
            assert f["sha256"] in html
        assert "python -m ratings fit battles.parquet" in html
    body = client.get("/api/v1/releases").get_json()
    assert [r["name"] for r in body["releases"]] == [r.name for r in reversed(releases)]
    newest = body["releases"][0]
    assert newest["bytes"] == sum(f["bytes"] for f in releases[-1].files)
    assert newest["hub"] is None
    assert newest["commands"][0].startswith("python -m ratings fit battles.parquet")


def test_release_files_download_with_their_published_checksum(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, seed_votes: Any) -> None:
    seed_votes(limit=200)
    _cut(runner)
    release = db.scalars(select(DataRelease)).first()
    assert release is not None
    for entry in release.files:
        with client.get(f"/data/{release.name}/{entry['name']}") as response:
            assert response.status_code == 200
            assert hashlib.sha256(response.get_data()).hexdigest() == entry["sha256"]
    assert client.get(f"/data/{release.name}/..%2F..%2Finstance%2Fsecret_key").status_code == 404
    assert client.get(f"/data/{release.name}/other.txt").status_code == 404
    assert client.get("/data/no-such-release/manifest.json").status_code == 404


def test_me_reports_defaults_without_creating_a_voter(client: FlaskClient, db: Session) -> None:
    body = client.get("/api/v1/me").get_json()
    assert body == {"release_consent": False, "release_opt_out": False, "opted_out_at": None,
                    "deletion_requested_at": None, "battles": 0, "votes": 0}
    assert _count(db, Voter) == 0


def test_me_records_consent_and_opt_out(client: FlaskClient, db: Session) -> None:
    _as_voter(client, "browser1")
    response = client.post("/api/v1/me", json={"release_consent": True})
    assert response.status_code == 200
    assert response.get_json()["release_consent"] is True
    response = client.post("/api/v1/me", json={"release_opt_out": True})
    assert response.get_json()["release_opt_out"] is True
    db.expire_all()
    voter = db.get(Voter, "browser1")
    assert voter is not None and voter.release_consent and voter.opted_out_at is not None
    client.post("/api/v1/me", json={"release_opt_out": False})
    db.expire_all()
    assert db.get(Voter, "browser1").opted_out_at is None  # type: ignore[union-attr]


def test_me_rejects_form_posts_and_bad_fields(client: FlaskClient, db: Session) -> None:
    form = client.post("/api/v1/me", data={"release_opt_out": "true"})
    assert form.status_code == 415
    assert form.get_json()["error"]["code"] == "unsupported_media_type"
    bad = client.post("/api/v1/me", json={"release_opt_out": "yes"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_field"
    unknown = client.post("/api/v1/me", json={"voter": "someone-else"})
    assert unknown.status_code == 422
    assert _count(db, Voter) == 0


def test_deletion_erases_texts_and_leaves_the_voter_out_of_later_releases(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, seed_votes: Any,
        app: Flask) -> None:
    seed_votes(limit=200)
    _as_voter(client, "v00")
    battles = _count(db, Battle, Battle.voter_id == "v00")
    refused = client.post("/api/v1/me/deletion", json={})
    assert refused.status_code == 422
    assert _count(db, Turn, Turn.battle_id.in_(select(Battle.id).where(
        Battle.voter_id == "v00"))) == battles
    response = client.post("/api/v1/me/deletion", json={"confirm": True})
    assert response.status_code == 200
    assert response.get_json() == {"deleted": True, "battles": battles,
                                   "texts_erased": battles, "feedback_erased": battles}
    mine = select(Battle.id).where(Battle.voter_id == "v00")
    assert _count(db, Turn, Turn.battle_id.in_(mine)) == 0
    assert _count(db, Answer, Answer.turn_id.in_(select(Turn.id).where(
        Turn.battle_id.in_(mine)))) == 0
    assert _count(db, Vote, Vote.battle_id.in_(mine), Vote.feedback.is_not(None)) == 0
    assert _count(db, Battle, Battle.voter_id == "v00", Battle.ip_hash.is_not(None)) == 0
    assert _count(db, Vote, Vote.battle_id.in_(mine)) == battles  # outcomes stay counted
    assert _count(db, Turn) > 0  # other voters' texts are untouched
    voter = db.get(Voter, "v00")
    assert voter is not None and voter.deletion_requested_at is not None
    with client.session_transaction() as sess:
        assert sess.get("voter") != "v00"  # the browser got a fresh pseudonym
    _cut(runner)
    for release in db.scalars(select(DataRelease)):
        assert release.snapshot["views"]["overall"]["result"]["n_battles"] == release.n_battles
        assert release.n_battles == _count(
            db, Vote, Vote.created_at >= release.window_start,
            Vote.created_at < release.window_end, Vote.voter_id != "v00")


def test_privacy_forms_need_the_session_token(client: FlaskClient, db: Session) -> None:
    _as_voter(client, "browser2")
    forged = client.post("/privacy/preferences", data={"release_opt_out": "on"})
    assert forged.status_code == 400
    assert "This form has expired" in forged.get_data(as_text=True)
    forged = client.post("/privacy/deletion", data={"confirm": "on", "csrf_token": "guess"})
    assert forged.status_code == 400
    assert _count(db, Voter) == 0


def test_privacy_form_saves_choices_and_confirms(client: FlaskClient, db: Session) -> None:
    _as_voter(client, "browser3")
    token = _csrf(client)
    response = client.post("/privacy/preferences", data={
        "csrf_token": token, "release_consent": "on", "release_opt_out": "on"},
        follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "You are opted out" in html
    assert 'id="release_opt_out" checked' in html
    voter = db.get(Voter, "browser3")
    assert voter is not None and voter.opted_out_at is not None and voter.release_consent


def test_privacy_deletion_form_needs_the_confirmation_box(
        client: FlaskClient, db: Session, make_contender: Any) -> None:
    a, b = make_contender(), make_contender()
    _as_voter(client, "browser4")
    db.add(Voter(id="browser4"))
    db.flush()
    battle = Battle(public_id="x" * 43, voter_id="browser4", contender_a_id=a.id,
                    contender_b_id=b.id, state="voted", created_at=utcnow())
    battle.turns.append(Turn(position=0, prompt="my phone is 201-555-0123"))
    db.add(battle)
    db.commit()
    token = _csrf(client)
    kept = client.post("/privacy/deletion", data={"csrf_token": token}, follow_redirects=True)
    assert "Nothing was deleted" in kept.get_data(as_text=True)
    assert _count(db, Turn) == 1
    done = client.post("/privacy/deletion", data={"csrf_token": token, "confirm": "on"},
                       follow_redirects=True)
    assert "Deleted. The texts of your 1 battle(s) are erased" in done.get_data(as_text=True)
    assert _count(db, Turn) == 0
    assert _count(db, Contender) == 2


def test_openapi_document_lists_the_release_and_me_routes(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/releases", "/api/v1/me", "/api/v1/me/deletion"} <= set(spec["paths"])
    assert set(spec["paths"]["/api/v1/me"]) == {"get", "post"}
    assert "Release" in spec["components"]["schemas"]


def test_cut_refuses_a_now_in_the_future(runner: FlaskCliRunner, db: Session,
                                         seed_votes: Any) -> None:
    seed_votes(limit=50)
    result = runner.invoke(args=["releases", "cut", "--now", "2999-01-01T00:00:00Z"])
    assert result.exit_code != 0
    assert "is in the future" in result.output and "Traceback" not in result.output
    assert _count(db, DataRelease) == 0


def test_data_page_has_readable_sizes_licence_column_guide_text_rows_and_a_recipe(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, db: Session,
        seed_votes: Any) -> None:
    app.config["SOURCE_URL"] = "git+https://example.org/open-arena"
    seed_votes(limit=200)
    _cut(runner)
    html = client.get("/data").get_data(as_text=True)
    release = db.scalars(select(DataRelease).order_by(DataRelease.window_start)).first()
    assert re.search(r'class="release-size">[\d.]+ KiB<', html)
    assert re.search(r'<td class="num" title="\d+ bytes">[\d.]+ (KiB|Bytes|MiB)</td>', html)
    assert 'id="data-license">CC-BY-4.0<' in html
    assert "<dt>voter</dt>" in html and "<dt>weight</dt>" in html
    assert 'class="release-text-rows">' in html
    assert 'pip install "git+https://example.org/open-arena"' in html
    assert f'curl -fLO "http://localhost/data/{release.name}/battles.parquet"' in html
    days = app.config["RELEASE_WINDOW_DAYS"]
    embargo = app.config["RELEASE_EMBARGO_DAYS"]
    assert f"windows of {days} days" in html and f"published {embargo} days after" in html
    assert "month" not in html.split('id="data-windowing"')[1].split("</p>")[0]


def test_the_repository_installs_the_rating_engine_with_no_new_runtime_pins() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert "ratings" in project["tool"]["setuptools"]["packages"]["find"]["include"]
    pinned = {re.split(r"[=<>\[]", line)[0].strip().lower()
              for line in (root / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    declared = [*project["project"]["dependencies"],
                *project["project"]["optional-dependencies"]["site"]]
    assert {re.split(r"[=<>\[]", d)[0].strip().lower() for d in declared} <= pinned
    from datetime import UTC, datetime

    from arena.releases.card import dataset_card
    text = dataset_card(name="w1", window_start=datetime(2026, 1, 1, tzinfo=UTC),
                        window_end=datetime(2026, 1, 31, tzinfo=UTC), n_rows=1, with_text=0,
                        excluded={}, snapshot={"views": {}}, linkable=False, public_url=None,
                        source_url="git+https://example.org/open-arena")
    assert "pyproject.toml" in text and 'pip install "git+https://example.org/open-arena"' in text
