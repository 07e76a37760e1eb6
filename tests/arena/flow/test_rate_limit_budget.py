"""Invalid requests do not spend the rate-limit budget; Retry-After only on refusals."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient


@pytest.fixture
def tight_limits(app_config: dict[str, Any]) -> None:
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_BATTLES="2 per minute",
                      RATELIMIT_VOTES="1 per minute")


@pytest.fixture
def two_contenders(make_contender: Any) -> None:
    make_contender()
    make_contender()


@pytest.mark.parametrize("bad", [{"prompt": "   "}, {"prompt": 5}, {"nothing": True},
                                 {"prompt": "ok", "release_consent": "maybe"}])
def test_rejected_battles_do_not_spend_the_budget(
        tight_limits: None, client: FlaskClient, two_contenders: None,
        bad: dict[str, Any]) -> None:
    for _ in range(5):
        assert client.post("/api/v1/battles", json=bad).status_code == 422
    assert client.post("/api/v1/battles", data="{", content_type="application/json"
                       ).status_code == 400
    assert [client.post("/api/v1/battles", json={"prompt": "Go"}).status_code
            for _ in range(3)] == [201, 201, 429]


def test_rejected_votes_do_not_spend_the_budget(
        tight_limits: None, client: FlaskClient, two_contenders: None,
        start_battle: Any) -> None:
    body, _ = start_battle()
    url = f"/api/v1/battles/{body['id']}/vote"
    for _ in range(3):
        assert client.post(url, json={"winner": "nobody"}).status_code == 422
    assert client.post(url, json={"winner": "tie"}).status_code == 200


def test_retry_after_only_on_429(tight_limits: None, client: FlaskClient,
                                 two_contenders: None) -> None:
    ok = client.post("/api/v1/battles", json={"prompt": "Go"})
    assert ok.status_code == 201
    assert "Retry-After" not in ok.headers
    assert "X-RateLimit-Remaining" in ok.headers
    client.post("/api/v1/battles", json={"prompt": "Go"})
    refused = client.post("/api/v1/battles", json={"prompt": "Go"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
