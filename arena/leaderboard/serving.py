"""Reading published snapshots for the page and the JSON API (no fitting, a few queries).

Everything here returns public contenders only: an entry whose contender was unreleased when the
snapshot was made (``public`` False), or is unreleased now, is left out of tables, matrices,
history and CSV, and its name is never read.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.integrity.disclosure import annotate_rows, board_integrity
from arena.leaderboard import ranking
from arena.leaderboard.data import VIEWS
from arena.models import Contender, LeaderboardSnapshot, Publication, SnapshotEntry

CONTENDER_FIELDS = ("rank", "rank_ub", "name", "organization", "license", "rating", "ci_low",
                    "ci_high", "votes", "provisional")
#: Fields the JSON adds after :data:`CONTENDER_FIELDS` (CSV keeps the original columns).
EXTRA_FIELDS = ("rank_low", "rank_high", "status", "deprecated", "link")
HISTORY_LIMIT = 30
_ORDER = {v.key: i for i, v in enumerate(VIEWS)}
_SLUG = re.compile(r"[^a-z0-9.]+")


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
    #: Inverse-propensity-weighted observed win rates (None: the pair never met).
    observed_win_rate: list[list[float | None]] = field(default_factory=list)
    integrity: dict[str, Any] | None = None


def latest_publication(db: Session) -> Publication | None:
    return db.scalars(select(Publication).order_by(Publication.id.desc()).limit(1)).first()


def ordered_views(snapshots: Sequence[LeaderboardSnapshot]) -> list[LeaderboardSnapshot]:
    """Fixed views in their usual order, then language views alphabetically."""
    return sorted(snapshots, key=lambda s: (_ORDER.get(s.view, len(_ORDER)), s.view))


def slug(name: str) -> str:
    """URL form of a contender name (``GPT-4o mini`` → ``gpt-4o-mini``)."""
    return _SLUG.sub("-", name.lower()).strip("-") or "contender"


def _public_rows(db: Session, snapshot: LeaderboardSnapshot) -> list[dict[str, Any]]:
    query = (select(SnapshotEntry, Contender.name, Contender.organization, Contender.license,
                    Contender.link, Contender.active, Contender.base_url)
             .join(Contender, Contender.id == SnapshotEntry.contender_id)
             .where(SnapshotEntry.snapshot_id == snapshot.id, SnapshotEntry.public.is_(True),
                    Contender.is_public.is_(True))
             .order_by(SnapshotEntry.rank, SnapshotEntry.rating.desc(), Contender.name))
    rows = []
    for entry, name, organization, license_, link, active, base_url in db.execute(query):
        rows.append({
            "contender_id": entry.contender_id, "rank": entry.rank, "rank_ub": entry.rank_ub,
            "name": name, "organization": organization, "license": license_,
            "rating": entry.rating, "ci_low": entry.ci_low, "ci_high": entry.ci_high,
            "votes": entry.votes, "provisional": entry.provisional,
            "rank_low": entry.rank_low, "rank_high": entry.rank_high,
            # Deprecated: retired from the arena (an endpoint, now inactive). Imported
            # contenders never had an endpoint; they are not "retired", just not served here.
            "link": link or "", "deprecated": not active and bool(base_url),
            "slug": slug(name)})
    return ranking.order_rows(rows, snapshot.extra or {})


def load_board(db: Session, snapshot: LeaderboardSnapshot) -> Board:
    """Rows and matrices of ``snapshot``, restricted to contenders public now."""
    rows = _public_rows(db, snapshot)
    names = {r["contender_id"]: r["name"] for r in rows}
    extra = snapshot.extra or {}
    ids = list(extra.get("contender_ids", []))
    keep = [i for i, cid in enumerate(ids) if cid in names]
    win = extra.get("win_matrix", [])
    counts = extra.get("battle_counts", [])
    observed = extra.get("observed_win_rate", [])
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
        components=[c for c in components if c], integrity=integrity,
        observed_win_rate=[[observed[i][j] for j in keep] for i in keep] if observed else [])


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
    out = {key: row[key] for key in (*CONTENDER_FIELDS, *EXTRA_FIELDS)}
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
        "ranking": (snap.extra or {}).get("ranking"),
        "components": board.components,
        "win_matrix": {"names": board.matrix_names, "p": board.win_matrix},
        "battle_counts": {"names": board.matrix_names, "counts": board.battle_counts},
        "observed_win_rate": {"names": board.matrix_names, "p": board.observed_win_rate,
                              "weighting": "inverse propensity of the pair's draw"},
        "integrity": board.integrity,
    }


# --- serving stored bytes ----------------------------------------------------------------------
#
# A snapshot never changes once published; what a response shows of it changes only with the
# contenders' public fields (name, organisation, release status…). So the bytes of a response
# are a function of (snapshot id, contender fingerprint, format), computed once per process and
# kept here; the ETag is that key, so a conditional request is answered after one small query,
# before anything is loaded or decoded.

@dataclass(frozen=True)
class Current:
    """The latest publication's id, the id of its snapshot of one view, and the fingerprint."""

    publication_id: int | None
    snapshot_id: int | None
    fingerprint: str


_KEYS: dict[tuple[str, str], tuple[float, Current]] = {}


def current(db: Session, view: str, *, ttl_s: float = 0.0) -> Current:
    """One round trip: the latest publication, its snapshot of ``view`` and the contenders'
    fingerprint (every contender change bumps ``updated_at``; the count catches deletions).

    With ``ttl_s`` > 0 a found snapshot's answer is reused for that long in this process
    (keyed by database URL and view), so requests in between touch no database at all; a
    missing view is never remembered, so the first publication shows up at once.
    """
    bind = db.get_bind()
    slot = (str(getattr(bind, "url", id(bind))), view)
    now = time.monotonic()
    if ttl_s > 0:
        hit = _KEYS.get(slot)
        if hit is not None and hit[0] > now:
            return hit[1]
    found = _current(db, view)
    if ttl_s > 0 and found.snapshot_id is not None:
        _KEYS[slot] = (now + ttl_s, found)
    return found


def _current(db: Session, view: str) -> Current:
    latest = select(func.max(Publication.id)).scalar_subquery()
    snap = (select(LeaderboardSnapshot.id)
            .where(LeaderboardSnapshot.publication_id == latest,
                   LeaderboardSnapshot.view == view).limit(1).scalar_subquery())
    changed = select(func.max(Contender.updated_at)).scalar_subquery()
    count = select(func.count(Contender.id)).scalar_subquery()
    pub_id, snap_id, at, n = db.execute(select(latest, snap, changed, count)).one()
    return Current(pub_id, snap_id, f"{at}|{n}")


def fingerprint(db: Session) -> str:
    """The contenders' fingerprint alone (for responses keyed by a snapshot id)."""
    at, n = db.execute(select(func.max(Contender.updated_at), func.count(Contender.id))).one()
    return f"{at}|{n}"


def etag_for(*parts: object) -> str:
    """A short opaque entity tag for a cache key (stable across processes)."""
    raw = "\x1f".join(map(str, parts)).encode()
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


class BytesCache:
    """A small thread-safe LRU of rendered responses, per process."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> Any:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
        _KEYS.clear()


CACHE = BytesCache()


# --- page helpers ------------------------------------------------------------------------------

def top_matrices(board: Board, names: Sequence[str]) -> tuple[list[str], list[list[float]],
                                                             list[list[int]]]:
    """The win and count matrices restricted to ``names`` (in that order)."""
    index = {n: i for i, n in enumerate(board.matrix_names)}
    keep = [index[n] for n in names if n in index]
    win = [[board.win_matrix[i][j] for j in keep] for i in keep] if board.win_matrix else []
    counts = ([[board.battle_counts[i][j] for j in keep] for i in keep]
              if board.battle_counts else [])
    return [board.matrix_names[i] for i in keep], win, counts


def top_observed(board: Board, names: Sequence[str]) -> list[list[float | None]]:
    """The observed (inverse-propensity-weighted) win rates restricted to ``names``."""
    index = {n: i for i, n in enumerate(board.matrix_names)}
    keep = [index[n] for n in names if n in index]
    if not board.observed_win_rate:
        return []
    return [[board.observed_win_rate[i][j] for j in keep] for i in keep]


def view_group(snapshot: LeaderboardSnapshot) -> str:
    """Which switch a view sits in: "General", "Categories", "Languages" or "Arenas".

    Keys decide (``lang-<code>``, ``cat-<label>[-style]``, the fixed category views); a
    snapshot whose method names a category counts as one, so new kinds appear without edits;
    one whose method names a media arena (``image-overall`` …) sits under "Arenas".
    """
    key = snapshot.view
    if (snapshot.method or {}).get("arena", "text") != "text":
        return "Arenas"
    if key.startswith("lang-"):
        return "Languages"
    extra = snapshot.extra or {}
    if key.startswith("cat-") or (snapshot.method or {}).get("category") or \
            extra.get("category") is True:
        return "Categories"
    return "General"


def view_groups(
        views: Sequence[LeaderboardSnapshot]) -> list[tuple[str, list[LeaderboardSnapshot]]]:
    """Views grouped for the switch, groups in a fixed order, views in their usual order."""
    groups: dict[str, list[LeaderboardSnapshot]] = {"General": [], "Categories": [],
                                                    "Languages": [], "Arenas": []}
    for v in views:
        groups[view_group(v)].append(v)
    return [(name, items) for name, items in groups.items() if items]


@dataclass(frozen=True)
class CategoryRanks:
    """Each public contender's rank in every view of a publication, beside its overall rank."""

    views: list[LeaderboardSnapshot]
    ranks: dict[int, dict[str, tuple[int, str]]]  # contender id → view → (rank, status)


def category_ranks(db: Session, board: Board) -> CategoryRanks | None:
    """Ranks of the board's contenders in the publication's other views (None if no other)."""
    arena = (board.snapshot.method or {}).get("arena", "text")
    others = [v for v in board.views if v.view != board.snapshot.view
              and (v.method or {}).get("arena", "text") == arena]  # other arenas: no one
    if not others:
        return None
    ids = {r["contender_id"] for r in board.rows}
    query = (select(SnapshotEntry.snapshot_id, SnapshotEntry.contender_id, SnapshotEntry.rank,
                    SnapshotEntry.provisional)
             .where(SnapshotEntry.snapshot_id.in_([v.id for v in others]),
                    SnapshotEntry.public.is_(True)))
    by_id = {v.id: v for v in others}
    ranks: dict[int, dict[str, tuple[int, str]]] = {}
    for snap_id, cid, rank, provisional in db.execute(query):
        if cid not in ids:
            continue
        view = by_id[snap_id]
        outside = set(((view.extra or {}).get("ranking") or {}).get("not_comparable", []))
        status = "not_comparable" if cid in outside else (
            "provisional" if provisional else "ranked")
        ranks.setdefault(cid, {})[view.view] = (rank, status)
    return CategoryRanks(views=others, ranks=ranks)
