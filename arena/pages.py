"""HTML pages of the arena itself (the leaderboard and data pages live in their packages)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from arena import db as arena_db
from arena.models import Voter
from arena.privacy import voter_id
from arena.voting import MAX_FEEDBACK_CHARS

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    # Lets base.html link only to pages that are registered in this app.
    return {"url_map_endpoints": set(current_app.view_functions)}


def _stored_consent() -> bool:
    """The browser's stored "share my prompts" choice (no cookie is issued just to read it)."""
    vid = voter_id(create=False)
    voter = arena_db.session().get(Voter, vid) if vid else None
    return bool(voter and voter.release_consent)


def _arena_page(battle_id: str | None = None) -> str:
    return render_template("arena.html", active="arena",
                           max_prompt_chars=current_app.config["MAX_PROMPT_CHARS"],
                           max_turns=current_app.config["MAX_TURNS"],
                           max_feedback_chars=MAX_FEEDBACK_CHARS,
                           release_consent=_stored_consent(), battle_id=battle_id)


@bp.get("/")
def index() -> str:
    return _arena_page()


@bp.get("/privacy")
def privacy() -> str:
    return render_template("privacy.html", active="privacy")
