"""Reading published snapshots for the page and the JSON API (no fitting, a few queries).

Everything here returns public contenders only: an entry whose contender was unreleased when the
snapshot was made (``public`` False), or is unreleased now, is left out of tables, matrices,
history and CSV, and its name is never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.integrity.disclosure import annotate_rows, board_integrity
from arena.leaderboard.data import VIEWS
from arena.models import Contender, LeaderboardSnapshot, Publication, SnapshotEntry

CONTENDER_FIELDS = ("rank", "rank_ub", "name", "organization", "license", "rating", "ci_low",
                    "ci_high", "votes", "provisional")
HISTORY_LIMIT = 30
_ORDER = {v.key: i for i, v in enumerate(VIEWS)}


@dataclass(frozen=True)
class Board:
    """One snapshot ready to render: its publication, rows and matrices (public only)."""

    publication: Publication
    snapshot: LeaderboardSnapshot
    views: list[LeaderboardSnapshot]
    rows: list[dict[str, Any]]
    matrix_names: list[str]
    win_matrix: list[list[float]]
    battle_counts: list[list[int]]
    components: list[list[str]]
    integrity: dict[str, Any] | None = None


def latest_publication(db: Session) -> Publication | None:
    return db.scalars(select(Publication).order_by(Publication.id.desc()).limit(1)).first()


def ordered_views(snapshots: Sequence[LeaderboardSnapshot]) -> list[LeaderboardSnapshot]:
    """Fixed views in their usual order, then language views alphabetically."""
    return sorted(snapshots, key=lambda s: (_ORDER.get(s.view, len(_ORDER)), s.view))


def _public_rows(db: Session, snapshot: LeaderboardSnapshot) -> list[dict[str, Any]]:
    query = (select(SnapshotEntry, Contender.name, Contender.organization, Contender.license)
             .join(Contender, Contender.id == SnapshotEntry.contender_id)
             .where(SnapshotEntry.snapshot_id == snapshot.id, SnapshotEntry.public.is_(True),
                    Contender.is_public.is_(True))
             .order_by(SnapshotEntry.rank, SnapshotEntry.rating.desc(), Contender.name))
    rows = []
    for entry, name, organization, license_ in db.execute(query):
        rows.append({
            "contender_id": entry.contender_id, "rank": entry.rank, "rank_ub": entry.rank_ub,
            "name": name, "organization": organization, "license": license_,
            "rating": entry.rating, "ci_low": entry.ci_low, "ci_high": entry.ci_high,
            "votes": entry.votes, "provisional": entry.provisional,
            "rank_low": entry.rank_low, "rank_high": entry.rank_high})
    return rows


def load_board(db: Session, snapshot: LeaderboardSnapshot) -> Board:
    """Rows and matrices of ``snapshot``, restricted to contenders public now."""
    rows = _public_rows(db, snapshot)
    names = {r["contender_id"]: r["name"] for r in rows}
    extra = snapshot.extra or {}
    ids = list(extra.get("contender_ids", []))
    keep = [i for i, cid in enumerate(ids) if cid in names]
    win = extra.get("win_matrix", [])
    counts = extra.get("battle_counts", [])
    components = [[names[c] for c in comp if c in names] for comp in extra.get("components", [])]
    integrity = board_integrity(snapshot, set(names))
    annotate_rows(rows, integrity)
    views = ordered_views(db.scalars(select(LeaderboardSnapshot).where(
        LeaderboardSnapshot.publication_id == snapshot.publication_id)).all())
    return Board(
        publication=snapshot.publication, snapshot=snapshot, views=views, rows=rows,
        matrix_names=[names[ids[i]] for i in keep],
        win_matrix=[[win[i][j] for j in keep] for i in keep] if win else [],
        battle_counts=[[counts[i][j] for j in keep] for i in keep] if counts else [],
        components=[c for c in components if c], integrity=integrity)


def snapshot_of(db: Session, publication: Publication, view: str) -> LeaderboardSnapshot | None:
    return db.scalars(select(LeaderboardSnapshot).where(
        LeaderboardSnapshot.publication_id == publication.id,
        LeaderboardSnapshot.view == view)).first()


def rank_changes(db: Session, board: Board) -> dict[int, int]:
    """Per contender id: overall rank minus this view's rank (positive = better here)."""
    if board.snapshot.view == "overall":
        return {}
    overall = snapshot_of(db, board.publication, "overall")
    if overall is None:
        return {}
    before = {r["contender_id"]: r["rank"] for r in _public_rows(db, overall)}
    return {r["contender_id"]: before[r["contender_id"]] - r["rank"]
            for r in board.rows if r["contender_id"] in before}


def history(db: Session, view: str = "overall",
            limit: int = HISTORY_LIMIT) -> dict[str, list[tuple[Any, float, float, float]]]:
    """Ratings of public contenders across the latest ``limit`` publications of a view."""
    pubs = db.scalars(select(Publication.id).order_by(Publication.id.desc()).limit(limit)).all()
    if not pubs:
        return {}
    query = (select(Publication.created_at, Contender.name, SnapshotEntry.rating,
                    SnapshotEntry.ci_low, SnapshotEntry.ci_high)
             .join(LeaderboardSnapshot, LeaderboardSnapshot.publication_id == Publication.id)
             .join(SnapshotEntry, SnapshotEntry.snapshot_id == LeaderboardSnapshot.id)
             .join(Contender, Contender.id == SnapshotEntry.contender_id)
             .where(Publication.id.in_(pubs), LeaderboardSnapshot.view == view,
                    SnapshotEntry.public.is_(True), Contender.is_public.is_(True))
             .order_by(Publication.created_at, Publication.id))
    series: dict[str, list[tuple[Any, float, float, float]]] = {}
    for at, name, rating, lo, hi in db.execute(query):
        series.setdefault(name, []).append((at, rating, lo, hi))
    return series


def contender_json(row: dict[str, Any]) -> dict[str, Any]:
    """The public contender object of the API (fixed field order)."""
    out = {key: row[key] for key in CONTENDER_FIELDS}
    out["rank_low"], out["rank_high"] = row["rank_low"], row["rank_high"]
    # fragility: votes whose removal would swap this contender with the next one down
    for key in ("swap_votes", "swap_share", "shares_rank", "shared_rank"):
        if key in row:
            out[key] = row[key]
    return out


def snapshot_meta(snapshot: LeaderboardSnapshot) -> dict[str, Any]:
    pub = snapshot.publication
    return {
        "id": snapshot.id, "publication_id": pub.id, "view": snapshot.view,
        "title": snapshot.title, "description": (snapshot.extra or {}).get("description", ""),
        "published_at": pub.created_at.isoformat(), "data_cutoff": pub.data_cutoff.isoformat(),
        "n_battles": snapshot.n_battles, "publication_battles": pub.n_battles,
        "battles_hash": pub.battles_hash, "code_version": pub.code_version,
    }


def board_json(board: Board, url_for_view: Any) -> dict[str, Any]:
    """The JSON document of one snapshot (``url_for_view(view_key)`` links the other views)."""
    snap = board.snapshot
    return {
        "snapshot": snapshot_meta(snap),
        "views": [{"view": v.view, "title": v.title, "snapshot_id": v.id,
                   "url": url_for_view(v.view)} for v in board.views],
        "method": snap.method,
        "converged": snap.converged,
        "gradient_norm": snap.gradient_norm,
        "style": snap.style,
        "contenders": [contender_json(r) for r in board.rows],
        "components": board.components,
        "win_matrix": {"names": board.matrix_names, "p": board.win_matrix},
        "battle_counts": {"names": board.matrix_names, "counts": board.battle_counts},
        "integrity": board.integrity,
    }
