"""A release cut from real votes recomputes, with its documented command, to its snapshot."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.leaderboard.data import eligible_battles, fit_view
from arena.models import DataRelease

REPO = Path(__file__).resolve().parents[3]
NOW = "2026-04-20T12:00:00+00:00"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["LEADERBOARD_BOOTSTRAP"] = 30
    return app_config


def _cut(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["releases", "cut", "--now", NOW])
    assert result.exit_code == 0, result.output


def test_documented_command_recomputes_the_snapshot_exactly(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path) -> None:
    seed_votes()
    _cut(runner)
    release = db.scalars(select(DataRelease).order_by(DataRelease.window_start)).first()
    assert release is not None
    folder = releases_dir / release.name
    snapshot = json.loads((folder / "leaderboard.json").read_text())
    assert set(snapshot["views"]) >= {"overall", "style"}
    assert release.snapshot == snapshot
    card = (folder / "README.md").read_text()
    for key in ("overall", "style"):
        view = snapshot["views"][key]
        assert "error" not in view, view.get("error")
        assert view["command"] in card
        assert view["command"] in release.command.splitlines()
        argv = shlex.split(view["command"])
        assert argv[:3] == ["python", "-m", "ratings"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, *argv[1:]], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == view["result"]
    style = snapshot["views"]["style"]["result"]
    assert {"length", "markdown_list"} <= set(style["style"])
    assert style["n_battles"] == release.n_battles == pq.read_metadata(
        folder / "battles.parquet").num_rows


def test_snapshot_is_the_leaderboards_fit_of_the_same_battles(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, app: Any) -> None:
    # One 100-day window holds all 2,240 votes, so each Vicuna question is asked 28 times and
    # the leaderboard's prompt-flood weights (20/28) are in play.
    app.config["RELEASE_WINDOW_DAYS"] = 100
    seed_votes()
    result = runner.invoke(args=["releases", "cut", "--now", "2026-05-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    release = db.scalars(select(DataRelease)).one()
    battles = eligible_battles(db, since=release.window_start, until=release.window_end)
    assert len(battles) == release.n_battles == 2240
    assert min(b.weight for b in battles) == pytest.approx(20 / 28)
    for key in ("overall", "style"):
        ours = release.snapshot["views"][key]["result"]
        theirs = fit_view(battles, key, n_bootstrap=app.config["LEADERBOARD_BOOTSTRAP"],
                          seed=app.config["LEADERBOARD_SEED"]).to_dict()
        assert ours["models"] == theirs["models"]
        assert ours["style"] == theirs["style"]
        assert ours["method"] == theirs["method"]


def test_dataset_card_loads_with_the_datasets_library(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, releases_dir: Path,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seed_votes()
    _cut(runner)
    release = db.scalars(select(DataRelease).order_by(DataRelease.window_start)).first()
    assert release is not None
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    import datasets

    ds = datasets.load_dataset(str(releases_dir / release.name), split="train",
                               cache_dir=str(tmp_path / "hf-cache"))
    assert ds.num_rows == release.n_battles
    assert {"model_a", "model_b", "winner", "weight", "voter", "conversation_a"} \
        <= set(ds.column_names)
