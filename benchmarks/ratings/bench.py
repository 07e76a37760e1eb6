"""Ratings benchmark: our engine against public peers on the same synthetic battles.

Run from the repository root (peers live in a separate venv, see requirements.txt)::

    .venv/bin/python benchmarks/ratings/bench.py --peer-python /work/benchvenv/bin/python

Every engine runs in its own process on the same data (``engines.py``). Slow peers run
fewer bootstrap rounds and their time is extrapolated linearly to 100 rounds (marked ``*``).
A tightly converged reference (scipy trust-region Newton on the same objective, gradient
max-norm < 1e-9, independent of our code) gives each engine's largest rating error.
The results replace the ``## Ratings`` section of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import optimize
from synth import FEATURES, make_battles

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = ROOT / ".bench-ratings"
SCALE = 400.0 / math.log(10.0)
# engine -> (task -> bootstrap rounds actually run)
ROUNDS = {
    "ours": {"plain": 100, "style": 100},
    "arenakit": {"plain": 100},
    "evalica": {"plain": 20},
    "arena-rank": {"plain": 20, "style": 4},
    "choix": {"plain": 2},
    "fschat": {"plain": 2},
}


def save_data(n: int, n_models: int, seed: int = 0) -> Path:
    WORK.mkdir(exist_ok=True)
    path = WORK / f"battles_{n}_{n_models}.npz"
    if not path.exists():
        d = make_battles(n, n_models, seed)
        np.savez(
            path,
            n_models=n_models,
            a=d["a"],
            b=d["b"],
            winner=d["winner"],
            **{k: d[k] for k in d if k.endswith(("_a", "_b"))},
        )
    return path


def reference(path: Path, task: str) -> np.ndarray:
    """Optimum of the half-tie (style) BT log-likelihood by scipy's trust-ncg, centred Elo."""
    raw = np.load(path)
    n = int(raw["n_models"])
    a, b, code = raw["a"], raw["b"], raw["winner"]
    y = np.array([1.0, 0.0, 0.5])[code]
    x = np.empty((a.shape[0], 0))
    if task == "style":
        x = np.column_stack(
            [
                (raw[f"{f}_a"] - raw[f"{f}_b"]) / (raw[f"{f}_a"] + raw[f"{f}_b"] + 1)
                for f in FEATURES
            ]
        )
    m = a.shape[0]

    def parts(v):
        eta = v[a] - v[b] + x @ v[n:]
        return eta, 1.0 / (1.0 + np.exp(-eta))

    def fun(v):
        eta, p = parts(v)
        r = (p - y) / m
        g = np.concatenate([np.bincount(a, r, n) - np.bincount(b, r, n), x.T @ r])
        s = v[:n].sum()  # pins the free shift; zero at the optimum
        g[:n] += s
        f = np.mean(np.logaddexp(0, -eta) + (1 - y) * eta) + 0.5 * s * s
        return f, g

    def hessp(v, u):
        _, p = parts(v)
        h = p * (1 - p) / m * (u[a] - u[b] + x @ u[n:])
        out = np.concatenate([np.bincount(a, h, n) - np.bincount(b, h, n), x.T @ h])
        out[:n] += u[:n].sum()
        return out

    res = optimize.minimize(
        fun,
        np.zeros(n + x.shape[1]),
        jac=True,
        hessp=hessp,
        method="trust-ncg",
        options={"gtol": 1e-9 / m, "maxiter": 200},
    )
    theta = res.x[:n]
    return SCALE * (theta - theta.mean()) + 1000.0


def run_engine(
    python: str, engine: str, task: str, rounds: int, data: Path, timeout: float
) -> dict:
    out = WORK / f"{engine}_{task}_{data.stem}.json"
    out.unlink(missing_ok=True)
    cmd = [python, str(HERE / "engines.py"), engine, task, str(rounds), str(data), str(out)]
    env = dict(os.environ, PYTHONPATH=str(HERE))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {
            "engine": engine,
            "task": task,
            "error": f"timed out after {timeout:.0f} s",
            "wall": time.perf_counter() - t0,
        }
    if proc.returncode != 0 or not out.exists():
        return {
            "engine": engine,
            "task": task,
            "error": proc.stderr.strip()[-400:],
            "wall": time.perf_counter() - t0,
        }
    res = json.loads(out.read_text())
    if "fit_and_boot" in res:
        res["total_100"] = res["prep"] + res["fit_and_boot"] * 100 / rounds
    else:
        res["total_100"] = res["prep"] + res["fit"] + res["boot"] * 100 / rounds
    return res


def _fmt_table(rows: list[list[str]], head: list[str]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def comparison_table(results: list[dict], refs: dict[str, np.ndarray], task: str) -> str:
    mine = [r for r in results if r["task"] == task]
    ours = next(r for r in mine if r["engine"] == "ours")
    peers = [r for r in mine if r["engine"] != "ours" and "error" not in r]
    fastest = min((r["total_100"] for r in peers), default=float("nan"))
    rows = []
    for r in sorted(mine, key=lambda r: r.get("total_100", math.inf)):
        if "error" in r:
            rows.append([r["engine"], "failed: " + r["error"].splitlines()[-1][:80]] + [""] * 6)
            continue
        extrap = "*" if r["rounds"] < 100 else ""
        err = np.max(np.abs(np.array(r["elo"]) - refs[task]))
        rows.append(
            [
                r["engine"],
                f"{r['total_100']:.2f}{extrap}",
                str(r["rounds"]),
                f"{r['total_100'] / ours['total_100']:.1f}x",
                f"{fastest / r['total_100']:.1f}x" if r is ours else "",
                f"{r['rss_peak_mb']:.0f} ({r['rss_data_mb']:.0f})",
                f"{err:.4f}",
                f"{r['style']['length']:.3f}" if "style" in r and r["style"] else "",
            ]
        )
    head = [
        "engine",
        "fit + 100 bootstrap, s",
        "rounds run",
        "time / ours",
        "fastest peer / ours",
        "peak RSS MB (data)",
        "max err vs ref, Elo",
        "length coef",
    ]
    return _fmt_table(rows, head)


def write_readme(text: str) -> None:
    path = ROOT / "benchmarks" / "README.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find("\n## Ratings")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start].rstrip("\n") + "\n\n" + text + ("" if end < 0 else old[end:])
    path.write_text(new.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--peer-python", default="/work/benchvenv/bin/python")
    parser.add_argument("--peers", default=",".join(k for k in ROUNDS if k != "ours"))
    parser.add_argument("--scaling", default="10000,100000,1000000,10000000")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the README section from results.json without running anything",
    )
    args = parser.parse_args()
    if args.render_only:
        saved = json.loads((HERE / "results.json").read_text())
        refs = {k: np.array(v) for k, v in saved["reference"].items()}
        write_readme(render(saved["results"], refs, saved["scaling"], args, saved.get("load")))
        return

    data = save_data(args.battles, args.models)
    refs = {task: reference(data, task) for task in ("plain", "style")}
    results = []
    for engine in ["ours"] + [p for p in args.peers.split(",") if p]:
        python = sys.executable if engine == "ours" else args.peer_python
        for task, rounds in ROUNDS[engine].items():
            res = run_engine(python, engine, task, rounds, data, args.timeout)
            print(
                engine, task, {k: v for k, v in res.items() if k not in ("elo", "note")}, flush=True
            )
            results.append(res)
    scaling = []
    for n in [int(s) for s in args.scaling.split(",") if s]:
        path = save_data(n, args.models)
        row = {"battles": n}
        for task in ("plain", "style"):
            res = run_engine(sys.executable, "ours", task, 100, path, args.timeout)
            row[task] = res.get("total_100", float("nan"))
            row[f"{task}_rss"] = res.get("rss_peak_mb", float("nan"))
        print("scaling", row, flush=True)
        scaling.append(row)
    (HERE / "results.json").write_text(
        json.dumps(
            {
                "results": results,
                "scaling": scaling,
                "load": os.getloadavg()[0],
                "reference": {k: v.tolist() for k, v in refs.items()},
            },
            indent=1,
        )
    )
    if args.no_readme:
        return
    text = render(results, refs, scaling, args, os.getloadavg()[0])
    write_readme(text)


def render(results: list[dict], refs: dict, scaling: list[dict], args, load: float | None) -> str:
    fit_only = {r["task"]: r["fit"] for r in results if r["engine"] == "ours"}
    lines = [
        "## Ratings",
        "",
        f"`benchmarks/ratings/bench.py`, one run on {args.battles:,} synthetic battles x "
        f"{args.models} models x 4 style features (`synth.py`: length, markdown header/list/"
        "bold; ties with probability 0.6 p(1-p), about 13%, so that the half-tie model is exact; "
        "true coefficients 0.30/0.10/0.15/0.05 on the `ratio-v1` covariates). "
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at the end {load or float('nan'):.1f} "
        "(the box is shared with other jobs, so "
        "timings are noisy). Times are wall seconds for fit + 100-round bootstrap, including "
        "each engine's conversion of the shared arrays into its input format; `*` = fewer "
        "rounds run and the bootstrap part extrapolated linearly to 100. Errors are against "
        "an independent trust-region Newton fit of the same half-tie objective (`reference` in "
        "bench.py). Peak RSS is the whole engine process, data arrays included "
        "(in parentheses: RSS after loading the data, before the engine ran).",
        "",
        "### Plain Bradley-Terry (ties = half a win)",
        "",
        comparison_table(results, refs, "plain"),
        "",
        "### Style-controlled Bradley-Terry",
        "",
        "Only `arena-rank` (contextual BT, JAX) implements style control among the peers; "
        "`fschat` 0.2.36, `choix`, `arenakit` and `evalica` have none. `arena-rank` gets the "
        "same `ratio-v1` covariates (it standardises them; its coefficients are converted "
        "back to per-unit-covariate) and runs with its defaults (ridge 1.0 on the mean loss, "
        "inverse-propensity pair weights).",
        "",
        comparison_table(results, refs, "style"),
        "",
        "### Our engine from 10k to 10M battles (100 models, 100 bootstrap rounds)",
        "",
        _fmt_table(
            [
                [
                    f"{r['battles']:,}",
                    f"{r['plain']:.2f}",
                    f"{r['plain_rss']:.0f}",
                    f"{r['style']:.2f}",
                    f"{r['style_rss']:.0f}",
                ]
                for r in scaling
            ],
            [
                "battles",
                "plain, s",
                "plain peak RSS MB",
                "style (4 features), s",
                "style peak RSS MB",
            ],
        ),
        "",
        "Notes. Ours: one `fit_leaderboard` call from arrays of model-name strings (input "
        f"validation included; the point fit alone takes {fit_only.get('plain', 0):.2f} s plain "
        f"and {fit_only.get('style', 0):.2f} s with style), Poisson bootstrap weights, 2 "
        "threads. `arenakit`: its `Arena` arrays are filled directly (its per-vote pydantic "
        "constructor is not timed) and its default prior of 0.5 virtual battles per model is "
        "kept, hence its 0.01 Elo error. `evalica`: `bootstrap(bradley_terry, ...)` with "
        "percentile intervals. `arena-rank`: its bootstrap pool is started with `spawn` (its "
        "default `fork` after JAX has started deadlocks here) on 2 processes. `fschat` "
        "0.2.36: `compute_elo_mle_with_tie` + `get_bootstrap_result` (dense 2N x models design "
        "matrix, scikit-learn lbfgs with tol 1e-4: it stops 0.6 Elo short here). `choix`: "
        "`ilsr_pairwise` with each decisive battle as two comparisons and a tie as one each "
        "way (the same optimum; it has no ties or weights); its bootstrap resamples "
        "comparisons.",
        "",
        "Rerun: `.venv/bin/python benchmarks/ratings/bench.py` (peers from "
        "`benchmarks/ratings/requirements.txt` in a separate venv, `--peer-python`).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
