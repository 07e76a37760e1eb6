"""Ranking rule: contenders that never met are not ranked together; provisional ones come last."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.leaderboard.ranking import median_gap
from arena.models import LeaderboardSnapshot

REPO = Path(__file__).resolve().parents[3]


def _publish(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["leaderboard", "publish", "--min-battles", "5"])
    assert result.exit_code == 0, result.output


def _clear_league(contender: Callable, battle: Callable, db: Session,
                  names: tuple[str, ...] = ("Alpha", "Bravo", "Charlie", "Delta"),
                  rounds: int = 50) -> list:
    """Contenders far apart (the stronger of a pair wins 4 of 5), so intervals are narrow
    next to the gaps between ratings."""
    people = [contender(n) for n in names]
    k = 0
    for i in range(len(people)):
        for j in range(i + 1, len(people)):
            for r in range(rounds):
                winner = "model_b" if r % 5 == 0 else "model_a"
                battle(people[i], people[j], winner, prompts=(f"clear {k}",))
                k += 1
    db.commit()
    return people


def _island(league: Callable, contender: Callable, battle: Callable, db: Session) -> None:
    """A large established group plus two newcomers that only ever met each other."""
    league(rounds=90)
    markdown, other = contender("Markdown"), contender("Lonely")
    battle(markdown, other, "model_a", prompts=("island 1",))
    battle(other, markdown, "model_b", prompts=("island 2",))
    db.commit()


def test_a_small_group_that_never_met_the_board_is_not_ranked_with_it(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, db: Session,
        league: Callable, contender: Callable, battle: Callable) -> None:
    app.config["LEADERBOARD_MIN_VOTES"] = 5
    _island(league, contender, battle, db)
    _publish(runner)
    body = client.get("/api/v1/leaderboard").get_json()
    rows = body["contenders"]
    names = [c["name"] for c in rows]
    # The board (Alpha..Delta) comes first and is ranked 1..4 among itself only.
    assert names[:4] == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert [c["rank"] for c in rows[:4]] == [1, 2, 3, 4]
    by_name = {c["name"]: c for c in rows}
    assert by_name["Markdown"]["status"] == "not_comparable"
    assert by_name["Markdown"]["provisional"] is True
    assert by_name["Alpha"]["status"] == "ranked"
    # Within its own component Markdown is #1, but never listed above or with the board.
    assert by_name["Markdown"]["rank"] == 1 and names.index("Markdown") > 3
    snap = db.scalars(select(LeaderboardSnapshot)).one()
    assert len(snap.extra["ranking"]["not_comparable"]) == 2
    page = client.get("/leaderboard").get_data(as_text=True)
    assert "Not yet comparable" in page
    board_table = page.split('id="lb-table"')[1].split("</table>")[0]
    assert 'data-contender="Markdown"' not in board_table


def test_a_provisional_contender_is_never_listed_above_established_ones(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, db: Session,
        league: Callable, contender: Callable, battle: Callable) -> None:
    app.config["LEADERBOARD_MIN_VOTES"] = 20
    alpha, bravo, *_ = _clear_league(contender, battle, db)
    lucky = contender("Lucky")
    battle(lucky, alpha, "model_a", prompts=("lucky 1",))
    battle(bravo, lucky, "model_b", prompts=("lucky 2",))
    db.commit()
    _publish(runner)
    rows = client.get("/api/v1/leaderboard").get_json()["contenders"]
    statuses = [c["status"] for c in rows]
    assert statuses.index("provisional") > max(i for i, s in enumerate(statuses) if s == "ranked")
    lucky_row = next(c for c in rows if c["name"] == "Lucky")
    assert lucky_row["provisional"] and lucky_row["status"] == "provisional"


def test_provisional_needs_an_interval_no_wider_than_the_median_gap(
        app: Flask, runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    app.config["LEADERBOARD_MIN_VOTES"] = 1
    league(rounds=3)  # few votes each: wide intervals, though above the vote minimum
    _publish(runner)
    snap = db.scalars(select(LeaderboardSnapshot)).one()
    gap = snap.extra["ranking"]["median_gap"]
    for e in snap.entries:
        assert e.provisional == ((e.ci_high - e.ci_low) / 2 > gap)
    assert any(e.provisional for e in snap.entries)


def test_median_gap_of_adjacent_ratings() -> None:
    assert median_gap([10.0, 0.0, 3.0, 4.0]) == 3.0
    assert median_gap([5.0]) is None
    assert np.isclose(median_gap([1.0, 2.0]), 1.0)


def test_the_readme_rating_engine_example_runs_on_the_readme_data() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Rating engine", 1)[1]
    command = re.search(r"```bash\n(python -m ratings fit [^\n]+)\n```", section).group(1)
    args = shlex.split(command)
    # The README runs from the repository root of a checkout next to ../shared.
    args = [a.replace("../shared/", str(REPO.parent / "shared") + "/") for a in args]
    done = subprocess.run([sys.executable, *args[1:], "--no-progress"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "gpt-4" in done.stdout
