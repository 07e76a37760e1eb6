"""Per-battle facts: written with the vote, read back by publishing and releases as arrays.

``battle_fact`` (:class:`arena.models.BattleFact`) holds one narrow row per voted battle, with
everything a fit or a release needs apart from the texts. Jobs read it with one ordered query
into numpy arrays (:class:`Facts`), instead of walking ORM objects.

Who writes facts
    the vote, in its transaction (:func:`vote_fact_insert`, one ``INSERT … SELECT``, on
    PostgreSQL part of the vote's one statement);
    :func:`refresh_facts` for imports and for battles changed after their vote (a flag, a
    deletion request). :func:`sync_facts`, run by every publish and release cut, re-derives
    the facts of battles changed since the last sync (``battle.updated_at`` is indexed) and of
    voted battles newer than the newest fact (rows written without one), so a job never reads
    stale facts; when nothing changed it costs a few index lookups, at any size (every
    re-derivation that changes rows is logged in ``fact_change``, whose newest id joins the
    newest ``synced_at`` in a publication's "anything new?"). ``flask leaderboard facts
    rebuild`` re-derives everything (e.g. after rows were repaired by hand).

Flood groups
    ``prompt_key`` is a 63-bit hash of the battle's ``prompt_group`` (set at creation to the
    SHA-256 of the normalised first prompt; a labeller may later put near-duplicates in one
    group), else of its normalised first prompt; None when the battle has no prompt text
    (imports without texts, erased texts), which keeps weight 1.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import getitem
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Connection, bindparam, case, cast, delete, func, insert, select
from sqlalchemy.orm import Session, aliased

from arena.models import (
    WINNERS,
    Battle,
    BattleFact,
    BattleLabel,
    Contender,
    FactChange,
    Turn,
    Vote,
)

#: Facts of battles updated this long before the last sync are checked again: a transaction
#: that started earlier may commit after the sync with an older ``updated_at``.
SYNC_MARGIN = timedelta(minutes=10)
#: Rows per fetch when streaming facts; bounds the Python objects alive at once.
CHUNK = 100_000
_ID_CHUNK = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_WS = re.compile(r"\s+")
WINNER_CODE = {w: i for i, w in enumerate(WINNERS)}
NO_KEY = -1  # prompt_key of a battle without a prompt text


def normalise_prompt(text: str) -> str:
    """The form under which two prompts count as the same for flood weighting."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def prompt_group_of(prompt: str) -> str:
    """The default flood group of a battle: SHA-256 (hex) of its normalised first prompt."""
    return hashlib.sha256(normalise_prompt(prompt).encode()).hexdigest()


def group_key(group: str) -> int:
    """63 bits of a flood group's hash, as stored in ``battle_fact.prompt_key``."""
    return int(hashlib.sha256(group.encode()).hexdigest()[:16], 16) >> 1


def clean_features(raw: Any) -> dict[str, float]:
    """Finite, non-negative numeric features of a battle's ``features`` JSON (others dropped)."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value) and value >= 0:
            out[str(key)] = float(value)
    return out


def pack_features(raw: Any) -> tuple[str, bytes]:
    """``(feature_names, feature_values)`` columns of a battle's features."""
    clean = clean_features(raw)
    names = sorted(clean)
    return ",".join(names), np.array([clean[n] for n in names], dtype=">f8").tobytes()


def _key_of(prompt_group: str | None, first_prompt: str | None) -> int | None:
    if first_prompt is None:
        return None  # no text (never had one, or erased): weight 1, as before groups existed
    return group_key(prompt_group if prompt_group is not None else prompt_group_of(first_prompt))


def vote_fact_insert(only_if: Any = None) -> Any:
    """The ``INSERT … SELECT`` of a vote's fact (parameters: :func:`vote_fact_params`).

    Turn totals are computed in SQL, after the vote's UPDATE locked the battle, so no turn can
    be added under them. ``only_if`` (a boolean SQL expression) inserts nothing when false: the
    vote's single PostgreSQL statement passes "the state UPDATE moved a row"
    (:mod:`arena.voting`). Build it once: constructing a statement costs more than running it.
    """
    turns = func.count(Turn.id)

    def value(name: str, column: Any) -> Any:
        # Prefixed: in the vote's statement an UPDATE of battle would take a parameter named
        # like one of its columns (voter_id, language, ...) as a value to SET.
        return bindparam(f"fact_{name}", type_=column.type)

    source = (
        select(value("battle_id", BattleFact.battle_id), value("now", BattleFact.voted_at),
               value("a_id", BattleFact.contender_a_id), value("b_id", BattleFact.contender_b_id),
               value("winner", BattleFact.winner), value("voter_id", BattleFact.voter_id),
               turns, func.coalesce(func.sum(func.length(Turn.prompt)), 0),
               value("language", BattleFact.language),
               # no turn, no flood group (see _key_of)
               case((turns > 0, value("prompt_key", BattleFact.prompt_key)), else_=None),
               value("feature_names", BattleFact.feature_names),
               value("feature_values", BattleFact.feature_values),
               value("anony", BattleFact.anony), value("flagged", BattleFact.flagged),
               value("source", BattleFact.source), value("arena", BattleFact.arena),
               value("propensity", BattleFact.propensity), value("now", BattleFact.synced_at))
        .where(Turn.battle_id == bindparam("fact_battle_id")))
    if only_if is not None:
        # An aggregate without GROUP BY yields one row even over no turns; HAVING drops it.
        source = source.having(only_if)
    columns = ["battle_id", "voted_at", "contender_a_id", "contender_b_id", "winner", "voter_id",
               "turn_count", "prompt_chars", "language", "prompt_key", "feature_names",
               "feature_values", "anony", "flagged", "source", "arena", "propensity",
               "synced_at"]
    return insert(BattleFact).from_select(columns, source)


#: The fact of a vote, on its own (SQLite; PostgreSQL folds it into the vote's statement).
INSERT_VOTE_FACT = vote_fact_insert()


def vote_fact_params(db: Session | Connection, battle: Any, *, winner: str, voter_id: str | None,
                     now: datetime) -> dict[str, Any]:
    """The parameters of :func:`vote_fact_insert` for a battle being voted now.

    ``battle`` is a :class:`~arena.models.Battle` or a
    :class:`~arena.battles.lifecycle.VoteTarget` (the columns read with the vote).
    """
    names, values = pack_features(battle.features)
    group = battle.prompt_group
    if group is None:  # a battle created before groups were set at creation
        first = db.scalar(select(Turn.prompt).where(Turn.battle_id == battle.id)
                          .order_by(Turn.position).limit(1))
        group = None if first is None else prompt_group_of(first)
    params = {
        "battle_id": battle.id, "now": now, "a_id": battle.contender_a_id,
        "b_id": battle.contender_b_id, "winner": winner,
        "voter_id": voter_id if voter_id is not None else battle.voter_id,
        "language": battle.language, "prompt_key": None if group is None else group_key(group),
        "feature_names": names, "feature_values": values, "anony": bool(battle.anony),
        "flagged": bool(battle.flagged), "source": battle.source,
        "arena": battle.arena or "text", "propensity": battle.propensity}
    return {f"fact_{name}": value for name, value in params.items()}


_FACT_COLUMNS = ("voted_at", "contender_a_id", "contender_b_id", "winner", "voter_id",
                 "turn_count", "prompt_chars", "language", "prompt_key", "feature_names",
                 "feature_values", "anony", "flagged", "source", "arena", "propensity")


def _source_rows(db: Session, battle_ids: Sequence[int]) -> Iterator[Sequence[Any]]:
    """Source columns of the voted ones among ``battle_ids``."""
    for start in range(0, len(battle_ids), _ID_CHUNK):
        chunk = battle_ids[start:start + _ID_CHUNK]
        stats = (select(Turn.battle_id.label("battle_id"), func.count(Turn.id).label("turns"),
                        func.coalesce(func.sum(func.length(Turn.prompt)), 0).label("chars"),
                        func.min(Turn.position).label("first"))
                 .where(Turn.battle_id.in_(chunk)).group_by(Turn.battle_id).subquery())
        first = aliased(Turn)
        query = (
            select(Battle.id, Vote.created_at, Battle.contender_a_id, Battle.contender_b_id,
                   Vote.winner, func.coalesce(Vote.voter_id, Battle.voter_id), stats.c.turns,
                   stats.c.chars, first.prompt, Battle.prompt_group, Battle.language,
                   Battle.features, Battle.anony, Battle.flagged, Battle.source, Battle.arena,
                   Battle.propensity)
            .join(Vote, Vote.battle_id == Battle.id)
            .outerjoin(stats, stats.c.battle_id == Battle.id)
            .outerjoin(first, (first.battle_id == Battle.id) & (first.position == stats.c.first))
            .where(Battle.id.in_(chunk), Battle.state == "voted"))
        yield from db.execute(query)


def _derive(row: Sequence[Any]) -> dict[str, Any]:
    names, values = pack_features(row[11])
    return {"battle_id": row[0], "voted_at": row[1], "contender_a_id": row[2],
            "contender_b_id": row[3], "winner": row[4], "voter_id": row[5],
            "turn_count": int(row[6] or 0), "prompt_chars": int(row[7] or 0),
            "language": row[10], "prompt_key": _key_of(row[9], row[8]),
            "feature_names": names, "feature_values": values, "anony": bool(row[12]),
            "flagged": bool(row[13]), "source": row[14], "arena": row[15] or "text",
            "propensity": row[16]}


def refresh_facts(db: Session, battle_ids: Iterable[int], *, now: datetime) -> int:
    """Re-derive the facts of these battles; returns how many rows changed.

    A voted battle gets its fact (rewritten only if something differs, so ``synced_at`` marks
    real changes); any other battle loses one it had.
    """
    ids = sorted(set(battle_ids))
    changed = 0
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start:start + _ID_CHUNK]
        fresh = {r["battle_id"]: r for r in map(_derive, _source_rows(db, chunk))}
        stored = {row[0]: tuple(row[1:]) for row in db.execute(
            select(BattleFact.battle_id, *(getattr(BattleFact, c) for c in _FACT_COLUMNS))
            .where(BattleFact.battle_id.in_(chunk)))}
        stale = [bid for bid in stored if bid not in fresh
                 or tuple(fresh[bid][c] for c in _FACT_COLUMNS) != _comparable(stored[bid])]
        new = [fresh[bid] for bid in fresh if bid not in stored or bid in stale]
        if stale:
            db.execute(delete(BattleFact).where(BattleFact.battle_id.in_(stale)))
        if new:
            db.execute(insert(BattleFact), [{**r, "synced_at": now} for r in new])
        changed += len(set(stale) | {r["battle_id"] for r in new})
    if changed:
        db.execute(insert(FactChange).values(at=now, changed=changed))
    return changed


def _comparable(stored: tuple[Any, ...]) -> tuple[Any, ...]:
    # LargeBinary comes back as memoryview/bytes depending on the driver.
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in stored)


def _newest(column: Any) -> Any:
    # One max() per subquery: SQLite seeks the index only for a lone min()/max().
    return select(func.max(column)).scalar_subquery()


@dataclass(frozen=True)
class SyncReport:
    changed: int  # fact rows written or removed
    labelled: int = 0  # voted battles given their labels (arena.categories.store.label_voted)


def sync_facts(db: Session, *, now: datetime | None = None) -> SyncReport:
    """Bring ``battle_fact`` up to date with the battles, and label the voted battles that
    await their labels (never commits).

    Index lookups only, whatever the size: the battles changed since the newest fact's
    ``synced_at`` (less :data:`SYNC_MARGIN`; every state change moves ``battle.updated_at``) and
    voted battles newer than the newest fact (rows written without one). Only when the table
    is empty (the first sync) are all voted battles checked; ``flask leaderboard facts
    rebuild`` re-derives everything after a repair by hand.
    """
    from arena.categories.store import label_voted  # here: categories imports this module

    now = now or datetime.now(UTC)
    hwm, top = db.execute(select(_newest(BattleFact.synced_at),
                                 _newest(BattleFact.battle_id))).one()
    if hwm is None:
        missing = db.scalars(
            select(Battle.id).where(Battle.state == "voted",
                                    ~select(BattleFact.battle_id)
                                    .where(BattleFact.battle_id == Battle.id).exists()))
        changed = refresh_facts(db, list(missing), now=now)
    else:
        tail = db.scalars(select(Battle.id).where(Battle.id > top, Battle.state == "voted"))
        recent = db.scalars(select(Battle.id).where(Battle.updated_at > hwm - SYNC_MARGIN))
        changed = refresh_facts(db, [*tail, *recent], now=now)
    # Last: it moves synced_at of the facts it labels, which must not move the hwm above.
    labelled = label_voted(db, now=now)
    return SyncReport(changed=changed, labelled=labelled)


def fact_state(db: Session, *, cutoff: datetime) -> dict[str, Any]:
    """What decides whether a publication at ``cutoff`` would see new data: index lookups.

    A vote adds its fact with the newest ``synced_at`` (and usually the newest battle id); every
    other change of the facts (:func:`refresh_facts`) appends a :class:`FactChange`. Only a
    publication cut off before the newest vote counts its facts.
    """
    newest, synced, top, change, changes = db.execute(select(
        _newest(BattleFact.voted_at), _newest(BattleFact.synced_at),
        _newest(BattleFact.battle_id), _newest(FactChange.id),
        # a small log (one row per sync that changed facts); its count also moves when an
        # earlier id commits after a later one
        select(func.count()).select_from(FactChange).scalar_subquery())).one()
    state: dict[str, Any] = {"synced_at": None if synced is None else synced.isoformat(),
                             "top": top, "change": [change, changes]}
    if newest is not None and newest > cutoff:
        state["facts"] = int(db.scalar(select(func.count()).select_from(BattleFact)
                                       .where(BattleFact.voted_at <= cutoff)) or 0)
    return state


def rebuild_facts(db: Session, *, now: datetime | None = None) -> int:
    """Re-derive the fact of every battle (e.g. after a manual repair); returns rows changed."""
    now = now or datetime.now(UTC)
    ids = list(db.scalars(select(Battle.id).where(Battle.state == "voted")))
    orphans = db.scalars(select(BattleFact.battle_id).join(Battle).where(Battle.state != "voted"))
    return refresh_facts(db, [*ids, *orphans], now=now)


@dataclass
class Facts:
    """Eligible battles as columns, ordered by ``(voted_at, battle_id)``.

    ``winner`` holds indices into :data:`arena.models.WINNERS`, ``language`` indices into
    ``languages``, ``features`` one float64 column per feature key (NaN where a battle has
    none). ``contenders`` maps contender id to ``(name, is_public)``.
    """

    battle_id: np.ndarray
    voted_us: np.ndarray  # vote time, microseconds since the Unix epoch
    a_id: np.ndarray
    b_id: np.ndarray
    winner: np.ndarray
    weight: np.ndarray
    turn_count: np.ndarray
    prompt_chars: np.ndarray
    language: np.ndarray
    languages: list[str | None]
    features: dict[str, np.ndarray]
    contenders: dict[int, tuple[str, bool]]
    voter_id: np.ndarray | None = None
    source: np.ndarray | None = None
    public_id: np.ndarray | None = None  # with_voters only (releases, the list form)
    created_us: np.ndarray | None = None
    #: One boolean column per classifier label (``coding``, ``language:de``, …).
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    category_version: np.ndarray | None = None  # with_voters only (releases)
    #: Probability with which each battle's ordered pair was drawn (NaN: not logged).
    propensity: np.ndarray | None = None
    #: Each battle's arena (modality) as an index into ``arenas``; None: every battle is text.
    arena: np.ndarray | None = None
    arenas: list[str] = field(default_factory=lambda: ["text"])
    _names: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.battle_id.shape[0])

    def take(self, mask: np.ndarray, *, features: Sequence[str] | None = None,
             labels: bool = True) -> Facts:
        """The battles where ``mask`` holds (a boolean array or indices), same order.

        ``features``: only these feature columns are copied (a fit needs its view's only);
        ``labels=False`` leaves the label columns out.
        """
        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[mask]
        keys = self.features if features is None else [k for k in features
                                                        if k in self.features]
        return Facts(self.battle_id[mask], self.voted_us[mask], self.a_id[mask],
                     self.b_id[mask], self.winner[mask], self.weight[mask],
                     self.turn_count[mask], self.prompt_chars[mask], self.language[mask],
                     self.languages, {k: self.features[k][mask] for k in keys},
                     self.contenders, pick(self.voter_id), pick(self.source),
                     pick(self.public_id), pick(self.created_us),
                     {k: v[mask] for k, v in self.labels.items()} if labels else {},
                     pick(self.category_version), pick(self.propensity),
                     arena=pick(self.arena), arenas=self.arenas)

    def label_mask(self, label: str) -> np.ndarray:
        """Battles the prompt classifier gave ``label``."""
        found = self.labels.get(label)
        return np.zeros(len(self), dtype=bool) if found is None else found

    def present_labels(self, among: np.ndarray | None = None) -> list[str]:
        """Labels some battle carries (among the ``among`` mask when given)."""
        return sorted(k for k, v in self.labels.items()
                      if (v.any() if among is None else bool(np.any(v & among))))

    def labels_of(self, i: int) -> frozenset[str]:
        return frozenset(k for k, v in self.labels.items() if v[i])

    def language_mask(self, code: str) -> np.ndarray:
        if code not in self.languages:
            return np.zeros(len(self), dtype=bool)
        return self.language == self.languages.index(code)

    def arena_mask(self, name: str) -> np.ndarray:
        """Battles of the arena ``name`` (``text``, ``image``, …)."""
        if self.arena is None:
            return np.full(len(self), name == "text", dtype=bool)
        if name not in self.arenas:
            return np.zeros(len(self), dtype=bool)
        return self.arena == self.arenas.index(name)

    def present_arenas(self) -> list[str]:
        if self.arena is None:
            return ["text"] if len(self) else []
        return sorted(self.arenas[int(i)] for i in np.unique(self.arena))

    def present_languages(self, among: np.ndarray | None = None) -> list[str]:
        """Languages of some battle (among the ``among`` mask when given)."""
        used = np.unique(self.language if among is None else self.language[among])
        return sorted(lang for i in used if (lang := self.languages[int(i)]) is not None)

    def names(self, side: str) -> np.ndarray:
        """Contender names of side ``a`` or ``b`` as an object array (cached)."""
        if side not in self._names:
            ids = self.a_id if side == "a" else self.b_id
            uniq, inverse = np.unique(ids, return_inverse=True)
            table = np.array([self.contenders[int(c)][0] for c in uniq], dtype=object)
            self._names[side] = table[inverse] if len(uniq) else np.array([], dtype=object)
        return self._names[side]

    def public(self, side: str) -> np.ndarray:
        ids = self.a_id if side == "a" else self.b_id
        uniq, inverse = np.unique(ids, return_inverse=True)
        flags = np.array([self.contenders[int(c)][1] for c in uniq], dtype=bool)
        return flags[inverse] if len(uniq) else np.array([], dtype=bool)

    def winner_labels(self) -> np.ndarray:
        return np.array(WINNERS, dtype=object)[self.winner]

    def feature(self, key: str) -> np.ndarray:
        col = self.features.get(key)
        return np.full(len(self), np.nan) if col is None else col


def flood_weights_by_key(keys: np.ndarray, k: int) -> np.ndarray:
    """``min(1, k / count)`` of each battle's flood group (``NO_KEY``: weight 1)."""
    weights = np.ones(keys.shape[0])
    has = keys != NO_KEY
    if has.any():
        _, inverse, counts = np.unique(keys[has], return_inverse=True, return_counts=True)
        weights[has] = np.minimum(1.0, k / counts[inverse].astype(np.float64))
    return weights


class _Columns:
    """Growing per-chunk column pieces, concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}
        self.feature_parts: list[tuple[int, dict[str, np.ndarray]]] = []
        self.codes: dict[str, dict[Any, int]] = {"language": {}}
        self.n = 0

    def add(self, name: str, values: np.ndarray) -> None:
        self.parts.setdefault(name, []).append(values)

    def col(self, name: str, dtype: Any) -> np.ndarray:
        parts = self.parts.get(name)
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def load_facts(db: Session, *, since: datetime | None = None, until: datetime | None = None,
               cutoff: datetime | None = None, flood_k: int, with_voters: bool = False,
               chunk: int = CHUNK, copy: bool | None = None) -> Facts:
    """Eligible battles (anonymous, not flagged) in ``[since, until)`` and ``<= cutoff``.

    One query, streamed in chunks of ``chunk`` rows into arrays; flood weights are computed
    over the selected set. On PostgreSQL (without ``with_voters``) the rows come as one binary
    ``COPY`` decoded in blocks with numpy (:func:`_copy_columns`); ``copy=False`` reads them as
    rows instead (the other databases, and the reference the tests compare the two with).
    """
    conn = db.connection()
    query = _facts_query(since, until, cutoff, with_voters,
                         epoch=conn.dialect.name == "postgresql")
    if copy is None:
        copy = conn.dialect.name == "postgresql" and not with_voters
    if copy:
        cols = _copy_columns(conn, since, until, cutoff, chunk)
    else:
        cols = _row_columns(conn, query, with_voters, chunk)
    contenders = {cid: (name, bool(public)) for cid, name, public in db.execute(
        select(Contender.id, Contender.name, Contender.is_public))}
    battle_ids = cols["battle_id"]
    labels = _label_columns(db, query, battle_ids)
    versions = None
    if with_voters:
        versions = _column_of(db, query, battle_ids, Battle.category_version)
    return Facts(
        battle_id=battle_ids, voted_us=cols["voted_us"], a_id=cols["a"], b_id=cols["b"],
        winner=cols["winner"], weight=flood_weights_by_key(cols["key"], flood_k),
        turn_count=cols["turns"], prompt_chars=cols["chars"], language=cols["language"],
        languages=cols["languages"], features=cols["features"], contenders=contenders,
        voter_id=cols.get("voter"), source=cols.get("source"), public_id=cols.get("public_id"),
        created_us=cols.get("created_us"), labels=labels, category_version=versions,
        propensity=cols["propensity"], arena=cols["arena"],
        arenas=cols["arenas"] or ["text"])


def _facts_query(since: datetime | None, until: datetime | None, cutoff: datetime | None,
                 with_voters: bool, *, epoch: bool) -> Any:
    # PostgreSQL hands over vote times as integer microseconds: no datetime object per row.
    voted: Any = (cast(func.extract("epoch", BattleFact.voted_at) * 1_000_000, BigInteger)
                  if epoch else BattleFact.voted_at)
    cols: list[Any] = [BattleFact.battle_id, voted, BattleFact.contender_a_id,
                       BattleFact.contender_b_id, BattleFact.winner, BattleFact.turn_count,
                       BattleFact.prompt_chars, BattleFact.language, BattleFact.prompt_key,
                       BattleFact.feature_names, BattleFact.feature_values]
    if with_voters:
        cols += [BattleFact.voter_id, BattleFact.source, Battle.public_id, Battle.created_at]
    cols += [BattleFact.propensity, BattleFact.arena]  # always last (see _row_columns)
    query = (select(*cols).where(BattleFact.anony.is_(True), BattleFact.flagged.is_(False))
             .order_by(BattleFact.voted_at, BattleFact.battle_id))
    if since is not None:
        query = query.where(BattleFact.voted_at >= since)
    if until is not None:
        query = query.where(BattleFact.voted_at < until)
    if cutoff is not None:
        query = query.where(BattleFact.voted_at <= cutoff)
    if with_voters:
        query = query.join(Battle, Battle.id == BattleFact.battle_id)
    return query


def _row_columns(conn: Any, query: Any, with_voters: bool, chunk: int) -> dict[str, Any]:
    """The facts as arrays, read as Core rows through a server-side cursor."""
    epoch = conn.dialect.name == "postgresql"
    out = _Columns()
    languages: dict[str | None, int] = {}
    arenas: dict[str, int] = {}
    result = conn.execute(query, execution_options={"yield_per": chunk})
    for rows in result.partitions(chunk):
        _add_chunk(out, rows, languages, with_voters, epoch)
        out.add("arena", np.fromiter((arenas.setdefault(a or "text", len(arenas))
                                      for a in (row[-1] for row in rows)), np.int8, len(rows)))
        out.add("propensity", np.fromiter((np.nan if p is None else p
                                           for p in (row[-2] for row in rows)),
                                          np.float64, len(rows)))
    n = out.n
    features: dict[str, np.ndarray] = {}
    offset = 0
    for size, part in out.feature_parts:
        for key, values in part.items():
            if key not in features:
                features[key] = np.full(n, np.nan)
            features[key][offset:offset + size] = values
        offset += size
    cols: dict[str, Any] = {
        "battle_id": out.col("battle_id", np.int64), "voted_us": out.col("voted_us", np.int64),
        "a": out.col("a", np.int64), "b": out.col("b", np.int64),
        "winner": out.col("winner", np.int8), "key": out.col("key", np.int64),
        "turns": out.col("turns", np.int32), "chars": out.col("chars", np.int64),
        "language": out.col("language", np.int16),
        "languages": [lang for lang, _ in sorted(languages.items(), key=lambda kv: kv[1])],
        "features": features, "propensity": out.col("propensity", np.float64),
        "arena": out.col("arena", np.int8),
        "arenas": [a for a, _ in sorted(arenas.items(), key=lambda kv: kv[1])]}
    if with_voters:
        cols.update(voter=out.col("voter", object), source=out.col("source", object),
                    public_id=out.col("public_id", object),
                    created_us=out.col("created_us", np.int64))
    return cols


# --- PostgreSQL: one binary COPY, decoded in blocks --------------------------------------------
# Every row starts with the same fixed-width fields (an int16 field count, then per field an
# int32 length and the big-endian value), so the first _COPY_FIXED.itemsize bytes of all rows
# of a block are one numpy structured array. After them come the short text fields (winner,
# language, arena, feature names: a few dozen distinct combinations, dictionary-coded by their
# bytes) and last the feature values (float8s, their length is the fixed field ``vlen``).
_COPY_SQL = (
    "COPY (SELECT battle_id::int8, voted_at, contender_a_id::int4, contender_b_id::int4, "
    "turn_count::int4, prompt_chars::int4, coalesce(prompt_key, -1)::int8, "
    "coalesce(propensity, 'NaN')::float8, length(feature_values)::int4, winner::text, "
    "language::text, arena::text, feature_names::text, feature_values "
    "FROM battle_fact WHERE anony AND NOT flagged{where}) TO STDOUT (FORMAT binary)")
_COPY_FIELDS = (("battle_id", ">i8"), ("voted", ">i8"), ("a", ">i4"), ("b", ">i4"),
                ("turns", ">i4"), ("chars", ">i4"), ("key", ">i8"), ("propensity", ">f8"),
                ("vlen", ">i4"))
_COPY_FIXED = np.dtype([("n", ">i2")] + [part for i, (name, kind) in enumerate(_COPY_FIELDS)
                                         for part in ((f"len{i}", ">i4"), (name, kind))])
_COPY_N_FIELDS = len(_COPY_FIELDS) + 5
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, no flags, no extension
_COPY_TRAILER = b"\xff\xff"
#: PostgreSQL's timestamps count microseconds from 2000-01-01 UTC.
_PG_EPOCH_US = 946_684_800 * 1_000_000
_COPY_BLOCK = 1 << 16


class _Codes(dict[Any, int]):
    """Distinct byte strings → 0, 1, … in order of first sight."""

    def __missing__(self, key: Any) -> int:
        code = self[bytes(key)] = len(self)
        return code


def _copy_columns(conn: Any, since: datetime | None, until: datetime | None,
                  cutoff: datetime | None, chunk: int) -> dict[str, Any]:
    """The facts as arrays, read with one binary ``COPY`` (no Python object per value)."""
    where, params = "", []
    for op, value in ((">=", since), ("<", until), ("<=", cutoff)):
        if value is not None:
            where += f" AND voted_at {op} %s"
            params.append(value)
    raw = conn.connection.driver_connection
    combos = _Codes()
    parts: list[dict[str, np.ndarray]] = []
    rows: list[Any] = []
    head = slice(0, _COPY_FIXED.itemsize)
    block = max(1, min(chunk, _COPY_BLOCK))
    # The rows are held per block only; millions of short-lived buffers would otherwise keep
    # triggering full collections of everything else alive.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with raw.cursor().copy(_COPY_SQL.format(where=where), params or None) as copy:
            first = copy.read()
            if bytes(first[:len(_COPY_HEADER)]) != _COPY_HEADER:
                raise ValueError("unexpected binary COPY header from PostgreSQL")
            # Rows libpq already holds are taken straight from it (one C call each); psycopg's
            # read(), a generator round per row, only waits for the network.
            get, read = raw.pgconn.get_copy_data, copy.read
            data = first[len(_COPY_HEADER):]
            while True:
                # the trailer comes as a message of its own (no row is two bytes long)
                if data and not (len(data) == len(_COPY_TRAILER)
                                 and bytes(data) == _COPY_TRAILER):
                    rows.append(data)
                    if len(rows) == block:
                        parts.append(_copy_block(rows, combos, head))
                        rows = []
                size, data = get(1)
                if size == 0:  # nothing buffered: let psycopg wait (it also sees the end)
                    if not (data := read()):
                        break
                elif size < 0:  # the end, taken by us: collect the COPY's final result
                    _copy_done(raw.pgconn)
                    break
        if rows:
            parts.append(_copy_block(rows, combos, head))
    finally:
        if enabled:
            gc.enable()
    return _copy_assemble(parts, combos)


def _copy_done(pgconn: Any) -> None:
    """Collect the final result of a ``COPY TO`` whose last row was read from libpq directly
    (what psycopg's ``Copy.read`` does when it sees the end)."""
    from psycopg import pq

    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise RuntimeError("COPY of the facts failed: "
                               + (result.error_message or b"").decode(errors="replace"))


def _copy_block(rows: list[Any], combos: _Codes, head: slice) -> dict[str, np.ndarray]:
    n = len(rows)
    lengths = np.fromiter(map(len, rows), np.int64, n)
    fixed = np.frombuffer(b"".join(map(getitem, rows, repeat(head))), _COPY_FIXED)
    widths = [np.dtype(kind).itemsize for _, kind in _COPY_FIELDS]
    if (fixed["n"] != _COPY_N_FIELDS).any() or any(
            (fixed[f"len{i}"] != w).any() for i, w in enumerate(widths)):
        raise ValueError("unexpected binary COPY row layout from PostgreSQL")
    vlen = fixed["vlen"].astype(np.int64)
    ends = lengths - vlen
    texts = map(getitem, rows, map(slice, repeat(head.stop), (ends - 4).tolist()))
    combo = np.fromiter(map(combos.__getitem__, texts), np.int32, n)
    values = b"".join(map(getitem, rows, map(slice, ends.tolist(), repeat(None))))
    return {"battle_id": fixed["battle_id"].astype(np.int64),
            "voted_us": fixed["voted"].astype(np.int64) + _PG_EPOCH_US,
            "a": fixed["a"].astype(np.int64), "b": fixed["b"].astype(np.int64),
            "turns": fixed["turns"].astype(np.int32), "chars": fixed["chars"].astype(np.int64),
            "key": fixed["key"].astype(np.int64),
            "propensity": fixed["propensity"].astype(np.float64),
            "nvalues": vlen // 8, "combo": combo,
            "values": np.frombuffer(values, ">f8").astype(np.float64)}


def _text_fields(key: bytes) -> list[str | None]:
    """The length-prefixed text fields of a row's middle part (NULL: length -1)."""
    out: list[str | None] = []
    pos = 0
    while pos < len(key):
        size = int.from_bytes(key[pos:pos + 4], "big", signed=True)
        pos += 4
        if size < 0:
            out.append(None)
        else:
            out.append(key[pos:pos + size].decode())
            pos += size
    if pos != len(key) or len(out) != 4:
        raise ValueError("unexpected binary COPY row layout from PostgreSQL")
    return out


def _copy_assemble(parts: list[dict[str, np.ndarray]], combos: _Codes) -> dict[str, Any]:
    """The blocks as columns in ``(voted_at, battle_id)`` order, with the codes the row reader
    gives (languages, arenas and feature columns numbered in order of first appearance)."""
    def cat(name: str, dtype: Any) -> np.ndarray:
        return (np.concatenate([p[name] for p in parts]) if parts
                else np.empty(0, dtype=dtype))

    battle_id, voted_us = cat("battle_id", np.int64), cat("voted_us", np.int64)
    order = np.lexsort((battle_id, voted_us))
    cols: dict[str, Any] = {"battle_id": battle_id[order], "voted_us": voted_us[order]}
    del battle_id, voted_us
    for name, dtype in (("a", np.int64), ("b", np.int64), ("turns", np.int32),
                        ("chars", np.int64), ("key", np.int64), ("propensity", np.float64)):
        cols[name] = cat(name, dtype)[order]
    nvalues = cat("nvalues", np.int64)
    starts = np.concatenate([[0], np.cumsum(nvalues)[:-1]]).astype(np.int64)[order]
    nvalues = nvalues[order]
    values = cat("values", np.float64)
    combo = cat("combo", np.int32)[order]
    n = len(order)
    texts = [_text_fields(key) for key in combos]
    used, first = np.unique(combo, return_index=True)
    languages: dict[str | None, int] = {}
    arenas: dict[str, int] = {}
    winner_of = np.zeros(len(texts), dtype=np.int8)
    language_of = np.zeros(len(texts), dtype=np.int16)
    arena_of = np.zeros(len(texts), dtype=np.int8)
    layouts: dict[str, list[int]] = {}
    for code in used[np.argsort(first, kind="stable")]:
        winner, language, arena, names = texts[int(code)]
        winner_of[code] = WINNER_CODE[str(winner)]
        language_of[code] = languages.setdefault(language, len(languages))
        arena_of[code] = arenas.setdefault(arena or "text", len(arenas))
        layouts.setdefault(names or "", []).append(int(code))
    features: dict[str, np.ndarray] = {}
    for names, codes in layouts.items():
        if not names:
            continue
        keys = names.split(",")
        rows = np.flatnonzero(np.isin(combo, codes))
        if (nvalues[rows] != len(keys)).any():
            raise ValueError(f"feature values do not match their names {names!r}")
        at = starts[rows]
        for j, key in enumerate(keys):
            if key not in features:
                features[key] = np.full(n, np.nan)
            features[key][rows] = values[at + j]
    cols.update(winner=winner_of[combo], language=language_of[combo], arena=arena_of[combo],
                languages=list(languages), arenas=list(arenas), features=features)
    return cols


def _positions(battle_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    order = np.argsort(battle_ids, kind="stable")
    idx = np.searchsorted(battle_ids[order], wanted)
    return order[np.clip(idx, 0, max(len(order) - 1, 0))]


def _label_columns(db: Session, facts_query: Any, battle_ids: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """The classifier labels of the selected battles, one boolean column per label (one query
    joining the same filtered selection)."""
    if not len(battle_ids):
        return {}
    chosen = facts_query.with_only_columns(BattleFact.battle_id).order_by(None).subquery()
    rows = db.execute(select(BattleLabel.battle_id, BattleLabel.label)
                      .join(chosen, chosen.c.battle_id == BattleLabel.battle_id)).all()
    out: dict[str, np.ndarray] = {}
    if not rows:
        return out
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    pos = _positions(battle_ids, ids)
    names, inverse = np.unique(np.array([r[1] for r in rows], dtype=object),
                               return_inverse=True)
    for k, label in enumerate(names):
        column = np.zeros(len(battle_ids), dtype=bool)
        column[pos[inverse == k]] = True
        out[str(label)] = column
    return out


def _column_of(db: Session, facts_query: Any, battle_ids: np.ndarray, column: Any
               ) -> np.ndarray:
    """One ``battle`` column for the selected battles, aligned with ``battle_ids``."""
    out = np.full(len(battle_ids), None, dtype=object)
    if not len(battle_ids):
        return out
    chosen = facts_query.with_only_columns(BattleFact.battle_id).order_by(None).subquery()
    rows = db.execute(select(Battle.id, column).join(chosen, chosen.c.battle_id == Battle.id)
                      ).all()
    if rows:
        pos = _positions(battle_ids, np.fromiter((r[0] for r in rows), np.int64, len(rows)))
        out[pos] = [r[1] for r in rows]
    return out


def _add_chunk(out: _Columns, rows: Sequence[Sequence[Any]], languages: dict[str | None, int],
               with_voters: bool, epoch: bool) -> None:
    n = len(rows)
    cols = list(zip(*rows, strict=True))
    out.add("battle_id", np.fromiter(cols[0], np.int64, n))
    out.add("voted_us", np.fromiter(cols[1] if epoch else ((t - _EPOCH) // _US for t in cols[1]),
                                    np.int64, n))
    out.add("a", np.fromiter(cols[2], np.int64, n))
    out.add("b", np.fromiter(cols[3], np.int64, n))
    out.add("winner", np.fromiter((WINNER_CODE[w] for w in cols[4]), np.int8, n))
    out.add("turns", np.fromiter(cols[5], np.int32, n))
    out.add("chars", np.fromiter(cols[6], np.int64, n))
    out.add("language", np.fromiter((languages.setdefault(lang, len(languages))
                                     for lang in cols[7]), np.int16, n))
    out.add("key", np.fromiter((NO_KEY if k is None else k for k in cols[8]), np.int64, n))
    if with_voters:
        out.add("voter", np.array(cols[11], dtype=object))
        out.add("source", np.array(cols[12], dtype=object))
        out.add("public_id", np.array(cols[13], dtype=object))
        out.add("created_us", np.fromiter(((t - _EPOCH) // _US for t in cols[14]), np.int64, n))
    # Features: rows sharing a layout become one 2-D array without per-value Python work.
    layouts: dict[str, list[int]] = {}
    for i, names in enumerate(cols[9]):
        layouts.setdefault(names, []).append(i)
    part: dict[str, np.ndarray] = {}
    for names, idx in layouts.items():
        if not names:
            continue
        keys = names.split(",")
        blob = b"".join(bytes(cols[10][i]) for i in idx)
        block = np.frombuffer(blob, dtype=">f8").reshape(len(idx), len(keys))
        where = np.array(idx)
        for j, key in enumerate(keys):
            if key not in part:
                part[key] = np.full(n, np.nan)
            part[key][where] = block[:, j]
    out.feature_parts.append((n, part))
    out.n += n
