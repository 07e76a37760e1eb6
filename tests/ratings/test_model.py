"""The maths: derivatives, optimum, agreement with choix, invariances, failure modes."""

from __future__ import annotations

import choix
import numpy as np
import pytest

import ratings
from ratings.solver import _penalised


@pytest.mark.parametrize("ties", ["half", "davidson"])
@pytest.mark.parametrize("with_features", [True, False])
def test_gradient_and_hessian_match_finite_differences(
    ties: str, with_features: bool, simulate, make_problem
) -> None:
    data = simulate(
        np.random.default_rng(1), n_items=5, n_battles=400, beta=(0.5, 0.2), tie_share=0.2
    )
    if not with_features:
        data["features"] = {}
    prob = make_problem(data, ties)
    davidson = ties == "davidson"
    rng = np.random.default_rng(2)
    dim = prob.n_items + prob.n_features + int(davidson)
    v = rng.normal(0, 0.5, dim)
    w = prob.row_w * rng.uniform(0.5, 1.5, prob.row_w.shape[0])
    f, g, h = _penalised(prob, v, w, 0.3, davidson)
    eps = 1e-6
    for k in range(dim):
        e = np.zeros(dim)
        e[k] = eps
        fp, gp, _ = _penalised(prob, v + e, w, 0.3, davidson)
        fm, gm, _ = _penalised(prob, v - e, w, 0.3, davidson)
        assert (fp - fm) / (2 * eps) == pytest.approx(g[k], rel=1e-6, abs=1e-6)
        np.testing.assert_allclose((gp - gm) / (2 * eps), h[:, k], rtol=1e-5, atol=1e-5)


def test_plain_fit_agrees_with_choix_within_001_elo(simulate) -> None:
    data = simulate(np.random.default_rng(3), n_items=12, n_battles=5000)
    res = ratings.fit_leaderboard(data["model_a"], data["model_b"], data["winner"], ci="none")
    names = list(data["names"])
    idx = {m: i for i, m in enumerate(names)}
    pairs = [
        (idx[a], idx[b]) if w == "model_a" else (idx[b], idx[a])
        for a, b, w in zip(data["model_a"], data["model_b"], data["winner"], strict=True)
    ]
    theta = choix.ilsr_pairwise(len(names), pairs, alpha=0.0, tol=1e-12, max_iter=10000)
    expected = 1000 + ratings.SCALE * (theta - theta.mean())
    got = np.array([res.rating_of(m) for m in names])
    assert np.max(np.abs(got - expected)) < 0.01


def _fit(sim: dict, **options):
    return ratings.fit_leaderboard(
        sim["model_a"], sim["model_b"], sim["winner"], features=sim["features"], **options
    )


def test_fit_reports_certified_convergence(sim: dict) -> None:
    res = _fit(sim, control=("f0", "f1"), ci="none")
    assert res.converged and 2 <= res.iterations < 20
    assert res.gradient_norm < 1e-6
    assert np.mean([m.rating for m in res.models]) == pytest.approx(1000.0, abs=1e-9)
    d = res.to_dict()
    assert set(d) >= {"models", "style", "method", "n_battles", "converged", "gradient_norm"}
    assert d["method"]["feature_transform_version"] == ratings.FEATURE_TRANSFORM_VERSION


def test_relabelling_and_side_swap_leave_ratings_unchanged(sim: dict) -> None:
    base = _fit(sim, control=("f0",), ci="none")
    rename = {m: f"zz-{m[::-1]}" for m in sim["names"]}
    flip = {"model_a": "model_b", "model_b": "model_a", "tie": "tie"}
    swapped = ratings.fit_leaderboard(
        [rename[m] for m in sim["model_b"]],
        [rename[m] for m in sim["model_a"]],
        [flip[w] for w in sim["winner"]],
        features={"f0": sim["features"]["f0"][::-1]},
        control=("f0",),
        ci="none",
    )
    for m in sim["names"]:
        assert swapped.rating_of(rename[m]) == pytest.approx(base.rating_of(m), abs=1e-7)
    assert swapped.style[0].coef == pytest.approx(base.style[0].coef, abs=1e-9)


def test_offset_and_anchor_shift_ratings_only(sim: dict) -> None:
    args = (sim["model_a"], sim["model_b"], sim["winner"])
    base = ratings.fit_leaderboard(*args, ci="sandwich")
    shifted = ratings.fit_leaderboard(*args, ci="sandwich", offset=1500.0)
    anchored = ratings.fit_leaderboard(*args, ci="sandwich", anchor=("m03", 1200.0))
    delta = 1200.0 - base.rating_of("m03")
    for m in base.models:
        assert shifted.rating_of(m.name) == pytest.approx(m.rating + 500.0, abs=1e-8)
        assert anchored.rating_of(m.name) == pytest.approx(m.rating + delta, abs=1e-8)
    pinned = next(m for m in anchored.models if m.name == "m03")
    assert pinned.ci_low == pytest.approx(1200.0) and pinned.ci_high == pytest.approx(1200.0)


@pytest.mark.parametrize(
    ("anchor", "message"),
    [
        (("m03", "high"), "anchor value must be a finite number, got 'high'"),
        (("m03", None), "anchor value must be a finite number, got None"),
        (("m03", float("inf")), "anchor value must be a finite number, got inf"),
        ((["m03"], 1200.0), "anchor contender ['m03'] is not among the rated contenders"),
    ],
)
def test_bad_anchor_raises_input_error(sim: dict, anchor: tuple, message: str) -> None:
    with pytest.raises(ratings.InputError) as info:
        ratings.fit_leaderboard(
            sim["model_a"], sim["model_b"], sim["winner"], ci="none", anchor=anchor
        )
    assert str(info.value) == message


def test_disconnected_graph_is_reported() -> None:
    with pytest.raises(ratings.DisconnectedGraphError) as info:
        ratings.fit_leaderboard(
            ["a", "b", "c", "d"],
            ["b", "a", "d", "c"],
            ["model_a", "model_a", "tie", "model_b"],
            ci="none",
        )
    assert sorted(map(sorted, info.value.components)) == [["a", "b"], ["c", "d"]]
    res = ratings.fit_leaderboard(
        ["a", "b", "c", "d"],
        ["b", "a", "d", "c"],
        ["model_a", "model_a", "tie", "model_b"],
        ci="none",
        reg=0.1,
    )
    assert len(res.components) == 2 and "disconnected" in res.message


def test_contender_that_never_loses_raises_not_converged() -> None:
    with pytest.raises(ratings.NotConvergedError, match="never loses"):
        ratings.fit_leaderboard(
            ["a", "a", "b", "c"],
            ["b", "c", "c", "b"],
            ["model_a", "model_a", "model_a", "model_a"],
            ci="none",
        )


def test_iteration_limit_raises_not_converged(sim: dict) -> None:
    with pytest.raises(ratings.NotConvergedError, match="did not converge"):
        ratings.fit_leaderboard(
            sim["model_a"], sim["model_b"], sim["winner"], ci="none", max_iter=1
        )


def test_davidson_ties_and_both_bad_options(simulate) -> None:
    data = simulate(np.random.default_rng(5), n_items=6, n_battles=3000, tie_share=0.25)
    w = data["winner"].copy()
    w[::7] = "tie (bothbad)"
    half = ratings.fit_leaderboard(data["model_a"], data["model_b"], w, ci="none")
    dav = ratings.fit_leaderboard(data["model_a"], data["model_b"], w, ci="none", ties="davidson")
    drop = ratings.fit_leaderboard(data["model_a"], data["model_b"], w, ci="none", both_bad="drop")
    assert dav.tie_log_nu is not None and half.tie_log_nu is None
    assert drop.n_battles == half.n_battles - int((w == "tie (bothbad)").sum())
    assert sum(m.both_bad for m in half.models) == 2 * int((w == "tie (bothbad)").sum())
    # Same ordering of contenders under both tie models on this data.
    assert [m.name for m in half.models] == [m.name for m in dav.models]
    p = np.array(half.to_dict()["win_matrix"]["p"])
    np.testing.assert_allclose(p + p.T, 1.0)


def test_weights_equal_repetition(sim: dict) -> None:
    twice = ratings.fit_leaderboard(
        np.concatenate([sim["model_a"], sim["model_a"][:100]]),
        np.concatenate([sim["model_b"], sim["model_b"][:100]]),
        np.concatenate([sim["winner"], sim["winner"][:100]]),
        ci="none",
    )
    w = np.ones(len(sim["winner"]))
    w[:100] = 2.0
    weighted = ratings.fit_leaderboard(
        sim["model_a"], sim["model_b"], sim["winner"], weights=w, ci="none"
    )
    for m in twice.models:
        assert weighted.rating_of(m.name) == pytest.approx(m.rating, abs=1e-8)


def test_rank_ub_follows_fastchat_definition(sim: dict) -> None:
    res = ratings.fit_leaderboard(
        sim["model_a"], sim["model_b"], sim["winner"], ci="bootstrap", n_bootstrap=30
    )
    for m in res.models:
        assert m.rank_ub == 1 + sum(o.ci_low > m.ci_high for o in res.models)
        assert m.rank_ci_low <= m.rank <= m.rank_ci_high
