"""Rate limits on starting battles/turns and on votes answer 429 JSON."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient


@pytest.fixture
def tight_limits(app_config: dict[str, Any]) -> None:
    app_config["RATELIMIT_ENABLED"] = True
    app_config["RATELIMIT_BATTLES"] = "2 per minute"
    app_config["RATELIMIT_VOTES"] = "1 per minute"


def test_third_battle_in_a_minute_is_429_json_with_nothing_written(
        tight_limits: None, client: FlaskClient, make_contender: Any, row_counts: Any) -> None:
    make_contender()
    make_contender()
    for _ in range(2):
        assert client.post("/api/v1/battles", json={"prompt": "Go!"}).status_code == 201
    before = row_counts()
    response = client.post("/api/v1/battles", json={"prompt": "Go again!"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in response.headers
    assert row_counts() == before


def test_turns_share_the_battle_budget(tight_limits: None, client: FlaskClient,
                                       make_contender: Any, start_battle: Any) -> None:
    make_contender()
    make_contender()
    body, _ = start_battle("First.")
    assert client.post(f"/api/v1/battles/{body['id']}/turns",
                       json={"prompt": "Second."}).status_code == 201
    client.get(body["stream_url"]).get_data()
    response = client.post(f"/api/v1/battles/{body['id']}/turns", json={"prompt": "Third."})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_votes_beyond_the_limit_are_429(tight_limits: None, client: FlaskClient,
                                        make_contender: Any, start_battle: Any) -> None:
    make_contender()
    make_contender()
    body, _ = start_battle("Vote on me.")
    other, _ = start_battle("And me.")
    assert client.post(f"/api/v1/battles/{body['id']}/vote",
                       json={"winner": "tie"}).status_code == 200
    response = client.post(f"/api/v1/battles/{other['id']}/vote", json={"winner": "tie"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_an_app_with_limits_off_leaves_another_apps_limits_on(
        tight_limits: None, app_config: dict[str, Any], client: FlaskClient,
        make_contender: Any, tmp_path: Any) -> None:
    """The limiter is one object per process; creating an app with limits off (a second app
    in a test run, a CLI process) must not switch off the limits of an app that has them."""
    from arena import create_app
    from arena.db import engine_for

    make_contender()
    make_contender()
    unlimited = create_app({**app_config, "RATELIMIT_ENABLED": False},
                           instance_path=str(tmp_path / "unlimited"))
    try:
        free = unlimited.test_client()
        for _ in range(3):
            assert free.post("/api/v1/battles", json={"prompt": "Free."}).status_code == 201
        for _ in range(2):
            assert client.post("/api/v1/battles", json={"prompt": "Go!"}).status_code == 201
        assert client.post("/api/v1/battles", json={"prompt": "Again!"}).status_code == 429
    finally:
        engine_for(unlimited).dispose()
