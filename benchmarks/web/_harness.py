"""Shared pieces of the web benchmarks: a demo endpoint and gunicorn in subprocesses, a
fresh PostgreSQL database, full rounds over raw HTTP, and process statistics from /proc.

Everything listens on 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(port: int, path: str = "/", deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(port, "GET", path, timeout=2)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def request(port: int, method: str, path: str, body: Any = None, cookie: str | None = None,
            timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def create_battle(port: int, prompt: str = "Plan a week of dinners.",
                  cookie: str | None = None) -> tuple[str, str, str]:
    """POST a battle: ``(public id, stream url, cookie)``."""
    status, headers, body = request(port, "POST", "/api/v1/battles", {"prompt": prompt},
                                    cookie=cookie)
    if status != 201:
        raise RuntimeError(f"create answered {status}: {body[:200]!r}")
    data = json.loads(body)
    cookie = cookie or headers["Set-Cookie"].split(";", 1)[0]
    return data["id"], data["stream_url"], cookie


def read_stream(port: int, url: str, cookie: str, timeout: float = 120.0) -> str:
    return request(port, "GET", url, cookie=cookie, timeout=timeout)[2].decode()


def sse_events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in raw.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if data is not None:
            events.append((name, data))
    return events


# --- processes -----------------------------------------------------------------------------

@contextmanager
def demo_server(delay: float, hang_s: float = 600.0) -> Iterator[tuple[str, int]]:
    """The demo endpoint in its own process (so its threads don't share our GIL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "arena.demo_endpoint", "--port", str(port), "--faults",
         "--delay", str(delay), "--hang-s", str(hang_s), "--quiet"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        wait_up(port, "/health")
        yield f"http://127.0.0.1:{port}/v1", port
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def hang_server(headers: bool = False) -> Iterator[tuple[str, int, int]]:
    """A hung endpoint (``_hang.py``, one thread): ``(base url, port, pid)``.

    It never answers a request, or with ``headers`` sends the head of a stream and nothing
    after it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_hang.py")),
                             "--port", str(port), *(["--headers"] if headers else [])],
                            start_new_session=True)
    try:
        wait_up(port, "/health")
        yield f"http://127.0.0.1:{port}/v1", port, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``admin_url``; its URL."""
    parts = urlsplit(admin_url)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
            "-U", parts.username or "postgres"]
    subprocess.run(["psql", *args, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" '
                    "WITH (FORCE)"], check=True, capture_output=True)
    subprocess.run(["psql", *args, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True,
                   capture_output=True)
    return parts._replace(path=f"/{name}").geturl()


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "ARENA_DATABASE_URL": database_url,
            "ARENA_RATELIMIT_ENABLED": "false", "ARENA_SECRET_KEY": "bench-secret-0123456789",
            "PYTHONPATH": str(REPO), **extra}


def flask(env: dict[str, str], *args: str, cwd: Path = REPO) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=cwd, env=env,
                          check=True, capture_output=True, text=True)
    return done.stdout


def sync_contenders(env: dict[str, str], demo_url: str, active: dict[str, str],
                    retired: dict[str, str], workdir: Path, cwd: Path = REPO,
                    urls: dict[str, str] | None = None) -> None:
    """Make ``active`` the active contenders (name -> model at ``demo_url``, or at
    ``urls[name]``) and retire ``retired``."""
    urls = urls or {}
    lines = ["contenders:"]
    for name, model in active.items():
        lines.append(f'  - {{name: {name}, base_url: "{urls.get(name, demo_url)}", '
                     f"model: {model}, timeouts: {{read: 600, total: 900}}}}")
    for name, model in retired.items():
        lines.append(f'  - {{name: {name}, base_url: "{urls.get(name, demo_url)}", '
                     f"model: {model}, active: false}}")
    path = workdir / "contenders.yaml"
    path.write_text("\n".join(lines) + "\n")
    flask(env, "contenders", "sync", str(path), cwd=cwd)


@contextmanager
def gunicorn(env: dict[str, str], port: int, *extra: str, cwd: Path = REPO,
             app: str = "wsgi:app", cpus: str | None = None,
             ) -> Iterator[subprocess.Popen[bytes]]:
    """The shipped configuration on ``port``; ``cpus`` pins it (``taskset -c cpus``)."""
    pin = ["taskset", "-c", cpus] if cpus else []
    proc = subprocess.Popen(
        [*pin, str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--backlog", "4096", *extra, app],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        wait_up(port)
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=40)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def postgres_pids(admin_url: str) -> list[int]:
    """The postmaster of the server at ``admin_url`` and all its processes."""
    parts = urlsplit(admin_url)
    data_dir = subprocess.run(
        ["psql", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
         "-U", parts.username or "postgres", "-Atc", "SHOW data_directory"],
        check=True, capture_output=True, text=True).stdout.strip()
    postmaster = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children(postmaster)]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


def established(port: int) -> int:
    """Open TCP connections whose local port is ``port`` (the demo endpoint's side)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def listener_pid(port: int) -> int:
    """The process listening on 127.0.0.1:``port``."""
    out = subprocess.run(["ss", "-Htlnp", f"( sport = :{port} )"], capture_output=True,
                         text=True).stdout
    match = re.search(r"pid=(\d+)", out)
    if not match:
        raise RuntimeError(f"no process listens on port {port}")
    return int(match.group(1))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
