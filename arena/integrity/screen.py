"""Publish-time glue: which votes the default board leaves out, and the record of why.

Shadow exclusion: a flagged voter's votes stay in the database (and in data releases); only the
default board is fitted without them. Every publication stores, per filter, how many votes and
voters it removed (:class:`~arena.integrity.models.PublicationFilter`) and every flag with its
evidence (:class:`~arena.integrity.models.VoterFlag`). An operator's latest decision on a
voter wins over the test: ``clear`` keeps the votes in, ``confirm`` keeps them out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.integrity import detection, stats
from arena.integrity.models import GateResult, PublicationFilter, VoterDecision, VoterFlag
from arena.models import BattleFact, Publication

DECISIONS = ("clear", "confirm")
_OUTCOME = {"model_a": stats.A_WINS, "model_b": stats.B_WINS, "tie": stats.TIE,
            "both_bad": stats.TIE}


@dataclass(frozen=True)
class IntegrityOptions:
    """Publish-time integrity settings (from the ``INTEGRITY_*`` config keys)."""

    screen: bool = True
    alpha: float = 0.01
    correction: str = "bh"
    min_votes: int = 5
    min_pair: int = 3
    fragility_top: int = 20
    share_rank: float = 0.001
    gate_alert: float = 0.2

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IntegrityOptions:
        return cls(screen=bool(config["INTEGRITY_SCREEN"]),
                   alpha=float(config["INTEGRITY_ALPHA"]),
                   correction=str(config["INTEGRITY_CORRECTION"]),
                   min_votes=int(config["INTEGRITY_MIN_VOTES"]),
                   min_pair=int(config["INTEGRITY_MIN_PAIR"]),
                   fragility_top=int(config["INTEGRITY_FRAGILITY_TOP"]),
                   share_rank=float(config["INTEGRITY_SHARE_RANK"]),
                   gate_alert=float(config["GATE_ALERT_CHANGE"]))


@dataclass
class FilterCount:
    name: str
    votes: int
    voters: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Screening:
    """Outcome of :func:`screen` over the eligible battles, in their order."""

    keep: np.ndarray  # bool per battle: counted on the default board
    filters: list[FilterCount]
    flags: dict[str, dict[str, Any]]  # voter id → evidence (contenders by id)
    summary: dict[str, Any]


def decisions_in_force(db: Session) -> dict[str, str]:
    """The latest operator decision per voter (``clear`` / ``confirm``)."""
    rows = db.execute(select(VoterDecision.voter_id, VoterDecision.decision)
                      .order_by(VoterDecision.created_at, VoterDecision.id)).all()
    return {voter: decision for voter, decision in rows}


def decisions_digest(decisions: Mapping[str, str]) -> str:
    """Part of a publication's battles hash: a new decision makes the next publish refit."""
    return hashlib.sha256(json.dumps(sorted(decisions.items())).encode()).hexdigest()


def failed_gate_battles(db: Session) -> np.ndarray:
    """Battles whose vote failed a gate (recorded, kept, left out of the default board).

    ``unavailable`` (the gate could not answer: provider down, timeout) is not a failure.
    """
    return np.fromiter(db.scalars(select(GateResult.battle_id).distinct().where(
        GateResult.status == "failed")), dtype=np.int64)


def gate_state(db: Session) -> list[int]:
    """Count and last id of gate failures: part of the publication digest."""
    count, last = db.execute(select(func.count(GateResult.id), func.max(GateResult.id))
                             .where(GateResult.status == "failed")).one()
    return [int(count or 0), int(last or 0)]


def voters_of(db: Session, battle_ids: np.ndarray) -> np.ndarray:
    """Voter pseudonym of each battle (``None`` where unknown), from the battle facts."""
    rows = db.execute(select(BattleFact.battle_id, BattleFact.voter_id)
                      .where(BattleFact.anony.is_(True), BattleFact.flagged.is_(False))
                      .order_by(BattleFact.battle_id)).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    voters = np.array([r[1] for r in rows] + [None], dtype=object)
    pos = np.searchsorted(ids, battle_ids)
    found = (pos < ids.size) & (ids[np.minimum(pos, max(ids.size - 1, 0))] == battle_ids) \
        if ids.size else np.zeros(len(battle_ids), dtype=bool)
    return np.asarray(voters[np.where(found, pos, ids.size)])


def screen(db: Session, battle_ids: Sequence[int] | np.ndarray,
           contender_a: Sequence[int] | np.ndarray, contender_b: Sequence[int] | np.ndarray,
           winners: Sequence[str] | np.ndarray, voters: Sequence[str | None] | np.ndarray,
           options: IntegrityOptions, *, reg: float,
           arena: np.ndarray | None = None) -> Screening:
    """Run the per-voter tests and apply decisions and gate failures (never commits).

    The battles are in vote-time order; ``arena`` (an arena index per battle, None: one
    arena) keeps the selective-voting test's reference shares inside each arena.
    """
    n = len(battle_ids)
    decisions = decisions_in_force(db)
    keep = np.ones(n, dtype=bool)
    filters: list[FilterCount] = []
    voter_arr = np.array([v or "" for v in voters], dtype=object)
    if n == 0:
        voter_arr = np.zeros(0, dtype=object)

    confirmed = {v for v, d in decisions.items() if d == "confirm"}
    out = np.array([v in confirmed for v in voter_arr], dtype=bool)
    filters.append(FilterCount("confirmed_voters", int(out.sum()),
                               len(set(voter_arr[out].tolist()))))
    keep &= ~out

    flags: dict[str, dict[str, Any]] = {}
    summary: dict[str, Any] = {"tested": False}
    flagged_out = np.zeros(n, dtype=bool)
    named_count = sum(1 for v in voters if v)
    if options.screen and named_count == 0:
        summary = {"tested": False, "reason": "no battle has a voter pseudonym"}
    elif options.screen:
        codes, vcode = np.unique(voter_arr, return_inverse=True)
        ids = np.unique(np.concatenate([np.asarray(contender_a), np.asarray(contender_b)]))
        a = np.searchsorted(ids, np.asarray(contender_a))
        b = np.searchsorted(ids, np.asarray(contender_b))
        outcome = np.array([_OUTCOME[w] for w in winners], dtype=np.int64)
        named = voter_arr != ""
        exclude = np.flatnonzero(np.isin(codes, sorted(confirmed)))
        # A tiny penalty keeps the null model finite when the voters' battles do not connect
        # every contender (the published fit may still be exact, reg = 0).
        det = detection.detect(a[named], b[named], outcome[named], vcode[named],
                           n_items=ids.size, n_voters=codes.size, alpha=options.alpha,
                           correction=options.correction, min_votes=options.min_votes,
                           min_pair=options.min_pair, reg=max(reg, 1e-6), exclude=exclude,
                           stratum=None if arena is None else np.asarray(arena)[named])
        for code in det.flagged.tolist():
            evidence = det.evidence[code]
            for fav in evidence["favouritism"]:
                fav["contender_id"] = int(ids[fav.pop("item")])
            if "selective" in evidence:
                evidence["selective"]["contender_id"] = int(
                    ids[evidence["selective"].pop("item")])
            for row in evidence.get("two_stage", {}).get("contenders", []):
                row["contender_id"] = int(ids[row.pop("item")])
            flags[str(codes[code])] = evidence
        cleared = {v for v in flags if decisions.get(v) == "clear"}
        removed = set(flags) - cleared - confirmed
        flagged_out = np.array([v in removed for v in voter_arr], dtype=bool) & keep
        summary = {"tested": True, "tests": det.n_tests, "rounds": det.rounds,
                   "flagged": len(flags), "cleared": len(cleared), **det.settings,
                   # stage 1 of the two-stage screen: contenders voted on unevenly
                   "uneven_contenders": {str(int(ids[c])): t for c, t in det.uneven.items()}}
    filters.append(FilterCount("flagged_voters", int(flagged_out.sum()),
                               len(set(voter_arr[flagged_out].tolist())),
                               {"flagged": len(flags),
                                "cleared_by_operator": summary.get("cleared", 0)}))
    keep &= ~flagged_out

    gate_out = np.isin(np.asarray(battle_ids, dtype=np.int64), failed_gate_battles(db)) & keep
    filters.append(FilterCount("failed_gate", int(gate_out.sum()),
                               len(set(voter_arr[gate_out].tolist()))))
    keep &= ~gate_out
    return Screening(keep=keep, filters=filters, flags=flags, summary=summary)


def record(db: Session, publication: Publication, screening: Screening) -> None:
    """Store the filters and flags of a publication (after it has an id; never commits)."""
    for f in screening.filters:
        db.add(PublicationFilter(publication_id=publication.id, name=f.name,
                                 votes_removed=f.votes, voters_removed=f.voters,
                                 detail=f.detail))
    for voter, evidence in screening.flags.items():
        db.add(VoterFlag(publication_id=publication.id, voter_id=voter,
                         statistic=evidence["statistic"], p_value=float(evidence["p"]),
                         evidence=evidence))


def filter_summary(screening: Screening) -> dict[str, dict[str, int]]:
    """``{filter: {"votes": n, "voters": n}}`` for publication settings and the JSON."""
    return {f.name: {"votes": f.votes, "voters": f.voters} for f in screening.filters}


def options_settings(options: IntegrityOptions, decisions: Mapping[str, str],
                     gates: list[int]) -> dict[str, Any]:
    """What of the integrity configuration and records a publication's digest depends on."""
    return {**asdict(options), "decisions": decisions_digest(decisions), "gate_failures": gates}
