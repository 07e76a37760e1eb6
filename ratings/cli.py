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

from . import __version__
from .api import FASTCHAT_REG, fit_leaderboard
from .data import BOOTSTRAP_SCHEMES, BOTH_BAD_MODES, CI_METHODS, TIE_MODELS
from .errors import InputError, RatingError
from .io import fit_file, load_battles
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
    return parser


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

    if args.filter or args.cluster:
        raise InputError("--chunked does not support --filter or --cluster")
    return fit_parquet(
        args.battles,
        control=args.control,
        control_columns=args.control_columns,
        ties=args.ties,
        both_bad=args.both_bad,
        reg=args.reg,
        ci=args.ci,
        n_bootstrap=args.bootstrap,
        bootstrap_weights=args.bootstrap_weights,
        seed=args.seed,
        anchor=args.anchor,
        min_votes=args.min_votes,
        offset=args.offset,
        progress=progress,
        chunk_rows=args.chunk_rows,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "fastchat-compat":
        try:
            _write(json.dumps(_compat(args), indent=1), args.output)
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
            control=args.control,
            control_columns=args.control_columns,
            where=dict(args.filter),
            cluster=args.cluster,
            ties=args.ties,
            both_bad=args.both_bad,
            reg=args.reg,
            ci=args.ci,
            n_bootstrap=args.bootstrap,
            bootstrap_weights=args.bootstrap_weights,
            seed=args.seed,
            anchor=args.anchor,
            min_votes=args.min_votes,
            offset=args.offset,
            progress=progress,
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
