"""The served OpenAPI document is the truth: schemathesis finds no failure against it.

A real HTTP server on loopback serves the app (battles answered by the demo endpoint);
schemathesis, pinned in requirements-dev.txt, runs every check on every operation with a
bounded number of examples and a fixed seed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def live_api_with_contenders(make_contender: Any, live_api: Any) -> Any:
    make_contender()
    make_contender()
    return live_api


def test_schemathesis_finds_no_failures(live_api_with_contenders: Any,
                                        tmp_path: Path) -> None:
    url = f"{live_api_with_contenders.url}/api/v1/openapi.json"
    done = subprocess.run(
        [str(SCHEMATHESIS), "run", url, "--checks", "all", "--max-examples", "5", "--seed", "1",
         "--no-shrink", "--request-timeout", "30", "--warnings", "off"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
