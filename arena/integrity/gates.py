"""Voter gates: records of each gate's verdict per vote, hourly pass counts, and alerts.

A gate never drops a vote. ``passed`` and ``failed`` are verdicts; ``unavailable`` means the
gate could not decide (identity provider down, timeout) and the vote counts as usual. The
publish job compares the last day's pass rate of every gate with the week before and reports
a sharp change (a bot wave, or a broken gate).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.integrity.models import GateHourly, GateResult

STATUSES = ("passed", "failed", "unavailable")
#: Fewest verdicts in each window before a change of pass rate is reported.
ALERT_MIN_VERDICTS = 20


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def record_gate(db: Session, battle_id: int, gate: str, status: str, *, now: datetime,
                detail: str = "") -> None:
    """Store one verdict and count it in its hour (never commits)."""
    if status not in STATUSES:
        raise ValueError(f"gate status must be one of {STATUSES}, got {status!r}")
    db.add(GateResult(battle_id=battle_id, gate=gate, status=status, detail=detail[:200],
                      created_at=now))
    hour = _hour(now)
    column = getattr(GateHourly, status)
    bump = (update(GateHourly).where(GateHourly.hour == hour, GateHourly.gate == gate)
            .values({column: column + 1}))
    if db.execute(bump).rowcount:  # type: ignore[attr-defined]
        return
    try:
        # another process may create the hour's row first: insert in a savepoint, then bump
        with db.begin_nested():
            db.add(GateHourly(hour=hour, gate=gate, passed=0, failed=0, unavailable=0,
                              **{status: 1}))
    except IntegrityError:
        db.execute(bump)


def pass_rates(db: Session, since: datetime, until: datetime) -> dict[str, tuple[int, int]]:
    """Per gate: (passed, verdicts) over whole hours in ``[since, until)``."""
    rows = db.execute(
        select(GateHourly.gate, func.sum(GateHourly.passed),
               func.sum(GateHourly.passed + GateHourly.failed + GateHourly.unavailable))
        .where(GateHourly.hour >= since, GateHourly.hour < until)
        .group_by(GateHourly.gate)).all()
    return {gate: (int(p or 0), int(n or 0)) for gate, p, n in rows}


def gate_alerts(db: Session, *, now: datetime, change: float = 0.2) -> list[str]:
    """Gates whose pass rate over the last 24 hours moved by ``change`` or more against the
    7 days before."""
    day = now - timedelta(hours=24)
    recent = pass_rates(db, day, now + timedelta(hours=1))
    before = pass_rates(db, day - timedelta(days=7), day)
    alerts = []
    for gate in sorted(recent):
        p1, n1 = recent[gate]
        p0, n0 = before.get(gate, (0, 0))
        if n1 < ALERT_MIN_VERDICTS or n0 < ALERT_MIN_VERDICTS:
            continue
        r1, r0 = p1 / n1, p0 / n0
        if abs(r1 - r0) >= change:
            alerts.append(f"gate {gate}: pass rate {r1:.0%} over the last 24 h "
                          f"({n1} votes) against {r0:.0%} the 7 days before ({n0} votes)")
    return alerts
