"""Scrubbed texts kept between release cuts (:class:`arena.models.ScrubbedTurn`).

Scrubbing is most of what a release cut costs (every prompt and answer of its window through
every detector of :mod:`arena.releases.scrub`), and a text never changes once its battle is
voted. So each turn is scrubbed once: ``flask releases scrub``, run from cron like the other
jobs, scrubs the texts of newly voted battles and stores them in small committed batches; a
cut reads those copies and scrubs whatever has none in memory (it stores nothing: its
transaction stays read-only on texts, and a deletion request never waits for it).

A copy is used only while it was made by this scrubber (:func:`~arena.releases.scrub.
scrubber_version`: its rules, libphonenumber's data, Python's Unicode tables) and its digest
matches the turn's raw texts as the cut reads them, so an edited text, a changed scrubber or a
copy made from other texts is scrubbed again: the release is the same, byte for byte, as one
that scrubbed everything. Deleting a voter's texts deletes their turns and, by cascade, these
copies.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.db import id_chunks
from arena.models import Battle, ScrubbedTurn, Turn
from arena.releases.scrub import scrub_many, scrub_pool, scrubber_version

log = logging.getLogger(__name__)

#: Copies written per INSERT statement.
_CHUNK = 500
#: Battles scrubbed and committed at a time by ``releases scrub``.
BATCH = 2000
#: Batches in a row that may fail on a concurrent deletion before ``releases scrub`` gives up.
_RETRIES = 3


def texts_digest(texts: Sequence[str]) -> bytes:
    """BLAKE2b-128 of a turn's raw texts (prompt, answer a, answer b): their lengths, then the
    texts themselves, so no two different triples give the same input."""
    head = ",".join(str(len(text)) for text in texts) + "\x00"
    return hashlib.blake2b((head + "".join(texts)).encode("utf-8", "surrogatepass"),
                           digest_size=16).digest()


@dataclass
class ScrubReport:
    turns: int = 0  # turns whose texts were scrubbed now (the rest came from copies)
    reused: int = 0  # turns whose current copy was used
    chars: int = 0  # characters scrubbed now


def _upsert(db: Session, rows: list[dict[str, Any]]) -> None:
    """Write copies; a copy another job wrote meanwhile is replaced (same turn, same texts)."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), _CHUNK):
        statement = dialect.insert(ScrubbedTurn).values(rows[start:start + _CHUNK])
        db.execute(statement.on_conflict_do_update(
            index_elements=[ScrubbedTurn.turn_id],
            set_={c: getattr(statement.excluded, c)
                  for c in ("version", "digest", "prompt", "answer_a", "answer_b")}))


def scrub_turns(db: Session, turns: Sequence[tuple[int, Sequence[str]]],
                report: ScrubReport | None = None, *, store: bool = False,
                pool: Executor | None = None) -> list[list[str]]:
    """The scrubbed texts of each ``(turn id, [prompt, answer a, answer b])``, in order.

    Current copies are read; the other turns are scrubbed in one batch (spread over processes
    when large), and with ``store`` their copies are written (not committed).
    """
    report = report if report is not None else ScrubReport()
    version = scrubber_version()
    stored: dict[int, tuple[str, bytes, str, str, str]] = {}
    for where in id_chunks(db, ScrubbedTurn.turn_id, [turn_id for turn_id, _ in turns]):
        for row in db.execute(
                select(ScrubbedTurn.turn_id, ScrubbedTurn.version, ScrubbedTurn.digest,
                       ScrubbedTurn.prompt, ScrubbedTurn.answer_a, ScrubbedTurn.answer_b)
                .where(where)):
            stored[row[0]] = (row[1], bytes(row[2]), row[3], row[4], row[5])
    out: list[list[str]] = []
    missing: list[tuple[int, int, bytes]] = []  # (position in out, turn id, digest)
    for turn_id, texts in turns:
        if len(texts) != 3:
            raise ValueError(f"turn {turn_id}: expected prompt and two answers, got {len(texts)}")
        digest = texts_digest(texts)
        copy = stored.get(turn_id)
        if copy is not None and copy[0] == version and copy[1] == digest:
            out.append(list(copy[2:]))
            report.reused += 1
        else:
            missing.append((len(out), turn_id, digest))
            out.append([])
    if not missing:
        return out
    raw = [text for at, _, _ in missing for text in turns[at][1]]
    flat = scrub_many(raw, pool=pool)
    report.turns += len(missing)
    report.chars += sum(map(len, raw))
    for k, (at, _, _) in enumerate(missing):
        out[at] = flat[3 * k:3 * k + 3]
    if store:
        _upsert(db, [{"turn_id": turn_id, "version": version, "digest": digest,
                      "prompt": out[at][0], "answer_a": out[at][1], "answer_b": out[at][2]}
                     for at, turn_id, digest in missing])
    return out


def pending_battles(db: Session, *, limit: int, after: int = 0) -> list[int]:
    """Voted battles typed with release consent, with ids above ``after``, that have a turn
    without a copy from this scrubber (up to ``limit``, in id order)."""
    return list(db.scalars(
        select(Turn.battle_id).join(Battle, Battle.id == Turn.battle_id)
        .outerjoin(ScrubbedTurn, ScrubbedTurn.turn_id == Turn.id)
        .where(Turn.battle_id > after, Battle.state == "voted",
               Battle.release_consent.is_(True),
               (ScrubbedTurn.turn_id.is_(None)) | (ScrubbedTurn.version != scrubber_version()))
        .group_by(Turn.battle_id).order_by(Turn.battle_id).limit(limit)))


def scrub_pending(db: Session, *, batch: int = BATCH, limit: int | None = None) -> ScrubReport:
    """Scrub and store the texts of every pending battle (see :func:`pending_battles`),
    committing after each ``batch`` of battles; ``limit`` caps the battles of this run.

    Safe beside the site, a cut and another run: copies are upserted, and a batch that loses
    a turn to a concurrent deletion request is rolled back and read again.
    """
    from arena.releases.rows import turn_texts  # rows imports this module

    report = ScrubReport()
    done, after, failures = 0, 0, 0
    with scrub_pool() as pool:  # one set of worker processes for every batch
        while limit is None or done < limit:
            size = batch if limit is None else min(batch, limit - done)
            ids = pending_battles(db, limit=size, after=after)
            if not ids:
                break
            part = ScrubReport()
            try:
                scrub_turns(db, turn_texts(db, ids), part, store=True, pool=pool)
                db.commit()
            except IntegrityError:  # a turn deleted under the batch (a deletion request)
                db.rollback()
                failures += 1
                if failures >= _RETRIES:
                    raise
                log.info("scrub batch after battle %d lost a turn to a deletion; again", after)
                continue
            failures = 0
            report.turns += part.turns
            report.chars += part.chars
            done += len(ids)
            after = ids[-1]
    return report
