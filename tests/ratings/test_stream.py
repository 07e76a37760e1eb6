"""Streamed (chunked) Parquet fits: the in-memory answer, one batch in memory at a time."""

from __future__ import annotations

import json
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

import ratings
from ratings.cli import main

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROW_GROUP = 700


@pytest.fixture
def battles_file(simulate, tmp_path: Path) -> tuple[Path, tuple[str, ...]]:
    sim = simulate(
        np.random.default_rng(7), n_items=9, n_battles=5000, beta=(0.6, -0.4), tie_share=0.2
    )
    rng = np.random.default_rng(8)
    n = len(sim["winner"])
    winner = np.array(sim["winner"], dtype=object)
    winner[rng.random(n) < 0.03] = "both_bad"
    model_b = np.array(sim["model_b"], dtype=object)
    model_b[:40] = "m99"  # a rare contender, for min_votes
    cols = {"model_a": sim["model_a"], "model_b": model_b, "winner": winner}
    for name, (fa, fb) in sim["features"].items():
        cols[f"{name}_a"], cols[f"{name}_b"] = fa, fb
    path = tmp_path / "battles.parquet"
    pq.write_table(pa.table(cols), path, row_group_size=ROW_GROUP)
    weighted = path.with_name("weighted.parquet")
    cols["weight"] = rng.uniform(0.2, 2.0, n)
    pq.write_table(pa.table(cols), weighted, row_group_size=ROW_GROUP)
    return path, tuple(sim["features"])


def _elo_gap(a: ratings.LeaderboardResult, b: ratings.LeaderboardResult) -> float:
    assert [m.name for m in a.models] == [m.name for m in b.models]
    gaps = [
        abs(getattr(x, f) - getattr(y, f))
        for x, y in zip(a.models, b.models, strict=True)
        for f in ("rating", "ci_low", "ci_high")
    ]
    gaps += [
        abs(getattr(x, f) - getattr(y, f))
        for x, y in zip(a.style, b.style, strict=True)
        for f in ("coef", "ci_low", "ci_high")
    ]
    return max(gaps)


@pytest.mark.parametrize(
    "options",
    [
        {"ci": "bootstrap", "n_bootstrap": 30, "seed": 4},
        {"ci": "bootstrap", "n_bootstrap": 30, "bootstrap_weights": "multinomial"},
        {"ci": "sandwich", "ties": "davidson", "anchor": ("m03", 1200.0)},
        {"ci": "sandwich", "min_votes": 100, "both_bad": "drop"},
    ],
)
def test_plain_chunked_fit_is_the_in_memory_fit_bit_for_bit(battles_file, options) -> None:
    path, _ = battles_file
    memory = ratings.fit_file(path, **options)
    streamed = ratings.fit_parquet(path, chunk_rows=300, **options)
    assert streamed.to_dict() == memory.to_dict()
    if options.get("min_votes"):
        assert "m99" not in {m.name for m in streamed.models}
    if memory.bootstrap_ratings is not None:
        assert np.array_equal(streamed.bootstrap_ratings, memory.bootstrap_ratings)


@pytest.mark.parametrize(
    "options",
    [
        {"ci": "sandwich"},
        {"ci": "sandwich", "ties": "davidson"},
        {"ci": "sandwich", "reg": 0.05, "ties": "drop", "anchor": ("m01", 900.0)},
        {"ci": "none", "min_votes": 100},
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_style_chunked_fit_matches_in_memory_within_1e_6_elo(
    battles_file, options: dict, weighted: bool
) -> None:
    path, features = battles_file
    if weighted:
        path = path.with_name("weighted.parquet")
    memory = ratings.fit_file(path, control_columns=features, **options)
    streamed = ratings.fit_parquet(path, control_columns=features, chunk_rows=450, **options)
    assert _elo_gap(memory, streamed) <= 1e-6
    assert streamed.n_battles == memory.n_battles
    assert streamed.method == memory.method
    assert [m.votes for m in streamed.models] == [m.votes for m in memory.models]
    assert np.allclose([m.wins for m in streamed.models], [m.wins for m in memory.models])
    if options["ci"] == "sandwich":
        assert np.allclose(streamed.covariance, memory.covariance, rtol=1e-9, atol=1e-9)


def test_weighted_plain_sandwich_matches_and_bootstrap_is_refused(battles_file) -> None:
    path = battles_file[0].with_name("weighted.parquet")
    memory = ratings.fit_file(path, ci="sandwich")
    streamed = ratings.fit_parquet(path, ci="sandwich", chunk_rows=1000)
    assert _elo_gap(memory, streamed) <= 1e-6
    with pytest.raises(ratings.InputError, match="unit weights"):
        ratings.fit_parquet(path, ci="bootstrap")


def test_reader_holds_one_batch_and_never_reads_the_whole_file(
    battles_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, features = battles_file

    def refuse(*args, **kwargs):
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(pq.ParquetFile, "read", refuse)
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", refuse)
    monkeypatch.setattr(pq, "read_table", refuse)
    original = pq.ParquetFile.iter_batches
    sizes: list[int] = []
    alive_before_next: list[int] = []

    def spy(self, *args, **kwargs):
        previous: list[weakref.ref] = []
        for batch in original(self, *args, **kwargs):
            alive_before_next.append(sum(ref() is not None for ref in previous))
            sizes.append(batch.num_rows)
            previous.append(weakref.ref(batch))
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    res = ratings.fit_parquet(path, control_columns=features, ci="sandwich", chunk_rows=ROW_GROUP)
    n_passes = 1 + res.iterations + 1  # first pass, Newton points, possibly the meat pass
    assert sum(sizes) >= 2 * 5000 and len(sizes) >= 2 * (5000 // ROW_GROUP)
    assert max(sizes) <= ROW_GROUP
    # When the next batch is read, no earlier batch of the pass is still referenced.
    assert alive_before_next and max(alive_before_next) == 0
    assert len(sizes) <= n_passes * -(-5000 // ROW_GROUP) + 2 * 8


def test_errors_name_the_file_row_across_batches(tmp_path: Path) -> None:
    n = 1000
    a = np.array(["x", "y", "z", "w"] * (n // 4), dtype=object)
    b = np.roll(a, 1)
    winner = np.array(["model_a", "model_b", "tie", "model_a"] * (n // 4), dtype=object)
    winner[837] = "draw"
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"model_a": a, "model_b": b, "winner": winner}), path)
    with pytest.raises(ratings.InputError, match=r"^row 837: unknown outcome 'draw'"):
        ratings.fit_parquet(path, chunk_rows=100)
    with pytest.raises(ratings.InputError, match="ci='sandwich' or 'none'"):
        ratings.fit_parquet(path, control_columns="length")
    with pytest.raises(ratings.InputError, match="missing column 'length_a'"):
        ratings.fit_parquet(path, control_columns="length", ci="sandwich")


def test_cli_chunked_prints_the_streamed_fit(battles_file, tmp_path: Path, capsys) -> None:
    path, features = battles_file
    out = tmp_path / "fit.json"
    args = ["fit", str(path), "--chunked", "--chunk-rows", "512", "--ci", "sandwich"]
    assert main([*args, "--control-columns", ",".join(features), "-o", str(out)]) == 0
    expected = ratings.fit_parquet(path, control_columns=features, ci="sandwich", chunk_rows=512)
    assert json.loads(out.read_text()) == json.loads(json.dumps(expected.to_dict()))
    assert main(["fit", str(path), "--chunked", "--cluster"]) == 2
    assert "--chunked does not support" in capsys.readouterr().err



@pytest.mark.parametrize("option", [["--drop-self-battles"], ["--style-reference", "mean"],
                                    ["--outcome-column", "p_a"],
                                    ["--bootstrap-cluster", "voter"]])
def test_cli_chunked_refuses_options_it_cannot_honour(battles_file, option: list, capsys) -> None:
    # These options of the in-memory fit were silently ignored by --chunked.
    path, _ = battles_file
    assert main(["fit", str(path), "--chunked", "--ci", "none", *option]) == 2
    assert f"--chunked does not support {' '.join(option[:1])}" in capsys.readouterr().err

@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [("x", "y", "model_a"), ("x", "y", "draw")],
            "row 1: unknown outcome 'draw' in column 'winner'",
        ),
        ([("x", "y", "tie"), ("x", "x", "tie")], "row 1: model_a and model_b are the same"),
        (
            [("x", "y", "tie"), ("y", "", "tie")],
            "row 1: model_b must be a non-empty string, got ''",
        ),
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
def test_parquet_errors_name_the_row_with_coded_labels(
    tmp_path: Path, rows: list, message: str, chunked: bool, capsys
) -> None:
    path = tmp_path / "bad.parquet"
    a, b, w = zip(*rows, strict=True)
    pq.write_table(pa.table({"model_a": list(a), "model_b": list(b), "winner": list(w)}), path)
    assert main(["fit", str(path), "--ci", "none"] + (["--chunked"] if chunked else [])) == 2
    assert message in capsys.readouterr().err


def test_chunked_non_string_contenders_are_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"model_a": [1, 2], "model_b": [2, 1], "winner": ["tie", "tie"]}), path)
    with pytest.raises(ratings.InputError, match="row 0: model_a must be a non-empty string"):
        ratings.fit_parquet(path)


def test_chunked_constant_feature_is_an_input_error(tmp_path: Path) -> None:
    n = 400
    a = np.array(["x", "y", "z", "w"] * (n // 4), dtype=object)
    winner = np.array(["model_a", "model_b", "tie", "model_b", "model_a"] * (n // 5), dtype=object)
    cols = {"model_a": a, "model_b": np.roll(a, 1), "winner": winner}
    cols["len_a"] = cols["len_b"] = np.full(n, 5.0)
    path = tmp_path / "const.parquet"
    pq.write_table(pa.table(cols), path)
    with pytest.raises(ratings.InputError, match="'len' is constant"):
        ratings.fit_parquet(path, control_columns="len", ci="sandwich", chunk_rows=64)


def test_reading_parquet_imports_no_dataframe_library(battles_file) -> None:
    # pyarrow's read_table goes through pyarrow.dataset, which imports pandas: about a
    # second of start-up for every `python -m ratings fit FILE.parquet`.
    code = (
        "import sys, ratings; ratings.load_battles(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'polars')))"
    )
    root = Path(ratings.__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code, str(battles_file[0])],
        capture_output=True, text=True, check=True, cwd=root,
    )  # fmt: skip
    assert out.stdout.strip() == "[]"
