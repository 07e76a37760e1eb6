"""Per-battle facts: written with the vote, kept in step with later changes, read as columns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from flask.testing import FlaskCliRunner
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from arena.battles.lifecycle import vote_target
from arena.db import new_session
from arena.leaderboard.data import (
    eligible_battles,
    eligible_facts,
    fit_view,
    view_battles,
    views_for,
)
from arena.leaderboard.facts import (
    Facts,
    group_key,
    load_facts,
    prompt_group_of,
    refresh_facts,
    sync_facts,
)
from arena.leaderboard.publish import publish
from arena.models import Battle, BattleFact, Publication, Voter
from arena.releases.voters import request_deletion
from arena.voting import cast_vote

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _publish(db: Session) -> Publication:
    report = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5, now=NOW)
    db.commit()
    return report.publication


def test_vote_writes_its_fact_in_the_same_transaction(
        db: Session, contender: Callable, battle: Callable) -> None:
    a, b = contender("Left"), contender("Right")
    db.add(Voter(id="v1", created_at=NOW))
    db.flush()
    row = battle(a, b, None, state="ready", prompts=("  Hello   THERE ", "more words"),
                 features={"length_a": 10, "length_b": 3.5, "junk": "x", "neg": -1},
                 language="en")
    row.voter_id = "v1"
    row.prompt_group = prompt_group_of("  Hello   THERE ")
    db.flush()
    cast_vote(db, row, voter_id="v1", winner="tie", feedback=None, now=NOW)
    db.commit()
    fact = db.get(BattleFact, row.id)
    assert fact is not None
    assert (fact.contender_a_id, fact.contender_b_id, fact.winner, fact.voter_id) == \
        (a.id, b.id, "tie", "v1")
    assert (fact.turn_count, fact.prompt_chars, fact.language) == (2, 26, "en")
    assert fact.prompt_key == group_key(prompt_group_of("hello there"))
    assert fact.feature_names == "length_a,length_b"
    assert np.frombuffer(fact.feature_values, ">f8").tolist() == [10.0, 3.5]
    assert fact.voted_at == NOW and fact.synced_at == NOW
    # The vote wrote it: a sync finds nothing to do.
    assert sync_facts(db, now=NOW).changed == 0


def test_a_vote_on_a_battle_regrouped_since_it_was_read_copies_the_new_group(
        app: Any, db: Session, contender: Callable, battle: Callable) -> None:
    # Regression: the fact's columns were read with the battle before the vote's UPDATE, so a
    # near-duplicate regrouping committed in between left the fact with the old flood group,
    # and no later sync looked at the battle again.
    a, b = contender("Left"), contender("Right")
    db.add(Voter(id="v1", created_at=NOW))
    db.flush()
    row = battle(a, b, None, state="ready", prompts=("What is 2 + 2?",))
    row.voter_id = "v1"
    row.prompt_group = prompt_group_of("What is 2 + 2?")
    db.commit()
    target = vote_target(db, row.public_id)
    db.rollback()
    with new_session(app) as other:  # `categories regroup`, between the read and the vote
        other.execute(update(Battle).where(Battle.id == row.id)
                      .values(prompt_group=prompt_group_of("what is two plus two")))
        other.commit()
    cast_vote(db, target, voter_id="v1", winner="model_a", feedback=None,
              now=NOW + timedelta(days=1000))
    db.commit()
    fact = db.get(BattleFact, row.id)
    assert fact is not None and fact.winner == "model_a"
    assert fact.prompt_key == group_key(prompt_group_of("what is two plus two"))
    assert refresh_facts(db, [row.id], now=NOW) == 0  # the fact a sync would derive


def test_battles_flagged_or_failed_after_their_vote_leave_the_next_publication(
        db: Session, league: Callable) -> None:
    league()
    first = _publish(db)
    assert first.n_battles == 54
    rows = list(db.scalars(select(Battle).order_by(Battle.id)))
    rows[0].flagged = True
    rows[1].state = "failed"
    db.commit()
    second = _publish(db)
    assert second.id != first.id and second.n_battles == 52
    assert db.get(BattleFact, rows[1].id) is None
    assert db.get(BattleFact, rows[0].id).flagged is True


def test_publish_with_nothing_new_is_up_to_date_and_a_new_vote_is_not(
        db: Session, league: Callable, battle: Callable) -> None:
    people = league()
    first = _publish(db)
    again = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5, now=NOW)
    assert again.up_to_date and again.publication.id == first.id
    other = publish(db, n_bootstrap=6, seed=1, min_votes=0, min_battles=5, now=NOW)
    assert not other.up_to_date  # settings are part of the digest
    db.rollback()
    battle(people[0], people[1], "model_b", prompts=("a late question",))
    db.commit()
    late = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5, now=NOW)
    assert not late.up_to_date and late.n_battles == 55


def test_a_flag_after_publishing_is_new_even_at_the_same_clock(
        db: Session, league: Callable) -> None:
    # Regression: "anything new?" compared the count of facts and the newest synced_at, so a
    # battle flagged after a publication, re-derived at the same clock reading, was missed.
    league()
    first = _publish(db)
    row = db.scalars(select(Battle).order_by(Battle.id)).first()
    row.flagged = True
    db.commit()
    second = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5, now=NOW)
    assert not second.up_to_date and second.n_battles == first.n_battles - 1
    db.commit()
    third = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5, now=NOW)
    assert third.up_to_date and third.publication.id == second.publication.id


#: Read whole by "nothing new", small by nature: the contenders, and the log of fact changes
#: (one row per sync that changed facts).
SMALL_TABLES = ("contender", "fact_change")


def _whole_reads(db: Session, statement: str, parameters: Any) -> list[str]:
    """The plan steps of ``statement`` that read a table or an index whole (the small tables
    excepted)."""
    if db.get_bind().dialect.name == "sqlite":
        steps = [row[-1] for row in db.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)]
        if "LIMIT" in statement and not any("TEMP B-TREE" in step for step in steps):
            return []  # read in index order, stopping at the limit
        return [step for step in steps if step.startswith("SCAN") and step != "SCAN CONSTANT ROW"
                and not any(small in step for small in SMALL_TABLES)]
    # PostgreSQL: with sequential scans priced out, a table read whole shows as a Seq Scan,
    # an index read whole as an index scan with no condition outside a LIMIT (max() is one).
    conn = db.connection()
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    [[plan]] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).all()
    found: list[str] = []

    def walk(node: dict[str, Any], limited: bool) -> None:
        kind, table = node["Node Type"], node.get("Relation Name", "")
        # a bitmap index scan names its index only (pk_<table>, ix_<table>_…)
        small = any(t in (table or node.get("Index Name", "")) for t in SMALL_TABLES)
        if not small and (kind == "Seq Scan" or (
                "Index" in kind and "Index Cond" not in node and not limited)):
            found.append(f"{kind} on {table} {node.get('Index Name', '')}")
        for child in node.get("Plans", []):
            walk(child, limited or kind == "Limit")

    walk(plan[0]["Plan"], False)
    return found


def test_nothing_new_reads_no_table_whole(
        db: Session, league: Callable, battle: Callable) -> None:
    # Regression: "nothing new" counted every voted battle and every fact (2.2 s at 10M
    # battles). Now each statement it runs seeks an index, so it costs the same at any size.
    people = league()
    for k in range(30):  # unvoted battles newer than the newest vote, as on a live site
        battle(people[0], people[1], None, state="ready" if k % 2 else "pending")
    db.commit()
    _publish(db)
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        report = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5,
                         now=NOW + timedelta(hours=1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert report.up_to_date and len(statements) >= 5
    whole = [(statement, step) for statement, parameters in statements
             for step in _whole_reads(db, statement, parameters)]
    assert not whole, whole
    db.rollback()


def test_deleting_a_voters_texts_resets_their_prompt_facts(
        db: Session, contender: Callable, battle: Callable) -> None:
    a, b = contender(), contender()
    db.add(Voter(id="gone", created_at=NOW))
    db.flush()
    rows = [battle(a, b, "model_a", prompts=("same prompt",)) for _ in range(3)]
    for row in rows:
        row.voter_id = "gone"
    db.commit()
    before = eligible_battles(db)
    assert [r.weight for r in before] == [1.0] * 3 and before[0].prompt_chars == 11
    request_deletion(db, "gone", NOW)
    db.commit()
    after = eligible_battles(db, flood_k=1)
    assert [(r.turn_count, r.prompt_chars, r.weight) for r in after] == [(0, 0, 1.0)] * 3


def test_columns_and_the_list_of_battles_give_the_same_fits(
        db: Session, contender: Callable, battle: Callable) -> None:
    people = [contender(f"M{i}") for i in range(4)]
    for k in range(120):
        i, j = k % 4, (k * 7 + 1) % 4
        if i == j:
            j = (j + 1) % 4
        winner = ("model_a", "model_b", "tie", "both_bad")[(k * 5) % 4 if k % 3 else 0]
        battle(people[i], people[j], winner,
               prompts=("flood" if k % 5 == 0 else f"q{k}",) * (1 + k % 2),
               features={"length_a": 50 + k % 9, "length_b": 40 + k % 13,
                         "markdown_header_a": k % 2, "markdown_header_b": 0,
                         "markdown_list_a": 0, "markdown_list_b": k % 3,
                         "markdown_bold_a": k % 4, "markdown_bold_b": 1} if k % 6 else None,
               language=("en", "de", None)[k % 3])
    db.commit()
    facts = eligible_facts(db, flood_k=5)
    listed = eligible_battles(db, flood_k=5)
    assert [v.key for v in views_for(facts)] == [v.key for v in views_for(listed)]
    for view in ("overall", "style", "multi_turn", "lang-en"):
        assert len(view_battles(facts, view)) == len(view_battles(listed, view))
        ours = fit_view(facts, view, n_bootstrap=10, seed=3)
        theirs = fit_view(listed, view, n_bootstrap=10, seed=3)
        assert ours.names == theirs.names
        assert [m.rating for m in ours.models] == [m.rating for m in theirs.models]
        assert [m.ci_low for m in ours.models] == [m.ci_low for m in theirs.models]


def test_facts_rebuild_command_rederives_every_fact(
        db: Session, league: Callable, runner: FlaskCliRunner) -> None:
    league()
    result = runner.invoke(args=["leaderboard", "facts", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "54 battles" in result.output
    db.expire_all()
    assert len(list(db.scalars(select(BattleFact.battle_id)))) == 54
    again = runner.invoke(args=["leaderboard", "facts", "rebuild"])
    assert "0 facts changed" in again.output


def _same_facts(ours: Facts, theirs: Facts) -> None:
    for name in ("battle_id", "voted_us", "a_id", "b_id", "winner", "weight", "turn_count",
                 "prompt_chars", "language", "propensity", "arena"):
        x, y = getattr(ours, name), getattr(theirs, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    assert (ours.languages, ours.arenas) == (theirs.languages, theirs.arenas)
    assert list(ours.features) == list(theirs.features)
    for key, column in ours.features.items():
        assert np.array_equal(column, theirs.features[key], equal_nan=True), key
    assert ours.contenders == theirs.contenders
    assert {k: v.tolist() for k, v in ours.labels.items()} == {
        k: v.tolist() for k, v in theirs.labels.items()}


def test_the_copy_reader_gives_the_row_readers_columns(
        db: Session, contender: Callable, battle: Callable) -> None:
    """PostgreSQL reads the facts with one binary COPY; the columns are exactly those of the
    row reader (and of a plain query of the table): ties in vote time, battles without
    features, prompt, language or propensity, media battles with their own features."""
    people = [contender(f"M{i}", is_public=i != 2) for i in range(4)]
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    for k in range(90):
        a, b = people[k % 4], people[(k + 1 + k % 3) % 4]
        text_features = {"length_a": 10.0 + k, "length_b": 3.25 * k, "markdown_bold_a": k % 3,
                         "markdown_bold_b": 0, "markdown_header_a": 1, "markdown_header_b": k % 2,
                         "markdown_list_a": 0.5, "markdown_list_b": 2}
        if k % 3 == 0:
            text_features |= {"citations_a": k % 4, "citations_b": 1}
        row = battle(a, b, ("model_a", "model_b", "tie", "both_bad")[k % 4],
                     prompts=() if k % 7 == 0 else ("flood" if k % 4 == 0 else f"q{k}",)
                     * (1 + k % 3),
                     features=None if k % 5 == 0 else text_features,
                     language=(None, "en", "de", "pt-BR")[k % 4],
                     # three battles per vote time, not in the order of their ids
                     at=t0 + timedelta(seconds=(k * 7) % 30))
        row.propensity = None if k % 4 else 1 / (k + 3)
        if k % 6 == 1:
            row.arena = "image"
            row.features = {"width_a": 512.0 + k, "width_b": 1024, "height_a": 512,
                            "height_b": 768, "bytes_a": 1e5 * k, "bytes_b": 2e5}
    db.commit()
    sync_facts(db)
    windows: list[dict[str, Any]] = [
        {}, {"since": t0 + timedelta(seconds=4), "until": t0 + timedelta(seconds=20)},
        {"cutoff": t0 + timedelta(seconds=10)}, {"cutoff": t0 - timedelta(days=1)}]
    postgres = db.get_bind().dialect.name == "postgresql"
    for window in windows:
        rows = load_facts(db, flood_k=3, copy=False, **window)
        if postgres:
            _same_facts(load_facts(db, flood_k=3, **window), rows)
        # the reference: the table's rows, ordered as a fit reads them
        query = (select(BattleFact).where(BattleFact.anony.is_(True))
                 .order_by(BattleFact.voted_at, BattleFact.battle_id))
        for op, key in (("__ge__", "since"), ("__lt__", "until"), ("__le__", "cutoff")):
            if key in window:
                query = query.where(getattr(BattleFact.voted_at, op)(window[key]))
        facts = db.scalars(query).all()
        assert rows.battle_id.tolist() == [f.battle_id for f in facts]
        assert rows.winner_labels().tolist() == [f.winner for f in facts]
        assert [rows.languages[i] for i in rows.language] == [f.language for f in facts]
        assert [rows.arenas[i] for i in rows.arena] == [f.arena for f in facts]
        for i, fact in enumerate(facts):
            stored = dict(zip(fact.feature_names.split(","), np.frombuffer(
                fact.feature_values, ">f8").tolist(), strict=True)) if fact.feature_names else {}
            assert {k: float(v[i]) for k, v in rows.features.items()
                    if not np.isnan(v[i])} == stored
    assert len(load_facts(db, flood_k=3)) == 90


def test_the_copy_reader_ends_cleanly_at_every_block_edge(
        db: Session, contender: Callable, battle: Callable) -> None:
    """Regression: the COPY trailer arrives as a message of its own; when the rows filled the
    last block exactly it was taken for a row and the decoder failed. Every block size
    around the number of rows (and an empty window) must read what the row reader reads."""
    a, b = contender("M0"), contender("M1")
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    for k in range(4):
        battle(a, b, "model_a" if k % 2 else "tie", at=t0 + timedelta(seconds=k))
    db.commit()
    sync_facts(db)
    for window in ({}, {"cutoff": t0 + timedelta(seconds=2)}, {"cutoff": t0 - timedelta(days=1)}):
        reference = load_facts(db, flood_k=3, copy=False, **window)
        for chunk in (1, 2, 3, 4, 5):
            _same_facts(load_facts(db, flood_k=3, chunk=chunk, **window), reference)
