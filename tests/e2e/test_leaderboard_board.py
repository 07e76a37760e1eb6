"""The leaderboard in Chromium: sort indicators, filters, groups, contender page, phone width.

Real votes (a third of the QLoRA/PRD Vicuna-80 human study) plus two newcomers that only met
each other (so a "not yet comparable" group exists), published once; one contender retired.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from arena.leaderboard.importer import _Row, parse_vicuna_votes, store_rows
from arena.leaderboard.publish import publish
from arena.models import Contender

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "arena" / "qlora_vicuna80_human"
T0 = datetime(2023, 5, 1, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_server_config(live_server_config: dict[str, Any]) -> dict[str, Any]:
    live_server_config["LEADERBOARD_CACHE_MS"] = 0
    return live_server_config


def _seed(live_server: Any) -> None:
    secret = live_server.app.config["SECRET_KEY"]
    rows = parse_vicuna_votes(DATA / "votes.csv", DATA / "answers.jsonl",
                              DATA / "questions.jsonl")[::3]
    island = [_Row(key=f"island-{i}", model_a="Markdown", model_b="Lonely",
                   winner="model_a", anony=True, at=T0, judge=None, language=None,
                   features=None) for i in range(2)]
    with live_server.session() as db:
        store_rows(db, [*rows, *island], source="import", secret=secret, now=T0)
        bard = db.scalars(select(Contender).where(Contender.name == "bard")).one()
        bard.organization, bard.license, bard.link = "Google", "Proprietary", \
            "https://example.org/bard"
        # Retired from the arena: it had an endpoint and was switched off. The other imported
        # contenders never had one here; they are not deprecated.
        bard.base_url, bard.active = "http://127.0.0.1:9/v1", False
        report = publish(db, n_bootstrap=30, seed=42, min_votes=30, min_battles=2)
        assert "overall" in report.published
        db.commit()


def _no_horizontal_overflow(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: page is {width}px wide"


def _after(page: Page, selector: str) -> str:
    return str(page.evaluate(
        "s => getComputedStyle(document.querySelector(s), '::after').content", selector))


def test_sort_indicator_follows_the_row_order_and_filters_hide_rows(
        live_server: Any, page: Page, save_screenshot: Callable[..., Path]) -> None:
    _seed(live_server)
    page.goto(f"{live_server.url}/leaderboard")
    table = page.locator("#lb-table")
    rows = table.locator("tbody tr[data-contender]")
    # The server orders by rating, best first: the Rating header says ▼, no rank header ▲.
    rating = table.locator("thead th", has_text="Rating")
    expect(rating).to_have_attribute("aria-sort", "descending")
    assert "▼" in _after(page, "#lb-table th[aria-sort] .lb-sort")
    assert table.locator("thead th[aria-sort]").count() == 1
    # Not comparable contenders are in their own table, not among the ranked ones.
    expect(page.locator("#lb-nc tbody tr[data-contender]")).to_have_count(2)
    expect(table.locator('tr[data-contender="Markdown"]')).to_have_count(0)

    page.get_by_role("button", name="Rank (UB)").click()
    expect(table.locator("thead th", has_text="Rank (UB)")).to_have_attribute(
        "aria-sort", "ascending")
    page.get_by_role("button", name="Rating").click()
    expect(rating).to_have_attribute("aria-sort", "descending")
    page.get_by_role("button", name="Rating").click()
    expect(rating).to_have_attribute("aria-sort", "ascending")

    # A retired contender is hidden until "Show deprecated" is ticked.
    expect(page.locator("#lb-controls")).to_be_visible()
    visible = table.locator("tbody tr[data-contender]:visible")
    expect(visible).to_have_count(7)
    expect(table.locator('tr[data-contender="bard"]')).to_be_hidden()
    page.get_by_label("Show deprecated").check()
    expect(visible).to_have_count(8)
    page.get_by_label("Search").fill("guanaco")
    expect(visible).to_have_count(4)
    page.get_by_label("Search").fill("")
    page.get_by_label("Minimum votes").fill("100000")
    expect(visible).to_have_count(0)
    page.get_by_label("Minimum votes").fill("0")
    page.get_by_label("Hide provisional").check()
    expect(page.locator(".lb-table tr[data-status='provisional']:visible")).to_have_count(0)
    expect(rows.first).to_be_attached()
    save_screenshot("leaderboard-filters")


def test_contender_page_shows_facts_and_opponents(
        live_server: Any, page: Page, save_screenshot: Callable[..., Path]) -> None:
    _seed(live_server)
    page.goto(f"{live_server.url}/leaderboard")
    page.get_by_label("Show deprecated").check()
    page.locator("#lb-table").get_by_role("link", name="bard", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/leaderboard/contender/bard")
    expect(page.locator("h1")).to_have_text("bard")
    facts = page.locator("#lb-contender-facts")
    expect(facts).to_contain_text("Google")
    expect(facts).to_contain_text("Proprietary")
    expect(facts.get_by_role("link")).to_have_attribute("href", "https://example.org/bard")
    expect(page.locator("#lb-opponents tbody tr")).to_have_count(7)
    expect(page.locator("#lb-standings tbody tr[data-view='overall']")).to_be_visible()
    save_screenshot("leaderboard-contender")


def test_no_page_overflows_a_phone_and_tables_scroll_inside(
        live_server: Any, browser: Browser, screenshot_dir: Path) -> None:
    _seed(live_server)
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    phone = context.new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for path in ("/leaderboard", "/leaderboard?view=style", "/leaderboard/contender/gpt-4",
                     "/data", "/leaderboard?view=multi_turn"):
            phone.goto(f"{live_server.url}{path}")
            _no_horizontal_overflow(phone)
        phone.goto(f"{live_server.url}/leaderboard")
        phone.get_by_label("Show deprecated").check()
        box = phone.locator("#lb-table").locator("xpath=..")
        assert box.evaluate("el => el.scrollWidth > el.clientWidth")
        assert box.evaluate("el => getComputedStyle(el).overflowX") == "auto"
        _no_horizontal_overflow(phone)
        phone.screenshot(path=str(screenshot_dir / "leaderboard-phone.png"), full_page=True)
    finally:
        context.close()
    assert not errors
