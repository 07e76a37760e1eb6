"""Scrubbed texts kept between release cuts (:class:`arena.models.ScrubbedTurn`).

Scrubbing is most of what a release cut costs (every prompt and answer of its window through
every detector of :mod:`arena.releases.scrub`), and a text never changes once its battle is
voted. So each turn is scrubbed once: ``flask releases scrub``, run from cron like the other
jobs, scrubs the texts of newly voted battles in small committed batches, and a cut reads those
copies, scrubbing only what is missing (and storing it with its own commit).

A copy is used only while it was made by this scrubber version and its digest matches the turn's
raw texts as the cut reads them, so an edited text, a changed scrubber or a copy made from other
texts is scrubbed again: the release is the same, byte for byte, as one that scrubbed everything.
Deleting a voter's texts deletes their turns and, by cascade, these copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from arena.db import id_chunks
from arena.models import Battle, ScrubbedTurn, Turn
from arena.releases.scrub import SCRUBBER_VERSION, scrub_many, scrub_pool

#: Turns per query, and per committed batch of ``releases scrub``.
_CHUNK = 500
BATCH = 2000


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


def scrub_turns(db: Session, turns: Sequence[tuple[int, Sequence[str]]],
                report: ScrubReport | None = None, *,
                pool: Executor | None = None) -> list[list[str]]:
    """The scrubbed texts of each ``(turn id, [prompt, answer a, answer b])``, in order.

    Current copies are read; the other turns are scrubbed in one batch (spread over processes
    when large) and their copies written (not committed).
    """
    report = report if report is not None else ScrubReport()
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
        if copy is not None and copy[0] == SCRUBBER_VERSION and copy[1] == digest:
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
    rows = []
    for k, (at, turn_id, digest) in enumerate(missing):
        out[at] = flat[3 * k:3 * k + 3]
        rows.append({"turn_id": turn_id, "version": SCRUBBER_VERSION, "digest": digest,
                     "prompt": out[at][0], "answer_a": out[at][1], "answer_b": out[at][2]})
    for where in id_chunks(db, ScrubbedTurn.turn_id,
                           [turn_id for _, turn_id, _ in missing if turn_id in stored]):
        db.execute(delete(ScrubbedTurn).where(where))
    for start in range(0, len(rows), _CHUNK):
        db.execute(insert(ScrubbedTurn), rows[start:start + _CHUNK])
    return out


def pending_battles(db: Session, *, limit: int) -> list[int]:
    """Voted battles typed with release consent that have a turn without a copy from this
    scrubber version (up to ``limit``, oldest first)."""
    return list(db.scalars(
        select(Turn.battle_id).join(Battle, Battle.id == Turn.battle_id)
        .outerjoin(ScrubbedTurn, ScrubbedTurn.turn_id == Turn.id)
        .where(Battle.state == "voted", Battle.release_consent.is_(True),
               (ScrubbedTurn.turn_id.is_(None)) | (ScrubbedTurn.version != SCRUBBER_VERSION))
        .group_by(Turn.battle_id).order_by(Turn.battle_id).limit(limit)))


def scrub_pending(db: Session, *, batch: int = BATCH, limit: int | None = None) -> ScrubReport:
    """Scrub and store the texts of every pending battle (see :func:`pending_battles`),
    committing after each ``batch`` of battles; ``limit`` caps the battles of this run."""
    from arena.releases.rows import turn_texts  # rows imports this module

    report = ScrubReport()
    done = 0
    with scrub_pool() as pool:  # one set of worker processes for every batch
        while limit is None or done < limit:
            size = batch if limit is None else min(batch, limit - done)
            ids = pending_battles(db, limit=size)
            if not ids:
                break
            scrub_turns(db, turn_texts(db, ids), report, pool=pool)
            db.commit()
            done += len(ids)
    return report
