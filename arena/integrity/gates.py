"""Voter gates: records of each gate's verdict per vote, hourly pass counts, and alerts.

A gate never drops a vote. ``passed`` and ``failed`` are verdicts; ``unavailable`` means the
gate could not decide (identity provider down, timeout) and the vote counts as usual. The
publish job compares the last day's pass rate of every gate with the week before and reports
a sharp change (a bot wave, or a broken gate).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.integrity.models import GateHourly, GateResult, VoterAccount
from arena.models import Vote

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
            counts = {name: int(name == status) for name in STATUSES}
            db.add(GateHourly(hour=hour, gate=gate, **counts))
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


# --- the gates themselves ---------------------------------------------------------------------

def pow_ok(challenge: str, nonce: Any, bits: int) -> bool:
    """Hashcash check: SHA-256 of ``challenge:nonce`` starts with ``bits`` zero bits."""
    if not isinstance(nonce, str) or not 0 < len(nonce) <= 64:
        return False
    digest = int.from_bytes(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest(), "big")
    return digest >> (256 - bits) == 0


def votes_today(db: Session, voter_ids: list[str], now: datetime) -> int:
    """Votes cast since midnight UTC by any of ``voter_ids``."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(db.scalar(select(func.count()).select_from(Vote).where(
        Vote.voter_id.in_(voter_ids), Vote.created_at >= midnight)) or 0)


def gates_enabled(config: Mapping[str, Any]) -> bool:
    """Is any voter gate configured? (Without one :func:`evaluate_gates` returns nothing and
    reads nothing.)"""
    return bool(int(config.get("GATE_POW_BITS") or 0) or int(config.get("GATE_DAILY_CAP") or 0)
                or config.get("GATE_HF_OAUTH"))


def evaluate_gates(db: Session, config: Mapping[str, Any], *, voter_id: str | None,
                   challenge: str, pow_nonce: Any, hf_state: str | None,
                   now: datetime) -> list[tuple[str, str, str]]:
    """``(gate, status, detail)`` of every enabled gate for a vote about to be cast.

    Evaluated before the vote is stored (the cap counts earlier votes only); the verdicts are
    stored with it by :func:`record_gate` and never stop it.
    """
    verdicts: list[tuple[str, str, str]] = []
    bits = int(config.get("GATE_POW_BITS") or 0)
    if bits:
        ok = pow_ok(challenge, pow_nonce, bits)
        verdicts.append(("pow", "passed" if ok else "failed",
                         "" if ok else "missing or wrong proof of work"))
    account = None
    cap = int(config.get("GATE_DAILY_CAP") or 0)
    if voter_id is not None and (cap or config.get("GATE_HF_OAUTH")):
        account = db.get(VoterAccount, voter_id)
    if config.get("GATE_HF_OAUTH"):
        if account is not None:
            verdicts.append(("hf_account", "passed", ""))
        elif hf_state == "unavailable":
            verdicts.append(("hf_account", "unavailable", "identity provider did not answer"))
        else:
            verdicts.append(("hf_account", "failed", "not signed in"))
    if cap and voter_id is not None:
        ids = [voter_id]
        if account is not None:  # the cap follows the account across pseudonyms
            ids = list(db.scalars(select(VoterAccount.voter_id).where(
                VoterAccount.account_hash == account.account_hash)))
        n = votes_today(db, ids, now)
        verdicts.append(("daily_cap", "passed" if n < cap else "failed",
                         f"{n} earlier votes today, cap {cap}"))
    return verdicts
