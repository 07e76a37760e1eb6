"""`make run` with a busy port stops at once with a clear line (issue 9), never a traceback.

The ports are held by real listening sockets on loopback; `make` and the demo endpoint run as
real subprocesses, the way a person starts the site.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something already listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_run(**ports: int) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    assert make, "make is needed to test the README's `make run`"
    venv = Path(sys.prefix)
    # -o: the shared test environment is already installed; do not reinstall it.
    return subprocess.run(
        [make, "--no-print-directory", "-o", f"{venv}/.deps", "run", f"VENV={venv}",
         f"PY={sys.executable}", "HOST=127.0.0.1", *(f"{k}={v}" for k, v in ports.items())],
        cwd=REPO, capture_output=True, text=True, timeout=60)


def test_make_run_with_the_demo_port_busy_fails_fast_with_a_clear_message(
        busy_port: int) -> None:
    site = free_port()
    result = make_run(DEMO_PORT=busy_port, PORT=site)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in output
    assert "DEMO_PORT=<free port>" in output
    assert "Traceback" not in output
    assert "Arena on http" not in output  # the banner of a site that would not work
    with socket.create_connection(("127.0.0.1", busy_port), timeout=1):
        pass  # the holder still owns it: nothing was started in its place


def test_make_run_with_the_site_port_busy_fails_fast_with_a_clear_message(
        busy_port: int) -> None:
    result = make_run(DEMO_PORT=free_port(), PORT=busy_port)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in output
    assert "PORT=<free port>" in output and "Traceback" not in output


def test_demo_endpoint_on_a_busy_port_exits_with_a_message_not_a_traceback(
        busy_port: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "arena.demo_endpoint", "--host", "127.0.0.1",
         "--port", str(busy_port)], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "already in use" in result.stderr and "Traceback" not in result.stderr
