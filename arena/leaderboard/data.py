"""Votes in SQL → the battles a leaderboard counts, and the exact engine call of every view.

This is the only place that turns ORM rows into arrays for :mod:`ratings`. Data releases use
the same functions, so a published snapshot can be recomputed from a release.

Eligibility (:func:`eligible_battles`)
    A battle counts when it is ``voted`` (so it did not fail, was not abandoned and has its one
    vote), was fought anonymously (``anony``), and is not ``flagged`` (an answer revealed a
    contender's identity). Unreleased contenders' battles count too: they shape everyone
    else's ratings; the publishing layer hides their names.

Prompt floods (:func:`flood_weights`)
    A prompt sent very often (a benchmark question pasted again and again, a bot) would
    otherwise dominate the fit. The first user prompt of each battle is normalised (Unicode
    NFKC, case-folded, runs of whitespace collapsed to one space, stripped); among the selected
    battles, a normalised prompt seen ``count`` times gives each of its battles the weight
    ``min(1, FLOOD_K / count)``, so a flood contributes at most ``FLOOD_K`` battles' worth of
    evidence while a prompt seen up to ``FLOOD_K`` times is untouched. Battles without a
    prompt text (imports of files that have none) keep weight 1. Releases publish the weight
    of every battle in a ``weight`` column.

Views (:data:`VIEWS`, :func:`view_spec`)
    ``overall`` (plain Bradley-Terry), ``style`` (length and markdown controlled), ``citation``
    (citations controlled), and categories: ``multi_turn``, ``long_prompt`` and one
    ``lang-<code>`` view per detected prompt language. A view's battle filter is applied
    before the fit; the style views keep only battles with the features they control for.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

import numpy as np
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

import ratings
from arena import modalities
from arena.errors import ArenaError
from arena.models import Battle, Contender, Turn, Vote
from ratings.features import transform

#: A normalised first prompt seen ``count`` times weighs ``min(1, FLOOD_K / count)`` per battle.
FLOOD_K = 20
#: Total characters of a battle's user prompts from which it counts as a "long prompt".
LONG_PROMPT_CHARS = 1000
#: Fewest battles with which a view is fitted; smaller views are skipped, not failed.
MIN_VIEW_BATTLES = 50
#: Default L2 penalty of published fits: FastChat's (scikit-learn ``C=1``). It keeps a young
#: arena publishable (with reg = 0 a contender that has never lost has no finite rating) and
#: keeps contender families that never met on one scale, reported as separate components.
DEFAULT_REG = ratings.FASTCHAT_REG


class _FitOptions(TypedDict):
    ties: str
    both_bad: str
    ci: str


#: How every published fit treats ties and "both bad" and computes intervals; stored in each
#: publication's settings, so they are part of its battles hash.
FIT_OPTIONS: _FitOptions = {"ties": "half", "both_bad": "tie", "ci": "bootstrap"}

_WS = re.compile(r"\s+")


def configured_reg(value: Any) -> float:
    """The ``LEADERBOARD_REG`` setting as a number (None: :data:`DEFAULT_REG`).

    Publishing and releases both read it here, so a release's snapshot is fitted as the site's.
    """
    if value is None:
        return DEFAULT_REG
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ArenaError(f"Config LEADERBOARD_REG must be a number, got {value!r}.",
                         code="config_error", status=500) from None


@dataclass(frozen=True)
class RatedBattle:
    """One eligible battle, as the rating engine and releases see it."""

    battle_id: int
    public_id: str
    created_at: datetime
    voted_at: datetime
    contender_a_id: int
    contender_b_id: int
    model_a: str  # contender names
    model_b: str
    public_a: bool
    public_b: bool
    winner: str  # model_a / model_b / tie / both_bad
    weight: float  # prompt-flood weight (1.0 normally)
    features: dict[str, float]  # raw per-side values "<feature>_a"/"<feature>_b"; may be empty
    turn_count: int
    prompt_chars: int
    language: str | None
    voter_id: str | None
    source: str
    arena: str = "text"  # the modality; every view fits the battles of one arena


@dataclass(frozen=True)
class ViewSpec:
    """One leaderboard view: which battles it fits and which style features it controls."""

    key: str
    title: str
    description: str
    control: tuple[str, ...] = ()
    category: bool = False
    keep: Callable[[RatedBattle], bool] = field(default=lambda _b: True, compare=False)
    arena: str = "text"

    @property
    def features(self) -> tuple[str, ...]:
        """Feature names (sets expanded) the fit controls for."""
        out: list[str] = []
        for name in self.control:
            for feature in ratings.FEATURE_SETS.get(name, (name,)):
                if feature not in out:
                    out.append(feature)
        return tuple(out)


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("overall", "Overall", "Plain Bradley-Terry over every eligible vote."),
    ViewSpec("style", "Style-controlled",
             "Ratings with the effect of answer length and markdown (headers, lists, bold) "
             "fitted jointly and held equal.", control=("length", "markdown")),
    ViewSpec("citation", "Citation-controlled",
             "Ratings with the effect of the number of citations held equal.",
             control=("citations",)),
    ViewSpec("multi_turn", "Multi-turn", "Only conversations with two or more turns.",
             category=True, keep=lambda b: b.turn_count >= 2),
    ViewSpec("long_prompt", "Long prompts",
             f"Only battles whose prompts total at least {LONG_PROMPT_CHARS} characters.",
             category=True, keep=lambda b: b.prompt_chars >= LONG_PROMPT_CHARS),
)
_BY_KEY = {v.key: v for v in VIEWS}
_LANG_KEY = re.compile(r"^lang-([a-z]{2,3})$")


_LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese", "ru": "Russian", "de": "German", "es": "Spanish",
    "fr": "French", "ja": "Japanese", "ko": "Korean", "pt": "Portuguese", "it": "Italian",
    "pl": "Polish", "vi": "Vietnamese", "ar": "Arabic", "tr": "Turkish", "nl": "Dutch",
}


def language_view(code: str) -> ViewSpec:
    """The category view of battles whose prompt language is ``code`` (ISO 639-1)."""
    return ViewSpec(f"lang-{code}", _LANGUAGE_NAMES.get(code, f"Language: {code}"),
                    f"Only battles whose prompt was detected as language '{code}'.",
                    category=True, keep=lambda b: b.language == code)


_MEDIA_KEY = re.compile(r"^([a-z0-9_]+)-(overall|style)$")


def media_views(arena: str) -> tuple[ViewSpec, ViewSpec]:
    """The views of a media arena: ``<arena>-overall`` and ``<arena>-style`` (its modality's
    style features — image: resolution, aspect, file size; audio: duration, loudness)."""
    modality = modalities.get(arena)
    probe = {"width": 1.0, "height": 1.0, "bytes": 1.0, "duration_s": 1.0, "loudness_dbfs": 0.0}
    control = tuple(modality.style_features(probe))
    return (ViewSpec(f"{arena}-overall", f"{modality.title}: overall",
                     f"Plain Bradley-Terry over every eligible vote of the {arena} arena.",
                     arena=arena),
            ViewSpec(f"{arena}-style", f"{modality.title}: style-controlled",
                     f"{modality.title} ratings with {', '.join(control)} held equal.",
                     control=control, arena=arena))


def view_spec(view: ViewSpec | str) -> ViewSpec:
    """The spec of a view key (``overall``, ``style``, …, ``lang-en``, ``image-overall``);
    ``KeyError`` if none."""
    if isinstance(view, ViewSpec):
        return view
    if view in _BY_KEY:
        return _BY_KEY[view]
    match = _LANG_KEY.match(view)
    if match:
        return language_view(match.group(1))
    match = _MEDIA_KEY.match(view)
    if match and match.group(1) in modalities.names() and match.group(1) != "text":
        overall, style = media_views(match.group(1))
        return overall if match.group(2) == "overall" else style
    raise KeyError(view)


def views_for(battles: Sequence[RatedBattle]) -> list[ViewSpec]:
    """Every view worth computing for these battles: the fixed (text) ones, one per language,
    then two per media arena that has battles."""
    languages = sorted({b.language for b in battles if b.language and b.arena == "text"})
    media = [a for a in modalities.names() if a != "text" and any(b.arena == a for b in battles)]
    return [*VIEWS, *(language_view(code) for code in languages),
            *(view for arena in media for view in media_views(arena))]


def normalise_prompt(text: str) -> str:
    """The form under which two prompts count as the same for flood weighting."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def flood_weights(prompts: Sequence[str | None], k: int = FLOOD_K) -> list[float]:
    """Per-battle weights ``min(1, k / count)`` of the normalised prompt (``None`` → 1.0)."""
    keys = [None if p is None else normalise_prompt(p) for p in prompts]
    counts = Counter(key for key in keys if key is not None)
    return [1.0 if key is None else min(1.0, k / counts[key]) for key in keys]


def _clean_features(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        return {}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value) and value >= 0:
            out[str(key)] = float(value)
    return out


def _eligible() -> tuple[ColumnElement[bool], ...]:
    # voted (so it has its one vote), fought anonymously, and no answer revealed an identity
    return Battle.state == "voted", Battle.anony.is_(True), Battle.flagged.is_(False)


def first_eligible_vote(db: Session, *, until: datetime | None = None) -> datetime | None:
    """Time of the earliest vote :func:`eligible_battles` would return (one aggregate query)."""
    query = select(func.min(Vote.created_at)).join(Battle, Battle.id == Vote.battle_id)
    query = query.where(*_eligible())
    if until is not None:
        query = query.where(Vote.created_at < until)
    return db.scalar(query)


def eligible_battles(db: Session, *, since: datetime | None = None,
                     until: datetime | None = None,
                     cutoff: datetime | None = None,
                     flood_k: int = FLOOD_K) -> list[RatedBattle]:
    """The battles a leaderboard counts, ordered by ``(voted_at, battle_id)``.

    ``since <= voted_at < until`` selects a window (releases); ``voted_at <= cutoff`` is the
    data cutoff of a snapshot. Flood weights are computed over the selected set.
    """
    ca, cb = aliased(Contender), aliased(Contender)
    stats = (select(Turn.battle_id.label("battle_id"),
                    func.count(Turn.id).label("turns"),
                    func.coalesce(func.sum(func.length(Turn.prompt)), 0).label("chars"),
                    func.min(Turn.position).label("first"))
             .group_by(Turn.battle_id).subquery())
    first = aliased(Turn)
    query = (
        select(Battle.id, Battle.public_id, Battle.created_at, Vote.created_at,
               Battle.contender_a_id, Battle.contender_b_id, ca.name, cb.name,
               ca.is_public, cb.is_public, Vote.winner, Battle.features,
               stats.c.turns, stats.c.chars, first.prompt, Battle.language,
               func.coalesce(Vote.voter_id, Battle.voter_id), Battle.source, Battle.arena)
        .join(Vote, Vote.battle_id == Battle.id)
        .join(ca, ca.id == Battle.contender_a_id)
        .join(cb, cb.id == Battle.contender_b_id)
        .outerjoin(stats, stats.c.battle_id == Battle.id)
        .outerjoin(first, (first.battle_id == Battle.id) & (first.position == stats.c.first))
        .where(*_eligible())
        .order_by(Vote.created_at, Battle.id)
    )
    if since is not None:
        query = query.where(Vote.created_at >= since)
    if until is not None:
        query = query.where(Vote.created_at < until)
    if cutoff is not None:
        query = query.where(Vote.created_at <= cutoff)
    rows = db.execute(query).all()
    weights = flood_weights([row[14] for row in rows], flood_k)
    return [
        RatedBattle(
            battle_id=row[0], public_id=row[1], created_at=row[2], voted_at=row[3],
            contender_a_id=row[4], contender_b_id=row[5], model_a=row[6], model_b=row[7],
            public_a=bool(row[8]), public_b=bool(row[9]), winner=row[10], weight=weight,
            features=_clean_features(row[11]), turn_count=int(row[12] or 0),
            prompt_chars=int(row[13] or 0), language=row[15], voter_id=row[16], source=row[17],
            arena=row[18] or "text",
        )
        for row, weight in zip(rows, weights, strict=True)
    ]


def view_battles(battles: Iterable[RatedBattle], view: ViewSpec | str) -> list[RatedBattle]:
    """The battles a view fits: its filter, and all controlled features known on both sides."""
    spec = view_spec(view)
    needed = [f"{name}_{side}" for name in spec.features for side in "ab"]
    return [b for b in battles
            if b.arena == spec.arena and spec.keep(b) and all(k in b.features for k in needed)]


def varying_features(chosen: Sequence[RatedBattle], view: ViewSpec | str) -> tuple[str, ...]:
    """The view's controlled features whose covariate varies across ``chosen``.

    A feature that never varies (no answer in the data uses a markdown header, say) has no
    estimable effect, so the view controls for the others; ``method.control`` of the result
    lists those actually used.
    """
    out = []
    for name in view_spec(view).features:
        a = np.array([b.features[f"{name}_a"] for b in chosen], dtype=np.float64)
        b = np.array([b.features[f"{name}_b"] for b in chosen], dtype=np.float64)
        covariate = transform(a, b)
        if covariate.size and np.any(covariate != covariate[0]):
            out.append(name)
    return tuple(out)


def fit_view(battles: Sequence[RatedBattle], view: ViewSpec | str, *, n_bootstrap: int,
             seed: int, min_votes: int = 0, reg: float = DEFAULT_REG) -> ratings.LeaderboardResult:
    """The exact :func:`ratings.fit_leaderboard` call of a view.

    ``battles`` are all eligible battles (the view's filter is applied here). ``min_votes`` is
    the engine's: contenders with fewer battles are dropped from the fit. Publishing passes 0
    and marks such contenders provisional instead. Weights are passed only when some battle
    is down-weighted, so a fit of unit-weight battles is the same call as the command line's
    on a file without a ``weight`` column (the numbers are identical either way).
    """
    spec = view_spec(view)
    chosen = view_battles(battles, spec)
    features = {
        name: ([b.features[f"{name}_a"] for b in chosen], [b.features[f"{name}_b"] for b in chosen])
        for name in varying_features(chosen, spec)
    }
    weights = [b.weight for b in chosen]
    return ratings.fit_leaderboard(
        [b.model_a for b in chosen], [b.model_b for b in chosen], [b.winner for b in chosen],
        features=features or None, control=tuple(features),
        weights=None if all(w == 1.0 for w in weights) else weights,
        **FIT_OPTIONS, reg=reg, n_bootstrap=n_bootstrap, seed=seed, min_votes=min_votes,
    )


def battle_record(battle: RatedBattle) -> dict[str, Any]:
    """One battle as a FastChat ``clean_battle``-shaped row that ``python -m ratings`` reads."""
    record: dict[str, Any] = {
        "model_a": battle.model_a, "model_b": battle.model_b, "winner": battle.winner,
        "weight": battle.weight, "tstamp": battle.voted_at.timestamp(),
        "turn": battle.turn_count, "language": battle.language,
    }
    if battle.arena != "text":
        record["arena"] = battle.arena  # text rows keep FastChat's exact shape
    record.update(sorted(battle.features.items()))
    return record


def battles_hash(battles: Sequence[RatedBattle], settings: dict[str, Any]) -> str:
    """SHA-256 over the battles' ids, outcomes, weights, features and language, plus settings.

    Publishing the same data with the same settings and code gives the same hash.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for b in battles:
        row = [b.battle_id, b.contender_a_id, b.contender_b_id, b.public_a, b.public_b,
               b.winner, repr(b.weight), sorted(b.features.items()), b.turn_count,
               b.prompt_chars, b.language]
        digest.update(json.dumps(row, default=str).encode())
        digest.update(b"\n")
    return digest.hexdigest()
