"""After the vote: per-side facts, and who may see a battle's revealed conversation.

A battle's URL (``/b/<public_id>``) is a capability token. Its owner may always open it; once
voted it shows the revealed conversation, and anyone else with the link may see that too only
when the voter consented to publishing the texts for this battle (``battle.release_consent``,
given when it was created) and still does (no withdrawal, opt-out or deletion since). Nothing
here runs before the vote: identities and facts stay hidden until then.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from arena.battles.lifecycle import conversation, reveal
from arena.models import Battle, Voter
from arena.render import render_markdown


def side_facts(db: Session, battle: Battle) -> dict[str, dict[str, int | None]]:
    """Per side: tokens and total time summed over the turns, time to first token of turn 1."""
    turns, answers = conversation(db, battle.id)
    facts: dict[str, dict[str, int | None]] = {}
    for side in ("a", "b"):
        mine = [answers[(t.id, side)] for t in turns if (t.id, side) in answers]
        tokens = [a.completion_tokens for a in mine if a.completion_tokens is not None]
        totals = [a.latency_ms for a in mine if a.latency_ms is not None]
        facts[side] = {
            "tokens": sum(tokens) if tokens else None,
            "first_token_ms": mine[0].first_token_ms if mine else None,
            "latency_ms": sum(totals) if totals else None,
        }
    return facts


def is_shared(db: Session, battle: Battle) -> bool:
    """Whether people other than the voter may see this battle's revealed conversation."""
    if battle.state != "voted" or not battle.release_consent or battle.voter_id is None:
        return False
    voter = db.get(Voter, battle.voter_id)
    return bool(voter is not None and voter.release_consent and voter.opted_out_at is None
                and voter.deletion_requested_at is None)


def shared_view(db: Session, battle: Battle) -> dict[str, Any]:
    """What the battle page shows after the vote: turns rendered, identities, facts, winner."""
    turns, answers = conversation(db, battle.id)

    def html(turn_id: int, side: str) -> str | None:
        answer = answers.get((turn_id, side))
        return None if answer is None else render_markdown(answer.text)

    return {
        "turns": [{"prompt_html": render_markdown(t.prompt), "a": html(t.id, "a"),
                   "b": html(t.id, "b")} for t in turns],
        "reveal": reveal(battle),
        "facts": side_facts(db, battle),
        "winner": battle.vote.winner if battle.vote is not None else None,
    }
