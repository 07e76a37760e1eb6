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
    evidence while a prompt seen up to ``FLOOD_K`` times is untouched. Where a battle has a
    ``prompt_group`` (:mod:`arena.categories.groups`: exact and near-duplicate prompts), the
    group is counted instead, so a flood of small variations of one prompt is down-weighted
    too. Battles without a prompt text (imports of files that have none) keep weight 1.
    Releases publish the weight of every battle in a ``weight`` column.

Columns, not objects
    The battles come from the per-battle facts table (:mod:`arena.leaderboard.facts`) as
    numpy columns (:class:`Facts`); a view's filter is a vectorised mask over them. The list
    of :class:`RatedBattle` (releases, tests) is built from the same columns, and every
    function here accepts either form with the same result.

Views (:data:`VIEWS`, :func:`view_spec`)
    ``overall`` (plain Bradley-Terry), ``style`` (length and markdown controlled), ``citation``
    (citations controlled), and categories: ``multi_turn``, ``long_prompt``, one
    ``lang-<code>`` view per detected prompt language, and ``cat-<label>`` and
    ``cat-<label>-style`` per classifier label (:func:`category_views`, labels from
    ``battle_label``). A view's battle filter is applied before the fit; the style views keep
    only battles with the features they control for.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import numpy as np
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

import ratings
from arena import modalities
from arena.errors import ArenaError
from arena.leaderboard.facts import (
    WINNER_CODE,
    Facts,
    load_facts,
    prompt_group_of,
    sync_facts,
)
from arena.models import WINNERS, Battle, Vote
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
    labels: frozenset[str] = frozenset()  # battle_label rows (arena.categories)
    prompt_group: str | None = None
    category_version: str | None = None
    arena: str = "text"  # the modality; every view fits the battles of one arena


Battles = Facts | Sequence[RatedBattle]


def _all(facts: Facts) -> np.ndarray:
    return np.ones(len(facts), dtype=bool)


@dataclass(frozen=True)
class ViewSpec:
    """One leaderboard view: which battles it fits and which style features it controls.

    ``mask`` selects the view's battles from the columns at once; a view defined only by a
    per-battle ``keep`` predicate still works (evaluated battle by battle, slower).
    """

    key: str
    title: str
    description: str
    control: tuple[str, ...] = ()
    category: bool = False
    keep: Callable[[RatedBattle], bool] | None = field(default=None, compare=False)
    mask: Callable[[Facts], np.ndarray] | None = field(default=None, compare=False)
    #: Merged into the snapshot's ``method`` (a category view's label and classifier version).
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: The arena (modality) whose battles the view fits.
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

    def select(self, facts: Facts) -> np.ndarray:
        """Boolean mask of the battles this view keeps (its filter only)."""
        if self.mask is not None:
            return np.asarray(self.mask(facts), dtype=bool)
        if self.keep is not None:
            keep = self.keep
            return np.fromiter((keep(b) for b in rated_battles(facts)), bool, len(facts))
        return _all(facts)


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("overall", "Overall", "Plain Bradley-Terry over every eligible vote."),
    ViewSpec("style", "Style-controlled",
             "Ratings with the effect of answer length and markdown (headers, lists, bold) "
             "fitted jointly and held equal.", control=("length", "markdown")),
    ViewSpec("citation", "Citation-controlled",
             "Ratings with the effect of the number of citations held equal.",
             control=("citations",)),
    ViewSpec("multi_turn", "Multi-turn", "Only conversations with two or more turns.",
             category=True, mask=lambda f: f.turn_count >= 2),
    ViewSpec("long_prompt", "Long prompts",
             f"Only battles whose prompts total at least {LONG_PROMPT_CHARS} characters.",
             category=True, mask=lambda f: f.prompt_chars >= LONG_PROMPT_CHARS),
)
_BY_KEY = {v.key: v for v in VIEWS}
_LANG_KEY = re.compile(r"^lang-([a-z]{2,3})$")
_CAT_KEY = re.compile(r"^cat-([a-z_]+?)(-style)?$")
#: Classifier labels with a view of their own (languages have their ``lang-`` views).
CATEGORY_VIEW_LABELS = ("coding", "math", "creative_writing", "instruction_following",
                        "hard_prompt", "multi_turn", "long_query")
_CATEGORY_TITLES = {"coding": "Coding", "math": "Math", "creative_writing": "Creative writing",
                    "instruction_following": "Instruction following",
                    "hard_prompt": "Hard prompts", "multi_turn": "Multi-turn (classifier)",
                    "long_query": "Longer queries"}


_LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese", "ru": "Russian", "de": "German", "es": "Spanish",
    "fr": "French", "ja": "Japanese", "ko": "Korean", "pt": "Portuguese", "it": "Italian",
    "pl": "Polish", "vi": "Vietnamese", "ar": "Arabic", "tr": "Turkish", "nl": "Dutch",
}


def language_view(code: str) -> ViewSpec:
    """The category view of battles whose prompt language is ``code`` (ISO 639-1)."""
    return ViewSpec(f"lang-{code}", _LANGUAGE_NAMES.get(code, f"Language: {code}"),
                    f"Only battles whose prompt was detected as language '{code}'.",
                    category=True, mask=lambda f: f.language_mask(code))


def category_view(label: str, *, style: bool = False) -> ViewSpec:
    """The view of battles the prompt classifier labelled ``label`` (style-controlled or not)."""
    from arena.categories.classify import CLASSIFIER_VERSION  # here: categories imports data

    title = _CATEGORY_TITLES.get(label, label)
    return ViewSpec(
        f"cat-{label}-style" if style else f"cat-{label}",
        f"{title} (style-controlled)" if style else title,
        f"Only battles whose prompt the offline classifier labelled '{label}'"
        + (", with answer length and markdown held equal." if style else "."),
        control=("length", "markdown") if style else (), category=True,
        keep=lambda b: label in b.labels, mask=lambda f: f.label_mask(label),
        meta={"category": label, "category_version": CLASSIFIER_VERSION})


def category_views(facts: Facts, among: np.ndarray | None = None) -> list[ViewSpec]:
    """Plain and style-controlled views of every category label some battle carries (among
    the ``among`` mask when given)."""
    present = set(facts.present_labels(among))
    return [category_view(label, style=style) for label in CATEGORY_VIEW_LABELS
            if label in present for style in (False, True)]


_MEDIA_KEY = re.compile(r"^([a-z0-9_]+)-(overall|style)$")


def media_views(arena: str) -> tuple[ViewSpec, ViewSpec]:
    """The views of a media arena: ``<arena>-overall`` and ``<arena>-style`` (its modality's
    style features — image: resolution, aspect, file size; audio: duration, loudness)."""
    modality = modalities.get(arena)
    probe = {"width": 1.0, "height": 1.0, "bytes": 1.0, "duration_s": 1.0, "loudness_dbfs": 0.0}
    control = tuple(modality.style_features(probe))
    return (ViewSpec(f"{arena}-overall", f"{modality.title}: overall",
                     f"Plain Bradley-Terry over every eligible vote of the {arena} arena.",
                     arena=arena, meta={"arena": arena}),
            ViewSpec(f"{arena}-style", f"{modality.title}: style-controlled",
                     f"{modality.title} ratings with {', '.join(control)} held equal.",
                     control=control, arena=arena, meta={"arena": arena}))


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
    match = _CAT_KEY.match(view)
    if match and match.group(1) in CATEGORY_VIEW_LABELS:
        return category_view(match.group(1), style=bool(match.group(2)))
    match = _MEDIA_KEY.match(view)
    if match and match.group(1) in modalities.names() and match.group(1) != "text":
        overall, style = media_views(match.group(1))
        return overall if match.group(2) == "overall" else style
    raise KeyError(view)


def views_for(battles: Battles) -> list[ViewSpec]:
    """Every view worth computing for these battles: the fixed (text) ones, one per language,
    the classifier's categories, then two per media arena that has battles."""
    facts = as_facts(battles)
    text = None if facts.arena is None else facts.arena_mask("text")
    media = [a for a in facts.present_arenas() if a != "text" and a in modalities.names()]
    return [*VIEWS, *(language_view(code) for code in facts.present_languages(text)),
            *category_views(facts, text),
            *(view for arena in media for view in media_views(arena))]


def flood_weights(prompts: Sequence[str | None], k: int = FLOOD_K,
                  groups: Sequence[str | None] | None = None) -> list[float]:
    """Per-battle weights ``min(1, k / count)`` of the prompt group where given, else of the
    normalised prompt (neither → 1.0)."""
    groups = groups if groups is not None else [None] * len(prompts)
    keys = [g if g else (None if p is None else prompt_group_of(p))
            for p, g in zip(prompts, groups, strict=True)]
    counts = Counter(key for key in keys if key is not None)
    return [1.0 if key is None else min(1.0, k / counts[key]) for key in keys]


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


def eligible_facts(db: Session, *, since: datetime | None = None,
                   until: datetime | None = None, cutoff: datetime | None = None,
                   flood_k: int = FLOOD_K, with_voters: bool = False,
                   sync: bool = True) -> Facts:
    """The battles a leaderboard counts as columns, ordered by ``(voted_at, battle_id)``.

    ``since <= voted_at < until`` selects a window (releases); ``voted_at <= cutoff`` is the
    data cutoff of a snapshot. Flood weights are computed over the selected set. ``sync``
    first brings the facts table up to date (see :func:`arena.leaderboard.facts.sync_facts`).
    """
    if sync:
        sync_facts(db)
    return load_facts(db, since=since, until=until, cutoff=cutoff, flood_k=flood_k,
                      with_voters=with_voters)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rated_battles(facts: Facts) -> list[RatedBattle]:
    """The columns as one :class:`RatedBattle` per battle (same order)."""
    names_a, names_b = facts.names("a"), facts.names("b")
    pub_a, pub_b = facts.public("a"), facts.public("b")
    keys = list(facts.features)
    columns = [facts.features[k] for k in keys]
    out = []
    for i in range(len(facts)):
        features = {k: float(col[i]) for k, col in zip(keys, columns, strict=True)
                    if not np.isnan(col[i])}
        out.append(RatedBattle(
            battle_id=int(facts.battle_id[i]),
            public_id="" if facts.public_id is None else str(facts.public_id[i]),
            created_at=_EPOCH + timedelta(microseconds=int(
                facts.voted_us[i] if facts.created_us is None else facts.created_us[i])),
            voted_at=_EPOCH + timedelta(microseconds=int(facts.voted_us[i])),
            contender_a_id=int(facts.a_id[i]), contender_b_id=int(facts.b_id[i]),
            model_a=str(names_a[i]), model_b=str(names_b[i]),
            public_a=bool(pub_a[i]), public_b=bool(pub_b[i]),
            winner=WINNERS[int(facts.winner[i])], weight=float(facts.weight[i]),
            features=features, turn_count=int(facts.turn_count[i]),
            prompt_chars=int(facts.prompt_chars[i]),
            language=facts.languages[int(facts.language[i])],
            voter_id=None if facts.voter_id is None else facts.voter_id[i],
            source="arena" if facts.source is None else str(facts.source[i]),
            labels=facts.labels_of(i),
            category_version=(None if facts.category_version is None
                              else facts.category_version[i]),
            arena="text" if facts.arena is None else facts.arenas[int(facts.arena[i])]))
    return out


def eligible_battles(db: Session, *, since: datetime | None = None,
                     until: datetime | None = None,
                     cutoff: datetime | None = None,
                     flood_k: int = FLOOD_K) -> list[RatedBattle]:
    """:func:`eligible_facts` as one :class:`RatedBattle` per battle (releases, tests)."""
    return rated_battles(eligible_facts(db, since=since, until=until, cutoff=cutoff,
                                        flood_k=flood_k, with_voters=True))


def as_facts(battles: Battles) -> Facts:
    """Columns of ``battles`` (a list of :class:`RatedBattle` is converted, in order)."""
    if isinstance(battles, Facts):
        return battles
    contenders: dict[int, tuple[str, bool]] = {}
    languages: dict[str | None, int] = {}
    arenas: dict[str, int] = {}
    features: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    n = len(battles)
    for i, b in enumerate(battles):
        contenders[b.contender_a_id] = (b.model_a, b.public_a)
        contenders[b.contender_b_id] = (b.model_b, b.public_b)
        for key, value in b.features.items():
            if key not in features:
                features[key] = np.full(n, np.nan)
            features[key][i] = value
        for label in b.labels:
            if label not in labels:
                labels[label] = np.zeros(n, dtype=bool)
            labels[label][i] = True
    return Facts(
        battle_id=np.array([b.battle_id for b in battles], dtype=np.int64),
        voted_us=np.array([(b.voted_at - _EPOCH) // timedelta(microseconds=1)
                           for b in battles], dtype=np.int64),
        a_id=np.array([b.contender_a_id for b in battles], dtype=np.int64),
        b_id=np.array([b.contender_b_id for b in battles], dtype=np.int64),
        winner=np.array([WINNER_CODE[b.winner] for b in battles], dtype=np.int8),
        weight=np.array([b.weight for b in battles], dtype=np.float64),
        turn_count=np.array([b.turn_count for b in battles], dtype=np.int32),
        prompt_chars=np.array([b.prompt_chars for b in battles], dtype=np.int64),
        language=np.array([languages.setdefault(b.language, len(languages)) for b in battles],
                          dtype=np.int16),
        languages=[lang for lang, _ in sorted(languages.items(), key=lambda kv: kv[1])],
        features=features, contenders=contenders,
        voter_id=np.array([b.voter_id for b in battles], dtype=object),
        source=np.array([b.source for b in battles], dtype=object),
        public_id=np.array([b.public_id for b in battles], dtype=object),
        created_us=np.array([(b.created_at - _EPOCH) // timedelta(microseconds=1)
                             for b in battles], dtype=np.int64),
        # the category views of the list form (they were lost here; found once votes got
        # their labels from the facts sync, see arena.categories.store.label_voted)
        labels=labels,
        category_version=np.array([b.category_version for b in battles], dtype=object),
        arena=np.array([arenas.setdefault(b.arena, len(arenas)) for b in battles], dtype=np.int8),
        arenas=[a for a, _ in sorted(arenas.items(), key=lambda kv: kv[1])] or ["text"])


def view_mask(battles: Battles, view: ViewSpec | str) -> np.ndarray:
    """Which battles a view fits: its filter, and all controlled features known on both sides."""
    facts = as_facts(battles)
    spec = view_spec(view)
    keep = spec.select(facts) & facts.arena_mask(spec.arena)
    for name in spec.features:
        for side in "ab":
            keep &= ~np.isnan(facts.feature(f"{name}_{side}"))
    return keep


def view_battles(battles: Battles, view: ViewSpec | str) -> Any:
    """The battles a view fits, in the form given (columns, or a list of battles)."""
    keep = view_mask(battles, view)
    if isinstance(battles, Facts):
        return battles.take(keep)
    return [b for b, k in zip(battles, keep, strict=True) if k]


def view_facts(battles: Battles, view: ViewSpec | str) -> Facts:
    """The columns a view's fit and snapshot read: its battles, with only the view's own
    feature columns and no labels (copying every column per view is most of a take)."""
    spec = view_spec(view)
    return as_facts(battles).take(
        view_mask(battles, spec), labels=False,
        features=[f"{name}_{side}" for name in spec.features for side in "ab"])


def varying_features(chosen: Battles, view: ViewSpec | str) -> tuple[str, ...]:
    """The view's controlled features whose covariate varies across ``chosen``.

    A feature that never varies (no answer in the data uses a markdown header, say) has no
    estimable effect, so the view controls for the others; ``method.control`` of the result
    lists those actually used.
    """
    facts = as_facts(chosen)
    out = []
    for name in view_spec(view).features:
        covariate = transform(facts.feature(f"{name}_a"), facts.feature(f"{name}_b"))
        if covariate.size and np.any(covariate != covariate[0]):
            out.append(name)
    return tuple(out)


def fit_view(battles: Battles, view: ViewSpec | str, *, n_bootstrap: int,
             seed: int, min_votes: int = 0, reg: float = DEFAULT_REG) -> ratings.LeaderboardResult:
    """The exact :func:`ratings.fit_leaderboard` call of a view.

    ``battles`` are all eligible battles (the view's filter is applied here). ``min_votes`` is
    the engine's: contenders with fewer battles are dropped from the fit. Publishing passes 0
    and marks such contenders provisional instead. Weights are passed only when some battle
    is down-weighted, so a fit of unit-weight battles is the same call as the command line's
    on a file without a ``weight`` column (the numbers are identical either way).
    """
    return fit_chosen(view_facts(battles, view), view, n_bootstrap=n_bootstrap, seed=seed,
                      min_votes=min_votes, reg=reg)


def view_features(chosen: Facts, view: ViewSpec | str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Raw per-side values of the features the view's fit controls for (those that vary)."""
    return {name: (chosen.feature(f"{name}_a"), chosen.feature(f"{name}_b"))
            for name in varying_features(chosen, view_spec(view))}


def fit_chosen(chosen: Facts, view: ViewSpec | str, *, n_bootstrap: int, seed: int,
               min_votes: int = 0, reg: float = DEFAULT_REG) -> ratings.LeaderboardResult:
    """:func:`fit_view` on battles already selected for the view (:func:`view_facts`)."""
    features = view_features(chosen, view)
    weights = chosen.weight
    return ratings.fit_leaderboard(
        chosen.names("a"), chosen.names("b"), chosen.winner_labels(),
        features=features or None, control=tuple(features),
        weights=None if bool(np.all(weights == 1.0)) else weights,
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


def publication_digest(state: dict[str, Any], settings: dict[str, Any]) -> str:
    """SHA-256 over what a publication saw (:func:`arena.leaderboard.facts.fact_state`, the
    contenders' names and public flags) and its settings: equal digests, nothing new."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"settings": settings, "data": state}, sort_keys=True,
                             default=str).encode())
    return digest.hexdigest()

