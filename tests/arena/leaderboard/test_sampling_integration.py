"""Publishing with the sampler's and the ledger's records: inverse-propensity-weighted observed
win rates, private tests revealed by the publish job and kept provisional after the reveal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena import ledger
from arena.models import Battle, Contender, LeaderboardSnapshot, LedgerEntry, Vote


def _publish(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["leaderboard", "publish", "--min-battles", "10"])
    assert result.exit_code == 0, result.output
    return result.output


def _overall(db: Session) -> LeaderboardSnapshot:
    db.expire_all()
    return db.scalars(select(LeaderboardSnapshot).where(LeaderboardSnapshot.view == "overall")
                      .order_by(LeaderboardSnapshot.id.desc())).first()  # type: ignore[return-value]


def test_observed_win_rate_weights_each_battle_by_its_inverse_propensity(
        runner: FlaskCliRunner, client: FlaskClient, db: Session,
        league: Callable[..., list[Contender]]) -> None:
    people = league(("Alpha", "Bravo", "Charlie"), rounds=12)
    battles = list(db.scalars(select(Battle).order_by(Battle.id)))
    rng = np.random.default_rng(4)
    for b in battles:
        b.propensity = float(rng.choice([0.02, 0.1, 0.3]))
    db.commit()
    _publish(runner)
    snap = _overall(db)
    ids = snap.extra["contender_ids"]
    got = snap.extra["observed_win_rate"]
    # Brute force over the stored battles.
    score = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "both_bad": 0.5}
    for i, ci in enumerate(ids):
        for j, cj in enumerate(ids):
            if i == j:
                continue
            num = den = 0.0
            for b in battles:
                vote = db.scalars(select(Vote).where(Vote.battle_id == b.id)).one()
                w = 1.0 / b.propensity  # type: ignore[operator]
                if (b.contender_a_id, b.contender_b_id) == (ci, cj):
                    num, den = num + w * score[vote.winner], den + w
                elif (b.contender_a_id, b.contender_b_id) == (cj, ci):
                    num, den = num + w * (1 - score[vote.winner]), den + w
            assert got[i][j] == pytest.approx(num / den, abs=1e-6)
    body = client.get("/api/v1/leaderboard").get_json()
    assert body["observed_win_rate"]["weighting"].startswith("inverse propensity")
    assert len(body["observed_win_rate"]["p"]) == len(people)
    page = client.get("/leaderboard")
    assert b'id="plot-observed"' in page.data


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["PRIVATE_TEST_REVEAL_VOTES"] = 20
    return app_config


def test_publish_reveals_a_due_private_test_and_keeps_it_provisional(
        runner: FlaskCliRunner, client: FlaskClient, db: Session,
        league: Callable[..., list[Contender]]) -> None:
    people = league(("Alpha", "Bravo", "Secret"), rounds=12)
    secret = people[2]
    secret.is_public = False
    secret.alias = "anonymous-0a0b0c"
    ledger.record(db, "private_test_started", subject=secret.alias,
                  details={"contender_id": secret.id, "alias": secret.alias},
                  now=datetime(2024, 1, 1, tzinfo=UTC))
    db.commit()
    out = _publish(runner)
    assert "revealed private test: Secret" in out
    db.expire_all()
    assert db.get(Contender, secret.id).is_public  # type: ignore[union-attr]
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "alias_revealed")).one()
    assert entry.details["alias"] == "anonymous-0a0b0c" and entry.subject == "Secret"
    snap = _overall(db)
    row = next(e for e in snap.entries if e.contender_id == secret.id)
    assert row.provisional and row.public
    assert snap.extra["ranking"]["provisional_after_reveal"] == [secret.id]
