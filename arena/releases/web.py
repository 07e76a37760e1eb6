"""Data page, voter opt-out/deletion and the `releases` CLI group."""

from __future__ import annotations

from typing import Any

from flask import Flask

OPENAPI_PATHS: dict[str, Any] = {}


def init_app(app: Flask) -> None:
    """Register the releases blueprints and CLI commands."""
