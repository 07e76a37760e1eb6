"""Leaderboard page and JSON API: contents, views, empty states, caching, CORS, secrecy."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from arena.db import engine_for
from arena.leaderboard.web import OPENAPI_PATHS
from arena.models import Battle, Contender, LeaderboardSnapshot, Turn, Vote

SECRET_NAME = "Zephyr-Secret"
FIELDS = ["rank", "rank_ub", "name", "organization", "license", "rating", "ci_low", "ci_high",
          "votes", "provisional", "rank_low", "rank_high", "status", "deprecated", "link",
          # fragility (arena.integrity): votes to swap with the next contender, shared ranks
          "swap_votes", "swap_share", "shares_rank", "shared_rank"]


def _publish(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["leaderboard", "publish"])
    assert result.exit_code == 0, result.output


def _style_league(league: Callable, db: Session) -> None:
    """A league whose battles carry style features, so the style view is published too."""
    league()
    for i, row in enumerate(db.scalars(select(Battle).order_by(Battle.id))):
        row.features = {"length_a": 100 + i % 7, "length_b": 90 + i % 5,
                        "markdown_header_a": i % 2, "markdown_header_b": 0,
                        "markdown_list_a": i % 3, "markdown_list_b": 1,
                        "markdown_bold_a": 0, "markdown_bold_b": i % 4}
    db.commit()


def test_page_before_any_publication_says_so(client: FlaskClient) -> None:
    page = client.get("/leaderboard")
    assert page.status_code == 200
    assert "No leaderboard has been published yet" in page.get_data(as_text=True)


def test_api_before_any_publication_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/leaderboard")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_leaderboard"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_page_with_too_few_votes_says_so(client: FlaskClient, runner: FlaskCliRunner,
                                         db: Session, contender: Callable,
                                         battle: Callable) -> None:
    a, b = contender(), contender()
    for i in range(3):
        battle(a, b, "model_a", prompts=(f"p{i}",))
    db.commit()
    _publish(runner)
    text = client.get("/leaderboard").get_data(as_text=True)
    assert "Too few votes to rank anyone yet" in text and "3 eligible votes" in text


def test_api_contenders_have_exactly_the_public_fields(client: FlaskClient,
                                                       runner: FlaskCliRunner,
                                                       league: Callable) -> None:
    league()
    _publish(runner)
    body = client.get("/api/v1/leaderboard").get_json()
    assert body["snapshot"]["view"] == "overall" and body["snapshot"]["n_battles"] == 54
    assert [list(c) for c in body["contenders"]] == [FIELDS] * 4
    assert [c["name"] for c in body["contenders"]][0] == "Alpha"
    assert body["method"]["ci"] == "bootstrap" and body["converged"] is True
    assert body["win_matrix"]["names"][0] == "Alpha"
    assert body["battle_counts"]["counts"][0] == [0, 9, 9, 9]


def test_unreleased_contender_never_appears_in_api_csv_page_or_plots(
        client: FlaskClient, runner: FlaskCliRunner, db: Session, league: Callable) -> None:
    league((SECRET_NAME, "Bravo", "Charlie", "Delta"))
    db.scalars(select(Contender).where(Contender.name == SECRET_NAME)).one().is_public = False
    db.commit()
    _publish(runner)
    _publish_again_with_one_more_vote(runner, db)
    snapshot_id = db.scalars(select(LeaderboardSnapshot.id)).first()
    urls = ["/leaderboard", "/api/v1/leaderboard", "/api/v1/leaderboard.csv",
            "/api/v1/leaderboard?format=csv", "/api/v1/leaderboard/snapshots",
            f"/api/v1/leaderboard/snapshots/{snapshot_id}"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET_NAME.lower() not in response.get_data(as_text=True).lower(), url
        assert SECRET_NAME.lower() not in str(response.headers).lower(), url
    body = client.get("/api/v1/leaderboard").get_json()
    assert [c["rank"] for c in body["contenders"]][0] == 1
    assert len(body["win_matrix"]["p"]) == 3 and len(body["battle_counts"]["counts"]) == 3
    assert "<svg" in client.get("/leaderboard").get_data(as_text=True)


def _publish_again_with_one_more_vote(runner: FlaskCliRunner, db: Session) -> None:
    first = db.scalars(select(Battle).order_by(Battle.id)).first()
    clone = Battle(public_id="x" * 43, contender_a_id=first.contender_b_id,
                   contender_b_id=first.contender_a_id, state="voted", created_at=first.created_at)
    clone.turns = [Turn(position=0, prompt="one more")]
    clone.vote = Vote(winner="model_b")
    db.add(clone)
    db.commit()
    _publish(runner)


def test_json_has_etag_cache_control_cors_and_answers_304(client: FlaskClient,
                                                          runner: FlaskCliRunner,
                                                          league: Callable) -> None:
    league()
    _publish(runner)
    first = client.get("/api/v1/leaderboard")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    etag = first.headers["ETag"]
    assert etag
    again = client.get("/api/v1/leaderboard", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/v1/leaderboard", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_cors_preflight_is_answered(client: FlaskClient) -> None:
    response = client.options("/api/v1/leaderboard", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_csv_download_has_disposition_and_rows(client: FlaskClient, runner: FlaskCliRunner,
                                               league: Callable) -> None:
    league()
    _publish(runner)
    response = client.get("/api/v1/leaderboard.csv?view=overall")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="leaderboard-overall-')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["name"] for r in rows][0] == "Alpha" and len(rows) == 4
    json_rows = client.get("/api/v1/leaderboard").get_json()["contenders"]
    assert [float(r["rating"]) for r in rows] == [c["rating"] for c in json_rows]


def test_unknown_view_lists_the_valid_ones(client: FlaskClient, runner: FlaskCliRunner,
                                          league: Callable) -> None:
    league()
    _publish(runner)
    response = client.get("/api/v1/leaderboard?view=nope")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "unknown_view" and error["details"]["valid_views"] == ["overall"]
    page = client.get("/leaderboard?view=nope")
    assert page.status_code == 404 and "There is no view" in page.get_data(as_text=True)


def test_view_switch_shows_style_view_with_rank_changes(client: FlaskClient,
                                                        runner: FlaskCliRunner, db: Session,
                                                        league: Callable) -> None:
    _style_league(league, db)
    _publish(runner)
    views = [v["view"] for v in client.get("/api/v1/leaderboard").get_json()["views"]]
    assert views[:2] == ["overall", "style"]
    style = client.get("/api/v1/leaderboard?view=style").get_json()
    assert style["snapshot"]["view"] == "style"
    assert set(style["style"]) == {"length", "markdown_header", "markdown_list",
                                   "markdown_bold"}
    assert all({"coef", "ci_low", "ci_high"} <= set(s) for s in style["style"].values())
    page = client.get("/leaderboard?view=style").get_data(as_text=True)
    assert 'aria-current="page" data-view="style"' in page
    assert "vs overall" in page and "Style coefficients" in page


def test_page_renders_table_and_five_plots(client: FlaskClient, runner: FlaskCliRunner,
                                           db: Session, league: Callable,
                                           battle: Callable) -> None:
    alpha, bravo, *_ = league()
    _publish(runner)
    battle(bravo, alpha, "model_a", prompts=("another",))
    db.commit()
    _publish(runner)
    page = client.get("/leaderboard").get_data(as_text=True)
    assert page.count("<svg") == 5
    for figure in ("plot-ratings", "plot-win", "plot-counts", "plot-observed", "plot-history"):
        assert f'id="{figure}"' in page
    assert '<tr data-contender="Alpha"' in page


def test_snapshot_list_and_lookup_by_id(client: FlaskClient, runner: FlaskCliRunner,
                                        league: Callable) -> None:
    league()
    _publish(runner)
    listing = client.get("/api/v1/leaderboard/snapshots").get_json()["publications"]
    [pub] = listing
    [view] = pub["views"]
    one = client.get(view["url"]).get_json()
    assert one["snapshot"]["id"] == view["snapshot_id"] and one["contenders"]
    assert client.get("/api/v1/leaderboard/snapshots/99999").status_code == 404


def test_openapi_paths_document_every_route() -> None:
    assert set(OPENAPI_PATHS) == {"/api/v1/leaderboard", "/api/v1/leaderboard.csv",
                                  "/api/v1/leaderboard/snapshots",
                                  "/api/v1/leaderboard/snapshots/{snapshot_id}"}
    contender = OPENAPI_PATHS["/api/v1/leaderboard"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["properties"]["contenders"]["items"]
    assert contender["required"] == FIELDS[:10]


def test_snapshot_list_loads_every_publications_views_in_one_query(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, db: Session,
        league: Callable, battle: Callable) -> None:
    alpha, bravo, *_ = league()
    for i in range(3):
        battle(alpha, bravo, "model_a", prompts=(f"another vote {i}",))
        db.commit()
        _publish(runner)
    db.expire_all()  # the CLI ran in this app context: start from nothing loaded, as a request
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = engine_for(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        listing = client.get("/api/v1/leaderboard/snapshots").get_json()["publications"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(listing) == 3 and all(p["views"] for p in listing)
    assert sum("FROM leaderboard_snapshot" in s for s in statements) == 1
