"""Content-addressed storage of sanitised media answers.

Files are named by the SHA-256 of their bytes, so one image shown in many battles is stored
once and a release can cite the hash. :class:`MediaStore` is the interface the battle core
uses; :class:`LocalMediaStore` (the default, under the instance folder) lays files out as
``<root>/ab/cdef…`` — an S3-compatible store implements the same three methods with the
hash as the object key. Media is never served from the store directly: only through the
battle (``/api/v1/battles/<id>/media/<side>/<n>``, :func:`arena.api.media`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from arena.errors import NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class MediaNotFound(NotFound):
    code = "media_not_found"
    message = "No such media."


class MediaStore(Protocol):
    """Write-once blobs keyed by the SHA-256 of their content."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its lowercase hex SHA-256."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; raises :class:`MediaNotFound`."""
        ...

    def exists(self, sha256: str) -> bool:
        ...


class LocalMediaStore:
    """A :class:`MediaStore` in a local directory (``<root>/ab/cdef…``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            # Also keeps a crafted key from walking out of the root.
            raise MediaNotFound()
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, and two writers of the same
        # content both end with the same complete file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise MediaNotFound() from None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def media_store(app: Flask | None = None) -> MediaStore:
    """The configured store of ``app`` (default: the current app)."""
    app = app or current_app
    return LocalMediaStore(app.config["MEDIA_DIR"])


__all__ = ["LocalMediaStore", "MediaNotFound", "MediaStore", "media_store"]
