"""Importing FastChat clean_battle files and the Vicuna-80 study: rows, idempotency, errors."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ratings
from arena.models import Answer, Battle, Contender, Turn, Vote, Voter

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "arena"
GENAI = DATA / "genai_arena_20240220" / "clean_battle_20240220.json"
VICUNA = DATA / "qlora_vicuna80_human"


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text(json.dumps(rows))
    return path


def test_genai_arena_file_imports_every_comparison_once(runner: FlaskCliRunner,
                                                        db: Session) -> None:
    first = runner.invoke(args=["leaderboard", "import", str(GENAI)])
    assert first.exit_code == 0, first.output
    assert "2060 battles added" in first.output
    assert "skipped 1 self-battles (model_a == model_b), rows 1820" in first.output
    again = runner.invoke(args=["leaderboard", "import", str(GENAI)])
    assert again.exit_code == 0 and "0 battles added, 2060 already present" in again.output
    assert _count(db, Battle) == 2060 and _count(db, Vote) == 2060
    assert db.scalar(select(func.count()).where(Battle.anony.is_(True))) == 1515
    winners = dict(db.execute(select(Vote.winner, func.count()).group_by(Vote.winner)).all())
    assert winners == {"model_a": 759, "model_b": 744, "tie": 130, "both_bad": 427}
    contenders = db.scalars(select(Contender)).all()
    assert len(contenders) == 13
    assert all(c.is_public and not c.active and c.base_url == "" for c in contenders)


def test_judge_value_is_stored_only_as_a_keyed_pseudonym(runner: FlaskCliRunner,
                                                         db: Session) -> None:
    assert runner.invoke(args=["leaderboard", "import", str(GENAI)]).exit_code == 0
    [voter] = db.scalars(select(Voter.id)).all()
    assert len(voter) == 32 and "arena_user" not in voter and "::1" not in voter
    assert set(db.scalars(select(Battle.voter_id))) == {voter}
    assert set(db.scalars(select(Vote.voter_id))) == {voter}


def test_duplicate_rows_in_a_file_are_kept_and_tstamp_anony_features_read(
        tmp_path: Path, runner: FlaskCliRunner, db: Session) -> None:
    row = {"model_a": "m1", "model_b": "m2", "winner": "tie (bothbad)", "anony": False,
           "tstamp": 1707700514.5, "language": "English",
           "conv_metadata": {"sum_assistant_a_tokens": 12, "sum_assistant_b_tokens": 30,
                             "header_count_a": {"h1": 1, "h2": 2}, "header_count_b": {"h1": 0},
                             "list_count_a": {"ordered": 1, "unordered": 3},
                             "list_count_b": {"ordered": 0, "unordered": 0},
                             "bold_count_a": {"**": 2, "__": 0}, "bold_count_b": {"**": 0}}}
    path = _write(tmp_path / "battles.json", [row, row])
    result = runner.invoke(args=["leaderboard", "import", str(path)])
    assert result.exit_code == 0, result.output
    battles = db.scalars(select(Battle)).all()
    assert len(battles) == 2 and len({b.import_key for b in battles}) == 2
    b = battles[0]
    assert (b.state, b.source, b.anony, b.language) == ("voted", "import", False, "en")
    assert b.created_at.timestamp() == 1707700514.5 and b.vote.winner == "both_bad"
    assert b.features == {"length_a": 12.0, "length_b": 30.0, "markdown_header_a": 3.0,
                          "markdown_header_b": 0.0, "markdown_list_a": 4.0,
                          "markdown_list_b": 0.0, "markdown_bold_a": 2.0,
                          "markdown_bold_b": 0.0}


def test_csv_and_jsonl_files_are_read(tmp_path: Path, runner: FlaskCliRunner,
                                      db: Session) -> None:
    csv_path = tmp_path / "b.csv"
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["model_a", "model_b", "winner", "anony"])
        writer.writeheader()
        writer.writerow({"model_a": "x", "model_b": "y", "winner": "model_a", "anony": "True"})
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text(json.dumps({"model_a": "y", "model_b": "x", "winner": "model_b"}) + "\n")
    for path in (csv_path, jsonl):
        result = runner.invoke(args=["leaderboard", "import", str(path), "--source-name", "fc"])
        assert result.exit_code == 0, result.output
    assert db.scalars(select(Battle.source)).all() == ["fc", "fc"]


@pytest.mark.parametrize(("row", "message"), [
    ({"model_a": "a", "model_b": "b", "winner": "draw"},
     "row 2: column 'winner': unknown outcome 'draw'"),
    ({"model_a": "a", "winner": "tie"}, "row 2: column 'model_b': missing or empty"),
    ({"model_a": "a", "model_b": "b", "winner": "tie", "anony": "maybe"},
     "row 2: column 'anony': expected true or false, got 'maybe'"),
    ({"model_a": "a", "model_b": "b", "winner": "tie", "tstamp": "yesterday"},
     "row 2: column 'tstamp': not a number: 'yesterday'"),
    ({"model_a": "a", "model_b": "b", "winner": "tie",
      "conv_metadata": {"sum_assistant_a_tokens": -3}},
     "row 2: column 'conv_metadata.sum_assistant_a_tokens': must be finite and >= 0"),
])
def test_bad_row_is_named_and_nothing_is_written(tmp_path: Path, runner: FlaskCliRunner,
                                                 db: Session, row: dict, message: str) -> None:
    good = {"model_a": "a", "model_b": "b", "winner": "model_a"}
    path = _write(tmp_path / "bad.json", [good, row])
    result = runner.invoke(args=["leaderboard", "import", str(path)])
    assert result.exit_code != 0
    assert message in result.output
    assert _count(db, Battle) == 0 and _count(db, Contender) == 0


def test_unreadable_files_get_clear_errors(tmp_path: Path, runner: FlaskCliRunner) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    result = runner.invoke(args=["leaderboard", "import", str(broken)])
    assert result.exit_code != 0 and "not valid JSON" in result.output
    result = runner.invoke(args=["leaderboard", "import", str(tmp_path / "missing.json")])
    assert result.exit_code != 0 and "no such file" in result.output
    result = runner.invoke(args=["leaderboard", "import", str(broken), "--answers", "x.jsonl"])
    assert result.exit_code != 0 and "--answers and --questions go together" in result.output


def test_vicuna_votes_import_texts_and_style_features(runner: FlaskCliRunner, db: Session,
                                                      vicuna_votes: Callable) -> None:
    votes, _rows = vicuna_votes(limit=30)
    args = ["leaderboard", "import", str(votes), "--answers", str(VICUNA / "answers.jsonl"),
            "--questions", str(VICUNA / "questions.jsonl")]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=args).output.endswith("0 battles added, 30 already present\n")
    assert _count(db, Battle) == 30 and _count(db, Turn) == 30 and _count(db, Answer) == 60
    battle = db.scalars(select(Battle).order_by(Battle.id)).first()
    question = json.loads((VICUNA / "questions.jsonl").read_text().splitlines()[0])
    assert battle.turns[0].prompt == question["text"] and battle.language == "en"
    answer_a = battle.turns[0].answers[0]
    assert answer_a.side == "a"
    expected = ratings.extract_features(answer_a.text)
    assert {k: battle.features[f"{k}_a"] for k in expected} == expected


def test_vicuna_vote_for_a_missing_answer_is_named(tmp_path: Path, runner: FlaskCliRunner,
                                                   db: Session) -> None:
    votes = tmp_path / "votes.csv"
    votes.write_text("question_id,model_a,model_b,winner\n1,bard,nobody-7b,model_a\n")
    result = runner.invoke(args=["leaderboard", "import", str(votes), "--answers",
                                 str(VICUNA / "answers.jsonl"), "--questions",
                                 str(VICUNA / "questions.jsonl")])
    assert result.exit_code != 0
    assert "row 1: column 'model_b': no answer of 'nobody-7b' to question 1" in result.output
    assert _count(db, Battle) == 0


def test_contenders_meta_sets_organisation_licence_and_link(
        tmp_path: Path, runner: FlaskCliRunner, db: Session, contender: Callable) -> None:
    known = contender("m1", organization="", license="", link="")
    db.commit()
    path = _write(tmp_path / "battles.json", [
        {"model_a": "m1", "model_b": "m2", "winner": "model_a", "tstamp": 1707700514}])
    meta = tmp_path / "meta.yaml"
    meta.write_text("m1: {organisation: Acme, licence: MIT, link: 'https://acme.example/m1'}\n"
                    "m2: {organization: Beta Labs, license: Apache-2.0}\n")
    result = runner.invoke(args=["leaderboard", "import", str(path), "--contenders-meta",
                                 str(meta)])
    assert result.exit_code == 0, result.output
    assert "organisation/licence/link set for: m1, m2" in result.output
    db.expire_all()
    m1 = db.get(Contender, known.id)
    assert (m1.organization, m1.license, m1.link) == ("Acme", "MIT", "https://acme.example/m1")
    m2 = db.scalars(select(Contender).where(Contender.name == "m2")).one()
    assert (m2.organization, m2.license, m2.link) == ("Beta Labs", "Apache-2.0", "")


@pytest.mark.parametrize("text, message", [
    ("m1: {owner: x}\n", "unknown field 'owner'"),
    ("m1: {link: 'javascript:alert(1)'}\n", "link must start with https://"),
    ("- m1\n", "expected a mapping of contender name to fields"),
])
def test_bad_contenders_meta_is_refused_before_anything_is_written(
        tmp_path: Path, runner: FlaskCliRunner, db: Session, text: str, message: str) -> None:
    path = _write(tmp_path / "battles.json", [
        {"model_a": "m1", "model_b": "m2", "winner": "model_a"}])
    meta = tmp_path / "meta.yaml"
    meta.write_text(text)
    result = runner.invoke(args=["leaderboard", "import", str(path), "--contenders-meta",
                                 str(meta)])
    assert result.exit_code != 0 and message in result.output
    assert _count(db, Battle) == 0 and _count(db, Contender) == 0
