"""Creating battles, adding turns, claiming generation, and the JSON view of a battle."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from arena.battles.sampling import NoContenders, require_offered
from arena.db import Database, Prebuilt, connection_of
from arena.errors import Conflict, Forbidden, NotFound
from arena.leaderboard.facts import prompt_group_of
from arena.models import Answer, Battle, Contender, Turn, Voter, utcnow
from arena.render import render_markdown
from arena.sampling import PolicySettings, Sampler

#: Sampling by configured weights only (direct callers and tests without an app sampler).
_PLAIN = Sampler(PolicySettings("weighted", exploration=0.0, max_share=1.0))


class BattleNotFound(NotFound):
    code = "battle_not_found"
    message = "No such battle."


class NotYourBattle(Forbidden):
    code = "not_your_battle"
    message = "This battle belongs to another browser session."


class BattleNotReady(Conflict):
    code = "battle_not_ready"
    message = "Both answers must finish before you can do that."


class BattleFailed(Conflict):
    code = "battle_failed"
    message = "This battle failed and cannot continue. Please start a new one."


class AlreadyVoted(Conflict):
    code = "already_voted"
    message = "This battle has already been voted on."


class TooManyTurns(Conflict):
    code = "too_many_turns"
    message = "This conversation has reached its turn limit. Please vote."


def state_error(state: str) -> Conflict:
    """The error for acting on a battle that is not ``ready``."""
    if state == "voted":
        return AlreadyVoted()
    if state in ("failed", "abandoned"):
        return BattleFailed()
    return BattleNotReady()


def ensure_voter(db: Session, voter_id: str, release_consent: bool | None = None) -> Voter:
    """The voter row for a pseudonym, created on first use; consent is sticky once given."""
    voter = db.get(Voter, voter_id)
    if voter is None:
        # Two first requests of one browser (two tabs) can both get here: the loser of the
        # race must find the winner's row, not fail on the primary key.
        dialect = db.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.execute(insert(Voter)
                   .values(id=voter_id, release_consent=bool(release_consent),
                           created_at=utcnow())
                   .on_conflict_do_nothing(index_elements=[Voter.id]))
        voter = db.get(Voter, voter_id)
        assert voter is not None  # inserted above, or by the request that won the race
    if release_consent is not None:
        voter.release_consent = release_consent
    return voter


class Created(NamedTuple):
    """A new battle's keys."""

    id: int
    public_id: str


# Built once: creating battles is a hot path. (Statements of the mapped classes, executed on
# the session's Connection: no ORM unit of work.)
_INSERT_BATTLE = insert(Battle).returning(Battle.id)
_INSERT_TURN = insert(Turn)
_BATTLE_VALUES = ("public_id", "voter_id", "contender_a_id", "contender_b_id", "state",
                  "propensity", "policy_version", "ip_hash", "language", "created_at",
                  "updated_at", "release_consent", "prompt_group", "arena")


def _battle_and_turn(*, known_voter: bool = False) -> Any:
    """PostgreSQL: the battle and its first turn in one statement (one round trip).

    ``WITH battle AS (INSERT INTO battle … RETURNING id) INSERT INTO turn … SELECT id FROM
    battle RETURNING battle_id``; parameters are the battle's columns and ``turn_prompt``.
    Values are named explicitly: a DML statement in a CTE would otherwise take any parameter
    named like a column of its table as a value.

    ``known_voter``: the battle is inserted ``… SELECT … FROM voter WHERE id = :voter_id``,
    only if that voter row exists, has not asked for deletion, and keeps its consent
    (``wanted`` is NULL or equal to the stored one), with the stored consent as the battle's;
    otherwise nothing is written and no row returned (see :func:`create_known_voters_battle`).
    """
    if known_voter:
        keeps = (func.coalesce(cast(bindparam("wanted", type_=Boolean), Boolean),
                               Voter.release_consent) == Voter.release_consent)
        values = [Voter.release_consent if name == "release_consent"
                  else bindparam(name, type_=Battle.__table__.c[name].type)
                  for name in _BATTLE_VALUES]
        rows = select(*values).where(Voter.id == bindparam("voter_id"),
                                     Voter.deletion_requested_at.is_(None), keeps)
        battle = insert(Battle).from_select(_BATTLE_VALUES, rows)
    else:
        battle = insert(Battle).values({name: bindparam(name, type_=Battle.__table__.c[name].type)
                                        for name in _BATTLE_VALUES})
    new_battle = battle.returning(Battle.id).cte("new_battle")
    first = select(new_battle.c.id, literal(0, Integer), bindparam("turn_prompt", type_=Text),
                   bindparam("created_at", type_=Turn.__table__.c.created_at.type))
    return (insert(Turn).from_select(("battle_id", "position", "prompt", "created_at"), first)
            .returning(Turn.battle_id))


_INSERT_BATTLE_AND_TURN = Prebuilt(_battle_and_turn())
_INSERT_KNOWN_VOTERS_BATTLE = Prebuilt(_battle_and_turn(known_voter=True))
_SET_CONSENT = (update(Voter).where(Voter.id == bindparam("voter_id"))
                .values(release_consent=bindparam("consent")))


def consent_in_force(db: Database, voter_id: str, release_consent: bool | None,
                     stored: bool | None) -> bool:
    """The voter's release consent after this request: ``release_consent`` when given (and
    stored), else the stored one. ``stored`` is the value already read for this request
    (None: not known), which saves reading the voter row again. Only an unchanged, known
    consent writes nothing (the one case a Connection in autocommit may be passed)."""
    if stored is not None and release_consent in (None, stored):
        return stored
    assert isinstance(db, Session), "a new voter row or consent is written in a Session"
    if stored is None:
        return bool(ensure_voter(db, voter_id, release_consent).release_consent)
    db.connection().execute(_SET_CONSENT, {"voter_id": voter_id, "consent": release_consent})
    return bool(release_consent)


def _values(pair: Any, *, voter_id: str, ip_hash: str, prompt: str, now: datetime,
            language: str | None, consent: bool | None, arena: str) -> dict[str, Any]:
    """The new battle's column values (its ``public_id`` drawn here)."""
    return {
        "public_id": secrets.token_urlsafe(24), "voter_id": voter_id,
        "contender_a_id": pair.a.id, "contender_b_id": pair.b.id, "state": "pending",
        "propensity": pair.propensity, "policy_version": pair.policy_version,
        "ip_hash": ip_hash, "language": language, "created_at": now, "updated_at": now,
        "release_consent": consent, "prompt_group": prompt_group_of(prompt), "arena": arena}


def create_battle(db: Database, *, voter_id: str, ip_hash: str, prompt: str, rng: random.Random,
                  now: datetime, language: str | None = None,
                  release_consent: bool | None = None,
                  sampler: Sampler | None = None, stored_consent: bool | None = None,
                  arena: str = "text") -> Created:
    """A new ``pending`` battle with its first turn. Raises 503 ``no_contenders``.

    ``release_consent`` (when given) updates the voter's stored choice; either way the battle
    records the choice in force now, so a later tick cannot release this battle's text and
    a consent given on /privacy holds for battles whose client sends no choice.

    ``sampler`` draws the pair (the app's declared policy); without one, the configured
    weights alone decide, with no exploration or caps. Only contenders of ``arena`` meet.
    ``stored_consent``: the voter row's consent as already read in this request (see
    :func:`arena.privacy.stored_consent`).

    ``db`` is a ``Session``, or (PostgreSQL) an autocommit Connection when the battle and its
    turn are the only write: a known voter whose consent stays as stored, and a sampler that
    has recorded its policy (:attr:`arena.sampling.Sampler.ledger_checked`).
    """
    try:
        pair = (sampler or _PLAIN).draw(db, rng, now, arena)
    except NoContenders:
        # An arena no contender competes in is not "busy, try later" but absent (404).
        require_offered(db, arena)
        raise
    consent = consent_in_force(db, voter_id, release_consent, stored_consent)
    if isinstance(db, Session):
        db.flush()  # a new voter row (ORM) before the battle that refers to it
    conn = connection_of(db)
    values = _values(pair, voter_id=voter_id, ip_hash=ip_hash, prompt=prompt, now=now,
                     language=language, consent=consent, arena=arena)
    if conn.dialect.name == "postgresql":
        row = _INSERT_BATTLE_AND_TURN.first(conn, {**values, "turn_prompt": prompt})
        assert row is not None
        battle_id = row[0]
    else:
        battle_id = conn.execute(_INSERT_BATTLE, values).scalar_one()
        conn.execute(_INSERT_TURN, {"battle_id": battle_id, "position": 0, "prompt": prompt,
                                    "created_at": now})
    return Created(battle_id, values["public_id"])


def create_known_voters_battle(conn: Connection, *, voter_id: str, ip_hash: str, prompt: str,
                               rng: random.Random, now: datetime, language: str | None,
                               release_consent: bool | None, sampler: Sampler,
                               arena: str = "text") -> Created | None:
    """PostgreSQL, the common case of :func:`create_battle` in one statement on an autocommit
    ``conn``: the battle and its first turn for a voter row that exists, has not asked for
    deletion and keeps its stored consent (``release_consent`` None or equal to it), which
    the battle records. The voter row is checked by the same statement, not read before it.

    None, with nothing written, when the voter row does not qualify; :class:`NoContenders`
    when no pair can meet (unchecked for the arena's existence). Either way the caller goes
    the general way (:func:`arena.privacy.voter_id`, then :func:`create_battle`), which
    issues a new pseudonym for a revoked one, inserts a missing voter row or stores a new
    consent, and raises the right error. The sampler must have recorded its policy
    (:attr:`arena.sampling.Sampler.ledger_checked`): a draw on a Connection only reads.
    """
    pair = sampler.draw(conn, rng, now, arena)
    values = _values(pair, voter_id=voter_id, ip_hash=ip_hash, prompt=prompt, now=now,
                     language=language, consent=None, arena=arena)
    row = _INSERT_KNOWN_VOTERS_BATTLE.first(conn, {**values, "turn_prompt": prompt,
                                                   "wanted": release_consent})
    return None if row is None else Created(row[0], values["public_id"])


def get_battle(db: Session, public_id: str, *, with_contenders: bool = False) -> Battle:
    """The battle of a public id; ``with_contenders`` loads both contenders in the same query
    (for the reveal), instead of two lazy loads later."""
    query = select(Battle).where(Battle.public_id == public_id)
    if with_contenders:
        query = query.options(joinedload(Battle.contender_a), joinedload(Battle.contender_b))
    battle = db.scalar(query)
    if battle is None:
        raise BattleNotFound()
    return battle


@dataclass(frozen=True)
class Identity:
    """What the reveal shows of a contender (see :func:`reveal`)."""

    name: str
    organization: str
    license: str
    is_public: bool
    alias: str | None


@dataclass(frozen=True)
class VoteTarget:
    """The columns a vote reads of its battle, both contenders and the owner's revocation."""

    id: int
    public_id: str
    voter_id: str | None
    state: str
    ready_at: datetime | None
    category_version: str | None
    prompt_group: str | None
    contender_a_id: int
    contender_b_id: int
    features: Any
    language: str | None
    anony: bool
    flagged: bool
    source: str
    arena: str
    propensity: float | None
    #: As read: the vote's UPDATE moves the battle only if no one changed it since.
    updated_at: datetime
    contender_a: Identity
    contender_b: Identity
    #: The owner asked for deletion: their old cookies no longer stand for anybody.
    owner_revoked: bool = False

    @classmethod
    def of(cls, battle: Battle) -> VoteTarget:
        """The target of an ORM battle (direct callers and tests)."""
        def identity(c: Contender) -> Identity:
            return Identity(c.name, c.organization, c.license, c.is_public, c.alias)
        return cls(battle.id, battle.public_id, battle.voter_id, battle.state, battle.ready_at,
                   battle.category_version, battle.prompt_group, battle.contender_a_id,
                   battle.contender_b_id, battle.features, battle.language,
                   bool(battle.anony), bool(battle.flagged), battle.source,
                   battle.arena or "text", battle.propensity, battle.updated_at,
                   identity(battle.contender_a), identity(battle.contender_b))


def _vote_target_query() -> Any:
    a, b = aliased(Contender), aliased(Contender)
    names = ("name", "organization", "license", "is_public", "alias")
    return (select(Battle.id, Battle.public_id, Battle.voter_id, Battle.state, Battle.ready_at,
                   Battle.category_version, Battle.prompt_group, Battle.contender_a_id,
                   Battle.contender_b_id, Battle.features, Battle.language, Battle.anony,
                   Battle.flagged, Battle.source, Battle.arena, Battle.propensity,
                   Battle.updated_at, *(getattr(a, n) for n in names),
                   *(getattr(b, n) for n in names), Voter.deletion_requested_at)
            .join(a, a.id == Battle.contender_a_id).join(b, b.id == Battle.contender_b_id)
            .outerjoin(Voter, Voter.id == Battle.voter_id)
            .where(Battle.public_id == bindparam("public_id")))


# Built once: constructing the statement costs more than running it.
_VOTE_TARGET = Prebuilt(_vote_target_query())


def vote_target(db: Database, public_id: str) -> VoteTarget:
    """What a vote needs of a battle, in one Core query (no ORM objects). Raises 404."""
    row = _VOTE_TARGET.first(connection_of(db), {"public_id": public_id})
    if row is None:
        raise BattleNotFound()
    fields = (*row[:17], Identity(*row[17:22]), Identity(*row[22:27]), row[27] is not None)
    return VoteTarget(*fields)


def require_owner(battle: Battle | VoteTarget, voter_id: str | None) -> None:
    if voter_id is None or battle.voter_id != voter_id:
        raise NotYourBattle()


def turn_count(db: Session, battle_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(Turn)
                         .where(Turn.battle_id == battle_id)) or 0)


def add_turn(db: Session, battle: Battle, *, voter_id: str | None, prompt: str,
             max_turns: int, now: datetime) -> Turn:
    """Continue an unvoted, ``ready`` battle with the same pair; it becomes ``pending`` again."""
    require_owner(battle, voter_id)
    if battle.state != "ready":
        raise state_error(battle.state)
    position = turn_count(db, battle.id)
    if position >= max_turns:
        raise TooManyTurns(f"A battle has at most {max_turns} turns. Please vote.")
    # The conditional UPDATE is the real guard: a vote or another turn may have won the race
    # since the row was read.
    claimed = db.execute(update(Battle)
                         .where(Battle.id == battle.id, Battle.state == "ready")
                         .values(state="pending", updated_at=now))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise state_error(current_state(db, battle.id))
    turn = Turn(battle_id=battle.id, position=position, prompt=prompt, created_at=now)
    db.add(turn)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise BattleNotReady() from None
    return turn


# A generator writes ``heartbeat_at`` every HEARTBEAT_S while it runs; one silent for
# STALE_AFTER has died (killed worker, lost database) and its battle may be generated again.
# 15 s + 60 s keeps recovery well inside two minutes without a cron job.
HEARTBEAT_S = 15.0
STALE_AFTER = timedelta(seconds=60)


def _stale(cutoff: Any) -> Any:
    """The battle's heartbeat is older than ``cutoff`` (a value or a bind parameter)."""
    # A battle claimed before heartbeats existed has none: its last update stands in.
    return func.coalesce(Battle.heartbeat_at, Battle.updated_at) < cutoff


# Built once (constructing the statement cost more CPU than running it): pending, or a
# generating battle whose heartbeat (or, before heartbeats existed, last update) is older
# than the cutoff.
_CLAIM = Prebuilt(
    update(Battle)
    .where(Battle.id == bindparam("battle_id"),
           or_(Battle.state == "pending",
               and_(Battle.state == "generating",
                    _stale(bindparam("cutoff", type_=Battle.updated_at.type)))))
    .values(state="generating", heartbeat_at=bindparam("now", type_=Battle.heartbeat_at.type),
            updated_at=bindparam("now"))
    .returning(Battle.id))


def claim_generation(db: Database, battle_id: int, now: datetime,
                     stale_after: timedelta = STALE_AFTER) -> datetime | None:
    """Atomically move ``pending → generating`` (or take over a ``generating`` battle whose
    generator died); the lease for the one caller that did it, else None.

    The lease is the ``heartbeat_at`` value written here: every later write of the generator
    (heartbeats, the outcome) is conditional on it, so a generator that lost its battle to a
    takeover can never overwrite the new one's work.

    A prebuilt Core statement on the session's connection: the ORM would also evaluate the
    UPDATE against the loaded battle in Python, which the stream route does not need (it
    reads nothing of the battle's state after the claim).
    """
    claimed = _CLAIM.first(connection_of(db), {"battle_id": battle_id, "now": now,
                                               "cutoff": now - stale_after})
    return now if claimed is not None else None


def beat(db: Session, battle_id: int, lease: datetime, now: datetime) -> datetime | None:
    """Renew a generator's lease; the new lease, or None if the battle is no longer its own."""
    result = db.execute(update(Battle)
                        .where(Battle.id == battle_id, Battle.state == "generating",
                               Battle.heartbeat_at == lease)
                        .values(heartbeat_at=now))
    return now if result.rowcount == 1 else None  # type: ignore[attr-defined]


def recover_stale(db: Session, battle: Battle, now: datetime,
                  stale_after: timedelta = STALE_AFTER) -> bool:
    """Give a ``generating`` battle whose generator died back to its owner as ``pending``.

    Called on every read of a battle's state, so the owner's page (or retry) finds a battle it
    can stream again instead of ``already_streaming`` for ever. True if it was recovered.
    """
    if battle.state != "generating":
        return False
    result = db.execute(update(Battle)
                        .where(Battle.id == battle.id, Battle.state == "generating",
                               _stale(now - stale_after))
                        .values(state="pending", heartbeat_at=None, updated_at=now))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.refresh(battle)
    return True


def current_state(db: Database, battle_id: int) -> str:
    return str(db.scalar(select(Battle.state).where(Battle.id == battle_id)))


def reveal(battle: Battle | VoteTarget) -> dict[str, Any]:
    """Both contenders' public identities, for the vote response only."""
    return {"a": _identity(battle.contender_a), "b": _identity(battle.contender_b)}


def _identity(contender: Contender | Identity) -> dict[str, Any]:
    if not contender.is_public:
        # Unreleased models stay anonymous even after the vote.
        return {"name": contender.alias or "Unreleased model", "organization": "",
                "license": "", "public": False}
    return {"name": contender.name, "organization": contender.organization,
            "license": contender.license, "public": True}


def conversation(db: Session, battle_id: int
                 ) -> tuple[list[Turn], dict[tuple[int, str], Answer]]:
    """A battle's turns in order, and their answers keyed by ``(turn_id, side)``."""
    turns = list(db.scalars(select(Turn).where(Turn.battle_id == battle_id)
                            .order_by(Turn.position)))
    answers = {(a.turn_id, a.side): a
               for a in db.scalars(select(Answer).where(Answer.turn_id.in_([t.id for t in turns])))}
    return turns, answers


def battle_view(db: Session, battle: Battle, *, max_turns: int) -> dict[str, Any]:
    """The JSON shape of ``GET /battles/<id>``; identities appear only after the vote."""
    turns, answers = conversation(db, battle.id)

    def side(turn: Turn, name: str) -> dict[str, Any] | None:
        answer = answers.get((turn.id, name))
        if answer is None:
            return None
        shown: dict[str, Any] = {"text": answer.text, "html": render_markdown(answer.text)}
        if answer.media_sha256:
            from arena.battles.media import media_url  # media imports this module

            shown.update(media_url=media_url(battle.public_id, name, turn.position),
                         media_type=answer.media_type)
        if battle.state == "voted":
            # Per-side metadata tells contenders apart (speed, tokenizer, limits): only after
            # the vote, like the names.
            shown.update(finish_reason=answer.finish_reason, tokens=answer.completion_tokens,
                         latency_ms=answer.latency_ms)
        return shown

    body: dict[str, Any] = {
        "id": battle.public_id,
        "state": battle.state,
        "arena": battle.arena,
        "turns": [{"prompt": t.prompt, "prompt_html": render_markdown(t.prompt),
                   "a": side(t, "a"), "b": side(t, "b")} for t in turns],
        "can_continue": (battle.state == "ready" and len(turns) < max_turns
                         and battle.arena == "text"),
        "voted": battle.state == "voted",
        "flagged": battle.flagged,
    }
    if battle.state == "voted" and battle.vote is not None:
        body["winner"] = battle.vote.winner
        body["reveal"] = reveal(battle)
    return body


def reap_stale(db: Session, *, now: datetime, pending_after: timedelta,
               generating_after: timedelta) -> dict[str, int]:
    """Mark battles nobody will finish as ``abandoned``; returns counts per former state.

    A web process that dies mid-stream leaves its battle ``generating`` for ever, and a person
    who never opens the stream leaves it ``pending``: neither can be voted on, so a periodic job
    closes them. Ready (votable) battles are left alone.
    """
    counts: dict[str, int] = {}
    for state, age in (("pending", pending_after), ("generating", generating_after)):
        result = db.execute(update(Battle)
                            .where(Battle.state == state, Battle.updated_at < now - age)
                            .values(state="abandoned", updated_at=now))
        counts[state] = int(result.rowcount)  # type: ignore[attr-defined]
    return counts
