"""Browser security headers on every response, and a session cookie that is Secure on HTTPS.

The pages load scripts and styles only from ``/static`` (no inline ``<script>``, no ``style``
attributes), so the Content-Security-Policy allows ``'self'`` and nothing inline. Answers are
sanitised HTML without images, so ``img-src`` needs only the site and ``data:`` (the favicon).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

_STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # frame-ancestors covers current browsers; X-Frame-Options the ones that predate it.
    "X-Frame-Options": "DENY",
    # Battle and release URLs are nobody else's business, not even the host part of them.
    "Referrer-Policy": "no-referrer",
}


def served_over_https() -> bool:
    """Is this request HTTPS, as seen by the browser?

    ``request.scheme`` is already corrected from a trusted proxy's ``X-Forwarded-Proto`` (see
    :mod:`arena.security.proxy`); a ``PUBLIC_URL`` on https says the same when the TLS
    terminator in front does not forward the scheme.
    """
    if request.is_secure:
        return True
    public = current_app.config.get("PUBLIC_URL") or ""
    return str(public).lower().startswith("https://")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, with ``Secure`` decided per request when configured as "auto"."""

    def get_cookie_secure(self, app: Flask) -> bool:
        setting = app.config["SESSION_COOKIE_SECURE"]
        if setting == "auto":
            return served_over_https()
        return bool(setting)


def _add_headers(response: Response) -> Response:
    for name, value in _STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    max_age = int(current_app.config["HSTS_MAX_AGE"])
    # Browsers ignore HSTS sent over plain HTTP; sending it there would only mislead readers.
    if max_age and served_over_https():
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(_add_headers)

