"""Which two contenders meet: declared, versioned policies with logged propensities.

:mod:`arena.sampling.policies` holds the pure rules; this module feeds them from the database
and remembers, per web process, what is expensive to read:

- the latest published snapshot's ratings and intervals (changes only when a publish job
  runs: re-read when a newer publication exists, checked at most every ``ttl_s`` seconds);
- the battles created in the last hour per contender, for the share cap (re-read at most every
  ``hour_ttl_s`` seconds, so a burst may overshoot the cap by a few seconds' worth of
  battles);
- the active contenders of each arena with their health (``pool_ttl_s``, default 1 s, config
  ``SAMPLING_POOL_CACHE_MS``): which of them are cooling down is decided per draw, at its own
  time, and any write to ``contender`` through this process's engine (a failed endpoint, a
  contenders sync) makes the next draw read them again; writes by other processes show up
  within ``pool_ttl_s``.

Every battle stores the probability of its ordered pair and the policy version
(``battle.propensity``, ``battle.policy_version``); :mod:`arena.sampling.ipw` turns them into
inverse-probability-weighted win rates.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, event, func, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from arena.db import Database, connection_of
from arena.models import (
    Battle,
    Contender,
    LeaderboardSnapshot,
    Publication,
    SnapshotEntry,
    Vote,
)
from arena.sampling.policies import (
    POLICIES,
    Candidate,
    PairDraw,
    PolicySettings,
    expected_shares,
    pair_probabilities,
)

__all__ = ["POLICIES", "Candidate", "Draw", "PolicySettings", "Sampler", "settings_from_config"]


class Pick(NamedTuple):
    """An eligible contender as the sampler reads it: a row, not an ORM object."""

    id: int
    name: str
    is_public: bool
    weight: float
    organization: str


# Built once: a draw runs it on every battle created. The same rule as
# arena.battles.eligible_contenders (active, positive weight, endpoint not cooling down).
# The active contenders of an arena with their health; a draw keeps those not cooling down at
# its own time (:func:`healthy`), so the rows can be reused (see Sampler.pool).
_POOL = (select(Contender.id, Contender.name, Contender.is_public, Contender.weight,
                Contender.organization, Contender.unhealthy_until)
         .where(Contender.active.is_(True), Contender.weight > 0,
                Contender.arena == bindparam("arena"))
         .order_by(Contender.id))


def _pool_rows(db: Database, arena: str) -> list[tuple[Pick, datetime | None]]:
    return [(Pick(*row[:5]), row[5]) for row in connection_of(db).execute(_POOL, {"arena": arena})]


def healthy(rows: list[tuple[Pick, datetime | None]], now: datetime) -> list[Pick]:
    """The contenders of ``rows`` not cooling down at ``now``."""
    return [pick for pick, until in rows if until is None or until <= now]


def eligible(db: Database, now: datetime, arena: str = "text") -> list[Pick]:
    """The eligible contenders of ``arena``, in id order."""
    return healthy(_pool_rows(db, arena), now)


@dataclass(frozen=True)
class Draw:
    """A drawn battle pair: left, right, the ordered pair's probability, the policy version."""

    a: Pick
    b: Pick
    propensity: float
    policy_version: str


def settings_from_config(config: Any) -> PolicySettings:
    """The declared policy from the app config (``SAMPLING_*`` keys)."""
    return PolicySettings(
        name=str(config.get("SAMPLING_POLICY", "weighted")),
        exploration=float(config.get("SAMPLING_EXPLORATION", 0.05)),
        max_share=float(config.get("SAMPLING_MAX_SHARE", 0.35)),
        cap_min_battles=int(config.get("SAMPLING_CAP_MIN_BATTLES", 20)),
    )


@dataclass
class _Board:
    publication_id: int | None = None
    cutoff: datetime | None = None
    entries: dict[int, tuple[float, float, int, int]] = field(default_factory=dict)
    checked: float = float("-inf")


#: Marks a pooled connection that wrote to ``contender`` (in its pool record's ``info``).
_WROTE_CONTENDER = "arena.sampler.wrote_contender"


class Sampler:
    """One per app: the declared policy and the caches of what it reads."""

    def __init__(self, settings: PolicySettings, *, ttl_s: float = 30.0,
                 hour_ttl_s: float = 5.0, pool_ttl_s: float = 1.0) -> None:
        self.settings = settings
        self.ttl_s = ttl_s
        self.hour_ttl_s = hour_ttl_s
        self.pool_ttl_s = pool_ttl_s
        #: Bumped by every write to ``contender`` seen on the app's engine (see watch).
        self.contender_writes = 0
        self._pools: dict[str, tuple[float, int, list[tuple[Pick, datetime | None]]]] = {}
        self._lock = threading.Lock()
        self._board = _Board()
        self._hour: tuple[float, dict[int, int], dict[str, int]] = (float("-inf"), {}, {})
        self._new: tuple[float, datetime | None, dict[int, int]] = (float("-inf"), None, {})
        #: Per arena: (inputs, matrix, the matrix prepared for draws).
        self._probs: dict[str, tuple[Any, Any, PairDraw]] = {}
        self._ledger_checked = False

    # -- reading ---------------------------------------------------------------------------

    def watch(self, conn: Any, statement: Any, *_args: Any) -> None:
        """Engine ``before_execute`` hook: a write to ``contender`` invalidates the pools.

        Once as it is sent, and again when its connection goes back to the pool (see
        :meth:`settled`): a pool read in between, by another thread, saw the rows before the
        write committed and must not be kept.
        """
        if _writes_contender(statement):
            self.contender_writes += 1
            conn.info[_WROTE_CONTENDER] = True

    def settled(self, _dbapi_conn: Any, record: Any) -> None:
        """Pool ``checkin`` hook: the write :meth:`watch` saw is committed (or rolled back)."""
        if record.info.pop(_WROTE_CONTENDER, False):
            self.contender_writes += 1

    def pool(self, db: Database, now: datetime, arena: str = "text") -> list[Pick]:
        """:func:`eligible`, from rows read at most ``pool_ttl_s`` ago (and after this
        process's last write to ``contender``); health is judged at ``now``."""
        mono = time.monotonic()
        writes = self.contender_writes
        with self._lock:
            hit = self._pools.get(arena)
        if hit is None or hit[1] != writes or mono - hit[0] >= self.pool_ttl_s:
            hit = (mono, writes, _pool_rows(db, arena))
            with self._lock:
                self._pools[arena] = hit
        return healthy(hit[2], now)

    def _needs_board(self) -> bool:
        return self.settings.name in ("boost-new", "adaptive")

    def board(self, db: Database) -> _Board:
        """Latest overall snapshots: ``{contender_id: (rating, half_width, votes, rank)}``,
        from ``overall`` and each media arena's ``<arena>-overall`` (a contender is in one)."""
        now = time.monotonic()
        with self._lock:
            board = self._board
            if now - board.checked < self.ttl_s:
                return board
        latest = db.execute(select(Publication.id, Publication.data_cutoff)
                            .order_by(Publication.id.desc()).limit(1)).first()
        if latest is None or latest[0] == board.publication_id:
            fresh = _Board(board.publication_id, board.cutoff, board.entries, now)
        else:
            rows = db.execute(
                select(SnapshotEntry.contender_id, SnapshotEntry.rating, SnapshotEntry.ci_low,
                       SnapshotEntry.ci_high, SnapshotEntry.votes, SnapshotEntry.rank)
                .join(LeaderboardSnapshot, LeaderboardSnapshot.id == SnapshotEntry.snapshot_id)
                .where(LeaderboardSnapshot.publication_id == latest[0],
                       or_(LeaderboardSnapshot.view == "overall",
                           LeaderboardSnapshot.view.in_(_media_overall())))).all()
            entries = {cid: (rating, (hi - lo) / 2.0, votes, rank)
                       for cid, rating, lo, hi, votes, rank in rows}
            fresh = _Board(latest[0], latest[1], entries, now)
        with self._lock:
            self._board = fresh
        return fresh

    def hour_counts(self, db: Database, now: datetime,
                    arena: str = "text") -> tuple[dict[int, int], int]:
        """Battles created in the last hour: per contender, and in all of ``arena`` (a share
        cap is a share of the contender's own arena)."""
        mono = time.monotonic()
        with self._lock:
            stamp, cached, cached_totals = self._hour
            if mono - stamp < self.hour_ttl_s:
                return cached, cached_totals.get(arena, 0)
        since = now - timedelta(hours=1)
        recent = (select(Battle.contender_a_id.label("cid"), Battle.arena.label("arena"))
                  .where(Battle.created_at >= since))
        recent_b = (select(Battle.contender_b_id.label("cid"), Battle.arena.label("arena"))
                    .where(Battle.created_at >= since))
        sides = union_all(recent, recent_b).subquery()
        counts: dict[int, int] = {}
        totals: dict[str, int] = {}
        for cid, name, n in db.execute(select(sides.c.cid, sides.c.arena, func.count())
                                       .group_by(sides.c.cid, sides.c.arena)):
            counts[int(cid)] = counts.get(int(cid), 0) + int(n)
            totals[name] = totals.get(name, 0) + int(n)
        totals = {name: n // 2 for name, n in totals.items()}
        with self._lock:
            self._hour = (mono, counts, totals)
        return counts, totals.get(arena, 0)

    def new_votes(self, db: Database, since: datetime | None) -> dict[int, int]:
        """Votes per contender since the snapshot's cutoff (cached like the hourly counts)."""
        mono = time.monotonic()
        with self._lock:
            stamp, cutoff, counts = self._new
            if cutoff == since and mono - stamp < self.hour_ttl_s:
                return counts
        query_a = (select(Battle.contender_a_id.label("cid"))
                   .join(Vote, Vote.battle_id == Battle.id))
        query_b = (select(Battle.contender_b_id.label("cid"))
                   .join(Vote, Vote.battle_id == Battle.id))
        if since is not None:
            query_a = query_a.where(Vote.created_at > since)
            query_b = query_b.where(Vote.created_at > since)
        sides = union_all(query_a, query_b).subquery()
        counts = {int(cid): int(n) for cid, n in db.execute(
            select(sides.c.cid, func.count()).group_by(sides.c.cid))}
        with self._lock:
            self._new = (mono, since, counts)
        return counts

    def candidates(self, db: Database, now: datetime,
                   pool: list[Pick] | None = None) -> tuple[list[Pick], list[Candidate]]:
        """The eligible contenders and their sampler view."""
        pool = eligible(db, now) if pool is None else pool
        if not self._needs_board():
            return pool, [Candidate(c.id, c.is_public, c.weight, c.organization) for c in pool]
        board = self.board(db)
        new = self.new_votes(db, board.cutoff)
        cands = []
        for c in pool:
            entry = board.entries.get(c.id)
            fresh = new.get(c.id, 0)
            if entry is None:
                cands.append(Candidate(c.id, c.is_public, c.weight, c.organization,
                                       votes=fresh, new_votes=fresh))
            else:
                rating, half, votes, rank = entry
                cands.append(Candidate(c.id, c.is_public, c.weight, c.organization,
                                       votes=votes + fresh, new_votes=fresh, rating=rating,
                                       half_width=half, rank=rank))
        return pool, cands

    # -- drawing ---------------------------------------------------------------------------

    def probabilities(self, db: Database, now: datetime, *, caps: bool = True,
                      arena: str = "text") -> tuple[list[Pick], Any]:
        """The eligible pool and its pair probabilities.

        The matrix is recomputed only when its inputs change (the pool, the snapshot, the
        hourly and new-vote counts, each re-read on its own clock), so a draw usually costs
        one health query and a binary search.
        """
        pool, probs, _ = self._prepared(db, now, caps=caps, arena=arena)
        return pool, probs

    def _prepared(self, db: Database, now: datetime, *, caps: bool,
                  arena: str) -> tuple[list[Pick], Any, PairDraw]:
        """The matrix with its preparation for draws (:class:`PairDraw`), cached together."""
        pool = self.pool(db, now, arena)
        counts, total = self.hour_counts(db, now, arena) if caps else ({}, 0)
        board = self.board(db) if self._needs_board() else None
        if board is not None:
            self.new_votes(db, board.cutoff)  # refreshes the stamp in the cache key
        with self._lock:
            # The refresh stamps identify the counts read (each refresh gets a new stamp).
            key = (tuple((c.id, c.is_public, c.weight) for c in pool),
                   None if board is None else board.publication_id,
                   self._hour[0] if caps else None, self._new[0], caps)
            cached = self._probs.get(arena)
        if cached is not None and cached[0] == key:
            return pool, cached[1], cached[2]
        _, cands = self.candidates(db, now, pool)
        probs = pair_probabilities(cands, self.settings, counts, total)
        prepared = PairDraw(probs)
        with self._lock:
            self._probs[arena] = (key, probs, prepared)
        return pool, probs, prepared

    def draw(self, db: Database, rng: random.Random, now: datetime,
             arena: str = "text") -> Draw:
        """Draw one battle pair of ``arena``; raises :class:`NoContenders` (503) when none can
        meet."""
        from arena.battles.sampling import NoContenders

        recorded = False
        if not self._ledger_checked and isinstance(db, Session):
            # Written through the ORM, in the caller's transaction (see ledger_checked). A
            # Connection gets here unrecorded only when a concurrent first draw failed after the
            # caller saw the policy recorded: it only reads, and a later Session draw records.
            self.record_policy(db, now)
            recorded = True
        pool, probs, prepared = self._prepared(db, now, caps=True, arena=arena)
        if not len(pool) or probs.sum() <= 0:
            if recorded:
                # The caller rolls back: the policy entry (if any) must be written again. A
                # draw that wrote nothing leaves the flag alone (the fast creation path reads it).
                self._ledger_checked = False
            raise NoContenders()
        i, j, propensity = prepared(rng)
        return Draw(pool[i], pool[j], propensity, self.settings.version)

    def declared_shares(self, db: Database, now: datetime,
                        arena: str = "text") -> dict[int, float]:
        """Each eligible contender's expected share of ``arena``'s battles under the declared
        policy."""
        pool, probs = self.probabilities(db, now, caps=False, arena=arena)
        if not len(pool):
            return {}
        shares = expected_shares(probs)
        return {c.id: float(s) for c, s in zip(pool, shares, strict=True)}

    @property
    def ledger_checked(self) -> bool:
        """Has this process recorded (or found) the declared policy in the ledger? Until then
        a draw writes, and needs a ``Session``; afterwards it only reads."""
        return self._ledger_checked

    def record_policy(self, db: Session, now: datetime) -> None:
        """Append a ``policy_changed`` ledger entry if the declared policy differs (once)."""
        if self._ledger_checked:
            return
        from arena.ledger import record_policy

        record_policy(db, self.settings.declared(), now=now)
        self._ledger_checked = True


def _writes_contender(statement: Any) -> bool:
    """Does ``statement`` write ``contender``: itself, or a data-modifying CTE added to it
    (PostgreSQL's one-statement battle outcome is a SELECT whose CTE updates it)?"""
    if isinstance(statement, UpdateBase):
        return getattr(statement.table, "name", None) == Contender.__tablename__
    return any(_writes_contender(cte.element)
               for cte in getattr(statement, "_independent_ctes", ()))


def _media_overall() -> list[str]:
    from arena import modalities

    return [f"{name}-overall" for name in modalities.names() if name != "text"]


def init_app(app: Any) -> None:
    """One sampler per app, with the declared policy of its config, watching its engine."""
    from arena.db import engine_for

    sampler = Sampler(settings_from_config(app.config),
                      pool_ttl_s=float(app.config.get("SAMPLING_POOL_CACHE_MS", 1000)) / 1000)
    engine = engine_for(app)
    event.listen(engine, "before_execute", sampler.watch)
    event.listen(engine.pool, "checkin", sampler.settled)
    app.extensions["arena.sampler"] = sampler
