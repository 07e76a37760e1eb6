"""Arena-hard judgment files: verdict parsing, win rates against the baseline, intervals.

The judgment files are written here in arena-hard's documented shape: one JSON object per
(model, question) with ``games[0]`` judged as (A = baseline, B = model) and ``games[1]`` with
the order swapped. The reference is a hand count: with every model judged only against the
baseline, the Bradley-Terry win rate equals the weighted share of points the model took.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ratings.arena_hard import arena_hard_scores, read_judgments
from ratings.cli import main

BASE = "gpt-4-0314"
# verdict of game 1 (baseline is A) from the model's point of view, and of game 2 (model is A)
GAME1 = {"win": "B>A", "strong_win": "B>>A", "tie": "A=B", "loss": "A>B", "strong_loss": "A>>B"}
GAME2 = {"win": "A>B", "strong_win": "A>>B", "tie": "A=B", "loss": "B>A", "strong_loss": "B>>A"}
POINTS = {"win": 1.0, "strong_win": 1.0, "tie": 0.5, "loss": 0.0, "strong_loss": 0.0}
STRONG = {"strong_win", "strong_loss"}


def _write_judgments(path: Path, model: str, outcomes: list[tuple[str, str | None]]) -> None:
    lines = []
    for q, (g1, g2) in enumerate(outcomes):
        lines.append(
            {
                "question_id": f"q{q:03d}",
                "model": model,
                "judge": "gpt-4-1106-preview",
                "games": [
                    {"user_prompt": "...", "judgment": "...", "score": GAME1[g1]},
                    {
                        "user_prompt": "...",
                        "judgment": "...",
                        "score": None if g2 is None else GAME2[g2],
                    },
                ],
            }
        )
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def _hand_score(outcomes: list[tuple[str, str | None]], strong: float) -> float:
    points = weight = 0.0
    for game in (g for pair in outcomes for g in pair if g is not None):
        w = strong if game in STRONG else 1.0
        points += w * POINTS[game]
        weight += w
    return 100.0 * points / weight


@pytest.fixture(name="judged")
def judged_fixture(tmp_path: Path) -> dict:
    rng = np.random.default_rng(4)
    kinds = list(POINTS)
    files, outcomes = [], {}
    for model, tilt in (
        ("model-x", [0.15, 0.25, 0.2, 0.25, 0.15]),
        ("model-y", [0.3, 0.3, 0.2, 0.1, 0.1]),
    ):
        rows: list[tuple[str, str | None]] = [
            (str(rng.choice(kinds, p=tilt)), str(rng.choice(kinds, p=tilt))) for _ in range(60)
        ]
        rows[5] = (rows[5][0], None)  # an unparsed judgment: skipped and counted
        path = tmp_path / f"{model}.jsonl"
        _write_judgments(path, model, rows)
        files.append(path)
        outcomes[model] = rows
    base = tmp_path / f"{BASE}.jsonl"  # arena-hard ships baseline-vs-baseline judgments too
    _write_judgments(base, BASE, [("tie", "tie")] * 10)
    files.append(base)
    return {"files": files, "outcomes": outcomes}


@pytest.mark.parametrize("strong", [3.0, 1.0])
def test_scores_equal_hand_counted_weighted_win_share(judged: dict, strong: float) -> None:
    out = arena_hard_scores(judged["files"], baseline=BASE, strong_weight=strong, n_bootstrap=50)
    by_name = {m["name"]: m for m in out["models"]}
    for model, rows in judged["outcomes"].items():
        assert by_name[model]["score"] == pytest.approx(_hand_score(rows, strong), abs=1e-9)
        assert by_name[model]["ci_low"] < by_name[model]["score"] < by_name[model]["ci_high"]
    assert by_name[BASE]["score"] == 50.0 and by_name[BASE]["ci_low"] == 50.0
    assert out["games_missing_verdict"] == 2
    assert out["self_battles_dropped"] == 20


def test_strong_verdicts_count_strong_weight_times(judged: dict) -> None:
    data = read_judgments(judged["files"][:1], baseline=BASE, strong_weight=3.0)
    rows = judged["outcomes"]["model-x"]
    strong_games = sum(g in STRONG for pair in rows for g in pair if g is not None)
    assert int((data["weight"] == 3.0).sum()) == strong_games
    # game 1 has the baseline as A, game 2 the model as A
    assert data["model_a"][0] == BASE and data["model_b"][0] == "model-x"
    assert data["model_a"][1] == "model-x" and data["model_b"][1] == BASE


def test_question_bootstrap_is_seeded_and_independent_of_threads(judged: dict) -> None:
    one = arena_hard_scores(judged["files"], baseline=BASE, n_bootstrap=40, seed=3)
    again = arena_hard_scores(judged["files"], baseline=BASE, n_bootstrap=40, seed=3, n_threads=1)
    assert one == again
    games = arena_hard_scores(judged["files"], baseline=BASE, n_bootstrap=40, seed=3, unit="game")
    assert games["models"][0]["score"] == one["models"][0]["score"]
    assert one["method"]["bootstrap_unit"] == "question"


def test_cli_arena_hard_and_bad_verdict(judged: dict, tmp_path: Path, capsys) -> None:
    files = [str(p) for p in judged["files"]]
    assert main(["arena-hard", *files, "--baseline", BASE, "--bootstrap", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = arena_hard_scores(judged["files"], baseline=BASE, n_bootstrap=20)
    assert out["models"] == direct["models"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"question_id": 1, "model": "m", "games": [{"score": "A>B"}]})
        + "\n"
        + json.dumps({"question_id": 2, "model": "m", "games": [{"score": "A>>>B"}]})
        + "\n"
    )
    assert main(["arena-hard", str(bad), "--baseline", BASE]) == 2
    assert "bad.jsonl: line 2: games[0].score 'A>>>B' is not one of" in capsys.readouterr().err
