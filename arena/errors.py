"""One error hierarchy for the whole application.

Every error a person or an API client can meet is an :class:`ArenaError`: it carries an
HTTP status, a stable machine-readable ``code`` and a ``message`` that is safe to show
(never a stack trace, a contender name before the vote, or a secret).
"""

from __future__ import annotations

from typing import Any


class ArenaError(Exception):
    """Base class: ``status`` (HTTP), ``code`` (stable slug) and a safe ``message``."""

    status: int = 400
    code: str = "bad_request"
    message: str = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, details: dict[str, Any] | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(ArenaError):
    status = 400
    code = "bad_request"


class ValidationError(ArenaError):
    status = 422
    code = "invalid"


class NotFound(ArenaError):
    status = 404
    code = "not_found"
    message = "Not found."


class Forbidden(ArenaError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do that."


class Conflict(ArenaError):
    status = 409
    code = "conflict"


class ServiceUnavailable(ArenaError):
    status = 503
    code = "unavailable"
    message = "The service is temporarily unavailable."


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached or refuses connections (restart, fail-over, full).

    Nothing was written: the request's transaction is rolled back. Clients retry after
    :attr:`retry_after_s` seconds.
    """

    code = "database_unavailable"
    message = ("The database is unavailable for a moment; nothing was saved. "
               "Please try again in a few seconds.")
    retry_after_s = 5


class ConfigError(ArenaError):
    """Invalid configuration (config keys, contender files). Raised at start-up or by CLI jobs."""

    status = 500
    code = "config_error"


class InferenceError(ArenaError):
    """Base for everything that can go wrong talking to an inference endpoint."""

    status = 502
    code = "inference_error"
    message = "A model endpoint failed to answer."


class EndpointTimeout(InferenceError):
    code = "endpoint_timeout"
    message = "A model endpoint took too long to answer."


class EndpointUnreachable(InferenceError):
    code = "endpoint_unreachable"
    message = "A model endpoint could not be reached."


class EndpointHTTPError(InferenceError):
    code = "endpoint_http_error"
    message = "A model endpoint returned an error."


class StreamBroken(InferenceError):
    code = "stream_broken"
    message = "A model endpoint stopped streaming before the answer was complete."
