"""Behind trusted proxies each real client has its own rate-limit bucket and IP hash."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Battle
from arena.privacy import ip_hash
from tests.conftest import SECRET

PROXY = "127.0.0.1"


@pytest.fixture
def behind_one_proxy(app_config: dict[str, Any]) -> None:
    # Requested before `client`, so the app is built with these settings.
    app_config.update(PROXY_HOPS=1, TRUSTED_PROXIES="127.0.0.1,::1",
                      RATELIMIT_ENABLED=True, RATELIMIT_BATTLES="2 per minute")


@pytest.fixture
def two_contenders(make_contender: Any) -> None:
    make_contender()
    make_contender()


def _create(client: FlaskClient, forwarded_for: str | None, peer: str = PROXY) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/v1/battles", json={"prompt": "Hello there"}, headers=headers,
                       environ_base={"REMOTE_ADDR": peer}).status_code


def _stored_hashes(db: Session) -> list[str | None]:
    db.rollback()
    return list(db.scalars(select(Battle.ip_hash).order_by(Battle.id)))


def test_clients_behind_the_proxy_have_their_own_budget_and_hash(
        behind_one_proxy: None, client: FlaskClient, two_contenders: None,
        db: Session) -> None:
    assert [_create(client, "198.51.100.1") for _ in range(3)] == [201, 201, 429]
    # Another client behind the same proxy is not limited by the first one.
    assert [_create(client, "198.51.100.2") for _ in range(2)] == [201, 201]
    key = SECRET
    assert _stored_hashes(db) == [ip_hash("198.51.100.1", key)] * 2 + [
        ip_hash("198.51.100.2", key)] * 2


def test_a_forged_header_to_the_left_of_the_proxy_entry_is_ignored(
        behind_one_proxy: None, client: FlaskClient, two_contenders: None,
        db: Session) -> None:
    # The client sends "X-Forwarded-For: <forged>"; the proxy appends the real address.
    statuses = [_create(client, f"203.0.113.{i}, 198.51.100.9") for i in range(3)]
    assert statuses == [201, 201, 429]
    assert set(_stored_hashes(db)) == {ip_hash("198.51.100.9", SECRET)}


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
        behind_one_proxy: None, client: FlaskClient, two_contenders: None,
        db: Session) -> None:
    peer = "192.0.2.50"
    statuses = [_create(client, f"203.0.113.{i}", peer=peer) for i in range(3)]
    assert statuses == [201, 201, 429]
    assert set(_stored_hashes(db)) == {ip_hash(peer, SECRET)}


def test_without_proxy_hops_forwarded_headers_are_ignored(
        app_config: dict[str, Any], client: FlaskClient, two_contenders: None,
        db: Session) -> None:
    assert _create(client, "198.51.100.1") == 201
    assert _stored_hashes(db) == [ip_hash(PROXY, SECRET)]


def test_trusted_proxies_accept_networks_and_refuse_garbage(tmp_path: Any) -> None:
    from arena.config import load_config
    from arena.errors import ConfigError

    config = load_config(str(tmp_path), {"TRUSTED_PROXIES": "10.0.0.0/8, ::1",
                                         "SECRET_KEY": SECRET}, environ={})
    assert config["TRUSTED_PROXIES"] == "10.0.0.0/8, ::1"
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config(str(tmp_path), {"TRUSTED_PROXIES": "not-an-address",
                                    "SECRET_KEY": SECRET}, environ={})
    assert load_config(str(tmp_path), {"SECRET_KEY": SECRET},
                       environ={"ARENA_PROXY_HOPS": "2"})["PROXY_HOPS"] == 2
