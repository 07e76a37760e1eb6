"""Command line and file input: formats, errors naming row/column, bit-identical to the API."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ratings
from ratings.cli import main

OPTIONS = {"ci": "bootstrap", "n_bootstrap": 20, "seed": 3}


def _records(sim: dict) -> list[dict]:
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.2, 2.0, len(sim["winner"]))
    out = []
    for k in range(len(sim["winner"])):
        rec = {
            "model_a": sim["model_a"][k],
            "model_b": sim["model_b"][k],
            "winner": sim["winner"][k],
            "weight": float(weights[k]),
            "judge": f"u{k % 50}",
        }
        for name, (fa, fb) in sim["features"].items():
            rec[f"{name}_a"], rec[f"{name}_b"] = float(fa[k]), float(fb[k])
        out.append(rec)
    return out


def _write(records: list[dict], path: Path) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(records))
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    elif path.suffix == ".csv":
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(
                {k: repr(v) if isinstance(v, float) else v for k, v in r.items()} for r in records
            )
    else:
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records), path)
    return path


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".parquet"])
def test_cli_file_reproduces_python_fit_bit_for_bit(
    sim: dict, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records(sim)
    path = _write(records, tmp_path / f"battles{suffix}")
    direct = ratings.fit_leaderboard(
        [r["model_a"] for r in records],
        [r["model_b"] for r in records],
        [r["winner"] for r in records],
        features={
            n: (np.array([r[f"{n}_a"] for r in records]), np.array([r[f"{n}_b"] for r in records]))
            for n in ("f0", "f1")
        },
        control=("f0", "f1"),
        weights=np.array([r["weight"] for r in records]),
        **OPTIONS,
    )
    code = main(
        [
            "fit",
            str(path),
            "--control-columns",
            "f0,f1",
            "--bootstrap",
            "20",
            "--seed",
            "3",
            "--no-progress",
        ]
    )
    assert code == 0
    from_cli = json.loads(capsys.readouterr().out)
    expected = json.loads(json.dumps(direct.to_dict()))
    assert from_cli == expected  # same floats, not just close ones


def test_cli_table_format_and_output_file(sim: dict, tmp_path: Path) -> None:
    path = _write(_records(sim), tmp_path / "b.jsonl")
    out = tmp_path / "board.txt"
    cmd = [
        sys.executable,
        "-m",
        "ratings",
        "fit",
        str(path),
        "--ci",
        "sandwich",
        "--cluster",
        "--format",
        "table",
        "--output",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True, cwd=Path(ratings.__file__).parents[1])
    text = out.read_text()
    assert "rank" in text and "m00" in text and "Newton" in text


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [
                {"model_a": "x", "model_b": "y", "winner": "model_a"},
                {"model_a": "x", "model_b": "y", "winner": "draw"},
            ],
            "row 1: unknown outcome 'draw' in column 'winner'",
        ),
        (
            [{"model_a": "x", "model_b": "x", "winner": "tie"}],
            "row 0: model_a and model_b are the same contender 'x'",
        ),
        (
            [
                {"model_a": "x", "model_b": "y", "winner": "tie"},
                {"model_a": "y", "model_b": "", "winner": "tie"},
            ],
            "row 1: model_b must be a non-empty string, got ''",
        ),
        ([{"model_a": "x", "model_b": "y"}], "missing column 'winner'"),
        (
            [{"model_a": "x", "model_b": "y", "winner": "tie"}, {"model_a": "y", "winner": "tie"}],
            "row 1: missing column 'model_b'",
        ),
        (
            [{"model_a": "x", "model_b": "y", "winner": "tie", "weight": -1}],
            "row 0: weight must be finite and >= 0",
        ),
    ],
)
def test_cli_errors_name_row_and_column(
    tmp_path: Path, rows: list[dict], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(rows))
    assert main(["fit", str(path), "--ci", "none"]) == 2
    assert message in capsys.readouterr().err


def test_cli_reports_missing_feature_column(
    sim: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(_records(sim), tmp_path / "b.csv")
    assert main(["fit", str(path), "--control-columns", "nope"]) == 2
    assert "missing column 'nope_a'" in capsys.readouterr().err


def test_cli_control_from_texts_and_conv_metadata(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    rows = []
    for _ in range(300):
        a, b = rng.choice(["p", "q", "r"], 2, replace=False)
        la, lb = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        rows.append(
            {
                "model_a": a,
                "model_b": b,
                "winner": str(rng.choice(["model_a", "model_b", "tie"])),
                "conversation_a": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "word " * la},
                ],
                "conversation_b": [{"role": "assistant", "content": "# T\n- x\n" + "word " * lb}],
                "conv_metadata": {"sum_assistant_a_tokens": la, "sum_assistant_b_tokens": lb + 4},
            }
        )
    path = tmp_path / "conv.json"
    path.write_text(json.dumps(rows))
    res = ratings.fit_file(path, control="length", ci="none")
    meta_len = np.array([r["conv_metadata"]["sum_assistant_a_tokens"] for r in rows])
    assert res.style[0].name == "length"
    loaded = ratings.load_battles(path)
    np.testing.assert_array_equal(loaded.features(["length"])["length"][0], meta_len)
    text_len = loaded._from_texts("length")[0]
    np.testing.assert_array_equal(text_len, meta_len)


def test_a_parquet_with_feature_columns_is_fitted_without_reading_its_texts(
        sim: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: with built-in features to control, every conversation column was read in
    # case the features had to come from the texts, even where the file has their columns
    # (a data release: the texts are most of its bytes and of the fit's reading time).
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    records = _records(sim)
    for rec in records:
        rec["conversation_a"] = [{"role": "assistant", "content": "text " * 50}]
        rec["conversation_b"] = [{"role": "assistant", "content": "more " * 50}]
    path = _write(records, tmp_path / "release.parquet")
    names = tuple(sim["features"])
    read: list[list[str]] = []
    real_read = pq.ParquetFile.read

    def recording_read(self: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(list(kwargs.get("columns") or []))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", recording_read)
    with_texts = ratings.fit_file(path, control=names, **OPTIONS)
    assert read and not any(c.startswith("conversation") for cols in read for c in cols)
    plain = ratings.fit_file(_write(_records(sim), tmp_path / "plain.parquet"), control=names,
                             **OPTIONS)
    assert with_texts.models == plain.models and with_texts.style == plain.style
    # Without the feature columns the texts are still where the features come from.
    for rec in records:
        for name in names:
            del rec[f"{name}_a"], rec[f"{name}_b"]
    read.clear()
    with pytest.raises(ratings.InputError):
        ratings.fit_file(_write(records, tmp_path / "texts.parquet"), control=("bold",),
                         **OPTIONS)
    assert any(c == "conversation_a" for cols in read for c in cols)


@pytest.mark.parametrize("control", [(), ("length",)])
def test_cli_missing_or_broken_parquet_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], control: tuple) -> None:
    # Regression: looking for a Parquet file's feature columns first raised the file's own
    # error as a traceback instead of the usual message.
    pytest.importorskip("pyarrow")
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    for path in (tmp_path / "missing.parquet", broken):
        argv = ["fit", str(path)] + (["--control", ",".join(control)] if control else [])
        assert main(argv) == 2
        assert f"error: {path}" in capsys.readouterr().err


def test_cli_anchor_min_votes_and_bad_anchor(
    sim: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [{k: r[k] for k in ("model_a", "model_b", "winner")} for r in _records(sim)]
    records.append({"model_a": "rare", "model_b": "m00", "winner": "tie"})
    path = tmp_path / "b.json"
    path.write_text(json.dumps(records))
    args = ["fit", str(path), "--ci", "none", "--min-votes", "2", "--anchor", "m01=1200"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert "rare" not in [m["name"] for m in out["models"]]
    assert next(m for m in out["models"] if m["name"] == "m01")["rating"] == 1200.0
    assert out["method"]["anchor"] == ["m01", 1200.0]
    assert main(["fit", str(path), "--ci", "none", "--anchor", "nobody=1"]) == 2
    assert "anchor contender 'nobody'" in capsys.readouterr().err


def test_progress_callback_sees_every_replicate(sim: dict) -> None:
    seen: list[tuple[int, int]] = []
    ratings.fit_leaderboard(
        sim["model_a"],
        sim["model_b"],
        sim["winner"],
        n_bootstrap=7,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert sorted(seen) == [(k, 7) for k in range(1, 8)]


@pytest.mark.parametrize("control", [(), ("f0",)])
def test_all_ones_weights_are_the_same_fit_as_no_weights(sim: dict, control: tuple) -> None:
    args = (sim["model_a"], sim["model_b"], sim["winner"])
    opts = {"features": sim["features"], "control": control, "n_bootstrap": 10, "seed": 2}
    plain = ratings.fit_leaderboard(*args, **opts)
    ones = ratings.fit_leaderboard(*args, weights=np.ones(len(sim["winner"])), **opts)
    assert plain.to_dict() == ones.to_dict()
