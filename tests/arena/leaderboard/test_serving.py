"""Serving stored snapshots: ETag before any work, cached bytes, pages, contender pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from arena.db import engine_for
from arena.models import Contender, LeaderboardSnapshot, SnapshotEntry


def _publish(runner: FlaskCliRunner, *args: str) -> None:
    result = runner.invoke(args=["leaderboard", "publish", *args])
    assert result.exit_code == 0, result.output


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = engine_for(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_304_is_answered_after_one_query_and_loads_no_snapshot(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, db: Session,
        league: Callable) -> None:
    league()
    _publish(runner)
    etag = client.get("/api/v1/leaderboard").headers["ETag"]
    db.expire_all()
    with _statements(app) as seen:
        again = client.get("/api/v1/leaderboard", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert "snapshot_entry" not in selects[0] and "extra" not in selects[0]


def test_a_repeated_200_serves_the_same_bytes_after_one_query(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, league: Callable) -> None:
    league()
    _publish(runner)
    first = client.get("/api/v1/leaderboard")
    with _statements(app) as seen:
        second = client.get("/api/v1/leaderboard")
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1


def test_a_contender_unreleased_after_publishing_disappears_from_cached_responses(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    league()
    _publish(runner)
    before = client.get("/api/v1/leaderboard")
    assert "Delta" in before.get_data(as_text=True)
    assert "Delta" in client.get("/leaderboard").get_data(as_text=True)
    db.scalars(select(Contender).where(Contender.name == "Delta")).one().is_public = False
    db.commit()
    after = client.get("/api/v1/leaderboard", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "Delta" not in after.get_data(as_text=True)
    assert "Delta" not in client.get("/leaderboard").get_data(as_text=True)
    assert client.get("/leaderboard/contender/delta").status_code == 404


def test_a_view_with_too_few_battles_says_how_many_it_needs(
        client: FlaskClient, runner: FlaskCliRunner, league: Callable) -> None:
    league()
    _publish(runner)
    response = client.get("/api/v1/leaderboard?view=multi_turn")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "view_too_few_votes"
    assert "0 battles in this view, fewer than 50" in error["message"]
    page = client.get("/leaderboard?view=multi_turn").get_data(as_text=True)
    assert "There is no view" not in page
    assert "is not published yet" in page and "needs at least 50 battles" in page


def test_page_groups_views_and_shows_each_contenders_rank_in_every_category(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    league()
    _publish(runner)
    overall = db.scalars(select(LeaderboardSnapshot)).one()
    # A category view as the category labeller publishes it: key cat-<label>, method.category.
    cat = LeaderboardSnapshot(
        publication_id=overall.publication_id, view="cat-coding", title="Coding",
        n_battles=54, method={**overall.method, "category": "coding"}, style={},
        converged=True, gradient_norm=0.0, extra={"description": "Coding prompts."},
        entries=[SnapshotEntry(contender_id=e.contender_id, rating=-e.rating, ci_low=-e.ci_high,
                               ci_high=-e.ci_low, rank=5 - e.rank, rank_ub=5 - e.rank,
                               votes=e.votes, provisional=False, public=True)
                 for e in overall.entries])
    db.add(cat)
    db.commit()
    page = client.get("/leaderboard").get_data(as_text=True)
    switch = page.split('data-group="categories"')[1].split("</div>")[0]
    assert 'data-view="cat-coding"' in switch and "Coding" in switch
    table = page.split('id="lb-cat-table"')[1].split("</table>")[0]
    alpha = table.split('data-contender="Alpha"')[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in alpha and '<td class="num">4</td>' in alpha
    assert client.get("/leaderboard?view=cat-coding").status_code == 200


def test_contender_page_shows_facts_standings_history_and_opponents(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, league: Callable,
        contender: Callable, battle: Callable) -> None:
    alpha, bravo, charlie, delta = league()
    alpha.link, alpha.license = "https://example.org/alpha", "Apache-2.0"
    alpha.organization = "Acme"
    secret = contender("Hidden-One", is_public=False)
    battle(alpha, secret, "model_a", prompts=("secret match",))
    db.commit()
    _publish(runner)
    battle(alpha, bravo, "model_a", prompts=("after the cutoff",),
           at=datetime.now(UTC) + timedelta(hours=1))
    db.commit()
    page = client.get("/leaderboard/contender/alpha")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Acme" in text and "Apache-2.0" in text and 'href="https://example.org/alpha"' in text
    assert 'data-view="overall"' in text and 'id="plot-contender-history"' in text
    assert "Hidden-One".lower() not in text.lower()
    bravo_row = text.split('data-opponent="Bravo"')[1].split("</tr>")[0]
    # 9 counted battles, Alpha won 6: the one after the publication's cutoff is not counted.
    assert '<td class="num">9</td><td class="num">6</td><td class="num">3</td>' in bravo_row
    by_id = client.get(f"/leaderboard/contender/{alpha.id}")
    assert by_id.status_code == 200 and "Acme" in by_id.get_data(as_text=True)
    assert client.get(f"/leaderboard/contender/{secret.id}").status_code == 404
    assert client.get("/leaderboard/contender/nobody").status_code == 404
    board = client.get("/leaderboard").get_data(as_text=True)
    assert 'href="/leaderboard/contender/alpha"' in board


def test_page_has_rank_spread_filters_and_a_scroll_container(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    alpha, bravo, *_ = league()
    alpha.active, alpha.base_url = False, "http://127.0.0.1:9/v1"  # retired from the arena
    bravo.active = False  # imported-style: never had an endpoint here, so not deprecated
    db.commit()
    _publish(runner)
    page = client.get("/leaderboard").get_data(as_text=True)
    assert "Rank spread" in page and 'id="lb-search"' in page and 'id="lb-min-votes"' in page
    assert 'id="lb-hide-provisional"' in page and 'id="lb-show-deprecated"' in page
    assert '<div class="table-scroll"' in page
    row = page.split('data-contender="Alpha"')[1].split("</tr>")[0]
    assert "deprecated" in row
    assert "deprecated" not in page.split('data-contender="Bravo"')[1].split("</tr>")[0]
    # The table is ordered by rating, and says so; rank columns are not marked as the order.
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert 'aria-sort="descending">Rating' in head
    assert head.count("aria-sort") == 1


def test_the_page_stays_small_with_many_contenders(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, contender: Callable,
        battle: Callable) -> None:
    people = [contender(f"Contender number {i:03d}") for i in range(40)]
    k = 0
    for i, a in enumerate(people):
        for b in people[i + 1:i + 6]:
            for r in range(3):
                battle(a, b, "model_a" if r else "model_b", prompts=(f"q{k}",))
                k += 1
    db.commit()
    _publish(runner)
    page = client.get("/leaderboard").get_data()
    assert page.count(b"<svg") == 5
    # The heat maps show the top 15, not all 40 (predicted and counts: every pair; observed:
    # the pairs that met).
    cells = page.count(b"<text class=\"lb-cell")
    assert 2 * 15 * 14 < cells <= 3 * 15 * 14
    assert len(page) < 150_000


def test_with_key_reuse_on_a_304_and_a_200_touch_no_database(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, db: Session,
        league: Callable) -> None:
    app.config["LEADERBOARD_CACHE_MS"] = 60_000
    league()
    _publish(runner)
    first = client.get("/api/v1/leaderboard")
    client.get("/leaderboard")
    with _statements(app) as seen:
        again = client.get("/api/v1/leaderboard", headers={"If-None-Match": first.headers["ETag"]})
        body = client.get("/api/v1/leaderboard")
        page = client.get("/leaderboard")
    assert again.status_code == 304 and body.data == first.data and page.status_code == 200
    assert seen == []
