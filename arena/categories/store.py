"""Labels in SQL: ``battle_label`` rows and ``battle.category_version``/``prompt_group``.

Battles are labelled when their vote lands, inside the vote's transaction
(:func:`conversation_texts` and :func:`write_labels`, Core statements; :func:`label_battle`
for ORM objects), and re-labelled in batches by :func:`relabel` when the classifier version
changes. Each replaces a battle's label rows as a whole.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from arena.categories.classify import CLASSIFIER_VERSION, classify
from arena.categories.groups import group_id, near_duplicate_groups
from arena.models import Answer, Battle, BattleLabel, Turn

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


# Built once (the vote's path): constructing a statement costs more than running it.
_CONVERSATION = (select(Turn.position, Turn.prompt, Answer.side, Answer.text)
                 .outerjoin(Answer, Answer.turn_id == Turn.id)
                 .where(Turn.battle_id == bindparam("battle_id"))
                 .order_by(Turn.position, Answer.side))
_DROP_LABELS = delete(BattleLabel).where(BattleLabel.battle_id == bindparam("battle_id"))
_ADD_LABEL = insert(BattleLabel)


def conversation_texts(db: Session, battle_id: int
                       ) -> tuple[list[str], list[tuple[str, str]]]:
    """A battle's prompts in order and the ``(a, b)`` answer texts of each turn: one query."""
    prompts: list[str] = []
    answers: list[tuple[str, str]] = []
    last = None
    for position, prompt, side, text in db.connection().execute(
            _CONVERSATION, {"battle_id": battle_id}):
        if position != last:
            prompts.append(prompt)
            answers.append(("", ""))
            last = position
        if side == "a":
            answers[-1] = (text or "", answers[-1][1])
        elif side == "b":
            answers[-1] = (answers[-1][0], text or "")
    return prompts, answers


def write_labels(db: Session, battle_id: int, labels: frozenset[str], *,
                 replace: bool) -> None:
    """Store a battle's labels with Core statements; ``replace`` first removes the rows of an
    earlier labelling. The caller records ``CLASSIFIER_VERSION`` on the battle."""
    conn = db.connection()
    if replace:
        conn.execute(_DROP_LABELS, {"battle_id": battle_id})
    if labels:
        conn.execute(_ADD_LABEL, [{"battle_id": battle_id, "label": label}
                                  for label in sorted(labels)])


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
