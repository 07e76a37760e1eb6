"""Importing votes from other arenas: FastChat ``clean_battle`` files and the Vicuna-80 study.

Every imported row becomes a ``voted`` battle (``source`` "import" unless named otherwise) with
its vote; contenders unknown so far are created inactive (no endpoint) and public. Each row has
an ``import_key``: SHA-256 of the canonical row plus its occurrence number among identical
rows, so importing the same file again adds nothing while genuine duplicate votes are kept.

A raw ``judge`` value is never stored (GenAI-Arena's is an address-like ``arena_user_::1``):
it becomes a voter pseudonym, an HMAC under the app secret.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

import ratings
from arena.errors import ValidationError
from arena.language import detect_language
from arena.leaderboard.facts import refresh_facts
from arena.models import Answer, Battle, Contender, Turn, Vote, Voter
from arena.privacy import keyed_hash

log = logging.getLogger(__name__)

WINNER_LABELS = {"model_a": "model_a", "model_b": "model_b", "tie": "tie",
                 "tie (bothbad)": "both_bad", "both_bad": "both_bad"}
# FastChat's conv_metadata keys of the built-in style features (values may be dicts of counts).
_META = {"length": "sum_assistant_{}_tokens", "markdown_header": "header_count_{}",
         "markdown_list": "list_count_{}", "markdown_bold": "bold_count_{}"}
# FastChat writes language names; per-language views use ISO 639-1 codes.
_LANGUAGE_CODES = {
    "english": "en", "chinese": "zh", "russian": "ru", "german": "de", "spanish": "es",
    "french": "fr", "japanese": "ja", "korean": "ko", "portuguese": "pt", "italian": "it",
    "polish": "pl", "vietnamese": "vi", "arabic": "ar", "turkish": "tr", "dutch": "nl",
    "indonesian": "id", "ukrainian": "uk", "persian": "fa", "hindi": "hi", "czech": "cs",
}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_CHUNK = 500


class ImportFileError(ValidationError):
    """A file to import is unreadable or has a bad row (the message names row and column)."""

    code = "import_error"


@dataclass
class ImportReport:
    """What an import did."""

    rows: int = 0
    added: int = 0
    # Rows that are no comparison (model_a == model_b), by 1-based row number; not stored.
    self_battles: list[int] = field(default_factory=list)
    already_present: int = 0
    new_contenders: list[str] = field(default_factory=list)


@dataclass
class _Row:
    """One parsed vote, ready to insert."""

    key: str
    model_a: str
    model_b: str
    winner: str
    anony: bool
    at: datetime | None
    judge: str | None
    language: str | None
    features: dict[str, float] | None
    prompt: str | None = None
    answer_a: str | None = None
    answer_b: str | None = None


def judge_pseudonym(judge: str, secret: str) -> str:
    """Voter id for an imported ``judge`` value: keyed, so the raw value cannot be recovered."""
    return keyed_hash("judge", judge, secret)[:32]


def _fail(row: int, column: str, message: str) -> ImportFileError:
    return ImportFileError(f"row {row}: column '{column}': {message}")


def _read_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            if suffix == ".csv":
                return [dict(r) for r in csv.DictReader(fh)]
            if suffix == ".jsonl":
                out = []
                for n, line in enumerate(fh, start=1):
                    if line.strip():
                        try:
                            out.append(json.loads(line))
                        except json.JSONDecodeError as exc:
                            raise ImportFileError(f"{path}: line {n} is not JSON: {exc}") from None
                return out
            data = json.load(fh)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ImportFileError(f"{path}: expected a JSON list of battle objects")
    return data


def _bool(value: Any, row: int, column: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _fail(row, column, f"expected true or false, got {value!r}")


def _number(value: Any, row: int, column: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(row, column, f"not a number: {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise _fail(row, column, f"must be finite and >= 0, got {value!r}")
    return number


def _language(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if text in _LANGUAGE_CODES:
        return _LANGUAGE_CODES[text]
    return text if len(text) in (2, 3) and text.isalpha() else None


def _features(rec: Mapping[str, Any], row: int) -> dict[str, float] | None:
    """Raw per-side features from flat ``<feature>_a/_b`` columns or FastChat's conv_metadata."""
    out: dict[str, float] = {}
    for name in ratings.FEATURE_NAMES:
        for side in "ab":
            column = f"{name}_{side}"
            if rec.get(column) not in (None, ""):
                out[column] = _number(rec[column], row, column)
    meta = rec.get("conv_metadata")
    if isinstance(meta, str) and meta.strip():
        try:
            meta = json.loads(meta)
        except json.JSONDecodeError:
            raise _fail(row, "conv_metadata", "not a JSON object") from None
    if isinstance(meta, Mapping):
        for name, template in _META.items():
            for side in "ab":
                key = template.format(side)
                if key in meta and f"{name}_{side}" not in out:
                    value = meta[key]
                    if isinstance(value, Mapping):
                        value = sum(_number(v, row, f"conv_metadata.{key}")
                                    for v in value.values())
                    out[f"{name}_{side}"] = _number(value, row, f"conv_metadata.{key}")
    elif meta not in (None, ""):
        raise _fail(row, "conv_metadata", "not a JSON object")
    return out or None


def _canonical_key(namespace: str, rec: Mapping[str, Any], seen: Counter[str]) -> str:
    text = json.dumps({k: rec[k] for k in sorted(rec)}, sort_keys=True, default=str)
    seen[text] += 1
    return hashlib.sha256(f"{namespace}\n{text}\n#{seen[text]}".encode()).hexdigest()


def parse_clean_battles(path: str | Path, *, secret: str) -> tuple[list[_Row], list[int]]:
    """Read and check every row of a ``clean_battle`` file (JSON list, JSONL or CSV).

    Returns the rows and the row numbers of self-battles (``model_a == model_b``, as in one
    GenAI-Arena row): they compare nothing and the schema forbids them, so they are skipped.
    """
    path = Path(path)
    records = _read_records(path)
    seen: Counter[str] = Counter()
    rows = []
    self_battles = []
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise ImportFileError(f"row {n}: expected an object, got {type(rec).__name__}")
        for column in ("model_a", "model_b", "winner"):
            if not isinstance(rec.get(column), str) or not rec[column].strip():
                raise _fail(n, column, "missing or empty")
        model_a, model_b = rec["model_a"].strip(), rec["model_b"].strip()
        for column, name in (("model_a", model_a), ("model_b", model_b)):
            if len(name) > 100:
                raise _fail(n, column, "contender names are at most 100 characters")
        if model_a == model_b:
            self_battles.append(n)
            continue
        winner = WINNER_LABELS.get(rec["winner"].strip())
        if winner is None:
            raise _fail(n, "winner", f"unknown outcome {rec['winner']!r} "
                        f"(expected one of {', '.join(WINNER_LABELS)})")
        anony = True if rec.get("anony") in (None, "") else _bool(rec["anony"], n, "anony")
        at = None
        if rec.get("tstamp") not in (None, ""):
            at = datetime.fromtimestamp(_number(rec["tstamp"], n, "tstamp"), UTC)
        judge = rec.get("judge")
        judge = str(judge) if judge not in (None, "") else None
        # The key hashes the pseudonym, not the judge value, so no digest of it is stored.
        keyed = dict(rec)
        if judge is not None:
            keyed["judge"] = judge_pseudonym(judge, secret)
        rows.append(_Row(
            key=_canonical_key("clean_battle", keyed, seen), model_a=model_a, model_b=model_b,
            winner=winner, anony=anony, at=at, judge=judge,
            language=_language(rec.get("language")), features=_features(rec, n)))
    return rows, self_battles


def _jsonl(path: Path, required: Sequence[str]) -> list[dict[str, Any]]:
    records = _read_records(path)
    for n, rec in enumerate(records, start=1):
        for column in required:
            if not isinstance(rec, Mapping) or column not in rec:
                raise ImportFileError(f"{path.name}: row {n}: missing column '{column}'")
    return records


def parse_vicuna_votes(votes: str | Path, answers: str | Path,
                       questions: str | Path) -> list[_Row]:
    """Read the QLoRA/PRD Vicuna-80 human votes with their questions and answer texts."""
    answer_text = {(str(r["model"]), str(r["question_id"])): str(r["text"])
                   for r in _jsonl(Path(answers), ("model", "question_id", "text"))}
    question_text = {str(r["question_id"]): str(r["text"])
                     for r in _jsonl(Path(questions), ("question_id", "text"))}
    languages: dict[str, str | None] = {}
    seen: Counter[str] = Counter()
    rows = []
    for n, rec in enumerate(_read_records(Path(votes)), start=1):
        for column in ("question_id", "model_a", "model_b", "winner"):
            if not str(rec.get(column) or "").strip():
                raise _fail(n, column, "missing or empty")
        qid = str(rec["question_id"]).strip()
        if qid not in question_text:
            raise _fail(n, "question_id", f"question {qid} is not in the questions file")
        model_a, model_b = rec["model_a"].strip(), rec["model_b"].strip()
        if model_a == model_b:
            raise _fail(n, "model_b", f"same contender as model_a ({model_a!r})")
        texts = []
        for column, model in (("model_a", model_a), ("model_b", model_b)):
            if (model, qid) not in answer_text:
                raise _fail(n, column, f"no answer of {model!r} to question {qid}")
            texts.append(answer_text[(model, qid)])
        winner = WINNER_LABELS.get(rec["winner"].strip())
        if winner is None:
            raise _fail(n, "winner", f"unknown outcome {rec['winner']!r}")
        if qid not in languages:
            languages[qid] = detect_language(question_text[qid])
        features: dict[str, float] = {}
        for side, text in zip("ab", texts, strict=True):
            features.update({f"{k}_{side}": v for k, v in ratings.extract_features(text).items()})
        rows.append(_Row(
            key=_canonical_key("vicuna80", rec, seen), model_a=model_a, model_b=model_b,
            winner=winner, anony=True, at=None, judge=None, language=languages[qid],
            features=features, prompt=question_text[qid], answer_a=texts[0], answer_b=texts[1]))
    return rows


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def store_rows(db: Session, rows: Sequence[_Row], *, source: str, secret: str,
               now: datetime | None = None) -> ImportReport:
    """Insert the rows not imported before (by ``import_key``); never commits."""
    now = now or datetime.now(UTC)
    report = ImportReport(rows=len(rows))
    present: set[str] = set()
    for chunk in _chunks([r.key for r in rows]):
        present.update(db.scalars(select(Battle.import_key).where(Battle.import_key.in_(chunk))))
    # A file repeating one row keeps each occurrence (keys differ); skip only stored ones.
    fresh = [r for r in rows if r.key not in present]
    report.already_present = len(rows) - len(fresh)
    if not fresh:
        return report

    names = sorted({r.model_a for r in fresh} | {r.model_b for r in fresh})
    ids = {name: cid for name, cid in db.execute(
        select(Contender.name, Contender.id).where(Contender.name.in_(names)))}
    for name in names:
        if name not in ids:
            contender = Contender(name=name, base_url="", upstream_model=name, active=False,
                                  is_public=True)
            db.add(contender)
            db.flush()
            ids[name] = contender.id
            report.new_contenders.append(name)

    voters = {r.judge: judge_pseudonym(r.judge, secret) for r in fresh if r.judge is not None}
    known = set(db.scalars(select(Voter.id).where(Voter.id.in_(list(voters.values())))))
    for vid in sorted(set(voters.values()) - known):
        db.add(Voter(id=vid, created_at=now))
    db.flush()

    added: list[int] = []
    for chunk in _chunks(fresh):
        battle_rows = []
        for r in chunk:
            at = r.at or now
            battle_rows.append({
                "public_id": secrets.token_urlsafe(32), "import_key": r.key, "source": source,
                "voter_id": voters.get(r.judge) if r.judge else None,
                "contender_a_id": ids[r.model_a], "contender_b_id": ids[r.model_b],
                "state": "voted", "anony": r.anony, "flagged": False, "language": r.language,
                "features": r.features, "created_at": at, "updated_at": at, "ready_at": at})
        battle_ids = list(db.scalars(
            insert(Battle).returning(Battle.id, sort_by_parameter_order=True), battle_rows))
        added.extend(battle_ids)
        db.execute(insert(Vote), [
            {"battle_id": bid, "voter_id": b["voter_id"], "winner": r.winner,
             "created_at": b["created_at"]}
            for bid, b, r in zip(battle_ids, battle_rows, chunk, strict=True)])
        with_text = [(bid, r) for bid, r in zip(battle_ids, chunk, strict=True)
                     if r.prompt is not None]
        if with_text:
            turn_ids = list(db.scalars(
                insert(Turn).returning(Turn.id, sort_by_parameter_order=True),
                [{"battle_id": bid, "position": 0, "prompt": r.prompt, "created_at": now}
                 for bid, r in with_text]))
            db.execute(insert(Answer), [
                {"turn_id": tid, "side": side, "text": text or "", "created_at": now,
                 "citations": []}
                for tid, (_bid, r) in zip(turn_ids, with_text, strict=True)
                for side, text in (("a", r.answer_a), ("b", r.answer_b))])
    refresh_facts(db, added, now=now)
    report.added = len(fresh)
    log.info("imported %d battles (%d already present)", report.added, report.already_present)
    return report
