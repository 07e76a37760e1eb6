"""``flask integrity``: flagged voters with their evidence, and the operator's decisions."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from arena import db
from arena.integrity.models import VoterDecision, VoterFlag
from arena.integrity.screen import decisions_in_force
from arena.models import Contender, Publication, utcnow

cli = AppGroup("integrity", help="Flagged voters and operator decisions on them.")


@cli.command("flagged")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def flagged_command(as_json: bool) -> None:
    """Voters flagged by the latest publication, with evidence and the decision in force."""
    session = db.session()
    pub_id = session.scalar(select(Publication.id).order_by(Publication.id.desc()).limit(1))
    if pub_id is None:
        click.echo("no publication yet")
        return
    flags = session.scalars(select(VoterFlag).where(VoterFlag.publication_id == pub_id)
                            .order_by(VoterFlag.p_value, VoterFlag.voter_id)).all()
    decisions = decisions_in_force(session)
    names = {cid: name for cid, name in session.execute(select(Contender.id, Contender.name))}
    if not as_json:
        click.echo(f"publication {pub_id}: {len(flags)} flagged voters")
    for flag in flags:
        decision = decisions.get(flag.voter_id, "pending")
        if as_json:
            click.echo(json.dumps({"voter": flag.voter_id, "statistic": flag.statistic,
                                   "p_value": flag.p_value, "decision": decision,
                                   "evidence": flag.evidence}))
            continue
        ev = flag.evidence
        click.echo(f"{flag.voter_id}  {flag.statistic}  p={flag.p_value:.3g}  "
                   f"votes={ev.get('votes', '?')}  decision={decision}")
        ll = ev.get("loglik")
        if ll:
            click.echo(f"    log-likelihood {ll['observed']} (expected {ll['expected']}, "
                       f"z={ll['z']}, p={ll['p']:.3g})")
        sel = ev.get("selective")
        if sel:
            name = names.get(sel["contender_id"], f"#{sel['contender_id']}")
            click.echo(f"    selective voting: {name} in {sel['battles']} of {sel['votes']} "
                       f"voted battles (expected {sel['expected']}, z={sel['z']}, "
                       f"p={sel['p']:.3g})")
        two = ev.get("two_stage")
        if two:
            click.echo(f"    two-stage: score {two['score']} over {two['battles']} battles with "
                       f"unevenly voted contenders (expected {two['expected']}, z={two['z']}, "
                       f"p={two['p']:.3g})")
            for row in two["contenders"]:
                name = names.get(row["contender_id"], f"#{row['contender_id']}")
                click.echo(f"      {name} ({row['direction']}): residual {row['residual']} "
                           f"over {row['battles']} battles (contender z={row['contender_z']})")
        for fav in ev.get("favouritism", []):
            name = names.get(fav["contender_id"], f"#{fav['contender_id']}")
            click.echo(f"    {name}: score {fav['score']} of {fav['battles']} battles "
                       f"(expected {fav['expected']}, z={fav['z']}, p={fav['p']:.3g})")


def _decide(voter: str, decision: str, reason: str) -> None:
    if not reason.strip():
        raise click.UsageError("--reason must not be empty")
    session = db.session()
    session.add(VoterDecision(voter_id=voter, decision=decision, reason=reason.strip(),
                              created_at=utcnow()))
    session.commit()
    click.echo(f"{voter}: {decision} ({reason.strip()}); the next publish honours it")


@cli.command("clear")
@click.argument("voter")
@click.option("--reason", required=True, help="Why (kept with the decision).")
def clear_command(voter: str, reason: str) -> None:
    """Count VOTER's votes on the default board again, whatever the test says."""
    _decide(voter, "clear", reason)


@cli.command("confirm")
@click.argument("voter")
@click.option("--reason", required=True, help="Why (kept with the decision).")
def confirm_command(voter: str, reason: str) -> None:
    """Leave VOTER's votes out of the default board from the next publish on."""
    _decide(voter, "confirm", reason)


def init_app(app: Flask) -> None:
    app.cli.add_command(cli)
