"""Options for other people's data: self-battles, style reference, soft outcomes, clusters.

References are independent of the engine: scikit-learn's ``LogisticRegression`` on the same
design, hand-made weighted rows, and numpy delta-method standard errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import ratings
from ratings.cli import main

SCALE = ratings.SCALE


def _one_hot(a: np.ndarray, b: np.ndarray, names: list[str]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    x = np.zeros((a.shape[0], len(names)))
    x[np.arange(a.shape[0]), [index[m] for m in a]] = 1.0
    x[np.arange(a.shape[0]), [index[m] for m in b]] = -1.0
    return x


def _centred(res: ratings.LeaderboardResult, names: list[str]) -> np.ndarray:
    r = np.array([res.rating_of(n) for n in names])
    return r - r.mean()


# -- 1. self-battles ------------------------------------------------------------------------


def test_self_battles_are_dropped_and_counted_only_when_asked(sim: dict) -> None:
    a, b, w = sim["model_a"].copy(), sim["model_b"].copy(), sim["winner"]
    b[[3, 10, 11]] = a[[3, 10, 11]]
    with pytest.raises(ratings.InputError, match="row 3: model_a and model_b are the same"):
        ratings.fit_leaderboard(a, b, w, ci="none")
    res = ratings.fit_leaderboard(a, b, w, ci="none", drop_self_battles=True)
    keep = a != b
    ref = ratings.fit_leaderboard(a[keep], b[keep], w[keep], ci="none")
    assert res.method["self_battles_dropped"] == 3
    assert res.n_battles == int(keep.sum())
    assert [m.rating for m in res.models] == [m.rating for m in ref.models]


def test_cli_drop_self_battles_reports_count_default_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"model_a": "x", "model_b": "y", "winner": "model_a"},
        {"model_a": "y", "model_b": "x", "winner": "model_a"},
        {"model_a": "x", "model_b": "y", "winner": "tie"},
        {"model_a": "x", "model_b": "x", "winner": "tie"},
    ]
    path = tmp_path / "b.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["fit", str(path), "--ci", "none"]) == 2
    assert "row 3: model_a and model_b are the same contender 'x'" in capsys.readouterr().err
    assert main(["fit", str(path), "--ci", "none", "--drop-self-battles"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"]["self_battles_dropped"] == 1 and out["n_battles"] == 3
    # x scored 1.5 of 3 against y: equal ratings (the exact fit of the 3 rows left).
    assert out["models"][0]["rating"] == pytest.approx(1000.0, abs=1e-9)


# -- 2. style reference point ---------------------------------------------------------------


@pytest.fixture(name="skewed")
def skewed_fixture(simulate) -> dict:
    """Decisive style battles whose A side is systematically longer (mean difference > 0)."""
    sim = simulate(np.random.default_rng(11), n_items=5, n_battles=3000, beta=(1.2,))
    fa, fb = sim["features"]["f0"]
    keep = sim["winner"] != "tie"
    # Outcomes were drawn with fa; tripling it afterwards skews x without refitting anything.
    return {
        "model_a": sim["model_a"][keep],
        "model_b": sim["model_b"][keep],
        "winner": sim["winner"][keep],
        "features": {"f0": (3.0 * fa[keep], fb[keep])},
    }


def _fit_skewed(skewed: dict, **options) -> ratings.LeaderboardResult:
    a, b, w = skewed["model_a"], skewed["model_b"], skewed["winner"]
    return ratings.fit_leaderboard(
        a, b, w, features=skewed["features"], control="f0", ci="none", **options
    )


def test_style_means_are_reported_and_equal_numpy_means(skewed: dict) -> None:
    fa, fb = skewed["features"]["f0"]
    res = _fit_skewed(skewed)
    assert res.method["style_reference"] == "equal"
    assert res.style[0].mean == pytest.approx(np.mean((fa - fb) / (fa + fb + 1.0)), rel=1e-12)
    assert res.style[0].mean > 0.3
    assert res.to_dict()["style"]["f0"]["mean"] == res.style[0].mean


def test_mean_style_reference_matches_sklearn_on_standardised_features(skewed: dict) -> None:
    """LMArena's recipe: standardise the transformed difference, fit without intercept."""
    a, b, w = skewed["model_a"], skewed["model_b"], skewed["winner"]
    fa, fb = skewed["features"]["f0"]
    x = (fa - fb) / (fa + fb + 1.0)
    z = (x - x.mean()) / x.std()
    names = sorted(set(a) | set(b))
    design = np.hstack([_one_hot(a, b, names), z[:, None]])
    y = (w == "model_a").astype(int)
    sk = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=10_000)
    sk.fit(design, y)
    theta = sk.coef_[0][:-1]
    kw = {"features": skewed["features"], "control": "f0", "ci": "none"}
    mean_ref = ratings.fit_leaderboard(a, b, w, style_reference="mean", **kw)
    equal = ratings.fit_leaderboard(a, b, w, **kw)
    np.testing.assert_allclose(_centred(mean_ref, names), SCALE * (theta - theta.mean()), atol=1e-3)
    assert mean_ref.style[0].coef == pytest.approx(sk.coef_[0][-1] / x.std(), rel=1e-5)
    # The reference point matters: at equal style the same data give other ratings.
    assert np.max(np.abs(_centred(equal, names) - _centred(mean_ref, names))) > 5.0


def test_cli_style_reference_mean(tmp_path: Path, skewed: dict, capsys) -> None:
    fa, fb = skewed["features"]["f0"]
    rows = [
        {"model_a": a, "model_b": b, "winner": w, "f0_a": float(x), "f0_b": float(y)}
        for a, b, w, x, y in zip(
            skewed["model_a"], skewed["model_b"], skewed["winner"], fa, fb, strict=True
        )
    ]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(rows))
    args = ["fit", str(path), "--control-columns", "f0", "--ci", "none"]
    assert main([*args, "--style-reference", "mean"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = _fit_skewed(skewed, style_reference="mean")
    assert out["method"]["style_reference"] == "mean"
    assert [m["rating"] for m in out["models"]] == [m.rating for m in direct.models]


# -- 3. soft outcomes -----------------------------------------------------------------------


@pytest.fixture(name="soft")
def soft_fixture() -> dict:
    rng = np.random.default_rng(5)
    names = np.array([f"j{i}" for i in range(6)], dtype=object)
    theta = rng.normal(0, 1, 6)
    n = 1500
    a = rng.integers(0, 6, n)
    b = (a + rng.integers(1, 6, n)) % 6
    p = 1.0 / (1.0 + np.exp(-(theta[a] - theta[b])))
    # A judge's probability: noisy around the truth, some certain verdicts, in [0, 1].
    prob = np.clip(p + rng.normal(0, 0.15, n), 0.0, 1.0)
    prob[rng.random(n) < 0.1] = 1.0
    return {"a": names[a], "b": names[b], "p": prob, "names": sorted(names.tolist())}


def test_soft_outcomes_match_sklearn_with_duplicated_weighted_rows(soft: dict) -> None:
    names = soft["names"]
    x = _one_hot(soft["a"], soft["b"], names)
    design = np.vstack([x, x])
    y = np.concatenate([np.ones(len(x)), np.zeros(len(x))])
    weight = np.concatenate([soft["p"], 1.0 - soft["p"]])
    # sklearn minimises C * sum(weighted log-loss) + |coef|^2 / 2, i.e. our reg = 1 / C.
    sk = LogisticRegression(C=0.5, fit_intercept=False, tol=1e-12, max_iter=10_000)
    sk.fit(design, y, sample_weight=weight)
    res = ratings.fit_leaderboard(
        soft["a"], soft["b"], None, outcome_prob=soft["p"], reg=2.0, ci="none"
    )
    got = np.array([res.rating_of(n) for n in names])
    np.testing.assert_allclose(got, 1000.0 + SCALE * sk.coef_[0], atol=1e-4)
    assert res.method["outcome"] == "probability"


def test_soft_outcomes_equal_hand_made_weighted_pairs(soft: dict) -> None:
    a, b, p = soft["a"], soft["b"], soft["p"]
    pairs = ratings.fit_leaderboard(
        np.concatenate([a, a]),
        np.concatenate([b, b]),
        np.array(["model_a"] * len(a) + ["model_b"] * len(a), dtype=object),
        weights=np.concatenate([p, 1.0 - p]),
        ci="sandwich",
    )
    native = ratings.fit_leaderboard(a, b, None, outcome_prob=p, ci="sandwich")
    for m in native.models:
        assert m.rating == pytest.approx(pairs.rating_of(m.name), abs=1e-9)
    assert native.models[0].wins == pytest.approx(pairs.models[0].wins, rel=1e-12)
    # A soft judgment is one unit (one row), so its sandwich is narrower than the pair's.
    assert native.models[0].ci_high - native.models[0].ci_low < (
        pairs.models[0].ci_high - pairs.models[0].ci_low
    )


def test_soft_outcomes_bootstrap_and_bad_values(soft: dict) -> None:
    res = ratings.fit_leaderboard(
        soft["a"], soft["b"], None, outcome_prob=soft["p"], n_bootstrap=20, seed=1
    )
    assert all(m.ci_low < m.rating < m.ci_high for m in res.models)
    bad = soft["p"].copy()
    bad[7] = 1.5
    with pytest.raises(ratings.InputError, match=r"row 7: outcome probability .* \[0, 1\]"):
        ratings.fit_leaderboard(soft["a"], soft["b"], None, outcome_prob=bad)
    with pytest.raises(ratings.InputError, match="needs discrete outcomes"):
        ratings.fit_leaderboard(soft["a"], soft["b"], None, outcome_prob=soft["p"], ties="davidson")


def test_cli_outcome_column(tmp_path: Path, soft: dict, capsys) -> None:
    path = tmp_path / "soft.csv"
    lines = ["model_a,model_b,p_a"] + [
        f"{x},{y},{p!r}" for x, y, p in zip(soft["a"], soft["b"], soft["p"].tolist(), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    assert main(["fit", str(path), "--outcome-column", "p_a", "--ci", "none"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = ratings.fit_leaderboard(soft["a"], soft["b"], None, outcome_prob=soft["p"], ci="none")
    assert [m["rating"] for m in out["models"]] == [m.rating for m in direct.models]
    assert main(["fit", str(path), "--outcome-column", "nope"]) == 2
    assert "missing outcome column 'nope'" in capsys.readouterr().err


# -- 4. cluster bootstrap -------------------------------------------------------------------


def _prompt_clusters(rng: np.random.Generator, n_prompts: int, per: int) -> dict:
    """Two models; every prompt has its own strong effect shared by its ``per`` battles."""
    effect = rng.normal(0.3, 1.5, n_prompts)
    prompt = np.repeat(np.arange(n_prompts), per)
    p = 1.0 / (1.0 + np.exp(-effect[prompt]))
    win = rng.random(prompt.shape[0]) < p
    flip = rng.random(prompt.shape[0]) < 0.5
    a = np.where(flip, "y", "x").astype(object)
    b = np.where(flip, "x", "y").astype(object)
    winner = np.where(win ^ flip, "model_a", "model_b").astype(object)
    return {"a": a, "b": b, "winner": winner, "prompt": prompt, "x_won": win}


def test_cluster_bootstrap_matches_numpy_cluster_robust_standard_error() -> None:
    d = _prompt_clusters(np.random.default_rng(3), n_prompts=150, per=8)
    res = ratings.fit_leaderboard(
        d["a"], d["b"], d["winner"], n_bootstrap=400, seed=2, bootstrap_cluster=d["prompt"]
    )
    rows = ratings.fit_leaderboard(d["a"], d["b"], d["winner"], n_bootstrap=400, seed=2)

    def spread(r: ratings.LeaderboardResult) -> float:
        assert r.bootstrap_ratings is not None
        boot = r.bootstrap_ratings
        diff = boot[:, r.names.index("x")] - boot[:, r.names.index("y")]
        return float(np.std(diff, ddof=1))

    # Delta method by hand: diff = SCALE * logit(s), s = share of x wins, ratio estimator
    # variance from prompt totals (the cluster-robust "sandwich" of a proportion).
    s = d["x_won"].mean()
    totals = np.bincount(d["prompt"], d["x_won"].astype(float))
    sizes = np.bincount(d["prompt"])
    var_s = np.sum((totals - s * sizes) ** 2) / sizes.sum() ** 2
    sd_ref = SCALE * np.sqrt(var_s) / (s * (1.0 - s))
    assert res.models[0].rating - res.models[1].rating == pytest.approx(
        abs(SCALE * np.log(s / (1 - s))), rel=1e-9
    )
    assert spread(res) == pytest.approx(sd_ref, rel=0.15)
    assert spread(rows) < 0.7 * spread(res)  # rows as units understate the uncertainty
    assert res.method["bootstrap_cluster"] is True


@pytest.mark.parametrize("scheme", ["poisson", "multinomial"])
def test_cluster_bootstrap_of_copies_equals_row_bootstrap_of_weighted_rows(
    sim: dict, scheme: str
) -> None:
    """A cluster of k identical battles resamples exactly like one battle of weight k."""
    k = 2 + np.arange(len(sim["winner"])) % 3
    idx = np.repeat(np.arange(len(k)), k)
    kw = {"n_bootstrap": 30, "seed": 4, "bootstrap_weights": scheme}
    clustered = ratings.fit_leaderboard(
        sim["model_a"][idx], sim["model_b"][idx], sim["winner"][idx], bootstrap_cluster=idx, **kw
    )
    weighted = ratings.fit_leaderboard(
        sim["model_a"], sim["model_b"], sim["winner"], weights=k.astype(float), **kw
    )
    assert clustered.bootstrap_ratings is not None and weighted.bootstrap_ratings is not None
    np.testing.assert_allclose(clustered.bootstrap_ratings, weighted.bootstrap_ratings, atol=1e-6)


def test_cluster_bootstrap_is_bit_identical_across_thread_counts(sim: dict) -> None:
    cluster = np.arange(len(sim["winner"])) // 7
    kw = {
        "features": sim["features"],
        "control": ("f0", "f1"),
        "n_bootstrap": 12,
        "seed": 9,
        "bootstrap_cluster": cluster,
    }
    one = ratings.fit_leaderboard(sim["model_a"], sim["model_b"], sim["winner"], n_threads=1, **kw)
    three = ratings.fit_leaderboard(
        sim["model_a"], sim["model_b"], sim["winner"], n_threads=3, **kw
    )
    assert one.to_dict() == three.to_dict()
    assert np.array_equal(one.bootstrap_ratings, three.bootstrap_ratings)
    assert np.array_equal(one.bootstrap_style, three.bootstrap_style)


def test_cli_bootstrap_cluster(tmp_path: Path, capsys) -> None:
    d = _prompt_clusters(np.random.default_rng(8), n_prompts=40, per=4)
    rows = [
        {"model_a": a, "model_b": b, "winner": w, "question_id": f"q{int(q)}"}
        for a, b, w, q in zip(d["a"], d["b"], d["winner"], d["prompt"], strict=True)
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    base = ["fit", str(path), "--bootstrap", "20", "--seed", "5", "--no-progress"]
    assert main([*base, "--bootstrap-cluster", "question_id"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = ratings.fit_leaderboard(
        d["a"],
        d["b"],
        d["winner"],
        n_bootstrap=20,
        seed=5,
        bootstrap_cluster=[f"q{int(q)}" for q in d["prompt"]],
    )
    assert out["method"]["bootstrap_cluster"] is True
    assert [m["ci_low"] for m in out["models"]] == [m.ci_low for m in direct.models]
    assert main([*base, "--bootstrap-cluster", "nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err


def test_style_mean_is_weighted_by_battle_weights(skewed: dict) -> None:
    fa, fb = skewed["features"]["f0"]
    weights = np.linspace(0.1, 3.0, fa.shape[0])
    res = _fit_skewed(skewed, weights=weights)
    x = (fa - fb) / (fa + fb + 1.0)
    assert res.style[0].mean == pytest.approx(np.sum(weights * x) / np.sum(weights), rel=1e-12)


def test_bootstrap_cluster_needs_the_bootstrap(sim: dict) -> None:
    cluster = np.arange(len(sim["winner"])) // 3
    with pytest.raises(ratings.InputError, match="bootstrap_cluster needs ci='bootstrap'"):
        ratings.fit_leaderboard(
            sim["model_a"], sim["model_b"], sim["winner"], ci="sandwich", bootstrap_cluster=cluster
        )
