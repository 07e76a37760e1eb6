"""The leaderboard page in Chromium, on real votes (QLoRA/PRD Vicuna-80 human study).

The live server's database is seeded by importing the real votes in three weekly batches and
publishing after each, so the page has a rating history; then the page is read, sorted,
switched to the style-controlled view and photographed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from arena.leaderboard.importer import parse_vicuna_votes, store_rows
from arena.leaderboard.publish import publish
from arena.models import Contender

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "arena" / "qlora_vicuna80_human"
T0 = datetime(2023, 5, 1, tzinfo=UTC)
ORGANIZATIONS = {"gpt-4": ("OpenAI", "Proprietary"), "gpt-3.5-turbo": ("OpenAI", "Proprietary"),
                 "bard": ("Google", "Proprietary"), "vicuna-13b": ("LMSYS", "Non-commercial")}


def _seed(live_server) -> None:  # type: ignore[no-untyped-def]
    secret = live_server.app.config["SECRET_KEY"]
    rows = parse_vicuna_votes(DATA / "votes.csv", DATA / "answers.jsonl",
                              DATA / "questions.jsonl")
    for week, part in enumerate((rows[::3], rows[::2], rows)):
        with live_server.session() as db:
            store_rows(db, part, source="import", secret=secret, now=T0 + timedelta(weeks=week))
            for contender in db.scalars(select(Contender)):
                org, licence = ORGANIZATIONS.get(contender.name, ("UW NLP", "LLaMA licence")) \
                    if not contender.active else (contender.organization, contender.license)
                contender.organization, contender.license = org, licence
            report = publish(db, n_bootstrap=100, seed=42, min_votes=30,
                             now=T0 + timedelta(weeks=week, hours=1))
            assert not report.up_to_date and "overall" in report.published
            db.commit()


def test_leaderboard_page_shows_table_plots_and_switches_views(
        live_server, page: Page,  # type: ignore[no-untyped-def]
        save_screenshot: Callable[..., Path]) -> None:
    _seed(live_server)
    page.goto(f"{live_server.url}/leaderboard")

    table = page.locator("#lb-table")
    ranked = table.locator("tbody tr[data-contender]")
    expect(ranked).to_have_count(8)
    expect(ranked.first).to_have_attribute("data-contender", "gpt-4")
    expect(page.locator("#lb-n-battles")).to_have_text("6,720")
    for figure in ("plot-ratings", "plot-win", "plot-counts", "plot-history"):
        svg = page.locator(f"#{figure} svg")
        expect(svg).to_be_visible()
        assert svg.bounding_box()["height"] > 100, figure  # type: ignore[index]
    # Three publications: the history has three points per contender.
    expect(page.locator("#plot-history svg polyline").first).to_be_visible()
    assert page.locator("#plot-history svg circle").count() == 3 * 8
    # Demo contenders without votes are not ranked.
    expect(page.get_by_text("Quokka-7B")).to_have_count(0)
    save_screenshot("leaderboard-overall")

    # Sorting by name (a JS enhancement) reorders rows; sorting by rank restores them.
    page.get_by_role("button", name="Contender").click()
    expect(ranked.first).to_have_attribute("data-contender", "bard")
    page.get_by_role("button", name="Rank (UB)").click()
    expect(ranked.first).to_have_attribute("data-contender", "gpt-4")

    page.get_by_role("navigation", name="Leaderboard views").get_by_role(
        "link", name="Style-controlled", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/leaderboard?view=style")
    expect(page.locator(".lb-view.current")).to_have_text("Style-controlled")
    expect(page.locator("#lb-table thead")).to_contain_text("vs overall")
    expect(page.locator("#lb-style tbody tr")).to_have_count(3)
    expect(page.locator("#lb-method")).to_contain_text("controlling length")
    save_screenshot("leaderboard-style")
