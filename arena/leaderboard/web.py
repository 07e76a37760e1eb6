"""Leaderboard page, JSON endpoints and the `leaderboard` CLI group.

Requests only read the latest stored snapshot (a few queries); fitting happens in
``flask leaderboard publish``. JSON and CSV responses carry an ETag over their bytes,
``Cache-Control: public, max-age=60`` and ``Access-Control-Allow-Origin: *``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import click
from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from arena import db
from arena.errors import ArenaError, NotFound
from arena.integrity.screen import IntegrityOptions
from arena.leaderboard import plots, serving
from arena.leaderboard.data import MIN_VIEW_BATTLES, configured_reg
from arena.leaderboard.facts import rebuild_facts
from arena.leaderboard.importer import (
    ImportFileError,
    parse_clean_battles,
    parse_vicuna_votes,
    store_rows,
)
from arena.leaderboard.publish import PublishError, publish
from arena.models import BattleFact, LeaderboardSnapshot, Publication

bp = Blueprint("leaderboard", __name__)
api = Blueprint("leaderboard_api", __name__, url_prefix="/api/v1")
cli = AppGroup("leaderboard", help="Import votes and publish leaderboard snapshots.")

CACHE_CONTROL = "public, max-age=60"


class NoLeaderboard(NotFound):
    code = "no_leaderboard"
    message = "No leaderboard has been published yet."


# --- reading -------------------------------------------------------------------------------

def _pick_snapshot(view: str | None) -> LeaderboardSnapshot:
    session = db.session()
    publication = serving.latest_publication(session)
    if publication is None:
        raise NoLeaderboard()
    key = view or "overall"
    snapshot = serving.snapshot_of(session, publication, key)
    if snapshot is None:
        valid = [s.view for s in serving.ordered_views(publication.snapshots)]
        if not valid:
            raise NoLeaderboard("Too few votes: the latest publication has no leaderboard view.")
        raise NotFound(f"Unknown view {key!r}; valid views: {', '.join(valid)}.",
                       code="unknown_view", details={"valid_views": valid})
    return snapshot


def _cached(body: bytes | str, mimetype: str, **headers: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers.update(headers)
    response.add_etag()
    response.make_conditional(request)  # turns it into a 304 when If-None-Match matches
    return response


def _json(payload: Any) -> Response:
    return _cached(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                   "application/json")


def _view_url(view: str) -> str:
    return url_for("leaderboard_api.latest", view=view)


def _csv_response(board: serving.Board) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(serving.CONTENDER_FIELDS)
    for row in board.rows:
        writer.writerow([repr(row[k]) if isinstance(row[k], float) else row[k]
                         for k in serving.CONTENDER_FIELDS])
    snap = board.snapshot
    name = f"leaderboard-{snap.view}-{snap.publication.created_at:%Y%m%d-%H%M%S}.csv"
    return _cached(out.getvalue(), "text/csv",
                   **{"Content-Disposition": f'attachment; filename="{name}"'})


@api.after_request
def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Content-Disposition"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@api.get("/leaderboard")
def latest() -> Response:
    """The latest snapshot of a view (JSON, or CSV with ``?format=csv``)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ArenaError("format must be json or csv.", code="invalid", status=422)
    board = serving.load_board(db.session(), _pick_snapshot(request.args.get("view")))
    if fmt == "csv":
        return _csv_response(board)
    return _json(serving.board_json(board, _view_url))


@api.get("/leaderboard.csv")
def latest_csv() -> Response:
    """The latest snapshot of a view as CSV."""
    return _csv_response(serving.load_board(db.session(),
                                            _pick_snapshot(request.args.get("view"))))


@api.get("/leaderboard/snapshots")
def snapshots() -> Response:
    """Every publication (newest first) with the snapshot id of each of its views."""
    session = db.session()
    pubs = session.scalars(select(Publication).order_by(Publication.id.desc())
                           .options(selectinload(Publication.snapshots))).all()
    items = []
    for pub in pubs:
        items.append({
            "publication_id": pub.id, "published_at": pub.created_at.isoformat(),
            "data_cutoff": pub.data_cutoff.isoformat(), "n_battles": pub.n_battles,
            "battles_hash": pub.battles_hash, "code_version": pub.code_version,
            "views": [{"view": s.view, "title": s.title, "snapshot_id": s.id,
                       "url": url_for("leaderboard_api.snapshot", snapshot_id=s.id)}
                      for s in serving.ordered_views(pub.snapshots)]})
    return _json({"publications": items})


@api.get("/leaderboard/snapshots/<int:snapshot_id>")
def snapshot(snapshot_id: int) -> Response:
    """One stored snapshot by id (JSON, or CSV with ``?format=csv``)."""
    snap = db.session().get(LeaderboardSnapshot, snapshot_id)
    if snap is None:
        raise NotFound(f"No snapshot {snapshot_id}.")
    board = serving.load_board(db.session(), snap)
    if request.args.get("format") == "csv":
        return _csv_response(board)
    return _json(serving.board_json(board, _view_url))


@bp.get("/leaderboard")
def page() -> str | tuple[str, int]:
    """The leaderboard page of the latest publication; ``?view=`` picks the view."""
    session = db.session()
    publication = serving.latest_publication(session)
    context: dict[str, Any] = {"active": "leaderboard", "publication": publication}
    if publication is None:
        return render_template("leaderboard.html", state="none", **context)
    view = request.args.get("view") or "overall"
    snap = serving.snapshot_of(session, publication, view)
    if snap is None:
        if not publication.snapshots:
            return render_template("leaderboard.html", state="few", **context,
                                   min_battles=publication.settings.get("min_battles"))
        valid = [s.view for s in serving.ordered_views(publication.snapshots)]
        return render_template("leaderboard.html", state="unknown_view", view=view,
                               valid=valid, **context), 404
    board = serving.load_board(session, snap)
    figures: dict[str, Any] = {}
    if board.rows:
        figures["ratings"] = plots.ratings_plot(board.rows)
        if len(board.matrix_names) >= 2:
            figures["win"] = plots.heatmap(board.matrix_names, board.win_matrix,
                                           label="Predicted win rate", kind="win")
            figures["counts"] = plots.heatmap(board.matrix_names, board.battle_counts,
                                              label="Battle counts", kind="count")
        series = serving.history(session, snap.view)
        if series:
            figures["history"] = plots.history_plot(series)
    return render_template("leaderboard.html", state="board", board=board,
                           changes=serving.rank_changes(session, board), figures=figures,
                           **context)


# --- jobs ----------------------------------------------------------------------------------

@cli.command("publish")
@click.option("--min-battles", type=int, default=MIN_VIEW_BATTLES, show_default=True,
              help="Fewest battles with which a view is fitted (smaller ones are skipped).")
def publish_command(min_battles: int) -> None:
    """Fit every view on the eligible votes and store a new snapshot (cron-ready)."""
    config = current_app.config
    try:
        reg = configured_reg(config.get("LEADERBOARD_REG"))
    except ArenaError as exc:
        raise click.ClickException(exc.message) from None
    session = db.session()
    try:
        report = publish(session, n_bootstrap=config["LEADERBOARD_BOOTSTRAP"],
                         seed=config["LEADERBOARD_SEED"], min_votes=config["LEADERBOARD_MIN_VOTES"],
                         reg=reg, min_battles=min_battles,
                         integrity_options=IntegrityOptions.from_config(config))
    except PublishError as exc:
        session.rollback()
        raise click.ClickException(f"nothing published: {exc}") from None
    if report.up_to_date:
        click.echo(f"up to date: publication {report.publication.id} already covers these "
                   f"{report.n_battles} battles with these settings")
        return
    session.commit()
    for key, reason in report.skipped.items():
        click.echo(f"skipped view {key}: {reason}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    pub = report.publication
    if not report.published:
        click.echo(f"publication {pub.id}: too few votes to rank ({report.n_battles} eligible "
                   f"battles); nothing to show yet")
        return
    click.echo(f"publication {pub.id}: {report.n_battles} battles, views "
               f"{', '.join(report.published)}")


@cli.group("facts")
def facts_cli() -> None:
    """The per-battle facts table that publishing and releases read."""


@facts_cli.command("rebuild")
def facts_rebuild_command() -> None:
    """Re-derive the facts of every voted battle (after a restore or a manual repair)."""
    session = db.session()
    changed = rebuild_facts(session)
    session.commit()
    total = session.scalar(select(func.count()).select_from(BattleFact))
    click.echo(f"{changed} facts changed; {total} battles have facts")


@cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--source-name", default="import", show_default=True,
              help="Value of the battles' source column.")
@click.option("--answers", type=click.Path(dir_okay=False),
              help="answers.jsonl of the Vicuna-80 study (PATH is then its votes.csv).")
@click.option("--questions", type=click.Path(dir_okay=False),
              help="questions.jsonl of the Vicuna-80 study.")
def import_command(path: str, source_name: str, answers: str | None,
                   questions: str | None) -> None:
    """Import votes from a FastChat clean_battle file (JSON, JSONL, CSV) or a Vicuna-80 votes.csv.

    Re-importing the same rows adds nothing.
    """
    if bool(answers) != bool(questions):
        raise click.UsageError("--answers and --questions go together")
    if len(source_name) > 32:
        raise click.UsageError("--source-name is at most 32 characters")
    secret = str(current_app.config["SECRET_KEY"])
    session = db.session()
    try:
        self_battles: list[int] = []
        if answers and questions:
            rows = parse_vicuna_votes(path, answers, questions)
        else:
            rows, self_battles = parse_clean_battles(path, secret=secret)
        report = store_rows(session, rows, source=source_name, secret=secret)
        report.self_battles = self_battles
        session.commit()
    except ImportFileError as exc:
        session.rollback()
        raise click.ClickException(f"{path}: {exc.message}") from None
    if report.new_contenders:
        click.echo(f"new contenders (inactive): {', '.join(report.new_contenders)}")
    if report.self_battles:
        shown = ", ".join(map(str, report.self_battles[:10]))
        click.echo(f"skipped {len(report.self_battles)} self-battles (model_a == model_b), "
                   f"rows {shown}{' …' if len(report.self_battles) > 10 else ''}")
    click.echo(f"{report.rows + len(report.self_battles)} rows read, {report.added} battles added, "
               f"{report.already_present} already present")


# --- wiring --------------------------------------------------------------------------------

def _params(*names: str) -> list[dict[str, Any]]:
    known = {
        "view": {"name": "view", "in": "query", "required": False,
                 "description": "overall, style, citation, multi_turn, long_prompt or "
                                "lang-<code>; the response's `views` lists those published.",
                 "schema": {"type": "string", "default": "overall"}},
        "format": {"name": "format", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}},
        "snapshot_id": {"name": "snapshot_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}},
    }
    return [known[n] for n in names]


_CONTENDER = {
    "type": "object",
    "required": list(serving.CONTENDER_FIELDS),
    "properties": {
        "rank": {"type": "integer"}, "rank_ub": {"type": "integer",
                                                 "description": "1 + contenders whose interval "
                                                 "lies entirely above this one's"},
        "name": {"type": "string"}, "organization": {"type": "string"},
        "license": {"type": "string"}, "rating": {"type": "number"},
        "ci_low": {"type": "number"}, "ci_high": {"type": "number"},
        "votes": {"type": "integer"}, "provisional": {"type": "boolean"},
        "rank_low": {"type": ["integer", "null"]}, "rank_high": {"type": ["integer", "null"]},
    },
}
_BOARD = {
    "type": "object",
    "properties": {
        "snapshot": {"type": "object"}, "views": {"type": "array"}, "method": {"type": "object"},
        "converged": {"type": "boolean"}, "gradient_norm": {"type": "number"},
        "style": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"coef": {"type": "number"},
                                             "ci_low": {"type": "number"},
                                             "ci_high": {"type": "number"}}}},
        "contenders": {"type": "array", "items": _CONTENDER},
        "components": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
        "win_matrix": {"type": "object"}, "battle_counts": {"type": "object"},
    },
}
_CACHED = {"ETag": {"schema": {"type": "string"}},
           "Cache-Control": {"schema": {"type": "string", "example": CACHE_CONTROL}},
           "Access-Control-Allow-Origin": {"schema": {"type": "string", "example": "*"}}}
_ERROR = {"description": "No leaderboard yet, unknown view or snapshot",
          "content": {"application/json": {"schema": {"type": "object", "properties": {
              "error": {"type": "object", "properties": {"code": {"type": "string"},
                                                         "message": {"type": "string"}}}}}}}}


def _get(summary: str, params: list[dict[str, Any]], schema: dict[str, Any],
         csv_too: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if csv_too:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"get": {
        "tags": ["leaderboard"], "summary": summary, "parameters": params,
        "responses": {"200": {"description": "OK", "headers": _CACHED, "content": content},
                      "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                      "404": _ERROR}}}


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/leaderboard": _get(
        "Latest leaderboard of a view", _params("view", "format"), _BOARD, csv_too=True),
    "/api/v1/leaderboard.csv": {"get": {
        "tags": ["leaderboard"], "summary": "Latest leaderboard of a view as a CSV download",
        "parameters": _params("view"),
        "responses": {"200": {"description": "CSV with a Content-Disposition attachment",
                              "headers": _CACHED,
                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                      "304": {"description": "Not modified"}, "404": _ERROR}}},
    "/api/v1/leaderboard/snapshots": _get(
        "Every publication with its views' snapshot ids", [],
        {"type": "object", "properties": {"publications": {"type": "array"}}}),
    "/api/v1/leaderboard/snapshots/{snapshot_id}": _get(
        "One stored snapshot", _params("snapshot_id", "format"), _BOARD, csv_too=True),
}


def init_app(app: Flask) -> None:
    """Register the leaderboard blueprints and CLI commands."""
    app.register_blueprint(bp)
    app.register_blueprint(api)
    app.cli.add_command(cli)
