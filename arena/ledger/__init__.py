"""The public ledger: an append-only history of every decision that changes what people see.

Kinds of entry (:data:`KINDS`): contenders added, retired, deprecated (with a reason),
reactivated, their sampling weight changed, a private test started under an alias, an alias
revealed, and the sampling policy changed. Entries are inserted, never updated or deleted:
the ORM refuses both (:func:`_refuse_changes`), so a mistake is corrected by a new entry.

Private testing that cannot be gamed:

- an unreleased contender gets a public alias when it is added (``private_test_started``);
- :func:`reveal_due` reveals it after ``reveal_votes`` votes or ``reveal_days`` days, whatever
  its score (``alias_revealed``), and a revealed contender can never be made private again
  (the contenders sync refuses it);
- an organisation may test at most ``max_private_per_org`` unreleased contenders at once.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, union_all
from sqlalchemy.orm import Session

from arena.models import Battle, Contender, LedgerEntry, Vote, utcnow

KINDS = ("contender_added", "contender_retired", "contender_deprecated",
         "contender_reactivated", "weight_changed", "private_test_started", "alias_revealed",
         "policy_changed")


class LedgerIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a ledger entry."""


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, LedgerEntry) and (obj in session.deleted
                                             or session.is_modified(obj)):
            raise LedgerIsAppendOnly("ledger entries are never changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: Any) -> None:
    if (state.is_update or state.is_delete) and any(
            getattr(m, "class_", None) is LedgerEntry for m in state.all_mappers):
        raise LedgerIsAppendOnly("ledger entries are never changed or deleted")


def record(db: Session, kind: str, *, subject: str | None = None,
           organization: str | None = None, details: dict[str, Any] | None = None,
           reason: str | None = None, now: datetime | None = None) -> LedgerEntry:
    """Append one entry (the caller commits)."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    entry = LedgerEntry(kind=kind, subject=subject, organization=organization,
                        details=details or {}, reason=reason, created_at=now or utcnow())
    db.add(entry)
    return entry


def public_name(contender: Contender) -> str:
    """The name the public may see: the alias while a private test runs, else the name."""
    if not contender.is_public:
        return contender.alias or "Unreleased model"
    return contender.name


def new_alias(db: Session) -> str:
    """A fresh alias such as ``anonymous-7f3a9c`` (unique in the contender table)."""
    while True:
        alias = f"anonymous-{secrets.token_hex(3)}"
        if db.scalar(select(Contender.id).where(Contender.alias == alias)) is None:
            return alias


def record_policy(db: Session, declared: dict[str, Any], *, now: datetime) -> bool:
    """Append ``policy_changed`` if ``declared`` differs from the last recorded policy."""
    last = db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "policy_changed")
                     .order_by(LedgerEntry.id.desc()).limit(1))
    if last is not None and last.details == declared:
        return False
    record(db, "policy_changed", details=declared, now=now,
           reason=None if last is None else "configuration changed")
    return True


def votes_per_contender(db: Session, since: datetime | None = None) -> dict[int, int]:
    """Votes each contender took part in (optionally only those cast after ``since``)."""
    a = select(Battle.contender_a_id.label("cid"), Vote.created_at.label("at")).join(
        Vote, Vote.battle_id == Battle.id)
    b = select(Battle.contender_b_id.label("cid"), Vote.created_at.label("at")).join(
        Vote, Vote.battle_id == Battle.id)
    sides = union_all(a, b).subquery()
    query = select(sides.c.cid, func.count()).group_by(sides.c.cid)
    if since is not None:
        query = query.where(sides.c.at > since)
    return {int(cid): int(n) for cid, n in db.execute(query)}


def private_test_started(db: Session, contender: Contender) -> datetime | None:
    """When the contender's private test began (its ``private_test_started`` entry)."""
    return db.scalar(select(LedgerEntry.created_at)
                     .where(LedgerEntry.kind == "private_test_started",
                            LedgerEntry.details["contender_id"].as_integer() == contender.id)
                     .order_by(LedgerEntry.id).limit(1))


def reveal_due(db: Session, *, now: datetime, reveal_votes: int,
               reveal_days: int) -> list[str]:
    """Reveal every alias whose test reached ``reveal_votes`` votes or ``reveal_days`` days.

    Whatever the contender's score: the point of a private test that cannot be gamed is that
    the provider cannot retract a disappointing variant. Returns the revealed names.
    """
    hidden = list(db.scalars(select(Contender).where(Contender.is_public.is_(False),
                                                     Contender.alias.is_not(None))))
    if not hidden:
        return []
    votes = votes_per_contender(db)
    revealed = []
    for contender in hidden:
        started = private_test_started(db, contender) or contender.created_at
        n = votes.get(contender.id, 0)
        if n < reveal_votes and now - started < timedelta(days=reveal_days):
            continue
        contender.is_public = True
        contender.revealed_at = now
        record(db, "alias_revealed", subject=contender.name,
               organization=contender.organization, now=now,
               details={"contender_id": contender.id, "alias": contender.alias, "votes": n,
                        "days": round((now - started).total_seconds() / 86400, 2)},
               reason=(f"{n} votes" if n >= reveal_votes else f"{reveal_days} days"))
        revealed.append(contender.name)
    return revealed


def provisional_after_reveal(db: Session, *, votes_after: int) -> set[int]:
    """Contenders revealed less than ``votes_after`` votes ago: their scores stay provisional."""
    revealed = list(db.execute(select(Contender.id, Contender.revealed_at)
                               .where(Contender.revealed_at.is_not(None))))
    out = set()
    for cid, at in revealed:
        if votes_per_contender(db, since=at).get(cid, 0) < votes_after:
            out.add(cid)
    return out


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.created_at.isoformat(), "kind": entry.kind,
            "subject": entry.subject, "organization": entry.organization,
            "details": entry.details, "reason": entry.reason}


def entries(db: Session, *, after_id: int = 0, limit: int = 500) -> list[LedgerEntry]:
    """Entries in order, ``after_id`` exclusive (for paging)."""
    return list(db.scalars(select(LedgerEntry).where(LedgerEntry.id > after_id)
                           .order_by(LedgerEntry.id).limit(limit)))


def exposure(db: Session, *, now: datetime, weeks: int = 8) -> list[dict[str, Any]]:
    """Battles per contender and per organisation per ISO week (most recent ``weeks``).

    Shares are of battles created that week (a battle counts for both its contenders, so
    contender shares sum to 2). Unreleased contenders appear under their alias.
    """
    since = now - timedelta(weeks=weeks)
    day = func.date(Battle.created_at).label("day")
    a = (select(Battle.contender_a_id.label("cid"), day, func.count().label("n"))
         .where(Battle.created_at >= since).group_by(Battle.contender_a_id, day))
    b = (select(Battle.contender_b_id.label("cid"), day, func.count().label("n"))
         .where(Battle.created_at >= since).group_by(Battle.contender_b_id, day))
    contenders = {c.id: c for c in db.scalars(select(Contender))}
    per_week: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    # One row per contender and day (not per battle), summed into ISO weeks here.
    for cid, when, n in db.execute(union_all(a, b)):
        iso = date.fromisoformat(str(when)[:10]).isocalendar()
        per_week[f"{iso.year}-W{iso.week:02d}"][int(cid)] += int(n)
    out = []
    for label in sorted(per_week, reverse=True):
        counts = per_week[label]
        battles = sum(counts.values()) // 2
        orgs: dict[str, int] = defaultdict(int)
        rows = []
        for cid, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            c = contenders[cid]
            org = c.organization if c.is_public else ""
            orgs[org or "(undisclosed)"] += n
            rows.append({"contender": public_name(c), "organization": org, "battles": n,
                         "share": round(n / battles, 4) if battles else 0.0})
        out.append({"week": label, "battles": battles, "contenders": rows,
                    "organizations": [{"organization": o, "battles": n,
                                       "share": round(n / battles, 4) if battles else 0.0}
                                      for o, n in sorted(orgs.items(), key=lambda kv: -kv[1])]})
    return out
