"""Rate limits shared through Redis: two processes ("hosts") count against one budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

REPO = Path(__file__).resolve().parents[3]

# The second "host": a separate Python process with its own app and limiter.
_OTHER_HOST = """
import json, sys
from arena import create_app
config = json.loads(sys.argv[1])
client = create_app(config, instance_path=sys.argv[2]).test_client()
print(client.post("/api/v1/battles/unknown/vote", json={"winner": "tie"}).status_code)
"""  # the subprocess exits right after, which closes its connections


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("ARENA_TEST_REDIS_URL")
    if not url:
        pytest.skip("ARENA_TEST_REDIS_URL not set (make test and CI set it)")
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"ARENA_TEST_REDIS_URL={url} is set but unreachable: {exc}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def _other_host_status(config: dict[str, Any], instance: Path) -> int:
    done = subprocess.run([sys.executable, "-c", _OTHER_HOST, json.dumps(config), str(instance)],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    return int(done.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["redis", "memory"])
def limited_config(request: pytest.FixtureRequest, app_config: dict[str, Any],
                   redis_url: str) -> dict[str, Any]:
    # Requested before `client`, so the app is built with these settings.
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_VOTES="3 per minute",
                      RATELIMIT_STORAGE_URI=redis_url if request.param == "redis"
                      else "memory://")
    return app_config


def test_vote_limit_is_shared_by_two_hosts_only_through_redis(
        limited_config: dict[str, Any], client: FlaskClient, tmp_path: Path) -> None:
    statuses = [client.post("/api/v1/battles/unknown/vote", json={"winner": "tie"}).status_code
                for _ in range(3)]
    assert statuses == [404, 404, 404]

    # Redis: the other host sees the three votes already spent; memory: it has its own budget.
    shared = limited_config["RATELIMIT_STORAGE_URI"] != "memory://"
    assert _other_host_status(limited_config, tmp_path / "two") == (429 if shared else 404)

    limited = client.post("/api/v1/battles/unknown/vote", json={"winner": "tie"})
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
