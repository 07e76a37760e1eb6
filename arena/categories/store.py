"""Labels in SQL: ``battle_label`` rows and ``battle.category_version``/``prompt_group``.

Battles are labelled after their vote, by the next facts sync (:func:`label_voted`, run by
every publish and release cut; the vote request itself does not classify), and re-labelled in
batches by :func:`relabel` when the classifier version changes. Each replaces a battle's label
rows as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from arena.categories.classify import CLASSIFIER_VERSION, classify
from arena.categories.groups import group_id, near_duplicate_groups
from arena.models import Battle, BattleFact, BattleLabel, Turn, utcnow

#: Battles re-labelled per transaction-sized batch (the caller commits between batches).
BATCH = 500


def battle_labels(battle: Battle) -> frozenset[str]:
    """Labels of a battle's conversation (its turns and both answers of each)."""
    turns = sorted(battle.turns, key=lambda t: t.position)
    answers = []
    for turn in turns:
        sides = {a.side: a.text or "" for a in turn.answers}
        answers.append((sides.get("a", ""), sides.get("b", "")))
    return classify([t.prompt for t in turns], answers)


def _write(db: Session, battle: Battle, labels: frozenset[str]) -> None:
    db.execute(delete(BattleLabel).where(BattleLabel.battle_id == battle.id))
    db.add_all(BattleLabel(battle_id=battle.id, label=label) for label in sorted(labels))
    battle.category_version = CLASSIFIER_VERSION
    first = min(battle.turns, key=lambda t: t.position) if battle.turns else None
    if battle.prompt_group is None and first is not None:
        battle.prompt_group = group_id(first.prompt)


def label_battle(db: Session, battle: Battle) -> frozenset[str]:
    """Label one battle with the current classifier (the caller commits)."""
    labels = battle_labels(battle)
    _write(db, battle, labels)
    db.flush()
    return labels


def _touch_facts(db: Session, battles: Sequence[Battle], now: datetime) -> None:
    """Move the facts of re-labelled battles forward: publications read the labels of voted
    battles, so the next publish must not take the old ones as up to date."""
    db.execute(update(BattleFact).where(BattleFact.battle_id.in_([b.id for b in battles]))
               .values(synced_at=now))


def label_voted(db: Session, *, now: datetime, batch: int = BATCH) -> int:
    """Label the voted battles that await their labels; returns how many (never commits).

    A vote leaves its battle unlabelled (``category_version`` NULL, see :mod:`arena.voting`):
    the classifier reads whole answers, which costs more than the rest of the vote. Every
    facts sync (:func:`arena.leaderboard.facts.sync_facts`, run by each publish and release
    cut) calls this, so what they read is always labelled; a partial index
    keeps the lookup cheap. Each labelled battle's fact gets ``synced_at = now``, so a
    publication that read it before its labels existed is not taken as up to date.
    """
    done, last_id = 0, 0
    while True:
        # populate_existing: a battle already in this session may hold values from before the
        # vote's Core UPDATE (its old category_version), which _write must not compare with.
        rows = db.scalars(
            select(Battle).where(Battle.state == "voted", Battle.category_version.is_(None),
                                 Battle.id > last_id)
            .options(selectinload(Battle.turns).selectinload(Turn.answers))
            .order_by(Battle.id).limit(batch)
            .execution_options(populate_existing=True)).all()
        if not rows:
            return done
        for battle in rows:
            _write(db, battle, battle_labels(battle))
        db.flush()
        _touch_facts(db, rows, now)
        done += len(rows)
        last_id = rows[-1].id


def relabel(db: Session, *, everything: bool = False, batch: int = BATCH,
            commit: Callable[[], None] | None = None) -> int:
    """Re-label battles whose ``category_version`` is not the current one (all with
    ``everything``); returns how many. ``commit`` is called after each batch so a long run
    keeps its transactions short; re-running after an interruption continues where it
    stopped, because finished battles carry the current version.
    """
    done, last_id = 0, 0
    while True:
        query = (select(Battle).where(Battle.id > last_id)
                 .options(selectinload(Battle.turns).selectinload(Turn.answers))
                 .order_by(Battle.id).limit(batch))
        if not everything:
            query = query.where(or_(Battle.category_version.is_(None),
                                    Battle.category_version != CLASSIFIER_VERSION))
        rows = db.scalars(query).all()
        if not rows:
            return done
        for battle in rows:
            _write(db, battle, battle_labels(battle))
        db.flush()
        _touch_facts(db, rows, utcnow())
        done += len(rows)
        last_id = rows[-1].id
        if commit is not None:
            commit()


def regroup(db: Session) -> int:
    """Recompute every battle's prompt group with near-duplicate merging; returns how many
    battles changed group. Reads first prompts only (one column), oldest battle first.
    """
    rows = _first_prompts(db)
    groups = near_duplicate_groups([prompt for _id, _group, prompt in rows])
    changed = 0
    for (battle_id, old, _prompt), new in zip(rows, groups, strict=True):
        if old != new:
            db.execute(update(Battle).where(Battle.id == battle_id).values(prompt_group=new))
            changed += 1
    db.flush()
    return changed


def _first_prompts(db: Session) -> list[tuple[int, str | None, str]]:
    firsts = (select(Turn.battle_id, func.min(Turn.position).label("position"))
              .group_by(Turn.battle_id).subquery())
    query = (select(Battle.id, Battle.prompt_group, Turn.prompt)
             .join(firsts, firsts.c.battle_id == Battle.id)
             .join(Turn, (Turn.battle_id == Battle.id) & (Turn.position == firsts.c.position))
             .order_by(Battle.created_at, Battle.id))
    return [(int(i), g, p) for i, g, p in db.execute(query)]
