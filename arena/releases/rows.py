"""Eligible battles of one window → the rows a release publishes (exclusions, pseudonyms, texts).

Decisions (also stated in every dataset card, see :mod:`arena.releases.card`):

* Eligibility is the leaderboard's (:func:`arena.leaderboard.data.eligible_battles`: voted,
  anonymous, not flagged), so a release holds exactly the battles a leaderboard counts, minus:
  battles with an **unreleased contender** (either side ``is_public=False``; left out of the
  release of their window for good, rather than shown under a placeholder), and battles of
  voters who **opted out** of releases or **asked for deletion** (checked when the release is
  cut, so it applies to every later release).
* Voters appear as ``voter``: HMAC-SHA256 under a key derived from ``SECRET_KEY`` of
  ``release name + voter id``, 16 hex characters. Two releases give the same voter different
  pseudonyms unless ``RELEASE_LINKABLE_PSEUDONYMS`` drops the release name from the message.
  Battles are identified by ``question_id``, a keyed hash of (release, battle) of the same
  kind: never the site's public battle id, which is a capability token.
* ``tstamp`` is the vote time floored to the hour (Unix seconds, UTC).
* ``conversation_a``/``conversation_b`` (OpenAI-style message lists, PII-scrubbed) only where
  the voter consented when the battle was created (``battle.release_consent``) *and* still
  consents when the release is cut (so withdrawing it before then keeps the texts out, and
  consenting later does not release battles typed without it); otherwise null. Vote
  feedback text is never released.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

import ratings
from arena.db import id_chunks
from arena.leaderboard.data import RatedBattle
from arena.models import Answer, Battle, Turn, Voter
from arena.releases.scrub import scrub_pool
from arena.releases.scrubbed import ScrubReport, scrub_turns

#: Reasons a battle of a window is left out of its release (counted in the manifest).
EXCLUSION_REASONS = ("unreleased_contender", "voter_opted_out", "voter_deleted")
#: Per-side answer metadata columns, summed over the turns of the battle.
ANSWER_COLUMNS = ("completion_tokens", "prompt_tokens", "latency_ms", "n_sources")
_HOUR = 3600


#: Battles whose rows are built at a time: their texts are read, scrubbed and held only while
#: their batch is written, so a cut's memory does not grow with its window.
ROW_BATCH = 10_000


@dataclass
class WindowRows:
    """The rows of one release and what was left out of it.

    ``kept`` (one battle per row) and ``excluded`` are known at once; the rows themselves are
    built batch by batch as :meth:`batches` is read (once), which also counts ``with_text`` and
    ``scrubbing``. :attr:`rows` holds them all in a list instead (tests, small windows).
    """

    kept: list[RatedBattle] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    with_text: int = 0
    scrubbing: ScrubReport = field(default_factory=ScrubReport)
    make: Callable[[], Iterator[list[dict[str, Any]]]] | None = field(default=None, repr=False)
    _rows: list[dict[str, Any]] | None = field(default=None, repr=False)

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """The rows in release order, a batch at a time."""
        if self._rows is not None:
            yield self._rows
            return
        if self.make is None:
            raise RuntimeError("the rows of this window were already read")
        make, self.make = self.make, None
        yield from make()

    @property
    def rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = [row for batch in self.batches() for row in batch]
        return self._rows


def release_key(secret_key: str) -> bytes:
    """The key behind every pseudonym of releases, derived from (never equal to) the secret."""
    return hmac.new(str(secret_key).encode(), b"arena data release pseudonyms v1",
                    hashlib.sha256).digest()


def pseudonym(key: bytes, release: str, kind: str, value: str, *, linkable: bool) -> str:
    """16 hex characters of HMAC(key, [release] + kind + value); see the module docstring."""
    scope = "" if linkable else release
    message = f"{scope}\x1f{kind}\x1f{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _voters(db: Session, ids: set[str]) -> dict[str, Voter]:
    found: dict[str, Voter] = {}
    for where in id_chunks(db, Voter.id, sorted(ids)):
        for voter in db.scalars(select(Voter).where(where)):
            found[voter.id] = voter
    return found


def _consented_battles(db: Session, battle_ids: list[int]) -> set[int]:
    """The battles whose voter consented to releasing texts when the battle was created."""
    found: set[int] = set()
    for where in id_chunks(db, Battle.id, battle_ids):
        found.update(db.scalars(select(Battle.id).where(where, Battle.release_consent.is_(True))))
    return found


@dataclass
class _Answer:
    side: str
    text: str
    completion_tokens: int | None
    prompt_tokens: int | None
    latency_ms: int | None
    n_sources: int


@dataclass
class _Turn:
    id: int
    prompt: str
    answers: list[_Answer] = field(default_factory=list)


def _n_sources(db: Session) -> Any:
    """SQL for the number of an answer's citations (0 where not a JSON array): counted by the
    database, not decoded into Python lists."""
    typeof = "json_typeof" if db.get_bind().dialect.name == "postgresql" else "json_type"
    return case((getattr(func, typeof)(Answer.citations) == "array",
                 func.json_array_length(Answer.citations)), else_=0)


def _turns(db: Session, battle_ids: list[int]) -> dict[int, list[_Turn]]:
    """Turns with their answers, per battle: two plain queries per chunk, no ORM objects."""
    out: dict[int, list[_Turn]] = {}
    n_sources = _n_sources(db)
    for where in id_chunks(db, Turn.battle_id, battle_ids):
        by_id: dict[int, _Turn] = {}
        for battle_id, turn_id, prompt in db.execute(
                select(Turn.battle_id, Turn.id, Turn.prompt).where(where)
                .order_by(Turn.battle_id, Turn.position)):
            by_id[turn_id] = turn = _Turn(id=turn_id, prompt=prompt)
            out.setdefault(battle_id, []).append(turn)
        if not by_id:
            continue
        for answers in id_chunks(db, Answer.turn_id, list(by_id)):
            for row in db.execute(
                    select(Answer.turn_id, Answer.side, Answer.text, Answer.completion_tokens,
                           Answer.prompt_tokens, Answer.latency_ms, n_sources)
                    .where(answers).order_by(Answer.turn_id, Answer.side)):
                by_id[row[0]].answers.append(_Answer(*row[1:]))
    return out


def _side_totals(turns: list[_Turn], side: str) -> dict[str, int | None]:
    """Per-side sums over the battle's turns (None where no answer reported the column)."""
    sums: list[int | None] = [None, None, None]
    n_sources: int | None = None
    for turn in turns:
        for answer in turn.answers:
            if answer.side != side:
                continue
            n_sources = (n_sources or 0) + answer.n_sources
            for k, value in enumerate((answer.completion_tokens, answer.prompt_tokens,
                                       answer.latency_ms)):
                if value is not None:
                    sums[k] = (sums[k] or 0) + int(value)
    return {"completion_tokens": sums[0], "prompt_tokens": sums[1], "latency_ms": sums[2],
            "n_sources": n_sources}


def _raw_texts(turn: _Turn) -> list[str]:
    """A turn's prompt, then side a's and side b's answer ("" where none)."""
    out = [turn.prompt]
    for side in "ab":
        answer = next((a for a in turn.answers if a.side == side), None)
        out.append(answer.text if answer is not None else "")
    return out


def _texts_of(turns: dict[int, list[_Turn]],
              battle_ids: Sequence[int]) -> list[tuple[int, list[str]]]:
    """``(turn id, [prompt, answer a, answer b])`` of every turn of these battles, in order."""
    return [(turn.id, _raw_texts(turn)) for battle_id in battle_ids
            for turn in turns.get(battle_id, [])]


def turn_texts(db: Session, battle_ids: list[int]) -> list[tuple[int, list[str]]]:
    """:func:`_texts_of` these battles, read from the database."""
    return _texts_of(_turns(db, battle_ids), battle_ids)


def _conversation(texts: list[str], side: str) -> list[dict[str, str]]:
    """One side's messages from the scrubbed texts of :func:`_raw_texts`, turn after turn."""
    messages: list[dict[str, str]] = []
    for i in range(0, len(texts), 3):
        messages.append({"role": "user", "content": texts[i]})
        messages.append({"role": "assistant", "content": texts[i + 1 + "ab".index(side)]})
    return messages


def texts_releasable(battle_consented: bool, voter: Voter | None) -> bool:
    """The one consent rule for releasing a kept battle's texts (prompts and answers).

    Consent given when the battle was created (``battle.release_consent``) and not withdrawn
    by cut time (the voter's current choice).
    """
    return battle_consented and voter is not None and bool(voter.release_consent)


def release_rows(db: Session, battles: Sequence[RatedBattle], *, release: str,
                 secret_key: str, linkable: bool) -> WindowRows:
    """The published rows of ``battles`` (one window's eligible battles), in release order.

    Rows keep the leaderboard's order (vote time, then battle), because the bootstrap resamples
    rows: the same rows in another order would give other intervals. Every row has the same
    keys; the feature columns are those of :data:`ratings.FEATURE_NAMES` on both sides (null
    where the battle has none).
    """
    key = release_key(secret_key)
    voters = _voters(db, {b.voter_id for b in battles if b.voter_id})
    result = WindowRows()
    kept: list[RatedBattle] = []
    for battle in battles:
        voter = voters.get(battle.voter_id) if battle.voter_id else None
        if not (battle.public_a and battle.public_b):
            result.excluded["unreleased_contender"] += 1
        elif voter is not None and voter.deletion_requested_at is not None:
            result.excluded["voter_deleted"] += 1
        elif voter is not None and voter.opted_out_at is not None:
            result.excluded["voter_opted_out"] += 1
        else:
            kept.append(battle)
    consented = _consented_battles(db, [b.battle_id for b in kept])
    consenting = {b.battle_id for b in kept
                  if texts_releasable(b.battle_id in consented,
                                      voters.get(b.voter_id) if b.voter_id else None)}
    result.kept = kept

    @functools.cache
    def voter_pseudonym(voter_id: str) -> str:  # once per voter, not once per battle
        return pseudonym(key, release, "voter", voter_id, linkable=linkable)

    row = functools.partial(_row, key=key, release=release, linkable=linkable,
                            voter_pseudonym=voter_pseudonym)

    def make() -> Iterator[list[dict[str, Any]]]:
        with scrub_pool() as pool:  # one set of workers for every batch that needs them
            for start in range(0, len(kept), ROW_BATCH):
                yield _batch_rows(db, kept[start:start + ROW_BATCH], consenting, result,
                                  pool=pool, row=row)

    result.make = make
    return result


def _batch_rows(db: Session, chunk: Sequence[RatedBattle], consenting: set[int],
                result: WindowRows, *, pool: Executor | None,
                row: Callable[[RatedBattle, list[_Turn]], dict[str, Any]]
                ) -> list[dict[str, Any]]:
    """The rows of one batch of kept battles: their turns, their texts from the scrubbed
    copies where current (`releases scrub`), the rest scrubbed here."""
    turns = _turns(db, [b.battle_id for b in chunk])
    texted = [b.battle_id for b in chunk if b.battle_id in consenting and turns.get(b.battle_id)]
    flat = scrub_turns(db, _texts_of(turns, texted), result.scrubbing, pool=pool)
    scrubbed: dict[int, list[str]] = {}
    at = 0
    for battle_id in texted:
        n = len(turns[battle_id])
        scrubbed[battle_id] = [text for texts in flat[at:at + n] for text in texts]
        at += n
    del flat
    rows = []
    for battle in chunk:
        out = row(battle, turns.get(battle.battle_id, []))
        if battle.battle_id in scrubbed:
            out["conversation_a"] = _conversation(scrubbed[battle.battle_id], "a")
            out["conversation_b"] = _conversation(scrubbed[battle.battle_id], "b")
            result.with_text += 1
        rows.append(out)
    return rows


def _row(battle: RatedBattle, battle_turns: list[_Turn], *, key: bytes, release: str,
         linkable: bool, voter_pseudonym: Callable[[str], str]) -> dict[str, Any]:
    """A battle's row without its texts (``conversation_a``/``_b`` None)."""
    row: dict[str, Any] = {
        "question_id": pseudonym(key, release, "battle", str(battle.battle_id),
                                 linkable=linkable),
        "model_a": battle.model_a,
        "model_b": battle.model_b,
        "winner": battle.winner,
        "weight": float(battle.weight),
        "tstamp": float(int(battle.voted_at.timestamp()) // _HOUR * _HOUR),
        "turn": int(battle.turn_count),
        "language": battle.language,
        "anony": True,
        "source": battle.source,
        "voter": voter_pseudonym(battle.voter_id) if battle.voter_id else None,
        # Prompt categories (arena.categories) and the classifier version that gave them.
        "labels": sorted(battle.labels),
        "category_version": battle.category_version,
    }
    for name in ratings.FEATURE_NAMES:
        for side in "ab":
            value = battle.features.get(f"{name}_{side}")
            row[f"{name}_{side}"] = None if value is None else float(value)
    row["features_complete"] = all(row[f"{name}_{side}"] is not None
                                   for name in ratings.FEATURE_NAMES for side in "ab")
    for side in "ab":
        for column, value in _side_totals(battle_turns, side).items():
            row[f"{column}_{side}"] = value
    row["conversation_a"] = None
    row["conversation_b"] = None
    return row
