"""One contender's public page: its standing in every view, history, opponents and facts.

Only public contenders have a page, and only public opponents are named. Battle counts and
win rates are those of the battles the latest publication counted (eligible, voted by its
data cutoff), so the page agrees with the leaderboard it links from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from arena.leaderboard.serving import HISTORY_LIMIT, ordered_views, slug
from arena.models import Battle, Contender, LeaderboardSnapshot, Publication, SnapshotEntry, Vote


@dataclass
class Opponent:
    """Head-to-head record against one public opponent (ties include "both bad")."""

    name: str
    slug: str
    wins: int = 0
    losses: int = 0
    ties: int = 0
    predicted: float | None = None  # overall view's predicted win rate

    @property
    def battles(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def win_rate(self) -> float:
        """Observed score: wins plus half the ties, per battle."""
        return (self.wins + self.ties / 2) / self.battles if self.battles else 0.0


@dataclass
class Profile:
    """Everything the contender page shows."""

    contender: Contender
    publication: Publication | None
    standings: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, list[tuple[datetime, float, float, float]]] = field(default_factory=dict)
    opponents: list[Opponent] = field(default_factory=list)


def find_contender(db: Session, ident: str) -> Contender | None:
    """A public contender by id or by the slug of its name."""
    if ident.isdigit():
        row = db.get(Contender, int(ident))
        return row if row is not None and row.is_public else None
    for row in db.scalars(select(Contender).where(Contender.is_public.is_(True))
                          .order_by(Contender.id)):
        if slug(row.name) == ident.lower():
            return row
    return None


def _standings(db: Session, contender: Contender,
               publication: Publication) -> list[dict[str, Any]]:
    views = ordered_views(publication.snapshots)
    entries = {e.snapshot_id: e for e in db.scalars(select(SnapshotEntry).where(
        SnapshotEntry.snapshot_id.in_([v.id for v in views]),
        SnapshotEntry.contender_id == contender.id, SnapshotEntry.public.is_(True)))}
    out = []
    for v in views:
        e = entries.get(v.id)
        if e is None:
            continue
        outside = ((v.extra or {}).get("ranking") or {}).get("not_comparable", [])
        out.append({"view": v.view, "title": v.title, "rank": e.rank, "rating": e.rating,
                    "ci_low": e.ci_low, "ci_high": e.ci_high, "votes": e.votes,
                    "rank_low": e.rank_low, "rank_high": e.rank_high,
                    "status": "not_comparable" if contender.id in outside else (
                        "provisional" if e.provisional else "ranked")})
    return out


def _history(db: Session, contender: Contender) -> dict[str, list[tuple[Any, float, float,
                                                                          float]]]:
    pubs = db.scalars(select(Publication.id).order_by(Publication.id.desc())
                      .limit(HISTORY_LIMIT)).all()
    query = (select(Publication.created_at, LeaderboardSnapshot.title, SnapshotEntry.rating,
                    SnapshotEntry.ci_low, SnapshotEntry.ci_high)
             .join(LeaderboardSnapshot, LeaderboardSnapshot.publication_id == Publication.id)
             .join(SnapshotEntry, SnapshotEntry.snapshot_id == LeaderboardSnapshot.id)
             .where(Publication.id.in_(pubs), SnapshotEntry.contender_id == contender.id,
                    SnapshotEntry.public.is_(True))
             .order_by(Publication.created_at, Publication.id))
    series: dict[str, list[tuple[Any, float, float, float]]] = {}
    for at, title, rating, lo, hi in db.execute(query):
        series.setdefault(title, []).append((at, rating, lo, hi))
    return series


def _opponents(db: Session, contender: Contender, publication: Publication) -> list[Opponent]:
    cid = contender.id
    query = (select(Battle.contender_a_id, Battle.contender_b_id, Vote.winner, func.count())
             .join(Vote, Vote.battle_id == Battle.id)
             .where(Battle.state == "voted", Battle.anony.is_(True), Battle.flagged.is_(False),
                    Vote.created_at <= publication.data_cutoff,
                    or_(Battle.contender_a_id == cid, Battle.contender_b_id == cid))
             .group_by(Battle.contender_a_id, Battle.contender_b_id, Vote.winner))
    public = {row.id: row.name for row in db.scalars(
        select(Contender).where(Contender.is_public.is_(True)))}
    table: dict[int, Opponent] = {}
    for a, b, winner, n in db.execute(query):
        other = b if a == cid else a
        if other == cid or other not in public:
            continue
        opp = table.get(other)
        if opp is None:
            opp = table[other] = Opponent(public[other], slug(public[other]))
        mine = "model_a" if a == cid else "model_b"
        if winner == mine:
            opp.wins += n
        elif winner in ("model_a", "model_b"):
            opp.losses += n
        else:
            opp.ties += n
    overall = next((s for s in publication.snapshots if s.view == "overall"), None)
    if overall is not None:
        extra = overall.extra or {}
        ids = list(extra.get("contender_ids", []))
        win = extra.get("win_matrix", [])
        if cid in ids and win:
            i = ids.index(cid)
            for j, other in enumerate(ids):
                if other in table:
                    table[other].predicted = float(win[i][j])
    return sorted(table.values(), key=lambda o: (-o.battles, o.name))


def contender_profile(db: Session, contender: Contender,
                      publication_id: int | None) -> Profile:
    """The contender page's data as of the latest publication (``None``: nothing yet)."""
    publication = db.get(Publication, publication_id) if publication_id is not None else None
    profile = Profile(contender=contender, publication=publication)
    if publication is None:
        return profile
    profile.standings = _standings(db, contender, publication)
    profile.history = _history(db, contender)
    profile.opponents = _opponents(db, contender, publication)
    return profile
