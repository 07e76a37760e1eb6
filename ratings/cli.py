"""Command line: ``python -m ratings fit BATTLES [options]``.

Writes the JSON object of :meth:`LeaderboardResult.to_dict` (or a table with
``--format table``) to ``--output`` (default ``-``, stdout). Errors go to stderr with exit
status 2 (bad input or options) or 3 (no converged / identifiable fit).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from . import __version__
from .api import FASTCHAT_REG, fit_leaderboard
from .arena_hard import BOOTSTRAP_UNITS, arena_hard_scores
from .data import BOOTSTRAP_SCHEMES, BOTH_BAD_MODES, CI_METHODS, STYLE_REFERENCES, TIE_MODELS
from .errors import InputError, RatingError
from .io import _floats, fit_file, load_battles
from .lc_winrate import lc_win_rates
from .result import format_table


def _reg(text: str) -> float:
    if text.strip().lower() == "fastchat":
        return FASTCHAT_REG
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'fastchat', got {text!r}") from None


def _anchor(text: str) -> tuple[str, float]:
    name, sep, value = text.rpartition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}") from None


def _filter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE, got {text!r}")
    return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ratings", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"ratings {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit a leaderboard from a battle file")
    fit.add_argument("battles", help="JSON list, JSONL, CSV or Parquet file")
    fit.add_argument(
        "--control", default="", help="built-in features or sets, e.g. length,markdown,citations"
    )
    fit.add_argument(
        "--control-columns",
        default="",
        help="NAME,... of numeric NAME_a/NAME_b columns to control for",
    )
    fit.add_argument("--ties", choices=TIE_MODELS, default="half")
    fit.add_argument("--both-bad", choices=BOTH_BAD_MODES, default="tie")
    fit.add_argument(
        "--reg",
        type=_reg,
        default=0.0,
        help="L2 penalty (number, or 'fastchat' for sklearn C=1 equivalence)",
    )
    fit.add_argument("--ci", choices=CI_METHODS, default="bootstrap")
    fit.add_argument("--bootstrap", type=int, default=100, metavar="N")
    fit.add_argument("--bootstrap-weights", choices=BOOTSTRAP_SCHEMES, default="poisson")
    fit.add_argument(
        "--cluster",
        action="store_true",
        help="cluster-robust sandwich by the 'voter' (or 'judge') column",
    )
    _add_extension_options(fit)
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--anchor", type=_anchor, default=None, metavar="NAME=VALUE")
    fit.add_argument("--offset", type=float, default=1000.0)
    fit.add_argument("--min-votes", type=int, default=0)
    fit.add_argument(
        "--filter",
        type=_filter,
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="keep rows whose column equals VALUE",
    )
    fit.add_argument("--format", choices=("json", "table"), default="json")
    fit.add_argument("--output", "-o", default="-", metavar="FILE|-")
    fit.add_argument("--no-progress", action="store_true")
    # Streamed fit (ratings.stream): Parquet of any size in bounded memory.
    fit.add_argument(
        "--chunked",
        action="store_true",
        help="stream a Parquet file in row batches (bounded memory; style control needs "
        "--ci sandwich or none; no --filter or --cluster)",
    )
    fit.add_argument("--chunk-rows", type=int, default=1 << 20, metavar="N")
    compat = sub.add_parser(
        "fastchat-compat",
        help="replay FastChat's compute_elo_mle_with_tie (scikit-learn C=1, lbfgs tol 1e-4) "
        "to reproduce published tables; reports the gap to the exact optimum",
    )
    compat.add_argument("battles")
    compat.add_argument("--C", type=float, default=1.0)
    compat.add_argument("--tol", type=float, default=1e-4)
    compat.add_argument(
        "--filter", type=_filter, action="append", default=[], metavar="COLUMN=VALUE"
    )
    compat.add_argument("--output", "-o", default="-", metavar="FILE|-")
    _add_judge_commands(sub)
    return parser


def _add_judge_commands(sub: Any) -> None:
    """``arena-hard`` (judgment files) and ``lc-winrate`` (length-controlled win rates)."""
    ah = sub.add_parser(
        "arena-hard",
        help="win rates against a baseline from arena-hard judgment JSONL files",
    )
    ah.add_argument("judgments", nargs="+", help="arena-hard model_judgment JSONL files")
    ah.add_argument("--baseline", required=True, help="the model every game is judged against")
    ah.add_argument(
        "--strong-weight",
        type=float,
        default=3.0,
        help="weight of a strong verdict (A>>B, B>>A); arena-hard uses 3",
    )
    ah.add_argument("--first-game-only", action="store_true")
    ah.add_argument(
        "--bootstrap-unit",
        choices=BOOTSTRAP_UNITS,
        default="question",
        help="resample questions (both games, all models; default) or single games",
    )
    ah.add_argument("--bootstrap", type=int, default=100, metavar="N")
    ah.add_argument("--seed", type=int, default=0)
    ah.add_argument("--reg", type=_reg, default=0.0)
    ah.add_argument("--output", "-o", default="-", metavar="FILE|-")
    lc = sub.add_parser(
        "lc-winrate",
        help="length-controlled win rates against a baseline (AlpacaEval 2.0 GLM)",
    )
    lc.add_argument("battles", help="JSON list, JSONL, CSV or Parquet battle file")
    lc.add_argument("--baseline", required=True)
    lc.add_argument(
        "--outcome-column",
        default=None,
        metavar="COLUMN",
        help="probability that A is preferred (default: the winner column, tie = 0.5)",
    )
    lc.add_argument(
        "--length",
        default="length",
        metavar="NAME",
        help="length feature: NAME_a/NAME_b columns, or built-in 'length' (tokens) from "
        "conv_metadata or the answer texts",
    )
    lc.add_argument("--instruction-column", default="question_id", metavar="COLUMN")
    lc.add_argument(
        "--baseline-variants",
        default="",
        metavar="NAME,...",
        help="models that are the baseline under other prompts (regularise to the baseline)",
    )
    lc.add_argument("--C", type=float, default=None, help="fixed inverse L1 strength (no CV)")
    lc.add_argument("--difficulty-reg", type=float, default=1.0)
    lc.add_argument("--filter", type=_filter, action="append", default=[], metavar="COLUMN=VALUE")
    lc.add_argument("--output", "-o", default="-", metavar="FILE|-")


def _lc_winrate(args: argparse.Namespace) -> dict[str, Any]:
    battles = load_battles(
        args.battles, where=dict(args.filter), outcome_column=args.outcome_column
    )
    if args.outcome_column is not None:
        prob = _floats(battles.columns[args.outcome_column], args.outcome_column)
    else:
        score = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "both_bad": 0.5, "tie (bothbad)": 0.5}
        unknown = [i for i, x in enumerate(battles.winner) if x not in score]
        if unknown:
            row = unknown[0]
            raise InputError(f"row {row}: unknown outcome {battles.winner[row]!r} in 'winner'")
        prob = np.array([score[x] for x in battles.winner])
    if args.instruction_column not in battles.columns:
        raise InputError(f"missing instruction column {args.instruction_column!r}")
    len_a, len_b = battles.features((args.length,))[args.length]
    return lc_win_rates(
        battles.model_a,
        battles.model_b,
        prob,
        len_a,
        len_b,
        np.asarray(battles.columns[args.instruction_column], dtype=object),
        baseline=args.baseline,
        weights=battles.weights,
        baseline_variants=[v.strip() for v in args.baseline_variants.split(",") if v.strip()],
        difficulty_reg=args.difficulty_reg,
        C=args.C,
    )


def _judge_command(args: argparse.Namespace) -> dict[str, Any]:
    if args.command == "arena-hard":
        return arena_hard_scores(
            args.judgments,
            baseline=args.baseline,
            strong_weight=args.strong_weight,
            first_game_only=args.first_game_only,
            unit=args.bootstrap_unit,
            n_bootstrap=args.bootstrap,
            seed=args.seed,
            reg=args.reg,
        )
    return _lc_winrate(args)


def _add_extension_options(fit: argparse.ArgumentParser) -> None:
    """Options for other people's data: self-battles, style reference, soft outcomes, clusters."""
    fit.add_argument(
        "--drop-self-battles",
        action="store_true",
        help="drop model-vs-itself rows (count reported as method.self_battles_dropped) "
        "instead of exiting 2",
    )
    fit.add_argument(
        "--style-reference",
        choices=STYLE_REFERENCES,
        default="equal",
        help="read ratings off at equal style (default) or at the mean transformed style "
        "difference (LMArena / arena-hard centring)",
    )
    fit.add_argument(
        "--outcome-column",
        default=None,
        metavar="COLUMN",
        help="soft outcomes: numeric column with the probability that A wins (replaces winner)",
    )
    fit.add_argument(
        "--bootstrap-cluster",
        default=None,
        metavar="COLUMN",
        help="bootstrap by resampling the clusters of COLUMN (prompt, voter) instead of rows",
    )


class _Progress:
    """A one-line progress bar on a terminal (stderr); silent otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        elapsed = time.monotonic() - self.start
        self.stream.write(
            f"\rbootstrap [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {elapsed:5.1f}s"
        )
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def _compat(args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: scipy.optimize costs a few hundred ms of start-up that ``fit`` never uses.
    from .compat import fastchat_elo_mle

    battles = load_battles(args.battles, where=dict(args.filter))
    out = fastchat_elo_mle(battles.model_a, battles.model_b, battles.winner, C=args.C, tol=args.tol)
    keep = battles.model_a != battles.model_b  # the exact fit rejects self-battles
    exact = fit_leaderboard(
        battles.model_a[keep],
        battles.model_b[keep],
        battles.winner[keep],
        reg=FASTCHAT_REG / args.C,
        ci="none",
    )
    out["gap_to_optimum"] = max(abs(out["ratings"][m.name] - m.rating) for m in exact.models)
    out["self_battles"] = int((~keep).sum())
    return out


def _write(text: str, output: str) -> None:
    if output == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


def _chunked(args: argparse.Namespace, progress: _Progress | None) -> Any:
    from .stream import fit_parquet

    unsupported = {"--filter": args.filter, "--cluster": args.cluster,
                   "--drop-self-battles": args.drop_self_battles,
                   "--style-reference mean": args.style_reference != "equal",
                   "--outcome-column": args.outcome_column,
                   "--bootstrap-cluster": args.bootstrap_cluster}
    given = [name for name, value in unsupported.items() if value]
    if given:
        raise InputError(f"--chunked does not support {', '.join(given)}")
    return fit_parquet(args.battles, **_fit_options(args, progress), chunk_rows=args.chunk_rows)


def _fit_options(args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    """The fit options both the in-memory and the chunked fit take from the command line."""
    return {"control": args.control, "control_columns": args.control_columns,
            "ties": args.ties, "both_bad": args.both_bad, "reg": args.reg, "ci": args.ci,
            "n_bootstrap": args.bootstrap, "bootstrap_weights": args.bootstrap_weights,
            "seed": args.seed, "anchor": args.anchor, "min_votes": args.min_votes,
            "offset": args.offset, "progress": progress}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("fastchat-compat", "arena-hard", "lc-winrate"):
        run = _compat if args.command == "fastchat-compat" else _judge_command
        try:
            _write(json.dumps(run(args), indent=1), args.output)
        except RatingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2 if isinstance(exc, InputError) else 3
        return 0
    progress = None
    if not args.no_progress and sys.stderr.isatty():
        progress = _Progress(sys.stderr)
    try:
        res = _chunked(args, progress) if args.chunked else fit_file(
            args.battles,
            where=dict(args.filter),
            cluster=args.cluster,
            drop_self_battles=args.drop_self_battles,
            style_reference=args.style_reference,
            outcome_column=args.outcome_column,
            bootstrap_cluster=args.bootstrap_cluster,
            **_fit_options(args, progress),
        )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RatingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    text = format_table(res) if args.format == "table" else json.dumps(res.to_dict(), indent=1)
    _write(text, args.output)
    return 0
