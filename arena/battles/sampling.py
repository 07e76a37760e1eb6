"""Which two contenders meet, and which contenders are healthy enough to be asked."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from arena.db import Database
from arena.errors import NotFound, ServiceUnavailable
from arena.models import Contender
from arena.sampling.policies import Candidate, PolicySettings, draw, pair_probabilities

log = logging.getLogger(__name__)


class NoContenders(ServiceUnavailable):
    code = "no_contenders"
    message = ("Not enough models are available for a battle right now. "
               "Please try again in a few minutes.")


class ArenaNotOffered(NotFound):
    code = "arena_not_offered"
    message = "This site runs no such arena: none of its contenders compete in it."


def offered_arenas(db: Database) -> list[str]:
    """The arenas this site runs: ``text`` always, and every arena with an active contender
    (declared by the contenders file, ``arena: image``), in registry order."""
    from arena import modalities

    live = set(db.scalars(select(Contender.arena).where(Contender.active.is_(True)).distinct()))
    return [n for n in modalities.names() if n == "text" or n in live]


def require_offered(db: Database, arena: str) -> None:
    """Raise :class:`ArenaNotOffered` (404) unless this site runs ``arena``."""
    if arena != "text" and arena not in offered_arenas(db):
        raise ArenaNotOffered()


def eligible_contenders(db: Session, now: datetime, arena: str = "text") -> list[Contender]:
    """Active contenders of ``arena`` with a positive weight whose endpoint is not cooling down.
    """
    stmt = (
        select(Contender)
        .where(Contender.active.is_(True), Contender.weight > 0, Contender.arena == arena,
               or_(Contender.unhealthy_until.is_(None), Contender.unhealthy_until <= now))
        .order_by(Contender.id)
    )
    return list(db.scalars(stmt))


def sample_pair(db: Session, rng: random.Random, now: datetime,
                arena: str = "text") -> tuple[Contender, Contender]:
    """Two distinct eligible contenders of one arena as ``(a, b)``; see :func:`choose_pair`."""
    return choose_pair(eligible_contenders(db, now, arena), rng)


def choose_pair(pool: Sequence[Contender], rng: random.Random) -> tuple[Contender, Contender]:
    """Two distinct contenders of ``pool`` as ``(a, b)``, in random left/right order.

    A pair is drawn with probability proportional to the product of its weights, among pairs
    where at least one contender is public: two unreleased models never meet, because a battle
    between them would rate them only against each other. Raises :class:`NoContenders` (503)
    when no such pair exists. (The ``weighted`` policy of :mod:`arena.sampling` with no
    exploration and no caps.)
    """
    settings = PolicySettings("weighted", exploration=0.0, max_share=1.0)
    probs = pair_probabilities(
        [Candidate(c.id, c.is_public, c.weight) for c in pool], settings)
    if not probs.any():
        raise NoContenders()
    i, j, _ = draw(probs, rng)
    return pool[i], pool[j]


def record_failure(db: Session, contender_id: int, now: datetime, *, threshold: int,
                   cooldown_s: int) -> None:
    """Count one failed answer; at ``threshold`` failures in a row, leave sampling a while.

    The increment happens in SQL, so concurrent battles failing on the same endpoint all count.
    """
    db.execute(update(Contender).where(Contender.id == contender_id)
               .values(consecutive_failures=Contender.consecutive_failures + 1))
    result = db.execute(
        update(Contender)
        .where(Contender.id == contender_id, Contender.consecutive_failures >= threshold)
        .values(unhealthy_until=now + timedelta(seconds=cooldown_s)))
    if result.rowcount:  # type: ignore[attr-defined]
        log.warning("contender %s is unhealthy: out of sampling for %ss", contender_id,
                    cooldown_s)


#: A complete answer makes an endpoint healthy again: this UPDATE, narrowed to the contenders
#: concerned (:func:`record_success`; a text battle's store narrows it to both sides at once).
HEALTHY = (update(Contender)
           .where(or_(Contender.consecutive_failures != 0,
                      Contender.unhealthy_until.is_not(None)))
           .values(consecutive_failures=0, unhealthy_until=None))


def record_success(db: Session, contender_id: int) -> None:
    """A complete answer makes the endpoint healthy again."""
    db.execute(HEALTHY.where(Contender.id == contender_id))
