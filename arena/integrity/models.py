"""Integrity tables: voter flags per publication, operator decisions, filter counts, gates.

Decisions and gate results are append-only: a row is never updated in place, so every
published board can be explained from the votes, the flags and the decisions made before it.
Voters appear only by pseudonym; signed-in accounts only as keyed hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from arena.models import Base, utcnow


class VoterFlag(Base):
    """A voter the publish-time test flagged, with the statistic that flagged it."""

    __tablename__ = "voter_flag"
    __table_args__ = (UniqueConstraint("publication_id", "voter_id", name="uq_flag_pub_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[str] = mapped_column(String(64), index=True)
    statistic: Mapped[str] = mapped_column(String(32))  # loglik/favouritism/selective/two_stage
    p_value: Mapped[float] = mapped_column(Float)
    # votes, the log-likelihood test and the strongest favouritism tests (contender ids)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VoterDecision(Base):
    """An operator's decision on a voter: ``clear`` (count the votes) or ``confirm`` (exclude).

    The latest row per voter is in force; earlier rows stay as the record.
    """

    __tablename__ = "voter_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    voter_id: Mapped[str] = mapped_column(String(64), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PublicationFilter(Base):
    """How many votes and voters one filter left out of one publication's default board."""

    __tablename__ = "publication_filter"
    __table_args__ = (UniqueConstraint("publication_id", "name", name="uq_filter_pub_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    votes_removed: Mapped[int] = mapped_column(Integer)
    voters_removed: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class GateResult(Base):
    """One voter gate's verdict on one vote: ``passed``, ``failed`` or ``unavailable``.

    A vote is never dropped by a gate: a failed or unavailable gate is recorded here and the
    vote kept (the publish job may leave it out of the default board and says so).
    """

    __tablename__ = "gate_result"
    __table_args__ = (UniqueConstraint("battle_id", "gate", name="uq_gate_battle_gate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("battle.id", ondelete="CASCADE"),
                                           index=True)
    gate: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class GateHourly(Base):
    """Gate verdicts per hour (UTC), counted when votes land: the pass-rate history."""

    __tablename__ = "gate_hourly"
    __table_args__ = (UniqueConstraint("hour", "gate", name="uq_gate_hour_gate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(index=True)
    gate: Mapped[str] = mapped_column(String(32))
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    unavailable: Mapped[int] = mapped_column(Integer, default=0)


class VoterAccount(Base):
    """A signed-in account linked to a pseudonym, by keyed hash only (no raw account id)."""

    __tablename__ = "voter_account"

    voter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    account_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
