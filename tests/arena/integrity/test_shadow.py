"""Shadow exclusion and the operator decision round trip, through the real CLI commands."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ratings
from arena.integrity import fragility as fr
from arena.integrity.models import PublicationFilter, VoterDecision, VoterFlag
from arena.leaderboard.data import FLOOD_K, fit_chosen, view_facts, view_features, view_spec
from arena.leaderboard.facts import load_facts
from arena.models import LeaderboardSnapshot, Publication, Vote


def _latest(db: Session) -> Publication:
    db.expire_all()
    return db.scalars(select(Publication).order_by(Publication.id.desc()).limit(1)).one()


def _filters(db: Session, pub: Publication) -> dict[str, tuple[int, int]]:
    rows = db.scalars(select(PublicationFilter).where(PublicationFilter.publication_id == pub.id))
    return {f.name: (f.votes_removed, f.voters_removed) for f in rows}


def _overall_battles(db: Session, pub: Publication) -> int:
    return db.scalars(select(LeaderboardSnapshot.n_battles).where(
        LeaderboardSnapshot.publication_id == pub.id,
        LeaderboardSnapshot.view == "overall")).one()


def test_flagged_voter_is_left_out_then_cleared_then_confirmed(
        runner: FlaskCliRunner, db: Session, rigged_arena: Callable) -> None:
    arena = rigged_arena()
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code == 0, result.output
    assert f"filter flagged_voters: left out {arena.rigged_votes} votes of 1 voters" in (
        result.output)
    pub = _latest(db)
    # the rigger's votes are kept in the database but not on the default board
    assert db.scalar(select(func.count()).select_from(Vote)) == arena.total_votes
    assert _overall_battles(db, pub) == arena.total_votes - arena.rigged_votes
    assert _filters(db, pub)["flagged_voters"] == (arena.rigged_votes, 1)
    assert pub.settings["filters"]["flagged_voters"] == {"votes": arena.rigged_votes,
                                                        "voters": 1}
    flag = db.scalars(select(VoterFlag).where(VoterFlag.publication_id == pub.id)).one()
    # every one of the rigger's battles has the target in it (a quarter would be expected):
    # the selective-voting test is its strongest evidence, favouritism the next
    assert flag.voter_id == arena.rigger and flag.statistic == "selective"
    assert flag.evidence["selective"]["contender_id"] == arena.target.id
    assert flag.evidence["selective"]["battles"] == arena.rigged_votes
    assert flag.evidence["favouritism"][0]["contender_id"] == arena.target.id
    assert flag.p_value < 1e-6

    listed = runner.invoke(args=["integrity", "flagged"])
    assert listed.exit_code == 0
    assert arena.rigger in listed.output and arena.target.name in listed.output
    assert "decision=pending" in listed.output

    cleared = runner.invoke(args=["integrity", "clear", arena.rigger, "--reason",
                                  "our own smoke test"])
    assert cleared.exit_code == 0, cleared.output
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    pub2 = _latest(db)
    assert pub2.id != pub.id  # a decision changes what the board counts: a new publication
    assert _overall_battles(db, pub2) == arena.total_votes
    assert _filters(db, pub2)["flagged_voters"] == (0, 0)
    rows = [json.loads(line) for line in
            runner.invoke(args=["integrity", "flagged", "--json"]).output.splitlines()]
    assert [(r["voter"], r["decision"]) for r in rows] == [(arena.rigger, "clear")]

    confirmed = runner.invoke(args=["integrity", "confirm", arena.rigger, "--reason",
                                    "same ip hash as a known bot"])
    assert confirmed.exit_code == 0
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    pub3 = _latest(db)
    assert _filters(db, pub3)["confirmed_voters"] == (arena.rigged_votes, 1)
    assert _overall_battles(db, pub3) == arena.total_votes - arena.rigged_votes
    decisions = db.scalars(select(VoterDecision).order_by(VoterDecision.id)).all()
    assert [(d.decision, d.reason) for d in decisions] == [
        ("clear", "our own smoke test"), ("confirm", "same ip hash as a known bot")]


def test_honest_arena_flags_nobody_and_records_zero_removals(
        runner: FlaskCliRunner, db: Session, rigged_arena: Callable) -> None:
    arena = rigged_arena(n_rigged=0)
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    pub = _latest(db)
    assert _filters(db, pub) == {"confirmed_voters": (0, 0), "flagged_voters": (0, 0),
                                 "failed_gate": (0, 0)}
    assert _overall_battles(db, pub) == arena.total_votes
    assert pub.settings["integrity_summary"]["tested"] is True


def test_riggers_sharing_a_target_are_flagged_with_two_stage_evidence(
        runner: FlaskCliRunner, db: Session, rigged_arena: Callable) -> None:
    arena = rigged_arena(n_rigged=48, n_riggers=4)
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    pub = _latest(db)
    summary = pub.settings["integrity_summary"]
    assert summary["two_stage"] is True
    assert summary["uneven_contenders"][str(arena.target.id)]["direction"] == "up"
    flags = db.scalars(select(VoterFlag).where(VoterFlag.publication_id == pub.id)).all()
    assert sorted(f.voter_id for f in flags) == sorted(arena.riggers)
    for flag in flags:
        two = flag.evidence["two_stage"]
        assert two["contenders"][0]["contender_id"] == arena.target.id
        assert two["contenders"][0]["direction"] == "up" and two["p"] < 0.01
    assert _filters(db, pub)["flagged_voters"] == (arena.rigged_votes, 4)
    listed = runner.invoke(args=["integrity", "flagged"])
    assert listed.exit_code == 0
    assert listed.output.count("two-stage: score") == 4
    assert f"{arena.target.name} (up)" in listed.output


def test_a_decision_needs_a_reason(runner: FlaskCliRunner, db: Session) -> None:
    result = runner.invoke(args=["integrity", "confirm", "abc", "--reason", "  "])
    assert result.exit_code != 0 and "reason" in result.output
    assert db.scalar(select(func.count()).select_from(VoterDecision)) == 0


@pytest.mark.parametrize("view", ["overall", "style"])
def test_plain_and_style_views_carry_fragility_and_shared_ranks(
        runner: FlaskCliRunner, db: Session, rigged_arena: Callable, view: str) -> None:
    rigged_arena(n_rigged=0, style=True)
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    snap = db.scalars(select(LeaderboardSnapshot).where(LeaderboardSnapshot.view == view)).one()
    assert bool(snap.method["control"]) == (view == "style")
    frag = snap.extra["fragility"]
    assert len(frag["pairs"]) == 7 and frag["threshold"] == 0.001
    order = [e.contender_id for e in sorted(snap.entries, key=lambda e: -e.rating)]
    assert [(p["upper"], p["lower"]) for p in frag["pairs"]] == list(zip(order[:-1], order[1:],
                                                                         strict=True))
    assert all(p["votes_to_swap"] is None or p["votes_to_swap"] >= 1 for p in frag["pairs"])
    assert any(p["votes_to_swap"] is not None for p in frag["pairs"])
    assert set(frag["shared_rank"]) == {str(i) for i in order}


def test_style_fragility_is_confirmed_by_a_refit_of_the_published_style_fit(
        runner: FlaskCliRunner, db: Session, rigged_arena: Callable) -> None:
    """Removing the stored number of votes the way fragility plans them swaps the pair in the
    engine's own style-controlled fit of the view; the ratings equal a publish without it."""
    rigged_arena(n_rigged=0, style=True)
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    pub = _latest(db)
    style = next(s for s in pub.snapshots if s.view == "style")
    battles = view_facts(load_facts(db, cutoff=pub.data_cutoff, flood_k=FLOOD_K),
                         view_spec("style"))
    ids = {name: cid for cid, (name, _) in battles.contenders.items()}
    engine = ratings.Refit(battles.names("a"), battles.names("b"), battles.winner_labels(),
                           features=view_features(battles, "style"),
                           control=tuple(style.method["control"]), weights=battles.weight,
                           reg=pub.settings["reg"])
    votes = fr.BattleVotes(engine)
    full = votes.fit(np.zeros(len(battles), dtype=np.int64))
    by_id = {ids[str(n)]: i for i, n in enumerate(engine.names)}
    # the fragility fit is the published one: same order and rating gaps
    entries = sorted(style.entries, key=lambda e: -e.rating)
    adjacent = list(zip(entries[:-1], entries[1:], strict=True))
    gaps = [(a.rating - b.rating) / ratings.SCALE for a, b in adjacent]
    assert [full[by_id[a.contender_id]] - full[by_id[b.contender_id]]
            for a, b in adjacent] == pytest.approx(gaps, abs=1e-7)
    for stored in style.extra["fragility"]["pairs"]:
        if stored["votes_to_swap"] is None:
            continue
        pair = fr.swap_votes(votes, by_id[stored["upper"]], by_id[stored["lower"]], start=full)
        assert pair.votes_to_swap == stored["votes_to_swap"]
        keep = np.ones(len(battles), dtype=bool)
        keep[list(pair.removed)] = False
        res = fit_chosen(battles.take(keep), "style", n_bootstrap=2, seed=0,
                         reg=pub.settings["reg"])
        rating = {ids[m.name]: m.rating for m in res.models}
        assert rating[stored["lower"]] > rating[stored["upper"]]


@pytest.mark.parametrize("view", ["overall", "style"])
def test_page_and_json_show_provisional_fragility_and_filtered_votes(
        client: FlaskClient, runner: FlaskCliRunner, db: Session,
        rigged_arena: Callable, view: str) -> None:
    arena = rigged_arena(style=True)
    assert runner.invoke(args=["leaderboard", "publish"]).exit_code == 0
    body = client.get(f"/api/v1/leaderboard?view={view}").get_json()
    assert body["snapshot"]["view"] == view
    integrity = body["integrity"]
    assert integrity["filters"]["flagged_voters"] == {"votes": arena.rigged_votes, "voters": 1}
    assert len(integrity["fragility"]["pairs"]) == 7
    rows = body["contenders"]
    assert all("provisional" in r and "swap_votes" in r for r in rows)
    assert [r["swap_votes"] is None for r in rows] == [False] * 7 + [True]
    page = client.get(f"/leaderboard?view={view}").get_data(as_text=True)
    assert "Votes to swap with next" in page
    for row in rows[:7]:  # each row's count is in its cell
        assert f'lb-swap" data-value="{row["swap_votes"]}"' in page
    assert f"{arena.rigged_votes} votes of\n    1 voters flagged" in page
