"""Error negotiation: JSON bodies under ``/api``, readable pages elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from jinja2 import TemplateNotFound
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from arena import db as arena_db
from arena.errors import ArenaError, DatabaseUnavailable

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(error: ArenaError) -> Response:
    if wants_json():
        response = jsonify(error.to_dict())
    else:
        try:
            page = render_template(f"errors/{error.status}.html", error=error)
        except TemplateNotFound:
            page = render_template("errors/generic.html", error=error)
        response = Response(page, mimetype="text/html")
    response.status_code = error.status
    return response


def _from_http(exc: HTTPException) -> ArenaError:
    status = exc.code or 500
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
             413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}
    messages = {404: "Not found.", 405: "Method not allowed.",
                413: "The request body is too large.",
                429: "Too many requests: please slow down and try again shortly."}
    return ArenaError(messages.get(status, exc.description or exc.name),
                      code=codes.get(status, "http_error"), status=status)


# SQLite reports schema mistakes as OperationalError too; those are bugs, not outages.
_SQLITE_DEFECTS = ("no such table", "no such column", "syntax error", "has no column")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached or refused the connection.

    PostgreSQL (psycopg) raises OperationalError for refused or dropped connections, a server
    shutting down and "too many clients"; InterfaceError for a connection already closed;
    the pool raises its TimeoutError when no connection came free in time.
    """
    if isinstance(exc, PoolTimeout | InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return not any(defect in text for defect in _SQLITE_DEFECTS)
    return False


def _rollback_request_session() -> None:
    """End the failed transaction now: the session may outlive this request (an app context
    held open around several requests), and a broken transaction left in it would turn the
    next request's outage into a PendingRollbackError (500) instead of a 503. The request's
    autocommit connection (arena.db.statement_connection), if any, goes back to the pool
    for the same reason: the next request checks out a working one."""
    try:
        arena_db.release_statement_connection()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it
        log.debug("closing the statement connection after an outage failed", exc_info=True)
    db = g.get("db_session")
    if db is None:
        return
    try:
        db.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it
        log.debug("rollback after a database outage failed", exc_info=True)


def init_app(app: Flask) -> None:
    @app.errorhandler(ArenaError)
    def _arena_error(error: ArenaError):  # type: ignore[no-untyped-def]
        return error_response(error)

    # Also answers Flask-Limiter's RateLimitExceeded, a TooManyRequests (429).
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        response = error_response(_from_http(exc))
        # Headers the status needs, such as Allow on a 405 and Retry-After on a 429.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if database_unavailable(exc):
            # An outage, not a bug: one line in the log, and the client is told to come back.
            # The request's session is rolled back at teardown, so nothing is half-written.
            log.warning("database unavailable on %s %s: %s", request.method, request.path,
                        type(exc).__name__)
            _rollback_request_session()
            unavailable = DatabaseUnavailable()
            response = error_response(unavailable)
            response.headers["Retry-After"] = str(unavailable.retry_after_s)
            return response
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ArenaError("Something went wrong on our side.",
                                         code="internal_error", status=500))
