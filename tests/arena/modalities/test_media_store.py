"""The content-addressed media store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from arena.media import LocalMediaStore, MediaNotFound


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path / "media")
    sha = store.put(b"pixels")
    assert sha == hashlib.sha256(b"pixels").hexdigest()
    assert (tmp_path / "media" / sha[:2] / sha[2:]).read_bytes() == b"pixels"
    assert store.put(b"pixels") == sha and store.exists(sha) and store.get(sha) == b"pixels"
    assert [p.name for p in (tmp_path / "media" / sha[:2]).iterdir()] == [sha[2:]]


@pytest.mark.parametrize("key", ["0" * 63, "../" + "0" * 61, "A" * 64, ""])
def test_bad_or_missing_keys_are_not_found(tmp_path: Path, key: str) -> None:
    store = LocalMediaStore(tmp_path)
    with pytest.raises(MediaNotFound):
        store.get(key)
    with pytest.raises(MediaNotFound):
        store.get("f" * 64)
