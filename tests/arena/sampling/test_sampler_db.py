"""The app's sampler on the database: propensities stored, caps from the last hour, policy in
the ledger, adaptive reads of the latest snapshot."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.battles import create_battle
from arena.db import new_session
from arena.models import (
    Battle,
    LeaderboardSnapshot,
    LedgerEntry,
    Publication,
    SnapshotEntry,
    utcnow,
)
from arena.sampling import PolicySettings, Sampler


def test_created_battle_stores_propensity_and_policy_version(
        client: FlaskClient, db: Session, make_contender: Any) -> None:
    for _ in range(3):
        make_contender()
    created = client.post("/api/v1/battles", json={"prompt": "hello"})
    assert created.status_code == 201
    battle = db.scalars(select(Battle)).one()
    assert battle.policy_version == "weighted-v1"
    # 3 equal contenders, exploration 5%: every pair 1/3, the ordered pair 1/6.
    assert battle.propensity == pytest.approx(1 / 6)
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "policy_changed")).one()
    assert entry.details["policy"] == "weighted"


def test_policy_change_is_a_new_ledger_entry(app: Flask, db: Session,
                                             make_contender: Any) -> None:
    for _ in range(3):
        make_contender()
    now = utcnow()
    Sampler(PolicySettings("weighted")).draw(db, random.Random(0), now)
    Sampler(PolicySettings("weighted")).draw(db, random.Random(0), now)
    Sampler(PolicySettings("adaptive")).draw(db, random.Random(0), now)
    db.commit()
    kinds = [e.details["policy"] for e in db.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "policy_changed").order_by(LedgerEntry.id))]
    assert kinds == ["weighted", "adaptive"]


def test_hourly_cap_holds_on_real_battles(db: Session, make_contender: Any) -> None:
    heavy = make_contender(name="heavy", weight=100.0)
    for _ in range(5):
        make_contender(weight=1.0)
    sampler = Sampler(PolicySettings("weighted", max_share=0.35, cap_min_battles=20,
                                     exploration=0.0), hour_ttl_s=0.0)
    rng = random.Random(1)
    now = utcnow()
    for k in range(200):
        create_battle(db, voter_id="v" * 32, ip_hash="x", prompt="p", rng=rng,
                      now=now + timedelta(seconds=k), sampler=sampler)
    db.commit()
    battles = list(db.scalars(select(Battle)))
    share = sum(heavy.id in (b.contender_a_id, b.contender_b_id) for b in battles) / len(battles)
    # Uncapped, "heavy" (weight 100 against five of weight 1) would be in ~99% of battles.
    assert share <= 0.36


def test_adaptive_sampler_favours_contender_missing_from_snapshot(
        db: Session, make_contender: Any) -> None:
    old = [make_contender(name=f"old{i}") for i in range(6)]
    newcomer = make_contender(name="newcomer")
    now = utcnow()
    pub = Publication(data_cutoff=now, n_battles=30_000, battles_hash="h", code_version="t",
                      created_at=now)
    snap = LeaderboardSnapshot(view="overall", n_battles=30_000, converged=True,
                               gradient_norm=0.0)
    pub.snapshots.append(snap)
    for rank, c in enumerate(old, start=1):
        snap.entries.append(SnapshotEntry(contender_id=c.id, rating=1100 - 10 * rank,
                                          ci_low=1090 - 10 * rank, ci_high=1110 - 10 * rank,
                                          rank=rank, rank_ub=rank, votes=10_000))
    db.add(pub)
    db.commit()
    sampler = Sampler(PolicySettings("adaptive", cap_min_battles=10**9))
    rng = random.Random(5)
    seen = Counter()
    for _ in range(300):
        pair = sampler.draw(db, rng, now)
        seen[pair.a.name] += 1
        seen[pair.b.name] += 1
        assert pair.policy_version == "adaptive-v1"
        assert 0 < pair.propensity <= 0.5
    assert seen[newcomer.name] > 250


def test_ledger_api_and_exposure(client: FlaskClient, db: Session, make_contender: Any) -> None:
    for _ in range(3):
        make_contender()
    for _ in range(4):
        assert client.post("/api/v1/battles", json={"prompt": "hi"}).status_code == 201
    body = client.get("/api/v1/ledger").get_json()
    assert [e["kind"] for e in body["entries"]] == ["policy_changed"]
    exposure = client.get("/api/v1/ledger/exposure").get_json()
    week = exposure["weeks"][0]
    assert week["battles"] == 4
    assert sum(r["battles"] for r in week["contenders"]) == 8
    assert sum(r["declared_share"] for r in exposure["declared"]) == pytest.approx(2.0, abs=1e-3)
    assert client.get("/api/v1/ledger?limit=abc").status_code == 422
    page = client.get("/ledger")
    assert page.status_code == 200 and b"policy changed" in page.data


def test_hourly_cap_is_a_share_of_the_contenders_own_arena(
        db: Session, make_contender: Any) -> None:
    """Regression: the cap compared a contender's battles with every arena's battles of the
    hour, so a busy image arena let one text contender take most text battles uncapped."""
    heavy = make_contender(name="heavy", weight=100.0)
    for _ in range(5):
        make_contender(weight=1.0)
    for n in range(3):
        make_contender(name=f"painter-{n}", arena="image")
    sampler = Sampler(PolicySettings("weighted", max_share=0.35, cap_min_battles=20,
                                     exploration=0.0), hour_ttl_s=0.0)
    rng = random.Random(3)
    now = utcnow()
    for k in range(600):  # a busy image arena: 600 battles this hour
        create_battle(db, voter_id="v" * 32, ip_hash="x", prompt="p", rng=rng,
                      now=now + timedelta(seconds=k % 60), sampler=sampler, arena="image")
    for k in range(200):
        create_battle(db, voter_id="v" * 32, ip_hash="x", prompt="p", rng=rng,
                      now=now + timedelta(seconds=60 + k), sampler=sampler)
    db.commit()
    text = list(db.scalars(select(Battle).where(Battle.arena == "text")))
    share = sum(heavy.id in (b.contender_a_id, b.contender_b_id) for b in text) / len(text)
    assert share <= 0.36  # measured against all arenas' battles: 0.985
    image = list(db.scalars(select(Battle).where(Battle.arena == "image")))
    assert len(image) == 600 and all(b.contender_a.arena == "image" for b in image)


def _drawn_ids(client: FlaskClient, db: Session, n: int) -> set[int]:
    ids: set[int] = set()
    for k in range(n):
        created = client.post("/api/v1/battles", json={"prompt": f"pool {k}"})
        assert created.status_code == 201
        db.rollback()
        battle = db.scalars(select(Battle).where(Battle.public_id == created.get_json()["id"]))
        row = battle.one()
        ids |= {row.contender_a_id, row.contender_b_id}
    return ids


def test_a_failing_endpoint_leaves_the_next_draw_despite_the_cached_pool(
        app: Flask, client: FlaskClient, db: Session, make_contender: Any) -> None:
    # The pool is reused for SAMPLING_POOL_CACHE_MS, but a write to the contenders through
    # this process (here: an endpoint crossing its failure threshold) is seen at once.
    from arena.battles import record_failure

    sampler = app.extensions["arena.sampler"]
    sampler.pool_ttl_s = 600.0
    first, second, third = make_contender(), make_contender(), make_contender()
    db.commit()
    assert _drawn_ids(client, db, 12) == {first.id, second.id, third.id}
    record_failure(db, third.id, utcnow(), threshold=1, cooldown_s=3600)
    db.commit()
    assert _drawn_ids(client, db, 12) == {first.id, second.id}


def test_a_pool_read_before_a_failure_commits_is_not_kept(
        app: Flask, db: Session, make_contender: Any) -> None:
    # Regression: the write bumped the pools' generation as it was sent, so a read by another
    # thread before its commit was cached as current and kept the failing endpoint in the
    # draws for up to SAMPLING_POOL_CACHE_MS.
    from arena.battles import record_failure

    sampler = app.extensions["arena.sampler"]
    sampler.pool_ttl_s = 600.0
    first, second, third = make_contender(), make_contender(), make_contender()
    db.commit()
    with new_session(app) as writer, new_session(app) as reader:
        record_failure(writer, third.id, utcnow(), threshold=1, cooldown_s=3600)
        writer.flush()
        # another request's draw, between the UPDATE and its commit: still three
        assert len(sampler.pool(reader, utcnow())) == 3
        reader.commit()
        writer.commit()
    assert [c.id for c in sampler.pool(db, utcnow())] == [first.id, second.id]


def test_the_cached_pool_judges_health_at_each_draw(
        app: Flask, db: Session, make_contender: Any) -> None:
    # A contender cooling down until t comes back for draws after t without a new read.
    sampler = Sampler(PolicySettings("weighted", exploration=0.0, max_share=1.0),
                      pool_ttl_s=600.0)
    now = utcnow()
    ok = [make_contender(), make_contender()]
    resting = make_contender()
    resting.unhealthy_until = now + timedelta(minutes=5)
    db.commit()
    assert [c.id for c in sampler.pool(db, now)] == [c.id for c in ok]
    reads = sampler._pools["text"]
    later = sampler.pool(db, now + timedelta(minutes=6))
    assert [c.id for c in later] == [*(c.id for c in ok), resting.id]
    assert sampler._pools["text"] is reads  # the same rows, judged at a later time


def test_a_draw_with_no_one_to_meet_leaves_a_recorded_policy_recorded(
        db: Session, make_contender: Any) -> None:
    """Once this process has the policy in the ledger, a draw that finds nobody to meet (any
    client can ask for an arena the site does not run; every contender may be cooling down)
    must not mark it unrecorded: a creation that already took the autocommit path on
    ``ledger_checked`` would then draw on a Connection and fail (500)."""
    from arena.battles.sampling import NoContenders

    make_contender()
    make_contender()
    sampler = Sampler(PolicySettings("weighted"))
    sampler.draw(db, random.Random(0), utcnow())
    db.commit()
    with pytest.raises(NoContenders):
        sampler.draw(db, random.Random(0), utcnow(), arena="image")
    assert sampler.ledger_checked


def test_a_draw_on_a_connection_before_the_policy_is_recorded_only_reads(
        app: Flask, db: Session, make_contender: Any) -> None:
    """A creation that saw the policy recorded, while a concurrent first draw failed and
    marked it unrecorded again, draws on its autocommit connection: it reads, and the next
    draw in a Session records the policy."""
    from arena.db import engine_for

    make_contender()
    make_contender()
    sampler = Sampler(PolicySettings("weighted"))
    with engine_for(app).connect() as conn:
        pair = sampler.draw(conn, random.Random(0), utcnow())
    assert pair.a.id != pair.b.id and not sampler.ledger_checked
    sampler.draw(db, random.Random(0), utcnow())
    db.commit()
    assert sampler.ledger_checked
    assert db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "policy_changed")).one()
