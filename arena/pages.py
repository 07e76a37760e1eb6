"""HTML pages of the arena itself (the leaderboard and data pages live in their packages)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from arena.voting import MAX_FEEDBACK_CHARS

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    # Lets base.html link only to pages that are registered in this app.
    return {"url_map_endpoints": set(current_app.view_functions)}


@bp.get("/")
def index() -> str:
    return render_template("arena.html", active="arena",
                           max_prompt_chars=current_app.config["MAX_PROMPT_CHARS"],
                           max_turns=current_app.config["MAX_TURNS"],
                           max_feedback_chars=MAX_FEEDBACK_CHARS)


@bp.get("/privacy")
def privacy() -> str:
    return render_template("privacy.html", active="privacy")
