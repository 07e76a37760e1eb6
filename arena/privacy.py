"""Pseudonymous voters and keyed IP hashes: no raw address or personal data is ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, g, request, session
from sqlalchemy import Connection, bindparam, select

from arena.db import Prebuilt
from arena.models import Voter

#: The session key of the voter pseudonym.
VOTER_KEY = "voter"


# Built once: constructing a statement costs more than running it.
_VOTER_ROW = Prebuilt(select(Voter.deletion_requested_at, Voter.release_consent)
                      .where(Voter.id == bindparam("voter_id")))


def _revoked(vid: str, conn: Connection | None) -> bool:
    """Has this pseudonym asked for deletion? Its cookie then no longer stands for anybody.

    The cookie is signed, not stored, so a copy made before "delete my data" stays valid
    forever; the voter row's ``deletion_requested_at`` is what revokes it (one primary-key
    lookup).
    """
    from arena import db as arena_db

    conn = conn if conn is not None else arena_db.session().connection()
    row = _VOTER_ROW.first(conn, {"voter_id": vid})
    # Kept for the request: creating a battle needs this row's consent (stored_consent).
    g.voter_seen = (vid, None if row is None else bool(row[1]))
    deleted_at = None if row is None else row[0]
    return deleted_at is not None


def voter_id(create: bool = True, conn: Connection | None = None) -> str | None:
    """The browser's voter pseudonym, kept in the signed session cookie.

    A new random id is issued on first use; it links a browser's battles to its votes and to
    its opt-out and deletion requests, and to nothing else. A pseudonym whose owner asked for
    deletion is revoked: the request is treated as coming from a new browser.
    ``conn``: read the voter row there instead of in the request's Session.
    """
    vid = session.get(VOTER_KEY)
    if vid is not None and _revoked(str(vid), conn):
        session.pop(VOTER_KEY, None)
        vid = None
    if vid is None and create:
        vid = secrets.token_hex(16)
        session[VOTER_KEY] = vid
        session.permanent = True
    return vid


def stored_consent(vid: str) -> bool | None:
    """The release consent stored for ``vid`` as :func:`voter_id` read it in this request
    (None: no voter row yet, or not read)."""
    seen = g.get("voter_seen")
    return seen[1] if seen is not None and seen[0] == vid else None


def owner_voter_id(owner_id: str | None, owner_revoked: bool) -> str | None:
    """The browser's pseudonym if it is ``owner_id``'s and not revoked, else None.

    :func:`voter_id` without its query, for a view that read the owner's
    ``deletion_requested_at`` together with the battle (the vote): a cookie of anybody else
    gets None (not the owner either way), and a revoked owner cookie is dropped from the
    session, as :func:`voter_id` does.
    """
    vid = session.get(VOTER_KEY)
    if vid is None or owner_id is None or str(vid) != owner_id:
        return None
    if owner_revoked:
        session.pop(VOTER_KEY, None)
        return None
    return owner_id


def keyed_hash(kind: str, value: str, key: str) -> str:
    """HMAC-SHA256 of ``kind:value`` under ``key`` (hex, 64 chars): stable, not reversible.

    ``kind`` separates uses, so an address and an imported judge id never hash alike.
    """
    return hmac.new(key.encode(), f"{kind}:".encode() + value.encode(),
                    hashlib.sha256).hexdigest()


def ip_hash(address: str | None = None, key: str | None = None) -> str:
    """Keyed hash of the client address under the app secret (hex, 64 chars)."""
    addr = address if address is not None else (request.remote_addr or "unknown")
    secret = key if key is not None else str(current_app.config["SECRET_KEY"])
    return keyed_hash("ip", addr, secret)
