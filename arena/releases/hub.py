"""Publishing releases to a Hugging Face Hub dataset repo with ``huggingface_hub``.

One release is one commit: every file of the release under ``releases/<name>/`` plus the
refreshed top-level ``README.md`` (one ``datasets`` config per release). A release already
recorded as pushed is skipped; so is one whose ``manifest.json`` is already on the Hub with the
same content (its git blob id is compared), so a re-run after a lost response adds no commit.
The token comes from ``HF_TOKEN``; the endpoint from ``HF_ENDPOINT`` when set (read here, at
call time). Any failure leaves the local release and its row untouched.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huggingface_hub.errors import HfHubHTTPError

from arena.errors import ArenaError
from arena.models import DataRelease
from arena.releases.card import hub_card

if TYPE_CHECKING:
    from huggingface_hub import HfApi

log = logging.getLogger(__name__)


class PushError(ArenaError):
    status = 502
    code = "push_failed"


def git_blob_id(data: bytes) -> str:
    """The id git (and the Hub) gives a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def hub_api(token: str | None = None, endpoint: str | None = None) -> HfApi:
    """An authenticated client; a missing token is a clear error, not an anonymous attempt."""
    token = token or os.environ.get("HF_TOKEN")
    if not token:
        raise PushError("No Hugging Face token: set HF_TOKEN to a token with write access to "
                        "the dataset repo. The local release is intact; push it later with "
                        "`flask releases push`.", code="no_token")
    from huggingface_hub import HfApi  # here: ~0.3 s the app's start-up need not pay

    return HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None, token=token)


def _on_hub(api: HfApi, repo_id: str, name: str, manifest: bytes) -> bool:
    try:
        entries = list(api.list_repo_tree(repo_id, path_in_repo=f"releases/{name}",
                                          repo_type="dataset"))
    except HfHubHTTPError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            return False
        raise
    from huggingface_hub.hf_api import RepoFile

    want = git_blob_id(manifest)
    return any(isinstance(e, RepoFile) and e.path == f"releases/{name}/manifest.json"
               and e.blob_id == want for e in entries)


def push_release(api: HfApi, repo_id: str, release: DataRelease, folder: Path,
                 all_releases: Sequence[DataRelease], public_url: str | None,
                 now: datetime) -> bool:
    """Upload one release in one commit; record it on ``release``. False if already there."""
    if release.pushed_at is not None and release.hub_repo == repo_id:
        return False
    names = [f["name"] for f in release.files]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise PushError(f"Release {release.name} is missing files in {folder}: "
                        f"{', '.join(missing)}.", code="release_incomplete")
    try:
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        manifest = (folder / "manifest.json").read_bytes()
        if _on_hub(api, repo_id, release.name, manifest):
            log.info("release %s is already on %s; recording it as pushed", release.name, repo_id)
            release.hub_repo, release.pushed_at = repo_id, now
            return False
        listed = [_card_entry(r) for r in all_releases if r.pushed_at is not None
                  and r.hub_repo == repo_id and r.name != release.name]
        card = hub_card(repo_id, [*listed, _card_entry(release)], public_url)
        from huggingface_hub import CommitOperationAdd

        operations = [CommitOperationAdd(path_in_repo=f"releases/{release.name}/{n}",
                                         path_or_fileobj=str(folder / n)) for n in names]
        operations.append(CommitOperationAdd(path_in_repo="README.md",
                                             path_or_fileobj=card.encode()))
        info = api.create_commit(
            repo_id, operations=operations, repo_type="dataset",
            commit_message=f"Data release {release.name}",
            commit_description=(f"{release.n_battles} battles voted from "
                                f"{release.window_start.isoformat()} to "
                                f"{release.window_end.isoformat()}; manifest SHA-256 "
                                f"{release.manifest_sha256}."))
    except Exception as exc:  # any network, HTTP or file failure: report, keep local state
        raise PushError(f"Could not push release {release.name} to {repo_id}: {exc}. The local "
                        f"release in {folder} is intact; re-run `flask releases push`.") from exc
    release.hub_repo, release.hub_revision, release.pushed_at = repo_id, info.oid, now
    return True


def _card_entry(release: DataRelease) -> dict[str, Any]:
    # Media arenas released with it: the folders of their row files (media/<arena>/...).
    arenas = sorted({parts[1] for f in release.files
                     if len(parts := f["name"].split("/")) == 3 and parts[0] == "media"
                     and parts[2] == "battles.jsonl"})
    return {"name": release.name, "n_battles": release.n_battles,
            "window_start": release.window_start.date().isoformat(),
            "window_end": release.window_end.date().isoformat(), "arenas": arenas}
