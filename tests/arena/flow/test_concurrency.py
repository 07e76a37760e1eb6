"""Concurrent requests against a real threaded server on loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena import demo_endpoint as demo
from arena.models import Answer, Battle, Vote

N = 10


def _cookie(headers: dict[str, str]) -> str:
    return headers["Set-Cookie"].split(";", 1)[0]


def _together(n: int, call: Any) -> list[Any]:
    """Run ``call()`` in ``n`` threads released at the same instant; results in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def slow_demo() -> Iterator[Any]:
    """A demo endpoint that paces its chunks, so two streams surely overlap."""
    with demo.start(port=0, delay=0.02) as server:
        yield server


def test_simultaneous_votes_store_exactly_one(live_api: Any, make_contender: Any,
                                              db: Session) -> None:
    make_contender()
    make_contender()
    status, headers, body = live_api.request("POST", "/api/v1/battles",
                                             {"prompt": "Which is better?"})
    assert status == 201
    cookie = _cookie(headers)
    created = json.loads(body)
    status, _, stream = live_api.request("GET", created["stream_url"], cookie=cookie)
    assert status == 200 and b'"state": "ready"' in stream

    winners = ["model_a", "model_b", "tie", "both_bad", "model_a"] * 2
    calls = iter(range(N))
    lock = threading.Lock()

    def vote() -> tuple[int, dict[str, Any]]:
        with lock:
            i = next(calls)
        status, _, body = live_api.request("POST", f"/api/v1/battles/{created['id']}/vote",
                                           {"winner": winners[i]}, cookie=cookie)
        return status, json.loads(body)

    results = _together(N, vote)
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 409: N - 1}, results
    assert all(body["error"]["code"] == "already_voted"
               for status, body in results if status == 409)
    accepted = next(body for status, body in results if status == 200)

    db.rollback()
    votes = list(db.scalars(select(Vote)))
    assert len(votes) == 1
    assert votes[0].winner == accepted["winner"]
    assert db.scalar(select(Battle.state)) == "voted"


def test_simultaneous_streams_generate_once(live_api: Any, make_contender: Any,
                                            slow_demo: Any, db: Session) -> None:
    make_contender(base_url=slow_demo.url, model="demo-brief")
    make_contender(base_url=slow_demo.url, model="demo-brief")
    status, headers, body = live_api.request("POST", "/api/v1/battles",
                                             {"prompt": "Tell me about rivers."})
    cookie = _cookie(headers)
    created = json.loads(body)

    results = _together(4, lambda: live_api.request("GET", created["stream_url"], cookie=cookie))
    bodies = [raw.decode() for status, _, raw in results if status == 200]
    assert len(bodies) == 4
    generated = [b for b in bodies if '"state": "ready"' in b and "already_streaming" not in b]
    refused = [b for b in bodies if "already_streaming" in b]
    assert len(generated) >= 1 and len(refused) >= 1
    assert len(generated) + len(refused) == 4
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Answer)) == 2
    assert db.scalar(select(Battle.state)) == "ready"
