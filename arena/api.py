"""JSON API under /api/v1 for battles and votes (the arena page uses it; others may too)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
