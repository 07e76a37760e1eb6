"""`--push` through huggingface_hub's real client against a loopback server speaking the Hub API.

The server implements the requests ``HfApi.create_repo``, ``create_commit`` (validate-yaml,
preupload, NDJSON commit) and ``list_repo_tree`` make, keeps the files and commits it received,
and checks the bearer token, so the tests assert on what would land on the Hub.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import DataRelease

TOKEN = "hf_test_token_for_the_loopback_hub"
REPO = "open-arena/votes"


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class FakeHub:
    url: str = ""
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, error_code: str | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if error_code:
                self.send_header("X-Error-Code", error_code)
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"error": "Invalid credentials"})
                return False
            return True

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            path = urlsplit(self.path).path
            with hub.lock:
                hub.requests.append(f"POST {path}")
            if not self._authorised():
                return
            body = self._body()
            if path == "/api/repos/create":
                spec = json.loads(body)
                assert spec["type"] == "dataset"
                repo_id = f"{spec['organization']}/{spec['name']}"
                if repo_id in hub.repos:
                    # The Hub answers a conflict with the existing repo's url.
                    self._send(409, {"error": "You already created this dataset repo",
                                     "url": f"{hub.url}/datasets/{repo_id}"})
                    return
                hub.repos[repo_id] = {}
                self._send(200, {"url": f"{hub.url}/datasets/{repo_id}"})
            elif path == "/api/validate-yaml":
                yaml.safe_load(json.loads(body)["content"].split("---")[1])
                self._send(200, {"errors": [], "warnings": []})
            elif path.startswith("/api/datasets/") and "/preupload/" in path:
                repo_id = path[len("/api/datasets/"):].split("/preupload/")[0]
                files = hub.repos.get(repo_id)
                if files is None:
                    self._send(404, {"error": "Repository not found"}, "RepoNotFound")
                    return
                self._send(200, {"files": [
                    {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                     "oid": _blob_id(files[f["path"]]) if f["path"] in files else None}
                    for f in json.loads(body)["files"]]})
            elif path.startswith("/api/datasets/") and "/commit/" in path:
                repo_id = path[len("/api/datasets/"):].split("/commit/")[0]
                lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                header = next(x["value"] for x in lines if x["key"] == "header")
                added = {x["value"]["path"]: base64.b64decode(x["value"]["content"])
                         for x in lines if x["key"] == "file"}
                with hub.lock:
                    hub.repos[repo_id].update(added)
                    oid = hashlib.sha1(f"{len(hub.commits)}{header}".encode(),
                                       usedforsecurity=False).hexdigest()
                    hub.commits.append({"repo": repo_id, "summary": header["summary"],
                                        "files": sorted(added), "oid": oid})
                self._send(200, {"commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{oid}",
                                 "commitOid": oid, "pullRequestUrl": None})
            else:
                self._send(404, {"error": f"no route {path}"})

        def do_GET(self) -> None:  # noqa: N802
            path = unquote(urlsplit(self.path).path)
            with hub.lock:
                hub.requests.append(f"GET {path}")
            if not self._authorised():
                return
            if path.startswith("/api/datasets/") and "/tree/" in path:
                repo_id, rest = path[len("/api/datasets/"):].split("/tree/")
                _revision, _, folder = rest.partition("/")
                files = hub.repos.get(repo_id)
                if files is None:
                    self._send(404, {"error": "Repository not found"}, "RepoNotFound")
                    return
                entries = [{"type": "file", "path": p, "size": len(d), "oid": _blob_id(d)}
                           for p, d in sorted(files.items()) if p.startswith(folder + "/")]
                if not entries:
                    self._send(404, {"error": "Entry not found"}, "EntryNotFound")
                    return
                self._send(200, entries)
            else:
                self._send(404, {"error": f"no route {path}"})

    return Handler


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    yield hub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["RELEASE_HUB_REPO"] = REPO
    return app_config


def _releases(db: Session) -> list[DataRelease]:
    db.expire_all()
    return list(db.scalars(select(DataRelease).order_by(DataRelease.window_start)))


def test_push_uploads_each_release_in_one_commit_with_all_its_files(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, fake_hub: FakeHub,
        releases_dir: Path) -> None:
    seed_votes(limit=200)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-03-20T00:00:00Z", "--push"])
    assert result.exit_code == 0, result.output
    first, second = _releases(db)
    assert [c["summary"] for c in fake_hub.commits] == [f"Data release {first.name}",
                                                        f"Data release {second.name}"]
    files = fake_hub.repos[REPO]
    for release, commit in zip((first, second), fake_hub.commits, strict=True):
        expected = {f"releases/{release.name}/{f['name']}" for f in release.files}
        assert set(commit["files"]) == expected | {"README.md"}
        for f in release.files:
            data = files[f"releases/{release.name}/{f['name']}"]
            assert hashlib.sha256(data).hexdigest() == f["sha256"]
        assert release.hub_repo == REPO and release.pushed_at is not None
        assert release.hub_revision == commit["oid"]
    card = files["README.md"].decode()
    configs = yaml.safe_load(card.split("---")[1])["configs"]
    assert [c["config_name"] for c in configs] == [first.name, second.name]
    assert configs[1]["data_files"][0]["path"] == f"releases/{second.name}/battles.parquet"


def test_rerunning_push_adds_no_commit(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, fake_hub: FakeHub) -> None:
    seed_votes(limit=200)
    assert runner.invoke(args=["releases", "cut", "--now", "2026-02-16T00:00:00Z",
                               "--push"]).exit_code == 0
    assert len(fake_hub.commits) == 1
    again = runner.invoke(args=["releases", "cut", "--now", "2026-02-16T00:00:00Z", "--push"])
    assert again.exit_code == 0, again.output
    assert "nothing to push" in again.output
    assert len(fake_hub.commits) == 1


def test_a_release_already_on_the_hub_is_recorded_not_committed_again(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, fake_hub: FakeHub) -> None:
    seed_votes(limit=200)
    assert runner.invoke(args=["releases", "cut", "--now", "2026-02-16T00:00:00Z",
                               "--push"]).exit_code == 0
    # The commit landed but its response was lost: the row says "not pushed".
    [release] = _releases(db)
    release.pushed_at = None
    release.hub_revision = None
    db.commit()
    result = runner.invoke(args=["releases", "push"])
    assert result.exit_code == 0, result.output
    assert "already on" in result.output
    assert len(fake_hub.commits) == 1
    assert _releases(db)[0].pushed_at is not None


def test_push_without_a_token_fails_clearly_and_keeps_the_local_release(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, fake_hub: FakeHub,
        releases_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    seed_votes(limit=200)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-02-16T00:00:00Z", "--push"])
    assert result.exit_code != 0
    assert "No Hugging Face token: set HF_TOKEN" in result.output
    [release] = _releases(db)
    assert release.pushed_at is None
    assert (releases_dir / release.name / "manifest.json").is_file()
    assert fake_hub.requests == []


def test_push_to_an_unreachable_hub_fails_clearly_and_keeps_the_local_release(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, fake_hub: FakeHub,
        releases_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    seed_votes(limit=200)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-02-16T00:00:00Z", "--push"])
    assert result.exit_code != 0
    assert "Could not push release 2026-01-03_2026-02-02" in result.output
    assert "local release" in result.output and "intact" in result.output
    [release] = _releases(db)
    assert release.pushed_at is None and release.hub_revision is None
    assert (releases_dir / release.name / "battles.parquet").is_file()

    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    retry = runner.invoke(args=["releases", "push"])
    assert retry.exit_code == 0, retry.output
    assert len(fake_hub.commits) == 1


def test_a_rejected_token_is_reported_and_nothing_is_recorded(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, fake_hub: FakeHub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    seed_votes(limit=200)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-02-16T00:00:00Z", "--push"])
    assert result.exit_code != 0
    assert "Could not push release" in result.output
    assert _releases(db)[0].pushed_at is None
    assert fake_hub.commits == []


def test_no_transaction_is_open_while_a_release_uploads(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, fake_hub: FakeHub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from arena import db as arena_db
    from arena.releases import cli

    open_during_upload = []

    def push(*args: Any) -> bool:
        open_during_upload.append(arena_db.session().in_transaction())
        return real_push(*args)

    real_push = cli.push_release
    monkeypatch.setattr(cli, "push_release", push)
    seed_votes(limit=200)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-03-20T00:00:00Z", "--push"])
    assert result.exit_code == 0, result.output
    assert open_during_upload == [False, False]
    assert all(r.pushed_at is not None for r in _releases(db))


def test_a_release_with_media_uploads_its_files_and_the_hub_card_lists_the_arena(
        runner: FlaskCliRunner, db: Session, seed_votes: Any, add_image_battles: Any,
        fake_hub: FakeHub) -> None:
    seeded = seed_votes(limit=60, days=10)
    add_image_battles(seeded.start, 5)
    result = runner.invoke(args=["releases", "cut", "--now", "2026-06-01T00:00:00Z", "--push"])
    assert result.exit_code == 0, result.output
    files = fake_hub.repos[REPO]
    with_media = [r for r in _releases(db) if any(f["name"].startswith("media/")
                                                  for f in r.files)]
    assert len(with_media) == 1
    name = with_media[0].name
    pngs = [p for p in files if p.startswith(f"releases/{name}/media/image/files/")]
    assert len(pngs) == 2 and all(p.endswith(".png") for p in pngs)
    card = files["README.md"].decode()
    configs = {c["config_name"]: c for c in yaml.safe_load(card.split("---")[1])["configs"]}
    assert configs[f"{name}-image"]["data_files"][0]["path"] == \
        f"releases/{name}/media/image/battles.jsonl"
    assert f"releases/{name}/media/image/battles.jsonl" in files
    row = next(line for line in card.splitlines() if line.startswith(f"| [{name}]"))
    assert row.endswith("| image |")
