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

from arena import create_app

REPO = Path(__file__).resolve().parents[3]

# The second "host": a separate Python process with its own app and limiter.
_OTHER_HOST = """
import json, sys
from arena import create_app
config = json.loads(sys.argv[1])
client = create_app(config, instance_path=sys.argv[2]).test_client()
print(client.post("/api/v1/battles/unknown/vote", json={"winner": "tie"}).status_code)
"""


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


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory"])
def test_vote_limit_is_shared_by_two_hosts_only_through_redis(
        app_config: dict[str, Any], redis_url: str, tmp_path: Path, shared: bool) -> None:
    storage = redis_url if shared else "memory://"
    config = dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                  RATELIMIT_VOTES="3 per minute")
    first = create_app(config, instance_path=str(tmp_path / "one")).test_client()
    statuses = [first.post("/api/v1/battles/unknown/vote", json={"winner": "tie"}).status_code
                for _ in range(3)]
    assert statuses == [404, 404, 404]

    # Redis: the other host sees the three votes already spent; memory: it has its own budget.
    assert _other_host_status(config, tmp_path / "two") == (429 if shared else 404)

    limited = first.post("/api/v1/battles/unknown/vote", json={"winner": "tie"})
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
