"""HTML pages of the arena itself (the leaderboard and data pages live in their packages)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, render_template, url_for
from sqlalchemy import select

from arena import db as arena_db
from arena.battles.share import is_shared, shared_view
from arena.models import Battle, Voter
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


def leaderboard_url() -> str:
    """Where a revealed model links to: its contender page if the app has one, else its row.

    ``{name}`` / ``{slug}`` are filled in by the caller (the page script or the template).
    """
    if "leaderboard.contender" in current_app.view_functions:
        return url_for("leaderboard.contender", name="NAME").replace("NAME", "{name}")
    if "leaderboard.page" in current_app.view_functions:
        return url_for("leaderboard.page") + "#{slug}"
    return ""


def contender_link(name: str) -> str:
    template = leaderboard_url()
    slug = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
    return template.replace("{name}", quote(name, safe="")).replace("{slug}", slug)


def _arena_page(battle_id: str | None = None) -> str:
    return render_template("arena.html", active="arena", leaderboard_url=leaderboard_url(),
                           max_prompt_chars=current_app.config["MAX_PROMPT_CHARS"],
                           max_turns=current_app.config["MAX_TURNS"],
                           max_feedback_chars=MAX_FEEDBACK_CHARS,
                           release_consent=_stored_consent(), battle_id=battle_id,
                           media_arenas=_media_arenas())


def _media_arenas() -> list[Any]:
    """Media arenas that have active contenders, for links from the text arena."""
    from arena import modalities
    from arena.battles.sampling import offered_arenas

    return [modalities.get(n) for n in offered_arenas(arena_db.session()) if n != "text"]


@bp.get("/")
def index() -> str:
    return _arena_page()


@bp.get("/b/<public_id>")
def battle(public_id: str) -> str:
    """A battle's own URL: its owner resumes an unvoted round here; after the vote it shows
    the revealed conversation (to others only with the voter's consent, see
    :mod:`arena.battles.share`). Anyone else gets the same 404 as for an unknown id."""
    db = arena_db.session()
    found = db.scalar(select(Battle).where(Battle.public_id == public_id))
    if found is None:
        abort(404)
    owner = voter_id(create=False) == found.voter_id
    if found.state != "voted":
        if not owner:
            abort(404)
        return _arena_page(found.public_id)
    shared = is_shared(db, found)
    if not (owner or shared):
        abort(404)
    return render_template("battle.html", active="arena", battle=shared_view(db, found),
                           owner=owner, shared=shared, contender_link=contender_link)


@bp.get("/privacy")
def privacy() -> str:
    return render_template("privacy.html", active="privacy")


@bp.get("/arena/<name>")
def arena(name: str) -> Any:
    """One arena's page: ``/arena/image``, ``/arena/speech`` … (``/arena/text`` is ``/``)."""
    from flask import redirect

    from arena import modalities
    from arena.battles.sampling import offered_arenas

    if name == "text":
        return redirect(url_for("pages.index"))
    offered = offered_arenas(arena_db.session())
    if name not in offered:
        abort(404)
    modality = modalities.get(name)
    gate = current_app.config["MEDIA_VIEW_GATE_S" if modality.kind == "image"
                              else "MEDIA_LISTEN_GATE_S"]
    return render_template("media_arena.html", active="arena", modality=modality,
                           gate_s=gate if modality.gate_s is None else modality.gate_s,
                           max_prompt_chars=current_app.config["MAX_PROMPT_CHARS"],
                           arenas=[modalities.get(n) for n in offered])
