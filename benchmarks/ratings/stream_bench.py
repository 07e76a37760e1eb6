"""Streamed fit at arena scale: ``python -m ratings fit FILE --chunked`` on up to 100M battles.

Run from the repository root::

    nice -n 10 .venv/bin/python benchmarks/ratings/stream_bench.py --sizes 1000000,100000000

For each size a synthetic Parquet file (``synth.py``, 100 models, 4 style features, one row
group per million battles) is written chunk by chunk with pyarrow into ``.bench-ratings/``,
then the style-controlled fit with sandwich intervals runs as a separate process, timed as a
whole (start-up and every Parquet pass included), with its peak RSS (``/usr/bin/time``). At
the smallest size the in-memory fit of the same file runs too and the largest rating /
interval difference between the two is reported. Results go to ``stream_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from synth import FEATURES, LABELS, make_battles

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = ROOT / ".bench-ratings"
CHUNK = 1_000_000


def write_file(n: int) -> Path:
    """Battles ``n`` in Parquet, generated and written one row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    WORK.mkdir(exist_ok=True)
    path = WORK / f"stream_{n}.parquet"
    if path.exists():
        return path
    names = np.array([f"model-{i:03d}" for i in range(100)], dtype=object)
    tmp = path.with_suffix(".part")
    writer = None
    truth = make_battles(1, 100, seed=0)  # the true ratings and coefficients (seed 0)
    for k, start in enumerate(range(0, n, CHUNK)):
        d = _draw(truth, min(CHUNK, n - start), 1 + k)  # chunk k: its own seed
        cols = {"model_a": names[d["a"]], "model_b": names[d["b"]], "winner": LABELS[d["winner"]]}
        for f in FEATURES:
            cols[f"{f}_a"], cols[f"{f}_b"] = d[f"{f}_a"], d[f"{f}_b"]
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=CHUNK)
    assert writer is not None
    writer.close()
    tmp.rename(path)
    return path


def _draw(truth: dict, m: int, seed: int) -> dict:
    """``m`` battles of ``synth.make_battles``'s model with ``truth``'s parameters."""
    rng = np.random.default_rng(seed)
    theta, beta = truth["theta"], truth["beta"]
    a = rng.integers(0, theta.shape[0], m)
    b = (a + rng.integers(1, theta.shape[0], m)) % theta.shape[0]
    out = {"a": a, "b": b}
    eta = theta[a] - theta[b]
    for name, coef in zip(FEATURES, beta, strict=True):
        if name == "length":
            fa, fb = (np.round(rng.lognormal(6.0, 0.6, m)) for _ in "ab")
        else:
            fa, fb = (rng.poisson(2.0, m).astype(np.float64) for _ in "ab")
        out[f"{name}_a"], out[f"{name}_b"] = fa, fb
        eta = eta + coef * (fa - fb) / (fa + fb + 1.0)
    p = 1.0 / (1.0 + np.exp(-eta))
    tie = 0.6 * p * (1.0 - p)
    u = rng.random(m)
    out["winner"] = np.where(u < p - tie / 2, 0, np.where(u < p + tie / 2, 2, 1))
    return out


def run_cli(path: Path, *extra: str) -> dict:
    out = WORK / f"{path.stem}{'_chunked' if '--chunked' in extra else ''}.json"
    cmd = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "ratings", "fit", str(path)]
    cmd += ["--control-columns", ",".join(FEATURES), "--ci", "sandwich", "-o", str(out), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    elapsed, kb = proc.stderr.strip().splitlines()[-1].split()
    res = json.loads(out.read_text())
    return {"wall": wall, "elapsed": float(elapsed), "rss_mb": int(kb) / 1024, "fit": res}


def _gap(a: dict, b: dict) -> float:
    rows = {m["name"]: m for m in b["models"]}
    return max(
        abs(m[k] - rows[m["name"]][k]) for m in a["models"] for k in ("rating", "ci_low", "ci_high")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000,100000000")
    parser.add_argument("--compare-in-memory", type=int, default=1_000_000)
    args = parser.parse_args()
    results = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        t0 = time.perf_counter()
        path = write_file(n)
        row: dict = {"battles": n, "file_mb": path.stat().st_size / 2**20}
        row["write_s"] = time.perf_counter() - t0
        streamed = run_cli(path, "--chunked", "--chunk-rows", str(CHUNK))
        row.update(chunked_s=streamed["elapsed"], chunked_rss_mb=streamed["rss_mb"])
        row["message"] = streamed["fit"]["message"]
        row["length_coef"] = streamed["fit"]["style"]["length"]["coef"]
        if n <= args.compare_in_memory:
            memory = run_cli(path)
            row.update(memory_s=memory["elapsed"], memory_rss_mb=memory["rss_mb"])
            row["max_gap_elo"] = _gap(streamed["fit"], memory["fit"])
        print(json.dumps(row), flush=True)
        results.append(row)
    (HERE / "stream_results.json").write_text(
        json.dumps({"results": results, "load": os.getloadavg()[0]}, indent=1)
    )


if __name__ == "__main__":
    main()
