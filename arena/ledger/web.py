"""The ledger's page (``/ledger``), JSON (``/api/v1/ledger``, ``/api/v1/ledger/exposure``) and
the ``ledger`` CLI group (``reveal``: reveal the aliases whose private test is over)."""

from __future__ import annotations

from typing import Any

import click
from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from flask.cli import AppGroup
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from arena import db as arena_db
from arena import ledger
from arena.errors import ValidationError
from arena.models import Contender, utcnow

bp = Blueprint("ledger", __name__)
ledger_cli = AppGroup("ledger", help="The public ledger of sampling and contender decisions.")

MAX_PAGE = 500

_ERROR = {"$ref": "#/components/schemas/Error"}
_INT = {"type": "integer", "minimum": 0}

OPENAPI_COMPONENTS: dict[str, Any] = {
    "LedgerEntry": {
        "type": "object", "required": ["id", "at", "kind", "details"],
        "properties": {
            "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": list(ledger.KINDS)},
            "subject": {"type": ["string", "null"],
                        "description": "Public name, or alias while a private test runs."},
            "organization": {"type": ["string", "null"]},
            "details": {"type": "object"}, "reason": {"type": ["string", "null"]}}},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/ledger": {"get": {
        "summary": "The append-only public ledger of sampling and contender decisions",
        "parameters": [
            {"name": "after", "in": "query", "schema": _INT,
             "description": "Return entries with a larger id (paging)."},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PAGE}}],
        "responses": {
            "200": {"description": "Entries in order", "content": {"application/json": {
                "schema": {"type": "object", "required": ["entries"], "properties": {
                    "entries": {"type": "array",
                                "items": {"$ref": "#/components/schemas/LedgerEntry"}},
                    "next": {"type": "string"}}}}}},
            "422": {"description": "Bad paging parameters",
                    "content": {"application/json": {"schema": _ERROR}}}}}},
    "/api/v1/ledger/exposure": {"get": {
        "summary": "Battles per contender and organisation per week, and declared shares",
        "parameters": [{"name": "weeks", "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 104}}],
        "responses": {
            "200": {"description": "Exposure", "content": {"application/json": {
                "schema": {"type": "object", "required": ["policy", "declared", "weeks"]}}}},
            "422": {"description": "Bad parameter",
                    "content": {"application/json": {"schema": _ERROR}}}}}},
}


class InvalidPaging(ValidationError):
    code = "invalid_parameter"
    message = "after and limit must be non-negative integers (limit at most 500)."


def _int_arg(name: str, default: int, *, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidPaging()
    value = int(raw)
    if high is not None and value > high:
        raise InvalidPaging()
    return value


def _declared(db: Any) -> list[dict[str, Any]]:
    sampler = current_app.extensions["arena.sampler"]
    shares = sampler.declared_shares(db, utcnow())
    names = {c.id: c for c in db.scalars(select(Contender).where(Contender.id.in_(shares)))}
    return [{"contender": ledger.public_name(names[cid]),
             "organization": names[cid].organization if names[cid].is_public else "",
             "declared_share": round(share, 4)}
            for cid, share in sorted(shares.items(), key=lambda kv: -kv[1])]


@bp.get("/api/v1/ledger")
def ledger_json() -> ResponseReturnValue:
    """Entries in order; page with ``?after=<last id>&limit=<n>``."""
    after = _int_arg("after", 0)
    limit = _int_arg("limit", MAX_PAGE, high=MAX_PAGE)
    rows = ledger.entries(arena_db.session(), after_id=after, limit=limit)
    body: dict[str, Any] = {"entries": [ledger.entry_json(e) for e in rows]}
    if len(rows) == limit and rows:
        body["next"] = f"/api/v1/ledger?after={rows[-1].id}&limit={limit}"
    return jsonify(body)


@bp.get("/api/v1/ledger/exposure")
def exposure_json() -> ResponseReturnValue:
    """Realised battles per contender and organisation per week, and the declared shares."""
    weeks = _int_arg("weeks", 8, high=104)
    db = arena_db.session()
    sampler = current_app.extensions["arena.sampler"]
    return jsonify({"policy": sampler.settings.declared(),
                    "declared": _declared(db),
                    "weeks": ledger.exposure(db, now=utcnow(), weeks=weeks)})


@bp.get("/ledger")
def ledger_page() -> ResponseReturnValue:
    db = arena_db.session()
    sampler = current_app.extensions["arena.sampler"]
    rows = ledger.entries(db, limit=MAX_PAGE)
    weeks = ledger.exposure(db, now=utcnow(), weeks=4)
    return render_template("ledger.html", active="ledger",
                           entries=[ledger.entry_json(e) for e in rows][::-1],
                           policy=sampler.settings.declared(), declared=_declared(db),
                           weeks=weeks)


@ledger_cli.command("reveal")
def ledger_reveal() -> None:
    """Reveal every private test that reached its vote or day limit (idempotent)."""
    config = current_app.config
    session = arena_db.session()
    names = ledger.reveal_due(session, now=utcnow(),
                              reveal_votes=int(config["PRIVATE_TEST_REVEAL_VOTES"]),
                              reveal_days=int(config["PRIVATE_TEST_REVEAL_DAYS"]))
    session.commit()
    click.echo(f"revealed {len(names)}" + (f": {', '.join(names)}" if names else ""))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(ledger_cli)
