"""SQLAlchemy 2.x models for every part of the service.

Contenders battle; a battle has turns, each turn two answers (sides ``a`` and ``b``); a battle
gets at most one vote (a UNIQUE constraint, not only code). Published leaderboards are stored
as publications (one per `leaderboard publish` run) holding one snapshot per view. Data
releases record the files they produced.

Enumerations are strings with CHECK constraints so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

BATTLE_STATES = ("pending", "generating", "ready", "voted", "failed", "abandoned")
WINNERS = ("model_a", "model_b", "tie", "both_bad")
SIDES = ("a", "b")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Contender(Base):
    """A model under test, served by an OpenAI-compatible endpoint."""

    __tablename__ = "contender"
    __table_args__ = (CheckConstraint("weight >= 0", name="weight_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organization: Mapped[str] = mapped_column(String(100), default="")
    license: Mapped[str] = mapped_column(String(100), default="")
    # Public page of the model (model card, announcement); shown after the vote and on the
    # leaderboard.
    link: Mapped[str] = mapped_column(String(500), default="")
    base_url: Mapped[str] = mapped_column(String(500))
    upstream_model: Mapped[str] = mapped_column(String(200))
    api_key_env: Mapped[str | None] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    connect_timeout: Mapped[float] = mapped_column(Float, default=5.0)
    read_timeout: Mapped[float] = mapped_column(Float, default=60.0)
    total_timeout: Mapped[float] = mapped_column(Float, default=300.0)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    # Name of the arena (a registered modality: text, image, speech, music) it competes in;
    # battles pair only contenders of one arena.
    arena: Mapped[str] = mapped_column(String(32), default="text", server_default="text",
                                       index=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # Public alias of an unreleased contender under private test (e.g. "anonymous-7f3a"): shown
    # instead of the name until the ledger reveals it; never retracted once revealed.
    alias: Mapped[str | None] = mapped_column(String(100), unique=True)
    revealed_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    unhealthy_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Voter(Base):
    """A pseudonymous voter: a random id kept in a signed cookie. No personal data."""

    __tablename__ = "voter"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # May this voter's prompts and answers appear in data releases?
    release_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Opted out of data releases altogether (votes still count on the leaderboard).
    opted_out_at: Mapped[datetime | None]
    # Asked for deletion: texts erased, excluded from every later release.
    deletion_requested_at: Mapped[datetime | None]


class Battle(Base):
    """Two contenders answering the same conversation, anonymously, until the vote."""

    __tablename__ = "battle"
    __table_args__ = (
        CheckConstraint(_in("state", BATTLE_STATES), name="state_valid"),
        CheckConstraint("contender_a_id <> contender_b_id", name="distinct_contenders"),
        Index("ix_battle_state_created", "state", "created_at"),
        # The labelling backlog: votes land unlabelled and the next sync of the facts (every
        # publish and release cut) labels them; this index keeps finding them cheap at any size.
        Index("ix_battle_unlabelled", "id",
              postgresql_where=text("state = 'voted' AND category_version IS NULL"),
              sqlite_where=text("state = 'voted' AND category_version IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque, unguessable id used in URLs and the API (never the integer id).
    public_id: Mapped[str] = mapped_column(String(43), unique=True)
    voter_id: Mapped[str | None] = mapped_column(ForeignKey("voter.id"), index=True)
    contender_a_id: Mapped[int] = mapped_column(ForeignKey("contender.id"), index=True)
    contender_b_id: Mapped[int] = mapped_column(ForeignKey("contender.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # False for battles imported from arenas where the names were shown before voting.
    anony: Mapped[bool] = mapped_column(Boolean, default=True)
    # "arena" for battles fought here; "import" for battles read from clean_battle files.
    source: Mapped[str] = mapped_column(String(32), default="arena")
    # Idempotency key of an imported row, so re-running an import adds nothing.
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Keyed hash of the client address (rate limits, abuse review); never the raw address.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    # An answer revealed a contender's identity: excluded from ratings and releases.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reason: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))
    # The arena (modality) both contenders belong to; leaderboards and releases split by it.
    arena: Mapped[str] = mapped_column(String(32), default="text", server_default="text",
                                       index=True)
    # The voter's release consent as it stood when the battle was created: a battle's texts
    # are released only if this is true and the voter has not withdrawn consent by cut time.
    release_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Last sign of life of the process generating the answers; a `generating` battle whose
    # heartbeat is stale lost its generator and is recovered without a cron job.
    heartbeat_at: Mapped[datetime | None]
    # Version of the prompt classifier whose labels (BattleLabel rows) this battle carries;
    # None until labelled (a vote resets it: the next facts sync labels the final
    # conversation). A battle with no labels still records the version it was checked by.
    category_version: Mapped[str | None] = mapped_column(String(32))
    # Near-duplicate prompt group (exact after normalisation, or by embedding); floods of one
    # group are down-weighted on the default board.
    prompt_group: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    # Probability with which this ordered pair (left/right included) was drawn, and the
    # sampling policy version that drew it: inverse-probability weights for win-rate matrices.
    propensity: Mapped[float | None] = mapped_column(Float)
    policy_version: Mapped[str | None] = mapped_column(String(32))
    # Raw per-side style features, e.g. {"length_a": 120, "length_b": 80, ...}, computed when
    # the answers are complete (or read from an import), so publishing never re-parses texts.
    features: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Indexed: the per-battle facts are re-derived for battles changed since the last sync.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    ready_at: Mapped[datetime | None]

    contender_a: Mapped[Contender] = relationship(foreign_keys=[contender_a_id])
    contender_b: Mapped[Contender] = relationship(foreign_keys=[contender_b_id])
    turns: Mapped[list[Turn]] = relationship(
        back_populates="battle", order_by="Turn.position", cascade="all, delete-orphan")
    vote: Mapped[Vote | None] = relationship(back_populates="battle", uselist=False)


class Turn(Base):
    """One user message of a battle and the two answers to it."""

    __tablename__ = "turn"
    __table_args__ = (UniqueConstraint("battle_id", "position", name="uq_turn_battle_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("battle.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    battle: Mapped[Battle] = relationship(back_populates="turns")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="turn", order_by="Answer.side", cascade="all, delete-orphan")


class Answer(Base):
    """One side's answer to one turn, with the metadata the endpoint reported."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("turn_id", "side", name="uq_answer_turn_side"),
        CheckConstraint(_in("side", SIDES), name="side_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turn.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(1))
    text: Mapped[str] = mapped_column(Text, default="")
    completion_tokens: Mapped[int | None]
    prompt_tokens: Mapped[int | None]
    latency_ms: Mapped[int | None]
    first_token_ms: Mapped[int | None]
    finish_reason: Mapped[str | None] = mapped_column(String(32))
    citations: Mapped[list[Any]] = mapped_column(default=list)
    error_code: Mapped[str | None] = mapped_column(String(64))
    # Media answers (image/audio arenas): SHA-256 of the sanitised file in the media store
    # and its MIME type; the text stays empty. Served only through the battle.
    media_sha256: Mapped[str | None] = mapped_column(String(64))
    media_type: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    turn: Mapped[Turn] = relationship(back_populates="answers")


class ScrubbedTurn(Base):
    """A turn's texts as a release publishes them: PII-scrubbed, kept so that a release cut does
    not scrub again what ``flask releases scrub`` (or an earlier cut) already scrubbed.

    Valid only while ``version`` is the scrubber's (:func:`arena.releases.scrub.scrubber_version`)
    and ``digest`` that of the turn's current raw texts; anything else is scrubbed afresh.
    Deleting the turn (a voter's deletion request) deletes this copy with it.
    """

    __tablename__ = "scrubbed_turn"

    turn_id: Mapped[int] = mapped_column(
        ForeignKey("turn.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(32))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))  # BLAKE2b of the raw texts
    prompt: Mapped[str] = mapped_column(Text)
    answer_a: Mapped[str] = mapped_column(Text)
    answer_b: Mapped[str] = mapped_column(Text)


class Vote(Base):
    """The one vote of a battle. ``battle_id`` is UNIQUE: a second vote cannot be stored."""

    __tablename__ = "vote"
    __table_args__ = (CheckConstraint(_in("winner", WINNERS), name="winner_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    battle_id: Mapped[int] = mapped_column(
        ForeignKey("battle.id", ondelete="CASCADE"), unique=True)
    voter_id: Mapped[str | None] = mapped_column(ForeignKey("voter.id"), index=True)
    winner: Mapped[str] = mapped_column(String(16))
    feedback: Mapped[str | None] = mapped_column(Text)
    seconds_to_vote: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    battle: Mapped[Battle] = relationship(back_populates="vote")


class BattleLabel(Base):
    """One category label of a battle's prompt (``coding``, ``math``, ``language:de``, …).

    Written by the prompt classifier of ``battle.category_version``; re-labelling replaces a
    battle's rows as a whole.
    """

    __tablename__ = "battle_label"

    battle_id: Mapped[int] = mapped_column(
        ForeignKey("battle.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class LedgerEntry(Base):
    """One public, append-only record of a decision that changes what people see.

    Contenders added, retired, deprecated, weights or caps changed, the sampling policy
    changed, private tests started, aliases revealed. Rows are never updated or deleted (the
    ledger module refuses both), so every published number can be explained from the ledger
    and the votes.
    """

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    # Public name (or alias) of the contender concerned, as it was public at the time.
    subject: Mapped[str | None] = mapped_column(String(100))
    organization: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text)


class BattleFact(Base):
    """The narrow facts of one voted battle that publishing and releases read in bulk.

    Derived from ``battle``, ``vote`` and ``turn`` (see :mod:`arena.leaderboard.facts`): written
    with the vote, by imports, and re-derived for battles changed afterwards. Contender names
    and public flags are not copied: they may change, and the contender table is small.

    Style features are stored generically, so a new modality adds features without a schema
    change: ``feature_names`` lists the battle's feature keys (``length_a``, ``length_b``, …)
    sorted and comma-joined, ``feature_values`` holds the matching float64 values
    (big-endian, as PostgreSQL's ``float8send`` writes them, so SQL can fill them too).
    Battles with the same layout read back as one 2-D array.
    """

    __tablename__ = "battle_fact"
    __table_args__ = (Index("ix_battle_fact_voted", "voted_at", "battle_id"),)

    battle_id: Mapped[int] = mapped_column(
        ForeignKey("battle.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    voted_at: Mapped[datetime]
    contender_a_id: Mapped[int] = mapped_column(Integer)
    contender_b_id: Mapped[int] = mapped_column(Integer)
    winner: Mapped[str] = mapped_column(String(16))
    voter_id: Mapped[str | None] = mapped_column(String(32))
    turn_count: Mapped[int] = mapped_column(Integer)
    prompt_chars: Mapped[int] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16))
    # 63-bit hash of the flood group (the battle's ``prompt_group``, else its normalised first
    # prompt); None without a prompt text.
    prompt_key: Mapped[int | None] = mapped_column(BigInteger)
    feature_names: Mapped[str] = mapped_column(String(1000), default="")
    feature_values: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    anony: Mapped[bool] = mapped_column(Boolean)
    flagged: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    # The battle's arena (modality): every view fits the battles of one arena.
    arena: Mapped[str] = mapped_column(String(32), default="text", server_default="text")
    # The battle's ``propensity`` (chance its ordered pair was drawn), for weighted win rates.
    propensity: Mapped[float | None] = mapped_column(Float)
    # When this row last changed: the high-water mark of "anything new to publish?".
    synced_at: Mapped[datetime] = mapped_column(index=True)


class FactChange(Base):
    """One re-derivation of battle facts outside the vote path that changed rows (a flag or a
    failure after the vote, an import, a deletion request), with how many.

    Ids only grow, so the newest one tells a publication that the facts changed even where no
    ``battle_fact.synced_at`` moved forward (a fact removed; a clock set back): with the newest
    ``synced_at`` and battle id it makes "anything new?" three index lookups at any size.
    """

    __tablename__ = "fact_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    changed: Mapped[int] = mapped_column(Integer)


class Publication(Base):
    """One run of `leaderboard publish`: the data it saw and the snapshots it produced."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    data_cutoff: Mapped[datetime]
    n_battles: Mapped[int] = mapped_column(Integer)
    # SHA-256 over the state of the battle facts it read (count up to the cutoff, newest
    # change), the contenders' names and public flags, and the settings: publishing again
    # with nothing new is a no-op.
    battles_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_version: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    snapshots: Mapped[list[LeaderboardSnapshot]] = relationship(
        back_populates="publication", cascade="all, delete-orphan")


class LeaderboardSnapshot(Base):
    """One view (overall, style-controlled, a category, …) of one publication."""

    __tablename__ = "leaderboard_snapshot"
    __table_args__ = (UniqueConstraint("publication_id", "view", name="uq_snapshot_pub_view"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), index=True)
    view: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    n_battles: Mapped[int] = mapped_column(Integer)
    method: Mapped[dict[str, Any]] = mapped_column(default=dict)
    style: Mapped[dict[str, Any]] = mapped_column(default=dict)
    converged: Mapped[bool] = mapped_column(Boolean)
    gradient_norm: Mapped[float] = mapped_column(Float)
    # Matrices and other per-view extras (win probabilities, battle counts, rank intervals).
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    publication: Mapped[Publication] = relationship(back_populates="snapshots")
    entries: Mapped[list[SnapshotEntry]] = relationship(
        back_populates="snapshot", order_by="SnapshotEntry.rank",
        cascade="all, delete-orphan")


class SnapshotEntry(Base):
    """A contender's row in one snapshot."""

    __tablename__ = "snapshot_entry"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "contender_id", name="uq_entry_snapshot_contender"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("leaderboard_snapshot.id", ondelete="CASCADE"), index=True)
    contender_id: Mapped[int] = mapped_column(ForeignKey("contender.id"), index=True)
    rating: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    rank_ub: Mapped[int] = mapped_column(Integer)
    rank_low: Mapped[int | None]
    rank_high: Mapped[int | None]
    votes: Mapped[int] = mapped_column(Integer)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether the contender was public when the snapshot was made; unreleased ones are fitted
    # (they shape everyone else's ratings) but never shown.
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    snapshot: Mapped[LeaderboardSnapshot] = relationship(back_populates="entries")
    contender: Mapped[Contender] = relationship()


class DataRelease(Base):
    """A published window of battles: its files, checksums and the snapshot it reproduces."""

    __tablename__ = "data_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    n_battles: Mapped[int] = mapped_column(Integer)
    # [{"name": ..., "bytes": ..., "sha256": ..., "rows": ...}, ...]
    files: Mapped[list[Any]] = mapped_column(default=list)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    # The leaderboard computed from exactly these battles, and the command that recomputes it.
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    command: Mapped[str] = mapped_column(Text, default="")
    hub_repo: Mapped[str | None] = mapped_column(String(200))
    hub_revision: Mapped[str | None] = mapped_column(String(64))
    pushed_at: Mapped[datetime | None]


# Integrity tables live in their package; importing them here registers them with Base.
from arena.integrity import models as _integrity_models  # noqa: E402,F401
