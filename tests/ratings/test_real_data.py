"""Golden cases on real arena data in shared/data/arena."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ratings
from ratings.compat import fastchat_elo_mle


def _published(arena_data: Path, column: str) -> dict[str, float]:
    path = arena_data / "genai_arena_20240220" / "published" / "leaderboard_20240220_all.csv"
    with path.open() as fh:
        return {r["key"]: float(r[f"Arena Elo rating ({column})"]) for r in csv.DictReader(fh)}


@pytest.mark.parametrize("column", ["anony", "full"])
def test_genai_arena_published_table_reproduced_within_001_elo(
    arena_data: Path, genai_battles: list[dict], column: str
) -> None:
    rows = [r for r in genai_battles if column == "full" or r["anony"]]
    out = fastchat_elo_mle(
        [r["model_a"] for r in rows], [r["model_b"] for r in rows], [r["winner"] for r in rows]
    )
    published = _published(arena_data, column)
    assert set(out["ratings"]) == set(published)
    assert max(abs(out["ratings"][k] - v) for k, v in published.items()) < 0.01


def test_genai_arena_cli_compat_command_reproduces_table(arena_data: Path) -> None:
    path = arena_data / "genai_arena_20240220" / "clean_battle_20240220.json"
    cmd = [sys.executable, "-m", "ratings", "fastchat-compat", str(path), "--filter", "anony=true"]
    root = Path(ratings.__file__).parents[1]
    out = json.loads(
        subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=root).stdout
    )
    published = _published(arena_data, "anony")
    assert max(abs(out["ratings"][k] - v) for k, v in published.items()) < 0.01
    # The published numbers stop short of the penalised optimum (lbfgs tol 1e-4).
    assert 1.0 < out["gap_to_optimum"] < 5.0


def test_genai_arena_exact_penalised_fit_is_the_tight_optimum(genai_battles: list[dict]) -> None:
    rows = [r for r in genai_battles if r["anony"]]
    args = ([r["model_a"] for r in rows], [r["model_b"] for r in rows], [r["winner"] for r in rows])
    exact = ratings.fit_leaderboard(*args, reg=ratings.FASTCHAT_REG, ci="none")
    tight = fastchat_elo_mle(*args, tol=1e-12, max_iter=10000)
    assert len(exact.components) == 2  # t2i and editing families never meet
    for m in exact.models:
        assert m.rating == pytest.approx(tight["ratings"][m.name], abs=1e-3)


def test_genai_arena_self_battle_is_rejected_with_its_row(genai_battles: list[dict]) -> None:
    with pytest.raises(ratings.InputError, match="row 1819: model_a and model_b are the same"):
        ratings.fit_leaderboard(
            [r["model_a"] for r in genai_battles],
            [r["model_b"] for r in genai_battles],
            [r["winner"] for r in genai_battles],
            reg=0.1,
            ci="none",
        )


def _qlora(arena_data: Path):
    folder = arena_data / "qlora_vicuna80_human"
    answers = {}
    with (folder / "answers.jsonl").open() as fh:
        for line in fh:
            rec = json.loads(line)
            answers[rec["model"], rec["question_id"]] = rec["text"]
    with (folder / "votes.csv").open() as fh:
        votes = list(csv.DictReader(fh))
    return answers, votes


def test_qlora_length_coefficient_from_answer_texts(arena_data: Path) -> None:
    answers, votes = _qlora(arena_data)
    qid = [int(v["question_id"]) for v in votes]
    feats = {
        "length": tuple(
            np.array(
                [
                    ratings.extract_features(answers[v[f"model_{s}"], q])["length"]
                    for v, q in zip(votes, qid, strict=True)
                ]
            )
            for s in "ab"
        )
    }
    battles = ([v["model_a"] for v in votes], [v["model_b"] for v in votes])
    outcomes = [v["winner"] for v in votes]
    res = ratings.fit_leaderboard(
        *battles, outcomes, features=feats, control="length", n_bootstrap=100, seed=1
    )
    length = res.style[0]
    # Longer answers win: a clear positive effect whose interval excludes zero.
    assert 2.0 < length.coef < 6.0 and 0 < length.ci_low < length.coef < length.ci_high
    # Cluster-robust by question (raters are anonymous): same point estimate, wider interval.
    questions = [v["question_id"] for v in votes]
    sandwich = ratings.fit_leaderboard(
        *battles, outcomes, features=feats, control="length", ci="sandwich", voter=questions
    )
    assert sandwich.style[0].coef == pytest.approx(length.coef, abs=1e-9)
    assert sandwich.style[0].ci_low > 0


def test_qlora_question_cluster_bootstrap_agrees_with_cluster_sandwich(arena_data: Path) -> None:
    """Real votes: resampling questions (not votes) widens the length interval to the
    cluster-robust sandwich's (a different method on the same clusters)."""
    answers, votes = _qlora(arena_data)
    side = {
        s: np.array(
            [
                ratings.extract_features(answers[v[f"model_{s}"], int(v["question_id"])])["length"]
                for v in votes
            ]
        )
        for s in "ab"
    }
    args = ([v["model_a"] for v in votes], [v["model_b"] for v in votes])
    args += ([v["winner"] for v in votes],)
    kw = {"features": {"length": (side["a"], side["b"])}, "control": "length"}
    questions = [v["question_id"] for v in votes]
    clustered = ratings.fit_leaderboard(
        *args, n_bootstrap=200, seed=1, bootstrap_cluster=questions, **kw
    )
    rows = ratings.fit_leaderboard(*args, n_bootstrap=200, seed=1, **kw)
    sandwich = ratings.fit_leaderboard(*args, ci="sandwich", voter=questions, **kw)

    def width(r: ratings.LeaderboardResult) -> float:
        return r.style[0].ci_high - r.style[0].ci_low

    assert width(clustered) == pytest.approx(width(sandwich), rel=0.2)
    assert width(rows) < 0.85 * width(clustered)
