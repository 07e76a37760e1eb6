"""Browser security headers on every response, and a session cookie that is Secure on HTTPS.

The pages load scripts and styles only from ``/static`` (no inline ``<script>``, no ``style``
attributes), so the Content-Security-Policy allows ``'self'`` and nothing inline. Answers are
sanitised HTML without images, so ``img-src`` needs only the site and ``data:`` (the favicon).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature

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


#: A permanent session's cookie is signed and sent again (its expiry moved forward) once it is
#: this old. Flask's default does it on every response: an HMAC, a JSON dump and a
#: ``Set-Cookie`` header per request, for an expiry that moves by seconds.
SESSION_REFRESH_AFTER = timedelta(days=1)


class _Session(SecureCookieSession):
    #: When the cookie this session came from was signed (None: no valid cookie).
    signed_at: datetime | None = None


#: Verified session cookies a process remembers (see SessionInterface.open_session).
VERIFIED_COOKIES = 4096


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, with ``Secure`` decided per request when configured as "auto",
    and re-issued only when its content changed or it is older than SESSION_REFRESH_AFTER.

    A cookie whose signature was verified once is remembered with its contents and signing
    time (at most VERIFIED_COOKIES of them, per app, for the keys they were verified with), so
    a browser's next requests cost a dictionary lookup and the age check instead of an HMAC,
    base64 and JSON. The same bytes verify the same way every time; only the age moves.
    """

    session_class = _Session

    def __init__(self) -> None:
        self._verified: dict[str, tuple[dict[str, Any], datetime]] = {}
        self._keys: tuple[Any, ...] = ()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Flask's own, except that the signing time is kept (itsdangerous returns it).
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if not app.secret_key:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        if keys != self._keys:  # a new secret: nothing verified under the old one counts
            self._verified, self._keys = {}, keys
        known = self._verified.get(value)
        if known is not None:
            data, signed_at = known
            # itsdangerous's own rule: whole seconds, neither expired nor from the future.
            if 0 <= int(time.time()) - int(signed_at.timestamp()) <= max_age:
                session = self.session_class(data)
                session.signed_at = signed_at
                return session
        serializer = self.get_signing_serializer(app)
        assert serializer is not None  # a secret key is set
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(isinstance(v, str | int | float | bool | None) for v in data.values()):
            # Immutable values only: each session gets its own copy of the dict.
            if len(self._verified) >= VERIFIED_COOKIES:
                self._verified = {}
            self._verified[value] = (dict(data), signed_at)
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # Flask's save_session works out every cookie attribute before it finds that an
        # unchanged session sends no cookie: the common case returns first here.
        if session and not self.should_set_cookie(app, session):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or datetime.now(UTC) - signed_at >= SESSION_REFRESH_AFTER

    def get_cookie_secure(self, app: Flask) -> bool:
        setting = app.config["SESSION_COOKIE_SECURE"]
        if setting == "auto":
            return served_over_https()
        return bool(setting)


_STATIC_LOWER = tuple((name.lower(), name, value) for name, value in _STATIC_HEADERS.items())


def _add_headers(response: Response) -> Response:
    # One pass over the response's headers instead of one per header to add (setdefault).
    present = {key.lower() for key in response.headers.keys()}
    response.headers.extend([(name, value) for lower, name, value in _STATIC_LOWER
                             if lower not in present])
    max_age = int(current_app.config["HSTS_MAX_AGE"])
    # Browsers ignore HSTS sent over plain HTTP; sending it there would only mislead readers.
    if max_age and served_over_https():
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(_add_headers)

