"""Sign-in with Hugging Face (OAuth 2 / OpenID Connect authorization-code flow), as a gate.

Only a keyed hash of the account's ``sub`` is stored (:class:`VoterAccount`), linked to the
browser's pseudonym; no name, e-mail or token is kept. When the provider does not answer
(down, timeout, bad response) the sign-in is recorded as *unavailable* in the session and the
voter's next votes carry the ``unavailable`` verdict: they count, and the outage shows in the
hourly pass rates instead of as silently lost votes.
"""

from __future__ import annotations

import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response

from arena import db
from arena.errors import ArenaError, BadRequest
from arena.integrity.models import VoterAccount
from arena.models import Voter, utcnow
from arena.privacy import keyed_hash, voter_id

log = logging.getLogger(__name__)
bp = Blueprint("hf_oauth", __name__, url_prefix="/auth/hf")
HF_STATE_KEY = "hf_gate"  # session: "signed_in" / "unavailable"
_NONCE_KEY = "hf_oauth_state"


class ProviderUnavailable(Exception):
    """The identity provider did not give a usable answer in time."""


def _config() -> tuple[str, str, str, float]:
    cfg = current_app.config
    if not cfg.get("GATE_HF_OAUTH") or not cfg.get("HF_OAUTH_CLIENT_ID"):
        raise ArenaError("Sign-in is not enabled on this site.", code="not_found", status=404)
    return (str(cfg["HF_OAUTH_BASE_URL"]).rstrip("/"), str(cfg["HF_OAUTH_CLIENT_ID"]),
            str(cfg.get("HF_OAUTH_CLIENT_SECRET") or ""), float(cfg["GATE_TIMEOUT_S"]))


def _call(url: str, *, timeout: float, data: dict[str, str] | None = None,
          token: str | None = None) -> dict[str, Any]:
    body = None if data is None else urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Accept": "application/json"})
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured URL
            payload = json.loads(resp.read(65536))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise ProviderUnavailable(type(exc).__name__) from None
    if not isinstance(payload, dict):
        raise ProviderUnavailable("not a JSON object")
    return payload


@bp.get("/login")
def login() -> Response:
    base, client_id, _, _ = _config()
    state = secrets.token_urlsafe(24)
    session[_NONCE_KEY] = state
    query = urllib.parse.urlencode({
        "client_id": client_id, "response_type": "code", "scope": "openid",
        "redirect_uri": url_for("hf_oauth.callback", _external=True), "state": state})
    return redirect(f"{base}/oauth/authorize?{query}")


@bp.get("/callback")
def callback() -> Response:
    base, client_id, client_secret, timeout = _config()
    expected = session.pop(_NONCE_KEY, None)
    code, state = request.args.get("code"), request.args.get("state")
    if not code or not expected or state != expected:
        raise BadRequest("The sign-in link is invalid or expired; please sign in again.")
    try:
        token = _call(f"{base}/oauth/token", timeout=timeout, data={
            "grant_type": "authorization_code", "code": code, "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": url_for("hf_oauth.callback", _external=True)})
        access = token.get("access_token")
        if not isinstance(access, str):
            raise ProviderUnavailable("no access token")
        info = _call(f"{base}/oauth/userinfo", timeout=timeout, token=access)
        sub = info.get("sub")
        if not isinstance(sub, str) or not sub:
            raise ProviderUnavailable("no subject")
    except ProviderUnavailable as exc:
        log.warning("Hugging Face sign-in unavailable: %s", exc)
        session[HF_STATE_KEY] = "unavailable"
        return redirect(url_for("pages.index"))
    vid = str(voter_id())
    s = db.session()
    if s.get(Voter, vid) is None:
        s.add(Voter(id=vid, created_at=utcnow()))
        s.flush()
    account = s.get(VoterAccount, vid)
    digest = keyed_hash("hf", sub, str(current_app.config["SECRET_KEY"]))
    if account is None:
        s.add(VoterAccount(voter_id=vid, provider="hf", account_hash=digest,
                           created_at=utcnow()))
    else:
        account.account_hash = digest
    s.commit()
    session[HF_STATE_KEY] = "signed_in"
    return redirect(url_for("pages.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
