"""The proof-of-work gate in a real browser: static/gates.js solves the puzzle on each vote."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from arena.integrity.models import GateResult
from arena.models import Battle


def test_browser_solves_the_proof_of_work_and_the_vote_passes_the_gate(
        live_server_config: dict[str, Any], live_server: Any, page: Page) -> None:
    live_server.app.config["GATE_POW_BITS"] = 12
    page.goto(live_server.url + "/")
    page.locator("#prompt").fill("How do I keep basil alive indoors?")
    page.locator("#prompt").press("Enter")
    expect(page.locator("#vote-panel")).to_be_visible(timeout=20_000)
    expect(page.locator("#vote-panel button[data-winner=tie]")).to_be_enabled(timeout=20_000)
    public_id = re.search(r"/b/([^/?#]+)$", page.url).group(1)  # type: ignore[union-attr]
    with page.expect_request(re.compile(r"/vote$")) as sent:
        page.locator("#vote-panel button[data-winner=tie]").click()
    nonce = sent.value.post_data_json["pow"]
    digest = hashlib.sha256(f"{public_id}:{nonce}".encode()).digest()
    assert int.from_bytes(digest, "big") >> (256 - 12) == 0
    expect(page.locator("#result")).to_contain_text("tie", ignore_case=True)
    with live_server.session() as db:
        battle = db.scalars(select(Battle).where(Battle.public_id == public_id)).one()
        gates = db.scalars(select(GateResult).where(GateResult.battle_id == battle.id)).all()
        assert [(g.gate, g.status) for g in gates] == [("pow", "passed")]
