"""Length-controlled win rates: the GLM against scikit-learn, and a planted length bias.

Simulation: instructions with a difficulty, models with a true strength and a verbosity, and a
judge that adds ``bias * tanh(length difference / 500)`` to the logit. The true
length-controlled win rate is ``100 * mean_x expit(theta_m + gamma_x)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from ratings.cli import main
from ratings.lc_winrate import fit_glm, lc_win_rates

#: name -> (theta, log-verbosity); the two g_* are one model under a verbose / concise prompt,
#: the two base_* the baseline under such prompts.
MODELS = {
    "m1": (0.8, 0.0),
    "m2": (0.0, 0.4),
    "m3": (-0.6, -0.3),
    "g_verbose": (0.3, 0.8),
    "g_concise": (0.3, -0.8),
    "base_verbose": (0.0, 0.8),
    "base_concise": (0.0, -0.8),
}
VARIANTS = ["base_concise", "base_verbose"]


def simulate(seed: int = 0, n_instr: int = 400, bias: float = 1.2) -> dict:
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0.0, 1.0, n_instr)
    base_len = rng.lognormal(6.0, 0.5, n_instr)
    cols: dict[str, list] = {k: [] for k in ("a", "b", "p", "la", "lb", "q")}
    truth = {}
    for name, (theta, verbosity) in MODELS.items():
        truth[name] = 100.0 * float(np.mean(expit(theta + gamma)))
        length = base_len * np.exp(verbosity + rng.normal(0.0, 0.5, n_instr))
        eta = theta + gamma + bias * np.tanh((length - base_len) / 500.0)
        won = (rng.random(n_instr) < expit(eta)).astype(float)
        flip = rng.random(n_instr) < 0.5  # the model shown as A or as B
        cols["a"] += np.where(flip, "base", name).tolist()
        cols["b"] += np.where(flip, name, "base").tolist()
        cols["p"] += np.where(flip, 1.0 - won, won).tolist()
        cols["la"] += np.where(flip, base_len, length).tolist()
        cols["lb"] += np.where(flip, length, base_len).tolist()
        cols["q"] += [f"i{x}" for x in range(n_instr)]
    return {"cols": cols, "truth": truth}


@pytest.fixture(scope="module", name="planted")
def planted_fixture() -> dict:
    sim = simulate()
    c = sim["cols"]
    out = lc_win_rates(
        c["a"],
        c["b"],
        c["p"],
        c["la"],
        c["lb"],
        c["q"],
        baseline="base",
        baseline_variants=VARIANTS,
    )
    return {"truth": sim["truth"], "res": {m["name"]: m for m in out["models"]}, "out": out}


def test_recovers_planted_length_controlled_win_rates(planted: dict) -> None:
    res, truth = planted["res"], planted["truth"]
    assert set(res) == {"m1", "m2", "m3", "g_verbose", "g_concise"}  # variants get no rate
    for name, row in res.items():
        assert row["lc_win_rate"] == pytest.approx(truth[name], abs=5.0)
    # the raw win rate of the verbose model is far off; the controlled one is not
    assert res["m2"]["win_rate"] - truth["m2"] > 8.0
    assert all(row["coef"]["length"] > 0 for row in res.values())


def test_length_gaming_moves_lc_win_rate_far_less_than_raw(planted: dict) -> None:
    res = planted["res"]
    raw_gap = res["g_verbose"]["win_rate"] - res["g_concise"]["win_rate"]
    lc_gap = abs(res["g_verbose"]["lc_win_rate"] - res["g_concise"]["lc_win_rate"])
    assert raw_gap > 15.0
    assert lc_gap < 0.25 * raw_gap
    assert "not used" in planted["out"]["method"]["instruction_difficulty"]


def _duplicated(x: np.ndarray, y: np.ndarray, w: np.ndarray):
    return np.vstack([x, x]), np.r_[np.ones(len(y)), np.zeros(len(y))], np.r_[w * y, w * (1 - y)]


@pytest.fixture(name="design")
def design_fixture() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    n = 600
    x = np.column_stack([np.ones(n), np.tanh(rng.normal(0, 1, n)), rng.normal(0, 0.7, n)])
    y = np.clip(expit(x @ np.array([0.4, 0.9, -0.5])) + rng.normal(0, 0.2, n), 0, 1)
    return x, y, rng.uniform(0.5, 2.0, n)


def test_unpenalised_glm_matches_sklearn_on_the_same_design(design) -> None:
    x, y, w = design
    sk = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=10_000)
    sk.fit(*_duplicated(x, y, w)[:2], sample_weight=_duplicated(x, y, w)[2])
    np.testing.assert_allclose(fit_glm(x, y, w).coef, sk.coef_[0], atol=1e-6)


@pytest.mark.parametrize("C", [0.002, 0.05, 1.0])
def test_l1_glm_matches_sklearn_liblinear(design, C: float) -> None:
    x, y, w = design
    xd, yd, wd = _duplicated(x, y, w)
    sk = LogisticRegression(
        C=C, l1_ratio=1.0, solver="liblinear", fit_intercept=False, tol=1e-12, max_iter=100_000
    )
    sk.fit(xd, yd, sample_weight=wd)
    ours = fit_glm(x, y, w, C=C).coef
    np.testing.assert_allclose(ours, sk.coef_[0], atol=2e-4)
    assert np.array_equal(ours == 0, np.abs(sk.coef_[0]) < 1e-8)


def test_per_model_glm_matches_sklearn_on_the_lc_design() -> None:
    """End to end: rebuild one model's design from the output's difficulty and refit it."""
    c = simulate(seed=5, n_instr=150)["cols"]
    keep = [i for i, (a, b) in enumerate(zip(c["a"], c["b"], strict=True)) if "base_" not in a + b]
    sub = {k: np.array([v[i] for i in keep]) for k, v in c.items()}
    out = lc_win_rates(
        sub["a"], sub["b"], sub["p"], sub["la"], sub["lb"], sub["q"], baseline="base", C=0.3
    )
    gamma = out["instruction_difficulty"]
    own = sub["b"] == "m2"  # m2 as B (baseline A) and as A
    rows = own | (sub["a"] == "m2")
    a_is_model = sub["a"][rows] == "m2"
    y = np.where(a_is_model, sub["p"][rows], 1.0 - sub["p"][rows])
    d = np.where(a_is_model, 1.0, -1.0) * (sub["la"][rows] - sub["lb"][rows])
    g = np.array([gamma[q] for q in sub["q"][rows]])
    x = np.column_stack([np.ones(d.size), np.tanh(d / np.std(d, ddof=1)), g])
    sk = LogisticRegression(
        C=0.3, l1_ratio=1.0, solver="liblinear", fit_intercept=False, tol=1e-12, max_iter=100_000
    )
    xd, yd, wd = _duplicated(x, y, np.ones(y.size))
    sk.fit(xd, yd, sample_weight=wd)
    m2 = next(m for m in out["models"] if m["name"] == "m2")
    coef = [m2["coef"][k] for k in ("theta", "length", "difficulty")]
    np.testing.assert_allclose(coef, sk.coef_[0], atol=2e-4)
    lc = 100.0 * np.mean(expit(sk.coef_[0][0] + sk.coef_[0][2] * g))
    assert m2["lc_win_rate"] == pytest.approx(lc, abs=0.02)


def test_cli_lc_winrate(tmp_path: Path, capsys) -> None:
    c = simulate(seed=3, n_instr=60)["cols"]
    keep = [i for i, (a, b) in enumerate(zip(c["a"], c["b"], strict=True)) if "base_" not in a + b]
    rows = [
        {
            "model_a": c["a"][i],
            "model_b": c["b"][i],
            "winner": "model_a" if c["p"][i] == 1.0 else "model_b",
            "length_a": c["la"][i],
            "length_b": c["lb"][i],
            "question_id": c["q"][i],
        }
        for i in keep
    ]
    path = tmp_path / "alpaca.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["lc-winrate", str(path), "--baseline", "base", "--C", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    sub = {k: [v[i] for i in keep] for k, v in c.items()}
    direct = lc_win_rates(
        sub["a"], sub["b"], sub["p"], sub["la"], sub["lb"], sub["q"], baseline="base", C=1.0
    )
    assert out["models"] == direct["models"]
    rows[0]["model_a"], rows[0]["model_b"] = "m1", "m2"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["lc-winrate", str(path), "--baseline", "base"]) == 2
    assert "row 0: neither side is the baseline 'base'" in capsys.readouterr().err
