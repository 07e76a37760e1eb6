"""Leaderboard page, JSON endpoints and the `leaderboard` CLI group."""

from __future__ import annotations

from typing import Any

from flask import Flask

OPENAPI_PATHS: dict[str, Any] = {}


def init_app(app: Flask) -> None:
    """Register the leaderboard blueprints and CLI commands."""
