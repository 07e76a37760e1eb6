"""``Refit``: reweighted refits equal ``fit_leaderboard`` on the battles left."""

from __future__ import annotations

import numpy as np
import pytest

import ratings


def _theta_beta(res: ratings.LeaderboardResult) -> tuple[dict[str, float], np.ndarray]:
    theta = {m.name: m.rating / ratings.SCALE for m in res.models}
    return theta, np.array([s.coef for s in res.style])


def _fit_subset(sim: dict, keep: np.ndarray, weights: np.ndarray, reg: float):
    feats = {k: (a[keep], b[keep]) for k, (a, b) in sim["features"].items()}
    return ratings.fit_leaderboard(
        sim["model_a"][keep], sim["model_b"][keep], sim["winner"][keep], features=feats,
        control=tuple(feats), weights=weights[keep], reg=reg, ci="none",
    )  # fmt: skip


@pytest.mark.parametrize("reg", [ratings.FASTCHAT_REG, 0.0])
def test_zero_weights_refit_equals_fit_leaderboard_without_those_battles(
    reg: float, simulate
) -> None:
    rng = np.random.default_rng(3)
    sim = simulate(rng, n_items=6, n_battles=800, beta=(0.4, -0.2), tie_share=0.2)
    weights = rng.uniform(0.3, 1.0, 800)
    refit = ratings.Refit(sim["model_a"], sim["model_b"], sim["winner"],
                          features=sim["features"], control=tuple(sim["features"]),
                          weights=weights, reg=reg)
    full = _fit_subset(sim, np.ones(800, bool), weights, reg)
    for keep in (np.ones(800, bool), rng.random(800) > 0.1, rng.random(800) > 0.6):
        v = refit.fit(np.where(keep, weights, 0.0))
        res = _fit_subset(sim, keep, weights, reg)
        theta, beta = _theta_beta(res)
        names = refit.names.tolist()
        got = {n: v[i] - v[names.index("m00")] for i, n in enumerate(names)}
        for name in theta:
            assert got[name] == pytest.approx(theta[name] - theta["m00"], abs=1e-7)
        np.testing.assert_allclose(v[refit.n_items:], beta, atol=1e-7)
    # the full-data optimum is the published fit's
    np.testing.assert_allclose(refit.v[refit.n_items:], _theta_beta(full)[1], atol=1e-7)


def test_penalised_refit_of_an_item_without_battles_leaves_the_others_as_before(simulate) -> None:
    rng = np.random.default_rng(4)
    sim = simulate(rng, n_items=5, n_battles=600, beta=(0.3,))
    refit = ratings.Refit(sim["model_a"], sim["model_b"], sim["winner"],
                          features=sim["features"], control="f0", reg=ratings.FASTCHAT_REG)
    keep = (sim["model_a"] != "m04") & (sim["model_b"] != "m04")
    v = refit.fit(keep.astype(float))
    theta, beta = _theta_beta(_fit_subset(sim, keep, np.ones(600), ratings.FASTCHAT_REG))
    names = refit.names.tolist()
    assert v[names.index("m04")] == pytest.approx(0.0, abs=1e-12)  # only the penalty is left
    for name in theta:
        assert v[names.index(name)] - v[names.index("m00")] == pytest.approx(
            theta[name] - theta["m00"], abs=1e-7)
    np.testing.assert_allclose(v[refit.n_items:], beta, atol=1e-7)


def test_unpenalised_refit_that_cuts_an_item_off_raises(simulate) -> None:
    rng = np.random.default_rng(5)
    sim = simulate(rng, n_items=4, n_battles=300, beta=(0.3,))
    refit = ratings.Refit(sim["model_a"], sim["model_b"], sim["winner"],
                          features=sim["features"], control="f0", reg=0.0)
    keep = (sim["model_a"] != "m03") & (sim["model_b"] != "m03")
    with pytest.raises(ratings.DisconnectedGraphError):
        refit.fit(keep.astype(float))


def test_hessian_is_the_derivative_of_the_gradient(simulate) -> None:
    rng = np.random.default_rng(6)
    sim = simulate(rng, n_items=4, n_battles=400, beta=(0.5, 0.1), tie_share=0.3)
    reg = ratings.FASTCHAT_REG
    refit = ratings.Refit(sim["model_a"], sim["model_b"], sim["winner"],
                          features=sim["features"], control=tuple(sim["features"]), reg=reg)
    w = rng.uniform(0.0, 1.0, 400)
    n = refit.n_items
    design = np.zeros((400, n))
    design[np.arange(400), refit.item_a] += 1
    design[np.arange(400), refit.item_b] -= 1
    design = np.hstack([design, refit.covariates.T])

    def grad(v: np.ndarray) -> np.ndarray:
        return design.T @ (w * (refit.win_probability(v) - refit.score)) + reg * v

    v = refit.v + rng.normal(0, 0.1, refit.v.size)
    eps = 1e-6
    numeric = np.array([(grad(v + eps * e) - grad(v - eps * e)) / (2 * eps)
                        for e in np.eye(v.size)])
    np.testing.assert_allclose(refit.hessian(v, w), numeric, atol=1e-6)
    # at the unweighted optimum the penalised gradient vanishes
    w[:] = 1.0
    np.testing.assert_allclose(grad(refit.v), 0.0, atol=1e-7)


def test_battles_that_validation_would_drop_are_refused() -> None:
    with pytest.raises(ratings.InputError, match="dropped"):
        ratings.Refit(["a", "b", "a"], ["b", "a", "b"], ["model_a", "tie", "model_b"],
                      weights=[1.0, 0.0, 1.0], reg=0.1)
