"""The shipped gunicorn configuration, run for real on loopback.

Several worker processes share one rate-limit budget; clients behind a trusted proxy each have
their own; forged forwarding headers from other peers are ignored; and neither the access log
nor the error log contains a client address.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Battle
from arena.privacy import ip_hash
from tests.conftest import SECRET

REPO = Path(__file__).resolve().parents[3]
GUNICORN = Path(sys.executable).with_name("gunicorn")
UNTRUSTED_PEER = "127.0.0.5"  # another loopback address: not in TRUSTED_PROXIES


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """Start gunicorn with gunicorn.conf.py; yield ``(host:port, log file)``, stop it after."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    full_env = {**os.environ, "ARENA_BIND": f"127.0.0.1:{port}", "ARENA_SECRET_KEY": SECRET,
                "PYTHONPATH": str(REPO), **env}
    with log.open("wb") as out:
        proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
                                cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # Ready when a worker answers (importing the app takes a while on a busy host).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.5)
            finally:
                conn.close()
        yield f"127.0.0.1:{port}", log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _post(address: str, path: str, body: dict[str, Any], headers: dict[str, str],
          source: str = "127.0.0.1") -> int:
    host, port = address.split(":")
    # A new connection per request, so the kernel hands them to different workers.
    conn = http.client.HTTPConnection(host, int(port), timeout=60,
                                      source_address=(source, 0))
    try:
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json", "Connection": "close",
                              **headers})
        response = conn.getresponse()
        response.read()
        return int(response.status)
    finally:
        conn.close()


def _raw(address: str, data: bytes, source: str) -> None:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10,
                                  source_address=(source, 0)) as sock:
        sock.sendall(data)
        try:
            sock.recv(4096)
        except OSError:
            pass


@pytest.fixture
def served_db(database_url: str, make_contender: Any) -> str:
    make_contender()
    make_contender()
    return database_url


def test_three_workers_share_one_budget_per_real_client_and_log_no_addresses(
        served_db: str, tmp_path: Path, db: Session) -> None:
    env = {"ARENA_DATABASE_URL": served_db, "ARENA_WORKERS": "3", "ARENA_THREADS": "4",
           "ARENA_RATELIMIT_BATTLES": "30 per minute",
           "ARENA_RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'limits.sqlite3'}",
           "ARENA_PROXY_HOPS": "1", "ARENA_TRUSTED_PROXIES": "127.0.0.1"}
    battle = {"prompt": "Hello from a real client"}
    with gunicorn(tmp_path, env) as (address, log):
        first = [_post(address, "/api/v1/battles", battle,
                       {"X-Forwarded-For": "203.0.113.66, 198.51.100.7"}) for _ in range(40)]
        second = _post(address, "/api/v1/battles", battle, {"X-Forwarded-For": "198.51.100.8"})
        forged = [_post(address, "/api/v1/battles", battle,
                        {"X-Forwarded-For": f"198.51.100.{i}"}, source=UNTRUSTED_PEER)
                  for i in range(100, 103)]
        _raw(address, b"GARBAGE / HTTP/9.9\r\n\r\n", UNTRUSTED_PEER)
        _raw(address, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", UNTRUSTED_PEER)
    text = log.read_text(errors="replace")

    assert first.count(201) == 30 and first.count(429) == 10, first
    assert second == 201
    assert forged == [201, 201, 201]
    db.rollback()
    hashes = list(db.scalars(select(Battle.ip_hash).order_by(Battle.id)))
    assert hashes == ([ip_hash("198.51.100.7", SECRET)] * 30 + [ip_hash("198.51.100.8", SECRET)]
                      + [ip_hash(UNTRUSTED_PEER, SECRET)] * 3)

    # The budget held although several processes answered.
    pids = set(re.findall(r'<(\d+)> "POST /api/v1/battles HTTP/1.1" 201 ', text))
    assert len(pids) >= 2, text[-3000:]
    for address_seen in ("198.51.100.", "203.0.113.", UNTRUSTED_PEER):
        assert address_seen not in text, text[-3000:]
    assert "[address]" in text  # the invalid requests were logged, redacted


def test_memory_storage_with_several_workers_refuses_to_start(
        database_url: str, tmp_path: Path) -> None:
    env = {"ARENA_DATABASE_URL": database_url, "ARENA_WORKERS": "2", "ARENA_THREADS": "2",
           "ARENA_RATELIMIT_STORAGE_URI": "memory://"}
    with gunicorn(tmp_path, env) as (_address, log):
        pass
    text = log.read_text(errors="replace")
    assert "counts per process" in text, text[-3000:]
    assert "Worker failed to boot" in text or "Reason: Worker failed to boot" in text, text[-3000:]


def _control(socket_path: Path, command: str) -> dict[str, Any]:
    done = subprocess.run([str(GUNICORN.with_name("gunicornc")), "-s", str(socket_path), "-j",
                           "-c", command], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout))


def _dir(parent: Path, name: str) -> Path:
    (parent / name).mkdir(exist_ok=True)
    return parent / name


@pytest.fixture
def short_home() -> Iterator[Path]:
    """A home folder with a short path: a Unix socket's path may not exceed 107 bytes, and
    under pytest-xdist ``tmp_path`` (``/tmp/pytest-of-USER/pytest-N/popen-gwN/test_…``) plus
    ``.gunicorn/arena-127.0.0.1-PORT.ctl`` does, so gunicorn would only log that it could not
    open the control socket."""
    home = Path(tempfile.mkdtemp(prefix="arena-home-", dir="/tmp"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _own_home(home: Path, tmp_path: Path) -> dict[str, str]:
    # gunicorn's default control socket lives under $XDG_RUNTIME_DIR or $HOME: point both
    # instances at one private home, as two instances of one user on one host would share.
    return {"HOME": str(home), "XDG_RUNTIME_DIR": "",
            "ARENA_DATABASE_URL": f"sqlite:///{tmp_path / 'control.sqlite3'}",
            "ARENA_WORKERS": "1"}


def _sockets(folder: Path, count: int) -> list[Path]:
    """The control sockets in ``folder``, once ``count`` of them exist (or after 30 s):
    gunicorn's arbiter opens its socket in a thread of its own, which on a loaded host can
    come after the instance already answers."""
    deadline = time.monotonic() + 30
    while len(found := sorted(folder.glob("*.ctl"))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def _answers_for(path: Path) -> list[str]:
    """The listening addresses of the instance behind control socket ``path``."""
    return [item["address"] for item in _control(path, "show listeners")["listeners"]]


def test_two_instances_in_one_folder_each_keep_their_own_control_socket(
        tmp_path: Path, short_home: Path) -> None:
    env = _own_home(short_home, tmp_path)
    folder = Path(env["HOME"]) / ".gunicorn"
    with gunicorn(_dir(tmp_path, "one"), env) as (first, _), \
            gunicorn(_dir(tmp_path, "two"), env) as (second, _):
        sockets = _sockets(folder, 2)
        assert sorted(a for path in sockets for a in _answers_for(path)) == sorted(
            [f"http://{first}", f"http://{second}"])
        # Named after the address, so an operator can find it.
        assert folder / f"arena-{first.replace(':', '-')}.ctl" in sockets
    assert not list(folder.glob("*.ctl"))  # each removed its own on the way out


def test_a_second_instance_stopping_leaves_the_first_ones_control_socket(
        tmp_path: Path, short_home: Path) -> None:
    env = _own_home(short_home, tmp_path)
    folder = Path(env["HOME"]) / ".gunicorn"
    with gunicorn(_dir(tmp_path, "one"), env) as (first, _):
        (path,) = _sockets(folder, 1)
        with gunicorn(_dir(tmp_path, "two"), env):
            pass  # started beside the first and stopped again
        assert _answers_for(path) == [f"http://{first}"]


def test_control_socket_off_creates_none(tmp_path: Path, short_home: Path) -> None:
    env = {**_own_home(short_home, tmp_path), "ARENA_CONTROL_SOCKET": "off"}
    with gunicorn(tmp_path, env):
        assert not list(Path(env["HOME"]).rglob("*.ctl"))
