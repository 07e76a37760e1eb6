"""A voter's choices about data releases: consent to texts, opt-out, deletion.

Deletion erases every prompt, answer and feedback text of the voter's battles (the turns and
their answers are deleted, feedback set to null, the keyed IP hash cleared) and marks the voter,
so every release cut afterwards leaves their battles out. The anonymous outcome (which side won,
the style counts already stored on the battle) stays in the leaderboard: it is not personal
data once the texts are gone. Releases published before the request cannot be recalled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from arena.models import Battle, Turn, Vote, Voter


@dataclass(frozen=True)
class DeletionReport:
    battles: int
    texts_erased: int
    feedback_erased: int


def get_or_create_voter(db: Session, voter_id: str, now: datetime) -> Voter:
    voter = db.get(Voter, voter_id)
    if voter is None:
        voter = Voter(id=voter_id, created_at=now)
        db.add(voter)
        db.flush()
    return voter


def voter_status(db: Session, voter_id: str) -> dict[str, Any]:
    """What the site stores about this voter, as shown on the privacy page and ``/api/v1/me``."""
    voter = db.get(Voter, voter_id)
    battles = db.scalar(select(func.count()).select_from(Battle)
                        .where(Battle.voter_id == voter_id)) or 0
    votes = db.scalar(select(func.count()).select_from(Vote)
                      .where(Vote.voter_id == voter_id)) or 0
    return {
        "release_consent": bool(voter and voter.release_consent),
        "release_opt_out": bool(voter and voter.opted_out_at is not None),
        "opted_out_at": voter.opted_out_at.isoformat() if voter and voter.opted_out_at else None,
        "deletion_requested_at": (voter.deletion_requested_at.isoformat()
                                  if voter and voter.deletion_requested_at else None),
        "battles": int(battles),
        "votes": int(votes),
    }


def set_preferences(db: Session, voter_id: str, now: datetime, *,
                    release_consent: bool | None = None,
                    release_opt_out: bool | None = None) -> Voter:
    """Record consent to releasing texts and/or the opt-out (both reversible)."""
    voter = get_or_create_voter(db, voter_id, now)
    if release_consent is not None:
        voter.release_consent = release_consent
    if release_opt_out is not None:
        if release_opt_out and voter.opted_out_at is None:
            voter.opted_out_at = now
        elif not release_opt_out:
            voter.opted_out_at = None
    db.flush()
    return voter


def request_deletion(db: Session, voter_id: str, now: datetime) -> DeletionReport:
    """Erase the voter's texts and mark them excluded from every later release."""
    voter = get_or_create_voter(db, voter_id, now)
    battle_ids = select(Battle.id).where(Battle.voter_id == voter_id).scalar_subquery()
    n_battles = db.scalar(select(func.count()).select_from(Battle)
                          .where(Battle.voter_id == voter_id)) or 0
    n_turns = db.scalar(select(func.count()).select_from(Turn)
                        .where(Turn.battle_id.in_(battle_ids))) or 0
    n_feedback = db.scalar(select(func.count()).select_from(Vote)
                           .where(Vote.battle_id.in_(battle_ids), Vote.feedback.is_not(None))) or 0
    # Answers go with their turns (ON DELETE CASCADE on both backends).
    db.execute(delete(Turn).where(Turn.battle_id.in_(battle_ids)),
               execution_options={"synchronize_session": False})
    db.execute(update(Vote).where(Vote.battle_id.in_(battle_ids)).values(feedback=None),
               execution_options={"synchronize_session": False})
    db.execute(update(Battle).where(Battle.voter_id == voter_id)
               .values(ip_hash=None, prompt_group=None),
               execution_options={"synchronize_session": False})
    voter.release_consent = False
    if voter.deletion_requested_at is None:
        voter.deletion_requested_at = now
    db.flush()
    db.expire_all()
    return DeletionReport(battles=int(n_battles), texts_erased=int(n_turns),
                          feedback_erased=int(n_feedback))
