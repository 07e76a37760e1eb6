"""Arena-hard judgment files: verdicts in, win rates against a baseline (with intervals) out.

An arena-hard judgment file is JSONL, one object per (model, question):
``{"question_id": ..., "model": NAME, "judge": ..., "games": [game1, game2]}`` where each game
has a ``score`` verdict ``"A>>B"``, ``"A>B"``, ``"A=B"``, ``"B>A"``, ``"B>>A"`` (or ``null``
when the judge's answer could not be parsed). In game 1 assistant A is the baseline and B the
judged model; game 2 swaps the order, so A is the model. A strong verdict (``>>``) counts
``strong_weight`` times (arena-hard repeats the row 3 times; here it is a battle weight, the
same likelihood), ``A=B`` is a tie (half a win).

Scores are fitted as a Bradley-Terry leaderboard of all models against the baseline and
reported as arena-hard reports them: the predicted win rate against the baseline, in percent,
``100 / (1 + 10 ** ((r_baseline - r_model) / 400))``, with percentile bootstrap intervals. By
default the bootstrap resamples *questions* (both games of a question, for every model, move
together), which is the unit that was sampled; ``unit="game"`` resamples battles instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from .api import SCALE, fit_leaderboard
from .errors import InputError

#: verdict -> (winner as assistant letter or "tie", strong)
VERDICTS: dict[str, tuple[str, bool]] = {
    "A>>B": ("A", True),
    "A>B": ("A", False),
    "A=B": ("tie", False),
    "B>A": ("B", False),
    "B>>A": ("B", True),
}
BOOTSTRAP_UNITS = ("question", "game")


def read_judgments(
    paths: Sequence[str | Path],
    *,
    baseline: str,
    strong_weight: float = 3.0,
    first_game_only: bool = False,
) -> dict[str, Any]:
    """Battles of arena-hard judgment files.

    Returns
    -------
    dict
        ``model_a``, ``model_b``, ``winner``, ``weight``, ``question`` (arrays, one battle per
        game with a verdict) and ``missing`` (games whose verdict is ``null``, skipped as
        arena-hard skips them).

    Raises
    ------
    InputError
        Unreadable line, missing key or an unknown verdict (file and line named).
    """
    if not (np.isfinite(strong_weight) and strong_weight > 0):
        raise InputError(f"strong_weight must be a finite number > 0, got {strong_weight!r}")
    rows: list[tuple[str, str, str, float, str]] = []
    missing = 0
    for path in map(Path, paths):
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        with path.open(encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path}: line {line_no}"
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{where} is not JSON: {exc}") from None
                model, question, games = _fields(rec, where)
                for g, game in enumerate(games[:1] if first_game_only else games[:2]):
                    verdict = game.get("score") if isinstance(game, dict) else None
                    if verdict is None:
                        missing += 1
                        continue
                    if verdict not in VERDICTS:
                        raise InputError(
                            f"{where}: games[{g}].score {verdict!r} is not one of "
                            f"{', '.join(VERDICTS)}"
                        )
                    side, strong = VERDICTS[verdict]
                    # game 1: A = baseline, B = model; game 2: A = model, B = baseline
                    a, b = (baseline, model) if g == 0 else (model, baseline)
                    winner = "tie" if side == "tie" else ("model_a" if side == "A" else "model_b")
                    rows.append((a, b, winner, strong_weight if strong else 1.0, question))
    if not rows:
        raise InputError("no judged games in the given files")
    cols = list(zip(*rows, strict=True))
    return {
        "model_a": np.array(cols[0], dtype=object),
        "model_b": np.array(cols[1], dtype=object),
        "winner": np.array(cols[2], dtype=object),
        "weight": np.array(cols[3], dtype=np.float64),
        "question": np.array(cols[4], dtype=object),
        "missing": missing,
    }


def _fields(rec: Any, where: str) -> tuple[str, str, list[Any]]:
    if not isinstance(rec, dict):
        raise InputError(f"{where}: expected a JSON object")
    for key in ("question_id", "model", "games"):
        if key not in rec:
            raise InputError(f"{where}: missing key {key!r}")
    model, games = rec["model"], rec["games"]
    if not isinstance(model, str) or not model:
        raise InputError(f"{where}: 'model' must be a non-empty string, got {model!r}")
    if not isinstance(games, list):
        raise InputError(f"{where}: 'games' must be a list")
    return model, str(rec["question_id"]), games


def arena_hard_scores(
    paths: Sequence[str | Path],
    *,
    baseline: str,
    strong_weight: float = 3.0,
    first_game_only: bool = False,
    unit: str = "question",
    n_bootstrap: int = 100,
    seed: int = 0,
    reg: float = 0.0,
    n_threads: int = 2,
) -> dict[str, Any]:
    """Win rate (percent) of every judged model against ``baseline``, with 95% intervals.

    Judgments of the baseline against itself are dropped and counted (``self_battles_dropped``).
    ``reg`` is the engine's L2 penalty (needed when a model wins or loses every game).
    """
    if unit not in BOOTSTRAP_UNITS:
        raise InputError(f"unit must be one of {', '.join(BOOTSTRAP_UNITS)}, got {unit!r}")
    data = read_judgments(
        paths, baseline=baseline, strong_weight=strong_weight, first_game_only=first_game_only
    )
    names = set(data["model_a"].tolist()) | set(data["model_b"].tolist())
    if names == {baseline}:
        raise InputError(f"the files judge only the baseline {baseline!r} against itself")
    res = fit_leaderboard(
        data["model_a"],
        data["model_b"],
        data["winner"],
        weights=data["weight"],
        reg=reg,
        ci="bootstrap",
        n_bootstrap=n_bootstrap,
        seed=seed,
        anchor=(baseline, 0.0),
        drop_self_battles=True,
        bootstrap_cluster=data["question"] if unit == "question" else None,
        n_threads=n_threads,
    )

    def pct(rating: float) -> float:
        return float(100.0 * expit(rating / SCALE))  # the anchor (baseline) is at 0

    models = [
        {
            "name": m.name,
            "score": pct(m.rating),
            "ci_low": pct(m.ci_low),
            "ci_high": pct(m.ci_high),
            "rating": m.rating,
            "games": m.votes,
            "wins": m.wins,
            "losses": m.losses,
            "ties": m.ties,
        }
        for m in res.models
    ]
    return {
        "baseline": baseline,
        "models": models,
        "method": {
            "source": "arena-hard judgment files",
            "strong_weight": strong_weight,
            "first_game_only": first_game_only,
            "bootstrap_unit": unit,
            "n_bootstrap": n_bootstrap,
            "seed": seed,
            "reg": reg,
            "score": "100 * P(model beats baseline) from the Bradley-Terry fit (tie = half)",
            "rating": "Elo relative to the baseline (baseline = 0)",
        },
        "games_used": res.n_battles,
        "games_missing_verdict": data["missing"],
        "self_battles_dropped": res.method["self_battles_dropped"],
        "message": res.message,
    }


__all__ = ["BOOTSTRAP_UNITS", "VERDICTS", "arena_hard_scores", "read_judgments"]
