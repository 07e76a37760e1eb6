"""Category leaderboards in Chromium, on real votes (QLoRA/PRD Vicuna-80 human study).

The real votes are imported, labelled by the offline prompt classifier (`relabel`, as the
operator's CLI does) and published; the page then shows the category switch, each contender's
rank per category beside its overall rank, and a category board with its classifier version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from arena.categories.classify import CLASSIFIER_VERSION
from arena.categories.store import relabel
from arena.leaderboard.importer import parse_vicuna_votes, store_rows
from arena.leaderboard.publish import publish

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "arena" / "qlora_vicuna80_human"
T0 = datetime(2023, 5, 1, tzinfo=UTC)


def test_category_switch_ranks_side_by_side_and_a_category_board(
        live_server, page: Page,  # type: ignore[no-untyped-def]
        save_screenshot: Callable[..., Path]) -> None:
    rows = parse_vicuna_votes(DATA / "votes.csv", DATA / "answers.jsonl",
                              DATA / "questions.jsonl")
    with live_server.session() as db:
        store_rows(db, rows, source="import", secret=live_server.app.config["SECRET_KEY"],
                   now=T0)
        relabel(db, everything=True)
        report = publish(db, n_bootstrap=20, seed=42, min_votes=30, now=T0 + timedelta(hours=1))
        db.commit()
    assert {"cat-coding", "cat-coding-style", "cat-math"} <= set(report.published), report

    page.goto(f"{live_server.url}/leaderboard")
    switch = page.get_by_role("navigation", name="Leaderboard views")
    categories = switch.locator('[data-group="categories"]')
    expect(categories.get_by_role("link", name="Coding", exact=True)).to_be_visible()
    expect(categories.get_by_role("link", name="Math", exact=True)).to_be_visible()
    # Each contender's rank per category, beside its overall rank.
    ranks = page.locator("#lb-cat-table")
    expect(ranks.locator('thead th[data-view="cat-coding"]')).to_have_text("Coding")
    expect(ranks.locator("tbody tr")).to_have_count(8)
    gpt4 = ranks.locator('tbody tr[data-contender="gpt-4"] td')
    expect(gpt4.first).to_have_text("1")
    save_screenshot("leaderboard-categories")

    categories.get_by_role("link", name="Coding", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/leaderboard?view=cat-coding")
    expect(page.locator(".lb-view.current")).to_have_text("Coding")
    expect(page.locator("#lb-classifier")).to_have_text(CLASSIFIER_VERSION)
    expect(page.locator("#lb-table tbody tr[data-contender]")).to_have_count(8)
    coding_battles = int(page.locator("#lb-n-battles").inner_text().replace(",", ""))
    assert 50 <= coding_battles < 6720 // 4
    save_screenshot("leaderboard-category-coding")

    body = page.request.get(f"{live_server.url}/api/v1/leaderboard?view=cat-coding").json()
    assert body["snapshot"]["view"] == "cat-coding"
    assert body["method"]["category_version"] == CLASSIFIER_VERSION
