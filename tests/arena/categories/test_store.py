"""Labels in SQL: written by the facts sync after the vote lands, replaced by `categories
relabel` on a version change (idempotent), prompt groups for exact and near-duplicate prompts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.categories import CLASSIFIER_VERSION
from arena.categories.groups import group_id, near_duplicate_groups
from arena.leaderboard.data import FLOOD_K, eligible_battles
from arena.leaderboard.facts import sync_facts
from arena.models import Battle, BattleFact, BattleLabel, Voter
from arena.voting import cast_vote


def _labels(db: Session, battle: Battle) -> set[str]:
    return set(db.scalars(select(BattleLabel.label).where(BattleLabel.battle_id == battle.id)))


def test_a_vote_leaves_labelling_to_the_next_facts_sync(db: Session, contender: Callable,
                                                       battle: Callable) -> None:
    a, b = contender(), contender()
    db.add(Voter(id="v1"))
    db.flush()
    row = battle(a, b, None, voter_id="v1",
                 prompts=("Write a Python function that reverses a string.",),
                 answers=[("def rev(s): return s[::-1]", "I'm sorry, but I can't help with that.")])
    db.commit()
    assert row.category_version is None and _labels(db, row) == set()
    voted_at = row.ready_at + timedelta(seconds=5)
    cast_vote(db, row, voter_id="v1", winner="model_a", feedback=None, now=voted_at)
    db.commit()
    db.expire_all()
    # The request does not classify (it reads whole answers): the battle awaits its labels.
    assert db.get(Battle, row.id).category_version is None and _labels(db, row) == set()
    later = voted_at + timedelta(minutes=1)
    report = sync_facts(db, now=later)
    db.commit()
    db.expire_all()
    assert report.labelled == 1
    stored = db.get(Battle, row.id)
    assert stored is not None and stored.category_version == CLASSIFIER_VERSION
    assert _labels(db, stored) == {"coding", "refusal", "language:en"}
    assert stored.prompt_group == group_id("Write a Python function that reverses a string.")
    # Its fact is marked changed, so a publication made before the labels is not up to date.
    assert db.get(BattleFact, row.id).synced_at == later
    assert sync_facts(db, now=later + timedelta(minutes=1)).labelled == 0


def test_everything_that_reads_labels_sees_those_of_a_fresh_vote(
        db: Session, contender: Callable, battle: Callable) -> None:
    a, b = contender(), contender()
    db.add(Voter(id="v1"))
    db.flush()
    row = battle(a, b, None, voter_id="v1", prompts=("Solve 3x + 10 = 5(x - 2) for x.",))
    db.commit()
    cast_vote(db, row, voter_id="v1", winner="tie", feedback=None,
              now=row.ready_at + timedelta(seconds=5))
    db.commit()
    (rated,) = eligible_battles(db)  # publish and release cuts read through the same sync
    assert "math" in rated.labels and rated.category_version == CLASSIFIER_VERSION


def test_relabel_replaces_labels_of_other_versions_only_and_is_idempotent(
        db: Session, runner: FlaskCliRunner, contender: Callable, battle: Callable) -> None:
    a, b = contender(), contender()
    stale = battle(a, b, prompts=("Solve for x in the equation 3x + 10 = 5(x - 2), step by step.",),
                   category_version="rules-old")
    db.add(BattleLabel(battle_id=stale.id, label="creative_writing"))
    current = battle(a, b, prompts=("Compose a haiku about coffee.",),
                     category_version=CLASSIFIER_VERSION)
    db.add(BattleLabel(battle_id=current.id, label="marker-kept"))
    never = battle(a, b, prompts=("Wie kann ich meine Deutschkenntnisse verbessern?",))
    db.commit()

    result = runner.invoke(args=["categories", "relabel", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "labelled 2 battles" in result.output
    db.expire_all()
    assert _labels(db, stale) == {"math", "language:en"}
    assert _labels(db, never) == {"language:de"}
    assert _labels(db, current) == {"marker-kept"}  # already current: untouched
    assert {db.get(Battle, x.id).category_version for x in (stale, never)} == {CLASSIFIER_VERSION}

    again = runner.invoke(args=["categories", "relabel"])
    assert again.exit_code == 0 and "labelled 0 battles" in again.output

    everything = runner.invoke(args=["categories", "relabel", "--all"])
    assert everything.exit_code == 0 and "labelled 3 battles" in everything.output
    db.expire_all()
    assert _labels(db, current) == {"creative_writing", "language:en"}


def test_relabelling_voted_battles_makes_the_next_publication_refit(
        db: Session, runner: FlaskCliRunner, contender: Callable, battle: Callable) -> None:
    # Regression: relabel rewrote the labels the category views count without moving any
    # fact, so the next publish answered "nothing new" and kept the old category boards.
    from arena.leaderboard.publish import publish

    a, b = contender(), contender()
    topics = ("a Python function that reverses a string", "a haiku about rain",
              "the causes of the French Revolution", "how vaccines train the immune system",
              "a SQL query for monthly revenue", "the rules of chess castling",
              "a limerick about a cat", "why the sky is blue", "how to bake sourdough bread",
              "the derivative of x squared", "a cover letter for a nurse",
              "the plot of Hamlet")
    for k, topic in enumerate(topics):  # no two near-duplicates: regrouping changes nothing
        prompt = f"Tell me about {topic}."
        row = battle(a, b, "model_a" if k % 3 else "model_b", prompts=(prompt,))
        row.prompt_group = group_id(prompt)  # relabel changes the labels, nothing else
    db.commit()
    first = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5)
    db.commit()
    assert publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5).up_to_date
    db.rollback()
    result = runner.invoke(args=["categories", "relabel", "--all"])
    assert result.exit_code == 0 and "labelled 12 battles" in result.output
    db.expire_all()
    again = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=5)
    assert not again.up_to_date and again.publication.id != first.publication.id


def test_near_duplicates_share_the_group_of_the_earliest_prompt() -> None:
    prompts = ["What are the main causes of the French Revolution in 1789?",
               "what are the main causes of the french revolution in 1789??",
               "What were the main causes of the French Revolution in 1789?",
               "Explain the main causes of the Russian Revolution of 1917 please.",
               "hi", "hi!", "Hi"]
    groups = near_duplicate_groups(prompts)
    assert groups[0] == groups[1] == groups[2] == group_id(prompts[0])
    assert groups[3] not in groups[:3]
    # Short prompts are grouped only when identical after normalisation.
    assert groups[4] == groups[6] != groups[5]


def test_relabel_groups_near_duplicates_and_the_flood_rule_counts_groups(
        db: Session, runner: FlaskCliRunner, contender: Callable, battle: Callable) -> None:
    a, b = contender(), contender()
    flood = FLOOD_K + 10
    for i in range(flood):
        # Each prompt differs in a number: not exact duplicates, so only the group catches it.
        battle(a, b, prompts=(f"Please give me a very detailed recipe for banana bread #{i}",))
    battle(a, b, "model_b", prompts=("A question of its own about something else entirely",))
    db.commit()
    before = [r.weight for r in eligible_battles(db)]
    assert before == [1.0] * (flood + 1)

    result = runner.invoke(args=["categories", "relabel"])
    assert result.exit_code == 0 and f"{flood - 1} battles changed prompt group" in result.output
    db.expire_all()
    rows = eligible_battles(db)
    assert len({r.prompt_group for r in rows[:flood]}) == 1
    assert [r.weight for r in rows[:flood]] == [FLOOD_K / flood] * flood
    assert rows[-1].weight == 1.0


def test_labels_written_before_the_vote_are_replaced(db: Session, contender: Callable,
                                                     battle: Callable) -> None:
    # `categories relabel` also labels unvoted battles; after the vote the final conversation
    # is labelled again and what the earlier labelling left is dropped.
    a, b = contender(), contender()
    db.add(Voter(id="v1"))
    db.flush()
    row = battle(a, b, None, voter_id="v1", prompts=("Compose a haiku about coffee.",),
                 category_version=CLASSIFIER_VERSION)
    db.add(BattleLabel(battle_id=row.id, label="math"))
    db.commit()
    cast_vote(db, row, voter_id="v1", winner="tie", feedback=None,
              now=row.ready_at + timedelta(seconds=5))
    db.commit()
    sync_facts(db)
    db.commit()
    assert _labels(db, row) == {"creative_writing", "language:en"}
