"""The Data page and the privacy controls in Chromium, with a release cut from real votes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from arena.leaderboard.importer import parse_vicuna_votes, store_rows
from arena.models import DataRelease, Voter

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "arena" / "qlora_vicuna80_human"


@pytest.fixture
def live_server_config(live_server_config: dict[str, Any]) -> dict[str, Any]:
    live_server_config["LEADERBOARD_BOOTSTRAP"] = 20
    return live_server_config


def _release(live_server: Any) -> DataRelease:
    rows = parse_vicuna_votes(DATA / "votes.csv", DATA / "answers.jsonl",
                              DATA / "questions.jsonl")[::6]
    with live_server.session() as db:
        store_rows(db, rows, source="import", secret=live_server.app.config["SECRET_KEY"],
                   now=datetime(2026, 1, 10, 12, tzinfo=UTC))
        db.commit()
    result = live_server.app.test_cli_runner().invoke(
        args=["releases", "cut", "--now", "2026-03-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    with live_server.session() as db:
        return db.scalars(select(DataRelease)).one()


def test_data_page_lists_the_release_with_checksums_and_downloads(
        live_server: Any, page: Page, screenshot_dir: Path) -> None:
    page.goto(f"{live_server.url}/data")
    expect(page.locator("#no-releases")).to_be_visible()

    release = _release(live_server)
    page.goto(f"{live_server.url}/data")
    card = page.locator(f"#release-{release.name}")
    expect(card.locator("h2")).to_have_text(release.name)
    expect(card.locator(".release-rows")).to_have_text(str(release.n_battles))
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Data")
    manifest = next(f for f in release.files if f["name"] == "manifest.json")
    expect(card.get_by_text(manifest["sha256"])).to_be_visible()
    card.locator("summary").click()
    # The recipe starts with installing the code; the fit command follows.
    expect(card.locator(".reproduce")).to_contain_text(
        "python -m ratings fit battles.parquet")
    page.screenshot(path=str(screenshot_dir / "data-page.png"), full_page=True)

    card.get_by_role("link", name="manifest.json").click()
    body = json.loads(page.locator("body").inner_text())
    assert body["rows"] == release.n_battles
    downloaded = page.request.get(f"{live_server.url}/data/{release.name}/battles.parquet")
    assert hashlib.sha256(downloaded.body()).hexdigest() == next(
        f["sha256"] for f in release.files if f["name"] == "battles.parquet")


def test_privacy_page_opt_out_is_confirmed_and_stored(live_server: Any, page: Page) -> None:
    page.goto(f"{live_server.url}/privacy")
    expect(page.locator("#status-opt-out")).to_have_text("votes may be released")
    page.locator("#release_opt_out").check()
    page.locator("#save-choices").click()
    expect(page.locator(".privacy-flash")).to_contain_text("You are opted out")
    expect(page.locator("#release_opt_out")).to_be_checked()
    expect(page.locator("#status-opt-out")).to_have_text("opted out of releases")
    with live_server.session() as db:
        voters = list(db.scalars(select(Voter)))
    assert len(voters) == 1 and voters[0].opted_out_at is not None

    page.locator("#delete-data").click()
    expect(page.locator(".privacy-flash")).to_contain_text("Nothing was deleted")
    page.locator("#confirm-deletion").check()
    page.locator("#delete-data").click()
    expect(page.locator(".privacy-flash")).to_contain_text("Deleted.")
    with live_server.session() as db:
        voter = db.get(Voter, voters[0].id)
        assert voter is not None and voter.deletion_requested_at is not None
