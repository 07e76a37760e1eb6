"""Every refused request answers {"error": {"code", "message"}} and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def two_contenders(make_contender: Any) -> None:
    make_contender()
    make_contender()


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return str(error["message"])


@pytest.mark.parametrize(("kwargs", "label"), [
    ({"data": "prompt=hi", "content_type": "application/x-www-form-urlencoded"}, "form"),
    ({"data": '{"prompt": "hi"', "content_type": "application/json"}, "malformed"),
    ({"json": ["prompt", "hi"]}, "array"),
    ({"json": None}, "null"),
])
def test_create_with_a_body_that_is_not_a_json_object_is_400(
        client: FlaskClient, two_contenders: None, row_counts: Any,
        kwargs: dict[str, Any], label: str) -> None:
    before = row_counts()
    _error(client.post("/api/v1/battles", **kwargs), 400, "invalid_json")
    assert row_counts() == before


@pytest.mark.parametrize("body", [{"prompt": 42}, {"prompt": ["a"]},
                                  {"prompt": "ok prompt", "release_consent": "yes"},
                                  {"prompt": "nul \x00 byte"}])
def test_create_with_wrong_field_types_is_422(client: FlaskClient, two_contenders: None,
                                              row_counts: Any, body: dict[str, Any]) -> None:
    before = row_counts()
    _error(client.post("/api/v1/battles", json=body), 422, "invalid_field")
    assert row_counts() == before


@pytest.mark.parametrize("body", [{}, {"prompt": ""}, {"prompt": "  \n\t "}])
def test_create_with_empty_prompt_is_422(client: FlaskClient, two_contenders: None,
                                         row_counts: Any, body: dict[str, Any]) -> None:
    before = row_counts()
    _error(client.post("/api/v1/battles", json=body), 422, "empty_prompt")
    assert row_counts() == before


def test_prompt_over_the_limit_is_422_and_at_the_limit_is_accepted(
        client: FlaskClient, two_contenders: None,
        row_counts: Any) -> None:
    limit = 8000  # MAX_PROMPT_CHARS default
    before = row_counts()
    message = _error(client.post("/api/v1/battles", json={"prompt": "x" * (limit + 1)}),
                     422, "prompt_too_long")
    assert str(limit) in message
    assert row_counts() == before
    assert client.post("/api/v1/battles", json={"prompt": "x" * limit}).status_code == 201


@pytest.fixture
def ten_char_prompts(app_config: dict[str, Any]) -> None:
    app_config["MAX_PROMPT_CHARS"] = 10


@pytest.fixture
def two_turns(app_config: dict[str, Any]) -> None:
    app_config["MAX_TURNS"] = 2


def test_prompt_limit_follows_config(ten_char_prompts: None, make_contender: Any,
                                     client: FlaskClient) -> None:
    make_contender()
    make_contender()
    _error(client.post("/api/v1/battles", json={"prompt": "eleven char"}), 422,
           "prompt_too_long")
    assert client.post("/api/v1/battles", json={"prompt": "ten chars!"}).status_code == 201


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("get", "", None), ("get", "/stream", None), ("post", "/turns", {"prompt": "more"}),
    ("post", "/vote", {"winner": "tie"}),
])
def test_unknown_battle_is_404_battle_not_found(
        client: FlaskClient, method: str, suffix: str, body: Any) -> None:
    response = getattr(client, method)(f"/api/v1/battles/nope{suffix}", json=body)
    _error(response, 404, "battle_not_found")


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("get", "", None), ("get", "/stream", None), ("post", "/turns", {"prompt": "more"}),
])
def test_another_sessions_battle_is_403(app: Flask, start_battle: Any, two_contenders: None,
                                        row_counts: Any, method: str, suffix: str,
                                        body: Any) -> None:
    created, _ = start_battle("Mine, not yours.")
    before = row_counts()
    stranger = app.test_client()
    response = getattr(stranger, method)(f"/api/v1/battles/{created['id']}{suffix}", json=body)
    _error(response, 403, "not_your_battle")
    assert "Mine, not yours." not in response.get_data(as_text=True)
    assert row_counts() == before


def test_turn_before_answers_finished_is_409_battle_not_ready(
        client: FlaskClient, two_contenders: None, row_counts: Any) -> None:
    created = client.post("/api/v1/battles", json={"prompt": "First?"}).get_json()
    before = row_counts()
    _error(client.post(f"/api/v1/battles/{created['id']}/turns", json={"prompt": "Second?"}),
           409, "battle_not_ready")
    assert row_counts() == before


def test_turn_after_vote_is_409_already_voted(client: FlaskClient, two_contenders: None,
                                              start_battle: Any, row_counts: Any) -> None:
    created, _ = start_battle("First?")
    client.post(f"/api/v1/battles/{created['id']}/vote", json={"winner": "tie"})
    before = row_counts()
    _error(client.post(f"/api/v1/battles/{created['id']}/turns", json={"prompt": "Again?"}),
           409, "already_voted")
    assert row_counts() == before


def test_turn_past_max_turns_is_409_too_many_turns(
        two_turns: None, client: FlaskClient, make_contender: Any,
        start_battle: Any, row_counts: Any) -> None:
    make_contender()
    make_contender()
    created, _ = start_battle("One?")
    second = client.post(f"/api/v1/battles/{created['id']}/turns", json={"prompt": "Two?"})
    assert second.status_code == 201
    client.get(created["stream_url"]).get_data()
    view = client.get(f"/api/v1/battles/{created['id']}").get_json()
    assert view["can_continue"] is False
    before = row_counts()
    _error(client.post(f"/api/v1/battles/{created['id']}/turns", json={"prompt": "Three?"}),
           409, "too_many_turns")
    assert row_counts() == before
    assert client.post(f"/api/v1/battles/{created['id']}/vote",
                       json={"winner": "tie"}).status_code == 200


@pytest.mark.parametrize("body", [{"prompt": ""}, {"prompt": 5}])
def test_turn_with_bad_prompt_is_422_and_battle_stays_ready(
        client: FlaskClient, two_contenders: None, start_battle: Any, battle_row: Any,
        row_counts: Any, body: dict[str, Any]) -> None:
    created, _ = start_battle("One?")
    before = row_counts()
    response = client.post(f"/api/v1/battles/{created['id']}/turns", json=body)
    assert response.status_code == 422
    assert row_counts() == before
    assert battle_row(created["id"]).state == "ready"


def test_vote_with_non_json_body_is_400(client: FlaskClient, two_contenders: None,
                                        start_battle: Any) -> None:
    created, _ = start_battle("One?")
    _error(client.post(f"/api/v1/battles/{created['id']}/vote", data="winner=tie"),
           400, "invalid_json")
