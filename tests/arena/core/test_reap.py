"""`flask battles reap` abandons battles that can no longer finish, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Battle, Contender, utcnow


def test_reap_abandons_only_stale_pending_and_generating(
        runner: FlaskCliRunner, db: Session, make_contender: Callable[..., Contender]) -> None:
    a, b = make_contender(), make_contender()
    now = utcnow()
    ages = {"old-pending": ("pending", timedelta(hours=30)),
            "new-pending": ("pending", timedelta(hours=1)),
            "old-generating": ("generating", timedelta(hours=2)),
            "new-generating": ("generating", timedelta(minutes=5)),
            "old-ready": ("ready", timedelta(days=3))}
    for public_id, (state, age) in ages.items():
        db.add(Battle(public_id=public_id, contender_a_id=a.id, contender_b_id=b.id,
                      state=state, created_at=now - age, updated_at=now - age))
    db.commit()

    result = runner.invoke(args=["battles", "reap"])
    assert result.exit_code == 0, result.output
    assert "abandoned 1 pending and 1 generating battles" in result.output
    db.expire_all()
    states = {row.public_id: row.state
              for row in db.execute(select(Battle.public_id, Battle.state))}
    assert states == {"old-pending": "abandoned", "new-pending": "pending",
                      "old-generating": "abandoned", "new-generating": "generating",
                      "old-ready": "ready"}

    again = runner.invoke(args=["battles", "reap"])
    assert "abandoned 0 pending and 0 generating battles" in again.output
