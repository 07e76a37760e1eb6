"""Hostile input gets a 4xx JSON error (or is ignored where HTTP says so), never a 500."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from arena.models import DataRelease, utcnow


@pytest.fixture
def two_contenders(make_contender: Any) -> None:
    make_contender()
    make_contender()


def _json_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    if code is not None:
        assert error["code"] == code
    return dict(error)


def _raw_json(client: FlaskClient, path: str, text: str) -> Any:
    return client.post(path, data=text.encode("utf-8"), content_type="application/json")


def test_lone_surrogate_in_prompt_is_400_with_nothing_written(
        client: FlaskClient, two_contenders: None, row_counts: Any) -> None:
    before = row_counts()
    _json_error(_raw_json(client, "/api/v1/battles", '{"prompt": "hi \\ud800 there"}'),
                400, "invalid_json")
    assert row_counts() == before


def test_surrogate_pair_in_prompt_is_an_ordinary_character(
        client: FlaskClient, two_contenders: None) -> None:
    response = _raw_json(client, "/api/v1/battles", '{"prompt": "smile \\ud83d\\ude00"}')
    assert response.status_code == 201


def test_lone_surrogate_in_feedback_is_400_and_the_battle_stays_unvoted(
        client: FlaskClient, two_contenders: None, start_battle: Any,
        battle_row: Any) -> None:
    body, _ = start_battle()
    response = _raw_json(client, f"/api/v1/battles/{body['id']}/vote",
                         '{"winner": "tie", "feedback": "\\udfff"}')
    _json_error(response, 400, "invalid_json")
    assert battle_row(body["id"]).state == "ready"


def test_json_nested_100000_deep_is_400(client: FlaskClient, two_contenders: None) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    _json_error(_raw_json(client, "/api/v1/battles", deep), 400, "invalid_json")
    nested_prompt = '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _json_error(_raw_json(client, "/api/v1/battles", nested_prompt), 400, "invalid_json")


@pytest.mark.parametrize("path", [
    "/api/v1/battles/a%00b", "/api/v1/battles/a%00b/stream",
    "/api/v1/leaderboard/snapshots/2147483648",
    "/api/v1/leaderboard/snapshots/99999999999999999999",
])
def test_unrepresentable_path_parameters_are_404(client: FlaskClient, path: str) -> None:
    _json_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/battles/a%00b/vote", "/api/v1/battles/a%00b/turns"])
def test_nul_in_path_of_a_post_is_404(client: FlaskClient, path: str) -> None:
    _json_error(client.post(path, json={"winner": "tie", "prompt": "hi"}), 404, "not_found")


def test_nul_in_a_query_parameter_is_400(client: FlaskClient) -> None:
    _json_error(client.get("/api/v1/leaderboard?view=a%00b"), 400, "invalid_parameter")


def test_nul_in_a_page_path_is_a_readable_404(client: FlaskClient) -> None:
    response = client.get("/data/r%00x/battles.jsonl")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.fixture
def release_file(app: Flask, db: Session) -> str:
    """A release with one listed file on disk; returns its download URL."""
    name = "2026-01"
    folder = Path(app.config["RELEASES_DIR"]) / name
    folder.mkdir(parents=True)
    content = b"0123456789" * 100
    (folder / "battles.jsonl").write_bytes(content)
    now = utcnow()
    db.add(DataRelease(name=name, window_start=now, window_end=now, created_at=now,
                       n_battles=0, files=[{"name": "battles.jsonl", "bytes": len(content),
                                            "sha256": hashlib.sha256(content).hexdigest()}],
                       manifest_sha256="0" * 64, command="", snapshot={}))
    db.commit()
    return f"/data/{name}/battles.jsonl"


def test_nul_in_a_release_file_name_is_404(client: FlaskClient, release_file: str) -> None:
    with client.get(release_file) as ok:
        assert ok.status_code == 200
    assert client.get(release_file.replace("battles", "batt%00les")).status_code == 404


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "chars=0-1", "garbage"])
def test_an_invalid_range_header_is_ignored(client: FlaskClient, release_file: str,
                                            header: str) -> None:
    with client.get(release_file, headers={"Range": header}) as response:
        assert response.status_code == 200
        assert len(response.get_data()) == 1000


def test_a_valid_range_header_still_works(client: FlaskClient, release_file: str) -> None:
    with client.get(release_file, headers={"Range": "bytes=0-9"}) as response:
        assert response.status_code == 206
        assert response.get_data() == b"0123456789"


def test_an_invalid_range_on_a_static_file_is_ignored(client: FlaskClient) -> None:
    with client.get("/static/style.css", headers={"Range": "bytes=x-y"}) as response:
        assert response.status_code == 200


def test_a_body_over_max_content_length_is_413_json_with_nothing_written(
        app_config: dict[str, Any], client: FlaskClient, two_contenders: None,
        row_counts: Any) -> None:
    before = row_counts()
    body = json.dumps({"prompt": "x" * 2_000_000})
    response = client.post("/api/v1/battles", data=body, content_type="application/json")
    _json_error(response, 413, "too_large")
    assert row_counts() == before


@pytest.fixture
def small_bodies(app_config: dict[str, Any]) -> None:
    # Requested before `client`, so the app is built with it.
    app_config["MAX_CONTENT_LENGTH"] = 100


def test_max_content_length_is_configurable(small_bodies: None, client: FlaskClient,
                                            two_contenders: None) -> None:
    big = client.post("/api/v1/battles", data=json.dumps({"prompt": "y" * 200}),
                      content_type="application/json")
    _json_error(big, 413, "too_large")
    assert client.post("/api/v1/battles", json={"prompt": "short"}).status_code == 201


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/v1/battles", {"POST"}),
    ("PUT", "/api/v1/battles/abc/vote", {"POST"}),
    ("POST", "/api/v1/leaderboard", {"GET", "HEAD", "OPTIONS"}),
    ("DELETE", "/", {"GET", "HEAD", "OPTIONS"}),
])
def test_405_carries_allow(client: FlaskClient, method: str, path: str,
                           allowed: set[str]) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= allowed
