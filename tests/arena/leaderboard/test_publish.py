"""Publishing: eligibility, flood weights, provisional marking, unreleased contenders, failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.leaderboard.data import FLOOD_K, eligible_battles, flood_weights
from arena.models import Contender, LeaderboardSnapshot, Publication, SnapshotEntry


def _count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("state", ["pending", "generating", "ready", "failed", "abandoned"])
def test_battles_not_voted_are_not_eligible(db: Session, contender: Callable, battle: Callable,
                                            state: str) -> None:
    a, b = contender(), contender()
    counted = battle(a, b, "model_a")
    battle(a, b, None, state=state)
    db.commit()
    assert [r.battle_id for r in eligible_battles(db)] == [counted.id]


def test_named_flagged_and_unvoted_battles_are_not_eligible(db: Session, contender: Callable,
                                                            battle: Callable) -> None:
    a, b = contender(), contender()
    counted = battle(a, b, "tie")
    battle(a, b, "model_a", anony=False)
    battle(a, b, "model_b", flagged=True)
    battle(a, b, None, state="voted")  # a voted state without its vote row counts nothing
    db.commit()
    rows = eligible_battles(db)
    assert [(r.battle_id, r.winner) for r in rows] == [(counted.id, "tie")]


def test_eligible_battle_carries_names_features_and_prompt_stats(
        db: Session, contender: Callable, battle: Callable) -> None:
    a, b = contender("Left"), contender("Right", is_public=False)
    row = battle(a, b, "both_bad", prompts=("Hello there", "And more"),
                 features={"length_a": 10, "length_b": 3, "junk": "x"}, language="en")
    db.commit()
    [got] = eligible_battles(db)
    assert (got.model_a, got.model_b, got.public_a, got.public_b) == ("Left", "Right", True, False)
    assert got.winner == "both_bad" and got.public_id == row.public_id
    assert got.features == {"length_a": 10.0, "length_b": 3.0}
    assert (got.turn_count, got.prompt_chars, got.language) == (2, len("Hello there") + 8, "en")


def test_prompt_flood_is_down_weighted_to_k_battles(db: Session, contender: Callable,
                                                    battle: Callable) -> None:
    a, b = contender(), contender()
    flood = FLOOD_K + 5
    for i in range(flood):
        # Case and whitespace differ; the normalised prompt is the same.
        battle(a, b, "model_a", prompts=(("  WHAT is 2+2?" if i % 2 else "what  is 2+2?\n"),))
    battle(a, b, "model_b", prompts=("a question of its own",))
    db.commit()
    weights = [r.weight for r in eligible_battles(db)]
    assert weights[:flood] == [FLOOD_K / flood] * flood
    assert sum(weights[:flood]) == pytest.approx(FLOOD_K)
    assert weights[-1] == 1.0


def test_prompts_under_the_flood_limit_and_missing_prompts_keep_full_weight() -> None:
    assert flood_weights(["same"] * FLOOD_K + [None, None]) == [1.0] * (FLOOD_K + 2)


def test_publish_stores_every_setting_and_marks_provisional(
        app: Flask, runner: FlaskCliRunner, db: Session, league: Callable,
        contender: Callable, battle: Callable) -> None:
    app.config["LEADERBOARD_MIN_VOTES"] = 10
    alpha, bravo, *_ = league()
    newcomer = contender("Newcomer")
    for i in range(4):
        battle(newcomer, alpha if i % 2 else bravo, ("model_a", "model_b")[i % 2])
    db.commit()
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code == 0, result.output
    pub = db.scalars(select(Publication)).one()
    assert pub.n_battles == 58 and len(pub.battles_hash) == 64
    assert pub.settings["n_bootstrap"] == 100 and pub.settings["seed"] == 42
    assert pub.settings["min_votes"] == 10 and "ratings" in pub.code_version
    overall = db.scalars(select(LeaderboardSnapshot).where(
        LeaderboardSnapshot.view == "overall")).one()
    assert overall.converged and overall.method["n_bootstrap"] == 100
    entries = {e.contender.name: e for e in overall.entries}
    assert entries["Newcomer"].votes == 4 and entries["Newcomer"].provisional
    # Enough votes; provisional now only if its interval is wider than the median gap.
    gap = overall.extra["ranking"]["median_gap"]
    alpha = entries["Alpha"]
    assert alpha.votes == 27 + 2
    assert alpha.provisional == ((alpha.ci_high - alpha.ci_low) / 2 > gap)
    assert entries["Alpha"].rank == 1 and entries["Alpha"].ci_low < entries["Alpha"].rating


def test_publish_twice_on_the_same_data_adds_nothing(runner: FlaskCliRunner, db: Session,
                                                     league: Callable) -> None:
    league()
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    again = runner.invoke(args=["leaderboard", "publish"])
    assert again.exit_code == 0 and "up to date" in again.output
    assert _count(db, Publication) == 1


def test_a_new_vote_makes_a_new_publication(runner: FlaskCliRunner, db: Session,
                                            league: Callable, battle: Callable) -> None:
    alpha, bravo, *_ = league()
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    battle(bravo, alpha, "model_a", prompts=("one more",))
    db.commit()
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    assert [p.n_battles for p in db.scalars(select(Publication).order_by(Publication.id))] == [
        54, 55]


def test_fit_without_finite_optimum_exits_non_zero_and_writes_nothing(
        app: Flask, runner: FlaskCliRunner, db: Session, league: Callable,
        contender: Callable, battle: Callable) -> None:
    app.config["LEADERBOARD_REG"] = 0.0
    alpha, *_ = league()
    champion = contender("Champion")
    for i in range(6):
        battle(champion, alpha, "model_a", prompts=(f"undefeated {i}",))
    db.commit()
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code != 0
    assert "nothing published" in result.output and "'overall'" in result.output
    assert "NotConvergedError" in result.output
    assert _count(db, Publication) == 0 and _count(db, SnapshotEntry) == 0


def test_disconnected_graph_without_penalty_is_refused_with_its_components(
        app: Flask, runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    app.config["LEADERBOARD_REG"] = 0
    league(("A1", "A2", "A3"))
    league(("B1", "B2", "B3"))
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code != 0 and "DisconnectedGraphError" in result.output
    assert "2 connected components" in result.output
    assert _count(db, Publication) == 0


def test_disconnected_graph_with_penalty_publishes_and_reports_groups(
        runner: FlaskCliRunner, db: Session, league: Callable, client: Any) -> None:
    league(("A1", "A2", "A3"))
    league(("B1", "B2", "B3"))
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code == 0, result.output
    assert "2 groups of contenders never met" in result.output
    body = client.get("/api/v1/leaderboard").get_json()
    assert sorted(sorted(c) for c in body["components"]) == [["A1", "A2", "A3"],
                                                            ["B1", "B2", "B3"]]


def test_too_few_votes_publishes_no_view_and_says_so(runner: FlaskCliRunner, db: Session,
                                                     contender: Callable,
                                                     battle: Callable) -> None:
    a, b = contender(), contender()
    for i in range(5):
        battle(a, b, ("model_a", "model_b")[i % 2], prompts=(f"q{i}",))
    db.commit()
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code == 0
    assert "skipped view overall: 5 battles in this view, fewer than 50" in result.output
    assert "too few votes" in result.output
    assert _count(db, LeaderboardSnapshot) == 0 and _count(db, Publication) == 1


def test_category_views_need_enough_battles_and_style_views_need_features(
        runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    league()
    result = runner.invoke(args=["leaderboard", "publish"])
    assert "skipped view style: 0 battles with the features it controls for" in result.output
    assert "skipped view multi_turn: 0 battles" in result.output
    views = db.scalars(select(LeaderboardSnapshot.view)).all()
    assert views == ["overall"]


def test_unreleased_contender_is_fitted_but_ranks_count_public_ones_only(
        runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    # Alpha is the strongest of the league; hidden, it must not leave a gap at rank 1.
    league(("Zephyr-Secret", "Bravo", "Charlie", "Delta"))
    db.scalars(select(Contender).where(Contender.name == "Zephyr-Secret")).one().is_public = False
    db.commit()
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    entries = {e.contender.name: e for e in db.scalars(select(SnapshotEntry))}
    assert entries["Zephyr-Secret"].public is False
    assert entries["Zephyr-Secret"].rating > entries["Bravo"].rating
    assert entries["Bravo"].rank == 1 and entries["Bravo"].rank_low == 1
    assert sorted(e.rank for n, e in entries.items() if e.public) == [1, 2, 3]


def test_a_non_numeric_penalty_setting_is_a_clear_cli_error(
        app: Flask, runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    app.config["LEADERBOARD_REG"] = "strong"
    league()
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code == 1
    assert "Config LEADERBOARD_REG must be a number, got 'strong'." in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _count(db, Publication) == 0
