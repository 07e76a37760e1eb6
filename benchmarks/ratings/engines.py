"""One engine, one task, in its own process: ``python engines.py ENGINE TASK ROUNDS DATA OUT``.

Every engine starts from the same in-memory arrays (model names, outcome labels, raw style
features) loaded from ``DATA`` (.npz). ``prep`` is the engine's conversion of them into its
own input structure, ``fit`` the point estimate, ``boot`` ``ROUNDS`` bootstrap refits.
Peak memory is this process's ``ru_maxrss`` (data included; ``rss_data_mb`` is the peak
after loading the data, before the engine ran). Ratings are returned on one scale:
``1000 + 400/ln10 * theta`` centred to mean 1000, by model id.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
from synth import FEATURES, LABELS

SCALE = 400.0 / math.log(10.0)


def _rss_mb() -> float:
    """Peak RSS of this process (VmHWM, which unlike ru_maxrss is not inherited across exec
    from the parent) or of any worker process it started (arena-rank's pool)."""
    own = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            own = float(line.split()[1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def _centre(elo_by_id: np.ndarray) -> list[float]:
    return (elo_by_id - elo_by_id.mean() + 1000.0).tolist()


def _load(path: str) -> dict:
    raw = np.load(path)
    names = np.array([f"model-{i:03d}" for i in range(int(raw["n_models"]))], dtype=object)
    data = {
        "ia": raw["a"],
        "ib": raw["b"],
        "code": raw["winner"],
        "a": names[raw["a"]],
        "b": names[raw["b"]],
        "winner": LABELS[raw["winner"]],
        "names": names,
    }
    for f in FEATURES:
        data[f"{f}_a"], data[f"{f}_b"] = raw[f"{f}_a"], raw[f"{f}_b"]
    return data


def _covariates(d: dict) -> np.ndarray:
    """Style covariates as the ``ratio-v1`` transform (given to peers that take covariates)."""
    return np.column_stack(
        [(d[f"{f}_a"] - d[f"{f}_b"]) / (d[f"{f}_a"] + d[f"{f}_b"] + 1.0) for f in FEATURES]
    )


def ours(task: str, rounds: int, d: dict) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import ratings

    opts = {}
    if task == "style":
        opts = {"features": {f: (d[f"{f}_a"], d[f"{f}_b"]) for f in FEATURES}, "control": FEATURES}
    t0 = time.perf_counter()
    ratings.fit_leaderboard(d["a"], d["b"], d["winner"], ci="none", **opts)
    t1 = time.perf_counter()
    res = ratings.fit_leaderboard(d["a"], d["b"], d["winner"], n_bootstrap=rounds, seed=0, **opts)
    t2 = time.perf_counter()
    elo = np.array([res.rating_of(n) for n in d["names"]])
    return {
        "prep": 0.0,
        "fit": t1 - t0,
        "fit_and_boot": t2 - t1,
        "elo": elo,
        "style": {s.name: s.coef for s in res.style},
        "note": res.message,
    }


def arena_rank(task: str, rounds: int, d: dict) -> dict:
    import pandas as pd
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.models.contextual_bradley_terry import ContextualBradleyTerry
    from arena_rank.utils.data_utils import ContextualPairDataset, PairDataset

    t0 = time.perf_counter()
    df = pd.DataFrame({"model_a": d["a"], "model_b": d["b"], "winner": d["winner"]})
    if task == "style":
        x = _covariates(d)
        for k, f in enumerate(FEATURES):
            df[f] = x[:, k]
        ds = ContextualPairDataset.from_pandas(df, list(FEATURES))
        model = ContextualBradleyTerry(len(ds.competitors), len(FEATURES))
    else:
        ds = PairDataset.from_pandas(df)
        model = BradleyTerry(len(ds.competitors))
    t1 = time.perf_counter()
    model.fit(ds)
    t2 = time.perf_counter()
    # arena-rank forks a multiprocessing pool after JAX has started threads, which deadlocks
    # here; "spawn" keeps its 2-process parallel bootstrap working.
    import multiprocessing as mp

    mp.set_start_method("spawn", force=True)
    model.compute_ratings_and_cis(ds, ci_method="bootstrap", num_bootstrap=rounds, n_jobs=2)
    t3 = time.perf_counter()
    theta = np.asarray(model.params["ratings"])
    order = [ds.competitors.index(n) for n in d["names"]]
    out = {"prep": t1 - t0, "fit": t2 - t1, "boot": t3 - t2, "elo": SCALE * theta[order]}
    if task == "style":  # coefficients per SD of the covariate -> per unit of the covariate
        sd = _covariates(d).std(axis=0)
        out["style"] = dict(
            zip(FEATURES, (np.asarray(model.params["coeffs"]) / sd).tolist(), strict=True)
        )
    return out


def fschat(task: str, rounds: int, d: dict) -> dict:
    import types

    # elo_analysis imports the model registry (torch, psutil...) only for display names.
    for name in ("fastchat.model", "fastchat.model.model_registry"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["fastchat.model.model_registry"].get_model_info = lambda *a, **k: None  # type: ignore[attr-defined]
    import pandas as pd
    from fastchat.serve.monitor import elo_analysis as ea

    t0 = time.perf_counter()
    df = pd.DataFrame({"model_a": d["a"], "model_b": d["b"], "winner": d["winner"]})
    t1 = time.perf_counter()
    elo = ea.compute_elo_mle_with_tie(df)
    t2 = time.perf_counter()
    np.random.seed(42)
    ea.get_bootstrap_result(df, ea.compute_elo_mle_with_tie, num_round=rounds)
    t3 = time.perf_counter()
    return {
        "prep": t1 - t0,
        "fit": t2 - t1,
        "boot": t3 - t2,
        "elo": np.array([elo[n] for n in d["names"]]),
    }


def choix_(task: str, rounds: int, d: dict) -> dict:
    import choix

    # No ties and no weights in choix: a decisive battle becomes two identical comparisons
    # and a tie one each way, which has exactly the half-tie optimum.
    t0 = time.perf_counter()
    win = np.where(d["code"] == 1, d["ib"], d["ia"])
    lose = np.where(d["code"] == 1, d["ia"], d["ib"])
    tie = d["code"] == 2
    src = np.concatenate([win[~tie], win[~tie], d["ia"][tie], d["ib"][tie]])
    dst = np.concatenate([lose[~tie], lose[~tie], d["ib"][tie], d["ia"][tie]])
    pairs = list(zip(src.tolist(), dst.tolist(), strict=True))
    n = len(d["names"])
    t1 = time.perf_counter()
    theta = choix.ilsr_pairwise(n, pairs, tol=1e-8)
    t2 = time.perf_counter()
    rng = np.random.default_rng(0)
    for _ in range(rounds):
        idx = rng.integers(0, len(pairs), len(pairs))
        choix.ilsr_pairwise(n, [pairs[i] for i in idx], tol=1e-8, initial_params=theta)
    t3 = time.perf_counter()
    return {
        "prep": t1 - t0,
        "fit": t2 - t1,
        "boot": t3 - t2,
        "elo": SCALE * theta,
        "note": "bootstrap resamples comparisons, not battles",
    }


def arenakit(task: str, rounds: int, d: dict) -> dict:
    from arenakit import Arena, bootstrap, fit_bt

    # Arena() validates one pydantic Battle per vote (minutes for 1M); fill its arrays directly.
    t0, c0 = time.perf_counter(), time.process_time()
    arena = object.__new__(Arena)
    arena.models = list(d["names"])
    arena.a, arena.b = d["ia"].astype(np.int32), d["ib"].astype(np.int32)
    arena.y = d["code"].astype(np.int8)
    arena.item = arena.voter = None
    t1 = time.perf_counter()
    point = fit_bt(arena.counts())
    t2 = time.perf_counter()
    bootstrap(arena, n_resamples=rounds, seed=0)
    t3 = time.perf_counter()
    return {
        "prep": t1 - t0,
        "fit": t2 - t1,
        "boot": t3 - t2,
        "cpu": time.process_time() - c0,  # CPU seconds of prep + fit + bootstrap
        "elo": SCALE * np.asarray(point.scores),  # arenakit scores are log-strengths
        "note": "default prior: 0.5 virtual battles per model",
    }


def evalica_(task: str, rounds: int, d: dict) -> dict:
    import evalica

    t0 = time.perf_counter()
    codes = np.array([evalica.Winner.X, evalica.Winner.Y, evalica.Winner.Draw], dtype=object)
    winners = codes[d["code"]].tolist()
    xs, ys = d["a"].tolist(), d["b"].tolist()
    t1 = time.perf_counter()
    res = evalica.bradley_terry(xs, ys, winners)
    t2 = time.perf_counter()
    evalica.bootstrap(
        evalica.bradley_terry,
        xs,
        ys,
        winners,
        n_resamples=rounds,
        bootstrap_method="percentile",
        random_state=0,
    )
    t3 = time.perf_counter()
    scores = res.scores
    return {
        "prep": t1 - t0,
        "fit": t2 - t1,
        "boot": t3 - t2,
        "elo": SCALE * np.log(np.array([scores[n] for n in d["names"]])),
    }


ENGINES = {
    "ours": ours,
    "arena-rank": arena_rank,
    "fschat": fschat,
    "choix": choix_,
    "arenakit": arenakit,
    "evalica": evalica_,
}


def main() -> None:
    engine, task, rounds, data, out = sys.argv[1:6]
    d = _load(data)
    base = _rss_mb()
    res = ENGINES[engine](task, int(rounds), d)
    res["elo"] = _centre(np.asarray(res["elo"], dtype=float))
    res.update(
        engine=engine, task=task, rounds=int(rounds), rss_peak_mb=_rss_mb(), rss_data_mb=base
    )
    Path(out).write_text(json.dumps(res))


if __name__ == "__main__":
    main()
