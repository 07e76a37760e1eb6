"""Data page, voter consent/opt-out/deletion (page forms and JSON) and the `releases` CLI group."""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from arena import db as arena_db
from arena import privacy
from arena.errors import ArenaError, ValidationError
from arena.models import DataRelease, utcnow
from arena.releases import card, voters
from arena.releases.cli import releases_cli
from arena.releases.cut import MANIFEST
from arena.releases.openapi import OPENAPI_COMPONENTS as OPENAPI_COMPONENTS
from arena.releases.openapi import OPENAPI_PATHS as OPENAPI_PATHS

bp = Blueprint("releases", __name__)

HUB_URL = "https://huggingface.co"
_CSRF_KEY = "csrf"


class UnsupportedMediaType(ArenaError):
    status = 415
    code = "unsupported_media_type"
    message = "Send a JSON body with Content-Type: application/json."


class CSRFFailed(ArenaError):
    status = 400
    code = "csrf_failed"
    message = "This form has expired. Reload the privacy page and try again."


def csrf_token() -> str:
    """The session's form token (created on first use)."""
    token = session.get(_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return str(token)


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    stored = session.get(_CSRF_KEY, "")
    if not sent or not stored or not hmac.compare_digest(str(sent), str(stored)):
        raise CSRFFailed()


def privacy_state() -> dict[str, Any]:
    """Template global for the privacy page: this browser's status (without creating one)."""
    vid = privacy.voter_id(create=False)
    return {"status": voters.voter_status(arena_db.session(), vid or ""),
            "has_voter": vid is not None}


def _forget_browser() -> None:
    # A fresh pseudonym after deletion: nothing this browser does next links to the erased one.
    session.pop("voter", None)


def _rows_with_text(release: DataRelease) -> int | None:
    """Rows with conversation texts, from the release's own manifest (None if unreadable)."""
    path = Path(current_app.config["RELEASES_DIR"]) / release.name / MANIFEST
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("rows_with_text")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _release_dict(release: DataRelease) -> dict[str, Any]:
    files = [{**f, "url": url_for("releases.download", name=release.name, filename=f["name"],
                                  _external=False)} for f in release.files]
    hub = None
    if release.pushed_at is not None and release.hub_repo:
        revision = release.hub_revision or "main"
        hub = {"repo": release.hub_repo, "revision": release.hub_revision,
               "pushed_at": release.pushed_at.isoformat(),
               "url": f"{HUB_URL}/datasets/{release.hub_repo}/tree/{revision}/releases/"
                      f"{release.name}"}
    return {
        "name": release.name,
        "window_start": release.window_start.isoformat(),
        "window_end": release.window_end.isoformat(),
        "created_at": release.created_at.isoformat(),
        "n_battles": release.n_battles,
        "rows_with_text": _rows_with_text(release),
        "bytes": sum(int(f["bytes"]) for f in release.files),
        "manifest_sha256": release.manifest_sha256,
        "files": files,
        "commands": [c for c in release.command.splitlines() if c],
        "views": [{"key": key, "title": view.get("title", key), "command": view["command"],
                   "error": view.get("error")}
                  for key, view in (release.snapshot or {}).get("views", {}).items()],
        "hub": hub,
    }


def _releases() -> list[DataRelease]:
    return list(arena_db.session().scalars(
        select(DataRelease).order_by(DataRelease.window_start.desc())))


@bp.get("/data")
def page() -> str:
    config = current_app.config
    return render_template("data.html", active="data",
                           releases=[_release_dict(r) for r in _releases()],
                           window_days=config["RELEASE_WINDOW_DAYS"],
                           embargo_days=config["RELEASE_EMBARGO_DAYS"],
                           columns=card.COLUMNS, license=card.LICENSE,
                           source_url=config.get("SOURCE_URL"))


@bp.get("/data/<name>/<filename>")
def download(name: str, filename: str) -> Response:
    release = arena_db.session().scalar(select(DataRelease).where(DataRelease.name == name))
    # Only files the release row lists are served, from that release's own folder.
    if release is None or filename not in {f["name"] for f in release.files}:
        abort(404)
    folder = Path(current_app.config["RELEASES_DIR"]) / release.name
    return send_from_directory(folder, filename, as_attachment=filename.endswith(".parquet"))


@bp.get("/api/v1/releases")
def api_list() -> Response:
    return jsonify({"releases": [_release_dict(r) for r in _releases()]})


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedMediaType()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ArenaError("The request body must be a valid JSON object.", code="invalid_json")
    return body


@bp.get("/api/v1/me")
def api_me() -> Response:
    vid = privacy.voter_id(create=False)
    return jsonify(voters.voter_status(arena_db.session(), vid or ""))


@bp.post("/api/v1/me")
def api_me_update() -> Response:
    body = _json_body()
    unknown = sorted(set(body) - {"release_consent", "release_opt_out"})
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(unknown)}.", code="invalid_field")
    if not body:
        raise ValidationError("Give release_consent and/or release_opt_out.",
                              code="invalid_field")
    for key, value in body.items():
        if not isinstance(value, bool):
            raise ValidationError(f"{key} must be true or false.", code="invalid_field")
    db = arena_db.session()
    vid = str(privacy.voter_id())
    voters.set_preferences(db, vid, utcnow(), release_consent=body.get("release_consent"),
                           release_opt_out=body.get("release_opt_out"))
    db.commit()
    return jsonify(voters.voter_status(db, vid))


@bp.post("/api/v1/me/deletion")
def api_deletion() -> Response:
    body = _json_body()
    if body.get("confirm") is not True:
        raise ValidationError('Send {"confirm": true} to erase your data.',
                              code="confirmation_required")
    db = arena_db.session()
    vid = str(privacy.voter_id())
    report = voters.request_deletion(db, vid, utcnow())
    db.commit()
    _forget_browser()
    return jsonify({"deleted": True, "battles": report.battles,
                    "texts_erased": report.texts_erased,
                    "feedback_erased": report.feedback_erased})


@bp.post("/privacy/preferences")
def privacy_preferences() -> BaseResponse:
    _check_csrf()
    consent = request.form.get("release_consent") == "on"
    opt_out = request.form.get("release_opt_out") == "on"
    db = arena_db.session()
    voters.set_preferences(db, str(privacy.voter_id()), utcnow(), release_consent=consent,
                           release_opt_out=opt_out)
    db.commit()
    if opt_out:
        flash("Saved. You are opted out: your votes will be left out of every data release "
              "cut from now on.", "ok")
    elif consent:
        flash("Saved. Your votes, and your scrubbed prompts and answers, may appear in future "
              "data releases.", "ok")
    else:
        flash("Saved. Your votes may appear in future data releases under a pseudonym; your "
              "prompts and answers will not.", "ok")
    return redirect(url_for("pages.privacy"))


@bp.post("/privacy/deletion")
def privacy_deletion() -> BaseResponse:
    _check_csrf()
    if request.form.get("confirm") != "on":
        flash("Nothing was deleted: tick the box to confirm the deletion.", "error")
        return redirect(url_for("pages.privacy"))
    db = arena_db.session()
    report = voters.request_deletion(db, str(privacy.voter_id()), utcnow())
    db.commit()
    _forget_browser()
    flash(f"Deleted. The texts of your {report.battles} battle(s) are erased and none of them "
          "will appear in any future data release. This browser now has a fresh pseudonym.",
          "ok")
    return redirect(url_for("pages.privacy"))


def init_app(app: Flask) -> None:
    """Register the releases blueprint, the privacy page helpers and the CLI group."""
    app.register_blueprint(bp)
    app.add_template_global(privacy_state, "privacy_state")
    app.add_template_global(csrf_token, "csrf_token")
    app.cli.add_command(releases_cli)
