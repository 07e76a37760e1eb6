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
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from arena import db, ledger
from arena.errors import ArenaError, NotFound
from arena.integrity.screen import IntegrityOptions
from arena.leaderboard import plots, profile, serving
from arena.leaderboard.data import MIN_VIEW_BATTLES, configured_reg
from arena.leaderboard.facts import rebuild_facts
from arena.leaderboard.importer import (
    ImportFileError,
    parse_clean_battles,
    parse_contender_meta,
    parse_vicuna_votes,
    store_rows,
)
from arena.leaderboard.openapi import CACHE_CONTROL
from arena.leaderboard.openapi import OPENAPI_PATHS as OPENAPI_PATHS
from arena.leaderboard.publish import PublishError, publish
from arena.models import BattleFact, LeaderboardSnapshot, Publication, utcnow

bp = Blueprint("leaderboard", __name__)
api = Blueprint("leaderboard_api", __name__, url_prefix="/api/v1")
cli = AppGroup("leaderboard", help="Import votes and publish leaderboard snapshots.")



class NoLeaderboard(NotFound):
    code = "no_leaderboard"
    message = "No leaderboard has been published yet."


# --- reading -------------------------------------------------------------------------------
#
# Every read starts with one small query (serving.current): the latest snapshot's id of the
# view and the contenders' fingerprint. That key is the ETag, so a conditional request is
# answered there; otherwise the response's bytes come from the per-process cache, built once
# per snapshot (and contender change) from the stored rows.

def _ttl() -> float:
    return float(current_app.config.get("LEADERBOARD_CACHE_MS", 0)) / 1000


def _current_view(session: Session, explicit: str | None) -> tuple[str, serving.Current]:
    """The asked view, else LEADERBOARD_DEFAULT_VIEW; a default view that is not published
    (too few battles) falls back to ``overall``: a request without ``?view=`` should not fail
    because of a setting."""
    key = explicit or str(current_app.config["LEADERBOARD_DEFAULT_VIEW"])
    cur = serving.current(session, key, ttl_s=_ttl())
    if explicit is None and cur.snapshot_id is None and key != "overall":
        key = "overall"
        cur = serving.current(session, key, ttl_s=_ttl())
    return key, cur


def _missing_view(session: Session, publication_id: int | None, key: str) -> ArenaError:
    """The error of a view that the latest publication lacks (why, if it was skipped)."""
    if publication_id is None:
        return NoLeaderboard()
    publication = session.get(Publication, publication_id)
    assert publication is not None
    valid = [s.view for s in serving.ordered_views(publication.snapshots)]
    if not valid:
        return NoLeaderboard("Too few votes: the latest publication has no leaderboard view.")
    reason = (publication.settings or {}).get("skipped_views", {}).get(key)
    if reason:
        return NotFound(f"View {key!r} is not published yet: {reason}. It is fitted once it "
                        f"has at least {publication.settings.get('min_battles')} battles.",
                        code="view_too_few_votes",
                        details={"reason": reason, "valid_views": valid,
                                 "min_battles": publication.settings.get("min_battles")})
    return NotFound(f"Unknown view {key!r}; valid views: {', '.join(valid)}.",
                    code="unknown_view", details={"valid_views": valid})


def _not_modified(tag: str) -> Response | None:
    if not request.if_none_match.contains_weak(tag):
        return None
    response = Response(status=304)
    response.set_etag(tag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _cached(body: bytes | str, mimetype: str, tag: str, **headers: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers.update(headers)
    response.set_etag(tag)
    return response


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _view_url(view: str) -> str:
    return url_for("leaderboard_api.latest", view=view)


def _csv_bytes(board: serving.Board) -> tuple[bytes, dict[str, str]]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(serving.CONTENDER_FIELDS)
    for row in board.rows:
        writer.writerow([repr(row[k]) if isinstance(row[k], float) else row[k]
                         for k in serving.CONTENDER_FIELDS])
    snap = board.snapshot
    name = f"leaderboard-{snap.view}-{snap.publication.created_at:%Y%m%d-%H%M%S}.csv"
    return out.getvalue().encode(), {"Content-Disposition": f'attachment; filename="{name}"'}


def _snapshot_response(snapshot_id: int, fingerprint: str, fmt: str) -> Response:
    """JSON or CSV of a snapshot, from the cache or built once (ETag checked by the caller)."""
    tag = serving.etag_for("lb", snapshot_id, fingerprint, fmt, request.script_root)
    hit = _not_modified(tag)
    if hit is not None:
        return hit
    cached = serving.CACHE.get(tag)
    if cached is None:
        session = db.session()
        snap = session.get(LeaderboardSnapshot, snapshot_id)
        if snap is None:
            raise NotFound(f"No snapshot {snapshot_id}.")
        board = serving.load_board(session, snap)
        if fmt == "csv":
            cached = serving.CACHE.put(tag, _csv_bytes(board))
        else:
            cached = serving.CACHE.put(tag, (_dumps(serving.board_json(board, _view_url)), {}))
    body, headers = cached
    return _cached(body, "text/csv" if fmt == "csv" else "application/json", tag, **headers)


@api.after_request
def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Content-Disposition"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _latest(fmt: str) -> Response:
    session = db.session()
    key, cur = _current_view(session, request.args.get("view"))
    if cur.snapshot_id is None:
        raise _missing_view(session, cur.publication_id, key)
    return _snapshot_response(cur.snapshot_id, cur.fingerprint, fmt)


@api.get("/leaderboard")
def latest() -> Response:
    """The latest snapshot of a view (JSON, or CSV with ``?format=csv``)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ArenaError("format must be json or csv.", code="invalid", status=422)
    return _latest(fmt)


@api.get("/leaderboard.csv")
def latest_csv() -> Response:
    """The latest snapshot of a view as CSV."""
    return _latest("csv")


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
    body = _dumps({"publications": items})
    response = _cached(body, "application/json", serving.etag_for("list", body))
    response.make_conditional(request)
    return response


@api.get("/leaderboard/snapshots/<int:snapshot_id>")
def snapshot(snapshot_id: int) -> Response:
    """One stored snapshot by id (JSON, or CSV with ``?format=csv``)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ArenaError("format must be json or csv.", code="invalid", status=422)
    return _snapshot_response(snapshot_id, serving.fingerprint(db.session()), fmt)


def _render_board(session: Session, snapshot_id: int) -> Markup:
    """The leaderboard section of one snapshot (tables, plots), rendered once per key."""
    snap = session.get(LeaderboardSnapshot, snapshot_id)
    assert snap is not None
    board = serving.load_board(session, snap)
    figures: dict[str, Any] = {}
    if board.rows:
        figures["ratings"] = plots.ratings_plot(board.rows)
        top = [r for r in board.rows if r["status"] != "not_comparable"][:plots.MATRIX_TOP]
        names, win, counts = serving.top_matrices(board, [r["name"] for r in top])
        if len(names) >= 2:
            figures["win"] = plots.heatmap(names, win, label="Predicted win rate", kind="win")
            figures["counts"] = plots.heatmap(names, counts, label="Battle counts",
                                              kind="count")
            observed = serving.top_observed(board, names)
            if observed:
                figures["observed"] = plots.heatmap(
                    names, observed, kind="win",
                    label="Observed win rate (each battle weighted by 1 / its pair's draw "
                          "probability)")
        series = serving.history(session, snap.view)
        keep = {r["name"] for r in top[:plots.HISTORY_TOP]}
        series = {name: pts for name, pts in series.items() if name in keep}
        if series:
            figures["history"] = plots.history_plot(series)
    categories = serving.category_ranks(session, board) if snap.view == "overall" else None
    return Markup(render_template(
        "leaderboard/board.html", board=board, snap=snap, pub=board.publication,
        changes=serving.rank_changes(session, board), figures=figures,
        groups=serving.view_groups(board.views), categories=categories,
        matrix_top=plots.MATRIX_TOP, history_top=plots.HISTORY_TOP))


@bp.get("/leaderboard")
def page() -> Response | str | tuple[str, int]:
    """The leaderboard page of the latest publication; ``?view=`` picks the view."""
    session = db.session()
    view, cur = _current_view(session, request.args.get("view"))
    context: dict[str, Any] = {"active": "leaderboard"}
    if cur.publication_id is None:
        return render_template("leaderboard.html", state="none", **context)
    if cur.snapshot_id is None:
        publication = session.get(Publication, cur.publication_id)
        assert publication is not None
        context["publication"] = publication
        if not publication.snapshots:
            return render_template("leaderboard.html", state="few", **context,
                                   min_battles=publication.settings.get("min_battles"))
        valid = serving.ordered_views(publication.snapshots)
        reason = (publication.settings or {}).get("skipped_views", {}).get(view)
        return render_template("leaderboard.html", state="unknown_view", view=view,
                               reason=reason, valid=valid, **context,
                               min_battles=publication.settings.get("min_battles")), 404
    tag = serving.etag_for("page", cur.snapshot_id, cur.fingerprint, request.url_root)
    body = serving.CACHE.get(tag)
    if body is None:
        # The whole page is cached as bytes: base.html holds nothing per request (no nonce,
        # no user), and encoding ~200 KB of HTML on every request was most of its cost.
        content = _render_board(session, cur.snapshot_id)
        body = serving.CACHE.put(tag, render_template(
            "leaderboard.html", state="board", content=content, **context).encode())
    return Response(body, mimetype="text/html")


@bp.get("/leaderboard/contender/<ident>")
def contender_page(ident: str) -> str:
    """One contender: its ratings in every view, history, opponents, link and licence."""
    session = db.session()
    cur = serving.current(session, "overall", ttl_s=_ttl())
    found = profile.find_contender(session, ident)
    if found is None:
        raise NotFound(f"No public contender {ident!r}.")
    tag = serving.etag_for("contender", found.id, cur.publication_id, cur.fingerprint,
                           request.script_root)
    content = serving.CACHE.get(tag)
    if content is None:
        info = profile.contender_profile(session, found, cur.publication_id)
        figure = plots.history_plot(info.history) if info.history else None
        content = serving.CACHE.put(tag, Markup(render_template(
            "leaderboard/contender.html", profile=info, figure=figure)))
    return render_template("leaderboard_contender.html", content=content, name=found.name,
                           active="leaderboard")


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
    # Private tests due for reveal are revealed first (whatever their score), so this
    # publication already shows them under their names.
    revealed = ledger.reveal_due(session, now=utcnow(),
                                 reveal_votes=int(config["PRIVATE_TEST_REVEAL_VOTES"]),
                                 reveal_days=int(config["PRIVATE_TEST_REVEAL_DAYS"]))
    session.commit()
    for name in revealed:
        click.echo(f"revealed private test: {name}")
    try:
        report = publish(session, n_bootstrap=config["LEADERBOARD_BOOTSTRAP"],
                         seed=config["LEADERBOARD_SEED"], min_votes=config["LEADERBOARD_MIN_VOTES"],
                         reg=reg, min_battles=min_battles,
                         votes_after_reveal=int(config["PRIVATE_TEST_VOTES_AFTER_REVEAL"]),
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
@click.option("--contenders-meta", "meta_path", type=click.Path(dir_okay=False),
              help="YAML mapping of contender name to organization, license and link.")
def import_command(path: str, source_name: str, answers: str | None,
                   questions: str | None, meta_path: str | None) -> None:
    """Import votes from a FastChat clean_battle file (JSON, JSONL, CSV) or a Vicuna-80 votes.csv.

    Re-importing the same rows adds nothing.
    """
    if bool(answers) != bool(questions):
        raise click.UsageError("--answers and --questions go together")
    if len(source_name) > 32:
        raise click.UsageError("--source-name is at most 32 characters")
    secret = str(current_app.config["SECRET_KEY"])
    try:
        meta = parse_contender_meta(meta_path) if meta_path else None
    except ImportFileError as exc:
        raise click.ClickException(f"--contenders-meta {exc.message}") from None
    session = db.session()
    try:
        self_battles: list[int] = []
        if answers and questions:
            rows = parse_vicuna_votes(path, answers, questions)
        else:
            rows, self_battles = parse_clean_battles(path, secret=secret)
        report = store_rows(session, rows, source=source_name, secret=secret, meta=meta)
        report.self_battles = self_battles
        session.commit()
    except ImportFileError as exc:
        session.rollback()
        raise click.ClickException(f"{path}: {exc.message}") from None
    if report.new_contenders:
        click.echo(f"new contenders (inactive): {', '.join(report.new_contenders)}")
    if report.described:
        click.echo(f"organisation/licence/link set for: {', '.join(report.described)}")
    if report.self_battles:
        shown = ", ".join(map(str, report.self_battles[:10]))
        click.echo(f"skipped {len(report.self_battles)} self-battles (model_a == model_b), "
                   f"rows {shown}{' …' if len(report.self_battles) > 10 else ''}")
    click.echo(f"{report.rows + len(report.self_battles)} rows read, {report.added} battles added, "
               f"{report.already_present} already present")


# --- wiring --------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Register the leaderboard blueprints and CLI commands."""
    app.register_blueprint(bp)
    app.register_blueprint(api)
    app.cli.add_command(cli)
