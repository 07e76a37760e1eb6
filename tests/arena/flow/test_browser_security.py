"""Security headers on every page, a Secure cookie on HTTPS, and revoked cookies after deletion."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Battle

PAGES = ["/", "/privacy", "/data", "/leaderboard", "/api/v1/leaderboard", "/api/v1/openapi.json",
         "/api/v1/me", "/no-such-page", "/api/v1/no-such-thing", "/static/style.css"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        csp = response.headers["Content-Security-Policy"]
        directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
        assert directives["script-src"] == ["'self'"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["object-src"] == ["'none'"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        # Plain HTTP: HSTS would be ignored by browsers, so it is not sent.
        assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path", ["/", "/privacy", "/data", "/leaderboard"])
def test_pages_have_no_inline_script_or_style(client: FlaskClient, path: str) -> None:
    import re

    html = client.get(path).get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", html) is None
    assert " style=" not in html and "<style" not in html
    assert re.search(r"\son[a-z]+=", html) is None


def _session_cookie(response: Any) -> str:
    cookies = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert cookies, response.headers
    return str(cookies[0])


def _new_session(client: FlaskClient, **kwargs: Any) -> Any:
    # Asking for the privacy preferences creates a voter pseudonym, hence a session cookie.
    return client.post("/api/v1/me", json={"release_consent": False}, **kwargs)


@pytest.fixture
def behind_tls_proxy(app_config: dict[str, Any]) -> None:
    app_config.update(PROXY_HOPS=1, TRUSTED_PROXIES="127.0.0.1")


def test_cookie_is_secure_and_hsts_sent_when_a_trusted_proxy_says_https(
        behind_tls_proxy: None, client: FlaskClient) -> None:
    response = _new_session(client, headers={"X-Forwarded-Proto": "https",
                                             "X-Forwarded-For": "198.51.100.4"})
    assert response.status_code == 200
    assert "; Secure" in _session_cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    page = client.get("/privacy", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in page.headers


def test_an_untrusted_peer_cannot_claim_https(behind_tls_proxy: None,
                                              client: FlaskClient) -> None:
    response = _new_session(client, headers={"X-Forwarded-Proto": "https"},
                            environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert "; Secure" not in _session_cookie(response)
    assert "Strict-Transport-Security" not in response.headers


def test_cookie_is_not_secure_on_plain_http(client: FlaskClient) -> None:
    response = _new_session(client, headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" not in _session_cookie(response)
    assert "HttpOnly" in _session_cookie(response)
    assert "SameSite=Lax" in _session_cookie(response)


@pytest.mark.parametrize(("setting", "secure", "hsts"), [
    ({"SESSION_COOKIE_SECURE": True}, True, False),
    ({"SESSION_COOKIE_SECURE": "true"}, True, False),
    ({"SESSION_COOKIE_SECURE": "false", "PUBLIC_URL": "https://arena.example"}, False, True),
    ({"PUBLIC_URL": "https://arena.example"}, True, True),
    ({"PUBLIC_URL": "https://arena.example", "HSTS_MAX_AGE": 0}, True, False),
])
def test_session_cookie_secure_is_configurable(app_config: dict[str, Any],
                                               setting: dict[str, Any], secure: bool,
                                               hsts: bool) -> None:
    from arena import create_app

    app_config.update(setting)
    app = create_app(app_config, instance_path=app_config["RELEASES_DIR"] + "-instance")
    from arena.db import engine_for
    try:
        response = _new_session(app.test_client())
    finally:
        engine_for(app).dispose()
    assert ("; Secure" in _session_cookie(response)) is secure
    assert ("Strict-Transport-Security" in response.headers) is hsts


def test_session_cookie_secure_rejects_nonsense(tmp_path: Any) -> None:
    from arena.config import load_config
    from arena.errors import ConfigError

    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE"):
        load_config(str(tmp_path), {"SESSION_COOKIE_SECURE": "sometimes",
                                    "SECRET_KEY": "x" * 32}, environ={})


def test_after_deletion_the_old_cookie_is_revoked(
        client: FlaskClient, make_contender: Any, start_battle: Any, db: Session) -> None:
    make_contender()
    make_contender()
    body, _ = start_battle("Something personal.")
    old_cookie = client.get_cookie("session")
    assert old_cookie is not None
    deleted = client.post("/api/v1/me/deletion", json={"confirm": True})
    assert deleted.status_code == 200

    # Replay the cookie from before the deletion.
    client.set_cookie("session", old_cookie.value)
    read = client.get(f"/api/v1/battles/{body['id']}")
    assert read.status_code == 403
    stream = client.get(body["stream_url"])
    assert stream.status_code == 403, stream.get_data(as_text=True)
    vote = client.post(f"/api/v1/battles/{body['id']}/vote", json={"winner": "tie"})
    assert vote.status_code in (403, 409)

    old_voter = db.scalar(select(Battle.voter_id).where(Battle.public_id == body["id"]))
    created = client.post("/api/v1/battles", json={"prompt": "After deletion."})
    assert created.status_code == 201
    db.rollback()
    new_voter = db.scalar(select(Battle.voter_id)
                          .where(Battle.public_id == created.get_json()["id"]))
    assert new_voter is not None and new_voter != old_voter
    status = client.get("/api/v1/me").get_json()
    assert status["deletion_requested_at"] is None and status["battles"] == 1


def _session_cookies(response: Any) -> list[str]:
    return [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]


def test_an_unchanged_session_cookie_is_not_signed_and_sent_again(client: FlaskClient) -> None:
    first = _new_session(client)
    assert _session_cookies(first)
    voter = client.get("/api/v1/me")
    assert voter.status_code == 200
    # Same pseudonym, no new Set-Cookie: re-signing on every request costs CPU for nothing.
    assert _session_cookies(voter) == []
    again = client.post("/api/v1/me", json={"release_consent": True})
    assert again.status_code == 200 and _session_cookies(again) == []
    assert client.get("/api/v1/me").get_json()["release_consent"] is True


def test_a_day_old_session_cookie_is_refreshed(client: FlaskClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import time as real_time

    import itsdangerous.timed

    class TwoDaysAgo:
        @staticmethod
        def time() -> float:
            return real_time.time() - 2 * 86400

    monkeypatch.setattr(itsdangerous.timed, "time", TwoDaysAgo)
    _new_session(client)
    monkeypatch.undo()
    old = client.get_cookie("session")
    assert old is not None
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    refreshed = _session_cookies(response)
    assert refreshed and "Expires=" in refreshed[0]
    new = client.get_cookie("session")
    assert new is not None and new.value != old.value


class _Later:
    """A clock past the session lifetime (for itsdangerous and the remembered cookies)."""

    seconds = 0.0

    @classmethod
    def time(cls) -> float:
        import time as real_time
        return real_time.time() + cls.seconds


def test_a_remembered_session_cookie_still_expires(
        app: Flask, client: FlaskClient, make_contender: Any, start_battle: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import itsdangerous.timed

    import arena.security.headers
    make_contender()
    make_contender()
    body, _ = start_battle("Mine for a while.")
    # Verified once, then remembered by the process: the next request only checks the age.
    assert client.get(f"/api/v1/battles/{body['id']}").status_code == 200
    assert client.get(f"/api/v1/battles/{body['id']}").status_code == 200
    _Later.seconds = app.permanent_session_lifetime.total_seconds() + 5
    monkeypatch.setattr(itsdangerous.timed, "time", _Later)
    monkeypatch.setattr(arena.security.headers, "time", _Later)
    # Expired: this browser is nobody now, whether its cookie was remembered or not.
    assert client.get(f"/api/v1/battles/{body['id']}").status_code == 403


def test_a_remembered_session_cookie_is_checked_again_under_a_new_secret(
        app: Flask, client: FlaskClient, make_contender: Any, start_battle: Any) -> None:
    make_contender()
    make_contender()
    body, _ = start_battle("Mine until the key changes.")
    assert client.get(f"/api/v1/battles/{body['id']}").status_code == 200
    app.config["SECRET_KEY"] = "another-secret-" + "x" * 32
    assert client.get(f"/api/v1/battles/{body['id']}").status_code == 403


def test_a_revoked_owner_cookie_cannot_stream_or_claim_its_battle(
        client: FlaskClient, make_contender: Any, db: Session) -> None:
    # The stream route reads the owner's revocation with the battle (one query), not through
    # voter_id: the first request after the deletion may be the stream itself.
    make_contender()
    make_contender()
    body = client.post("/api/v1/battles", json={"prompt": "Something personal."}).get_json()
    old_cookie = client.get_cookie("session")
    assert old_cookie is not None
    assert client.post("/api/v1/me/deletion", json={"confirm": True}).status_code == 200

    client.set_cookie("session", old_cookie.value)
    stream = client.get(body["stream_url"])
    assert stream.status_code == 403, stream.get_data(as_text=True)
    assert stream.get_json()["error"]["code"] == "not_your_battle"
    db.rollback()
    state = db.scalar(select(Battle.state).where(Battle.public_id == body["id"]))
    assert state == "pending"  # not claimed: nothing was generated for a revoked cookie
