"""The whole ``python -m ratings fit`` process against arenakit's in-process fit + bootstrap.

Run from the repository root (arenakit in a separate venv, see requirements.txt)::

    nice -n 10 .venv/bin/python benchmarks/ratings/cli_bench.py \\
        --peer-python /work/benchvenv/bin/python --baseline /path/to/older/checkout

One synthetic file of 1M battles (``bench.save_data``: 100 models, 4 style features) is
written as Parquet. Each round runs, one after another: arenakit (``engines.py``: its
fit + 100-round bootstrap, timed inside its process, start-up and imports excluded), our
CLI with plain Bradley-Terry + 100 Poisson bootstrap rounds, and our CLI with the 4 style
features + 100 rounds. Our commands are timed as whole processes (start-up, imports and
the Parquet read included), in wall seconds and in CPU seconds (user + system; arenakit's
CPU seconds are those of its fit and bootstrap only). ``--baseline`` adds the same two
commands run from another checkout (e.g. the commit before the speed-ups). Medians over
``--rounds`` rounds; the machine is shared, so ratios are taken within each round.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench import HERE, ROOT, WORK, save_data
from synth import FEATURES, LABELS


def parquet_of(npz: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = npz.with_suffix(".parquet")
    if not path.exists():
        raw = np.load(npz)
        names = np.array([f"model-{i:03d}" for i in range(int(raw["n_models"]))], dtype=object)
        cols = {"model_a": names[raw["a"]], "model_b": names[raw["b"]]}
        cols["winner"] = LABELS[raw["winner"]]
        for f in FEATURES:
            cols[f"{f}_a"], cols[f"{f}_b"] = raw[f"{f}_a"], raw[f"{f}_b"]
        pq.write_table(pa.table(cols), path)
    return path


def arenakit(python: str, npz: Path) -> tuple[float, float]:
    out = WORK / "cli_bench_arenakit.json"
    cmd = [python, str(HERE / "engines.py"), "arenakit", "plain", "100", str(npz), str(out)]
    env = dict(os.environ, PYTHONPATH=str(HERE))
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    res = json.loads(out.read_text())
    return res["prep"] + res["fit"] + res["boot"], res["cpu"]


def cli(checkout: Path, data: Path, style: bool) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of the whole command."""
    cmd = [sys.executable, "-m", "ratings", "fit", str(data), "--seed", "0", "--no-progress"]
    cmd += ["-o", str(WORK / f"cli_bench_{checkout.name}_{style}.json")]
    if style:
        cmd += ["--control-columns", ",".join(FEATURES)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=checkout, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--peer-python", default="/work/benchvenv/bin/python")
    parser.add_argument("--baseline", default="", help="another checkout to time the same way")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    npz = save_data(args.battles, 100)
    data = parquet_of(npz)
    checkouts = {"ours": ROOT}
    if args.baseline:
        checkouts["baseline"] = Path(args.baseline).resolve()
    rows: list[dict] = []
    for r in range(args.rounds):
        row: dict[str, float] = {}
        row["arenakit"], row["arenakit_cpu"] = arenakit(args.peer_python, npz)
        for label, checkout in checkouts.items():
            for task in ("plain", "style"):
                wall, cpu = cli(checkout, data, style=task == "style")
                row[f"{label}_{task}"], row[f"{label}_{task}_cpu"] = wall, cpu
        print(r, json.dumps(row), flush=True)
        rows.append(row)
    summary = {k: statistics.median(row[k] for row in rows) for k in rows[0]}
    ratios = {  # wall to wall and CPU to CPU, within each round
        f"{k} / {base}": statistics.median(row[k] / row[base] for row in rows)
        for k in rows[0]
        for base in ["arenakit_cpu" if k.endswith("_cpu") else "arenakit"]
        if not k.startswith("arenakit")
    }
    print(json.dumps({"median_s": summary, "median_ratio": ratios}, indent=1))
    (HERE / "cli_results.json").write_text(
        json.dumps(
            {
                "rounds": rows,
                "median_s": summary,
                "median_ratio": ratios,
                "load": os.getloadavg()[0],
                "battles": args.battles,
            },
            indent=1,
        )  # fmt: skip
    )


if __name__ == "__main__":
    main()
