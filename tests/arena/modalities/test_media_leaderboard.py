"""Per-arena leaderboards: each arena's battles fit their own views, with its style features."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.leaderboard.data import battle_record, eligible_battles, view_spec
from arena.leaderboard.publish import publish
from arena.models import Battle, Contender, LeaderboardSnapshot, Turn, Vote

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _league(db: Session, arena: str, names: tuple[str, ...], start: int) -> None:
    people = []
    for name in names:
        row = Contender(name=name, base_url="", upstream_model=name, arena=arena)
        db.add(row)
        people.append(row)
    db.flush()
    k = start
    for i, j in itertools.combinations(range(len(people)), 2):
        for r in range(9):
            winner = "model_a" if r % 3 in (0, 1) else "model_b"
            at = T0 + timedelta(minutes=k)
            features = ({"resolution_a": 100.0 + r, "resolution_b": 60.0, "aspect_a": 100.0,
                         "aspect_b": 100.0 + 50 * (r % 2), "file_size_a": 300.0 + k % 7,
                         "file_size_b": 280.0}
                        if arena == "image" else None)
            battle = Battle(public_id=secrets.token_urlsafe(24), contender_a_id=people[i].id,
                            contender_b_id=people[j].id, state="voted", arena=arena,
                            features=features, created_at=at, updated_at=at)
            battle.turns = [Turn(position=0, prompt=f"prompt {k}", created_at=at)]
            battle.vote = Vote(winner=winner, created_at=at)
            db.add(battle)
            k += 1
    db.commit()


def test_each_arena_publishes_its_own_views(db: Session) -> None:
    _league(db, "text", ("Alpha", "Bravo", "Charlie"), 0)
    _league(db, "image", ("Painter", "Sketcher", "Printer"), 100)
    report = publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=10)
    db.commit()
    snapshots = {s.view: s for s in db.scalars(select(LeaderboardSnapshot))}
    assert {"overall", "image-overall", "image-style"} <= set(snapshots), report
    names = {view: {e.contender.name for e in s.entries} for view, s in snapshots.items()}
    assert names["overall"] == {"Alpha", "Bravo", "Charlie"}
    assert names["image-overall"] == names["image-style"] == {"Painter", "Sketcher", "Printer"}
    assert snapshots["image-overall"].n_battles == 27 == snapshots["overall"].n_battles
    assert set(view_spec("image-style").features) == {"resolution", "aspect", "file_size"}
    assert set(view_spec("speech-style").features) == {"duration", "loudness"}
    rows = eligible_battles(db)
    image_row = next(b for b in rows if b.arena == "image")
    text_row = next(b for b in rows if b.arena == "text")
    assert battle_record(image_row)["arena"] == "image"
    assert "arena" not in battle_record(text_row)  # text rows keep FastChat's shape


def test_media_views_sit_under_arenas_and_pages_link_them(db: Session, app: Any,
                                                          client: Any, make_contender: Any) -> None:
    """The published image views appear in the page's "Arenas" switch, the text board's
    per-view ranks never list another arena's views, and the image arena links its board."""
    from arena.leaderboard import serving

    _league(db, "text", ("Alpha", "Bravo", "Charlie"), 0)
    _league(db, "image", ("Painter", "Sketcher", "Printer"), 100)
    publish(db, n_bootstrap=5, seed=1, min_votes=0, min_battles=10)
    db.commit()
    snapshots = list(db.scalars(select(LeaderboardSnapshot)))
    groups = dict(serving.view_groups(snapshots))
    assert {s.view for s in groups["Arenas"]} == {"image-overall", "image-style"}
    assert all(not s.view.startswith("image-") for s in groups["General"])
    page = client.get("/leaderboard?view=image-overall")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Painter" in text and "Alpha" not in text
    overall = client.get("/leaderboard").get_data(as_text=True)
    assert "Alpha" in overall and "Painter" not in overall
    assert 'href="/leaderboard?view=image-overall"' in client.get("/arena/image").get_data(
        as_text=True)
