"""Category views in publish (plain and style-controlled, with the classifier version), the
JSON API serving them, the default-view setting, and labels in data releases."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.categories import CLASSIFIER_VERSION
from arena.leaderboard.data import eligible_battles, view_spec
from arena.models import LeaderboardSnapshot
from arena.releases.rows import release_rows

CODING = "Write a Python function that returns the {}th prime number, with tests."
OTHER = "What are some good places to visit in Portugal in spring, number {}?"


@pytest.fixture
def labelled_league(app: Flask, db: Session, runner: FlaskCliRunner, contender: Callable,
                    battle: Callable) -> None:
    """60 coding and 60 other battles among three contenders, with style features; labelled
    by the CLI as an operator would."""
    app.config["LEADERBOARD_BOOTSTRAP"] = 10
    people = [contender(name) for name in ("Alpha", "Bravo", "Charlie")]
    pairs = itertools.cycle(itertools.permutations(people, 2))
    for k in range(120):
        a, b = next(pairs)
        features = {"length_a": 100 + k % 7 * 30, "length_b": 120 + k % 5 * 20,
                    "markdown_header_a": k % 3, "markdown_header_b": k % 2,
                    "markdown_list_a": k % 4, "markdown_list_b": k % 3,
                    "markdown_bold_a": k % 2, "markdown_bold_b": k % 5}
        winner = ("model_a", "model_b", "model_a", "tie")[k % 4]
        battle(a, b, winner, prompts=((CODING if k % 2 else OTHER).format(k),),
               features=features)
    db.commit()
    result = runner.invoke(args=["categories", "relabel"])
    assert result.exit_code == 0, result.output
    published = runner.invoke(args=["leaderboard", "publish"])
    assert published.exit_code == 0, published.output


def test_publish_adds_plain_and_style_views_per_category(labelled_league: None,
                                                         db: Session) -> None:
    snaps = {s.view: s for s in db.scalars(select(LeaderboardSnapshot))}
    assert {"overall", "style", "cat-coding", "cat-coding-style"} <= set(snaps)
    assert not [v for v in snaps if v.startswith("cat-math")]  # no math battles at all
    plain, styled = snaps["cat-coding"], snaps["cat-coding-style"]
    assert plain.n_battles == styled.n_battles == 60
    for snap in (plain, styled):
        assert snap.method["category"] == "coding"
        assert snap.method["category_version"] == CLASSIFIER_VERSION
    assert plain.method["control"] == [] or not plain.method.get("control")
    assert set(styled.style) >= {"length"}
    assert snaps["overall"].n_battles == 120 and "category" not in snaps["overall"].method


def test_api_serves_a_category_view(labelled_league: None, client: FlaskClient) -> None:
    body = client.get("/api/v1/leaderboard?view=cat-coding-style").get_json()
    assert body["snapshot"]["view"] == "cat-coding-style"
    assert body["method"]["category"] == "coding"
    assert body["method"]["category_version"] == CLASSIFIER_VERSION
    assert {c["name"] for c in body["contenders"]} == {"Alpha", "Bravo", "Charlie"}
    assert "cat-coding" in [v["view"] for v in body["views"]]
    csv = client.get("/api/v1/leaderboard.csv?view=cat-coding")
    assert csv.status_code == 200 and "Alpha" in csv.get_data(as_text=True)


def test_default_view_is_a_setting_with_overall_as_fallback(
        labelled_league: None, app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/leaderboard").get_json()["snapshot"]["view"] == "overall"
    app.config["LEADERBOARD_DEFAULT_VIEW"] = "style"
    assert client.get("/api/v1/leaderboard").get_json()["snapshot"]["view"] == "style"
    assert 'data-view="style"' in client.get("/leaderboard").get_data(as_text=True)
    app.config["LEADERBOARD_DEFAULT_VIEW"] = "cat-math"  # not published: too few battles
    assert client.get("/api/v1/leaderboard").get_json()["snapshot"]["view"] == "overall"
    assert client.get("/leaderboard").status_code == 200


def test_category_view_keys_resolve_and_unknown_labels_do_not() -> None:
    spec = view_spec("cat-hard_prompt-style")
    assert spec.category and spec.control == ("length", "markdown")
    assert spec.meta["category"] == "hard_prompt"
    with pytest.raises(KeyError):
        view_spec("cat-astrology")


def test_release_rows_carry_labels_and_version(labelled_league: None, db: Session) -> None:
    battles = eligible_battles(db)
    rows = release_rows(db, battles, release="r1", secret_key="k" * 32, linkable=False).rows
    coding = [r for r in rows if "coding" in r["labels"]]
    assert len(coding) == 60
    assert all(r["category_version"] == CLASSIFIER_VERSION for r in rows)
    assert all("language:en" in r["labels"] for r in rows)
