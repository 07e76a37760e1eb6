"""Pair sampling: weights, distinct contenders, left/right, unreleased pairs, endpoint health."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from scipy.stats import binomtest, chisquare
from sqlalchemy.orm import Session

from arena.battles import (
    choose_pair,
    eligible_contenders,
    record_failure,
    record_success,
    sample_pair,
)
from arena.errors import ServiceUnavailable
from arena.models import Contender, utcnow

DRAWS = 3000


def _draw(db: Session, n: int = DRAWS, seed: int = 1234) -> list[tuple[str, str]]:
    """``n`` pairs drawn from the eligible contenders as the database returns them."""
    rng = random.Random(seed)
    pool = eligible_contenders(db, utcnow())
    return [(a.name, b.name) for a, b in (choose_pair(pool, rng) for _ in range(n))]


def test_pairs_follow_product_of_weights(db: Session, make_contender: Any) -> None:
    for name, weight in (("w1", 1.0), ("w2", 2.0), ("w3", 3.0)):
        make_contender(name=name, weight=weight)
    pairs = Counter(frozenset(p) for p in _draw(db))
    expected_share = {frozenset({"w1", "w2"}): 2, frozenset({"w1", "w3"}): 3,
                      frozenset({"w2", "w3"}): 6}
    keys = list(expected_share)
    observed = [pairs[k] for k in keys]
    expected = [DRAWS * expected_share[k] / 11 for k in keys]
    assert sum(observed) == DRAWS
    assert chisquare(observed, expected).pvalue > 0.001


def test_never_pairs_a_contender_with_itself(db: Session, make_contender: Any) -> None:
    for weight in (1.0, 50.0, 1.0):
        make_contender(weight=weight)
    assert all(a != b for a, b in _draw(db, 1000))


def test_left_right_order_is_random(db: Session, make_contender: Any) -> None:
    make_contender(name="left-heavy", weight=1.0)
    make_contender(name="other", weight=1.0)
    on_left = sum(a == "left-heavy" for a, _ in _draw(db, 2000))
    assert binomtest(on_left, 2000, 0.5).pvalue > 0.001


def test_two_unreleased_contenders_never_meet(db: Session, make_contender: Any) -> None:
    make_contender(name="secret-1", is_public=False, weight=10.0)
    make_contender(name="secret-2", is_public=False, weight=10.0)
    make_contender(name="public-1")
    draws = _draw(db, 1000)
    assert all("public-1" in pair for pair in draws)
    assert {n for pair in draws for n in pair} == {"secret-1", "secret-2", "public-1"}


def test_inactive_and_zero_weight_contenders_are_never_sampled(
        db: Session, make_contender: Any) -> None:
    make_contender(name="on-1")
    make_contender(name="on-2")
    make_contender(name="retired", active=False)
    make_contender(name="weightless", weight=0.0)
    assert {n for pair in _draw(db, 500) for n in pair} == {"on-1", "on-2"}


def test_only_unreleased_contenders_is_no_contenders(db: Session, make_contender: Any) -> None:
    make_contender(is_public=False)
    make_contender(is_public=False)
    with pytest.raises(ServiceUnavailable) as raised:
        sample_pair(db, random.Random(0), utcnow())
    assert raised.value.code == "no_contenders"


def test_failures_past_threshold_take_a_contender_out_until_cooldown_ends(
        db: Session, make_contender: Any) -> None:
    flaky = make_contender(name="flaky")
    make_contender(name="steady-1")
    make_contender(name="steady-2")
    now = utcnow()
    for _ in range(2):
        record_failure(db, flaky.id, now, threshold=3, cooldown_s=60)
    db.commit()
    db.refresh(flaky)
    assert flaky.consecutive_failures == 2 and flaky.unhealthy_until is None
    record_failure(db, flaky.id, now, threshold=3, cooldown_s=60)
    db.commit()
    db.refresh(flaky)
    assert flaky.consecutive_failures == 3
    assert flaky.unhealthy_until == now + timedelta(seconds=60)

    rng = random.Random(7)
    during = {c.name for _ in range(50) for c in sample_pair(db, rng, now + timedelta(seconds=59))}
    after = {c.name for _ in range(50) for c in sample_pair(db, rng, now + timedelta(seconds=61))}
    assert during == {"steady-1", "steady-2"}
    assert "flaky" in after


def test_a_success_resets_endpoint_health(db: Session, make_contender: Any) -> None:
    flaky = make_contender(name="flaky")
    now = utcnow()
    for _ in range(3):
        record_failure(db, flaky.id, now, threshold=3, cooldown_s=60)
    record_success(db, flaky.id)
    db.commit()
    db.refresh(flaky)
    assert flaky.consecutive_failures == 0 and flaky.unhealthy_until is None


def test_fewer_than_two_contenders_is_503_with_nothing_written(
        client: FlaskClient, make_contender: Any, row_counts: Any) -> None:
    make_contender()
    before = row_counts()
    response = client.post("/api/v1/battles", json={"prompt": "Hello there, who wins?"})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "no_contenders"
    assert "try again" in error["message"]
    assert row_counts() == before


def test_a_cooling_down_contender_leaves_too_few_for_a_pair(
        db: Session, make_contender: Any) -> None:
    a = make_contender()
    make_contender()
    cooling = db.get(Contender, a.id)
    assert cooling is not None
    cooling.unhealthy_until = utcnow() + timedelta(hours=1)
    db.commit()
    with pytest.raises(ServiceUnavailable) as raised:
        sample_pair(db, random.Random(0), utcnow())
    assert raised.value.code == "no_contenders"
