"""A person's round on the arena page, in real Chromium against the live server.

The demo contenders stream over loopback; the page talks to the real JSON API and the answers
land in the SQLite file behind it, so each test checks what the person sees and what was stored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import func, select

from arena.models import Battle, Contender, Turn

pytestmark = pytest.mark.e2e

# Records, per side, whether an answer ever held streamed text before it was rendered: the
# observer sees every delta, so this cannot miss a stream however fast it is.
WATCH_STREAMING = """
window.__streamed = {a: false, b: false};
new MutationObserver((mutations) => {
  for (const m of mutations) {
    const answer = m.target.nodeType === 1 ? m.target.closest(".answer") : null;
    if (answer && answer.classList.contains("streaming") && answer.textContent.trim()) {
      window.__streamed[answer.dataset.side] = true;
    }
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def _wait_for_phase(page: Page, phase: str, timeout: float = 15_000) -> None:
    # A locator, not wait_for_function: the page's Content-Security-Policy forbids the eval
    # that wait_for_function's string predicates need.
    expect(page.locator("#arena")).to_have_attribute("data-phase", phase, timeout=timeout)


def _send(page: Page, prompt: str) -> None:
    box = page.get_by_label("Your prompt")
    box.fill(prompt)
    box.press("Enter")


def _identities(live_server: Any) -> list[str]:
    with live_server.session() as db:
        rows = db.execute(select(Contender.name, Contender.organization,
                                 Contender.upstream_model)).all()
    return [value for row in rows for value in row if value]


def _assert_anonymous(page: Page, identities: list[str]) -> None:
    html = page.content()
    leaked = [value for value in identities if value.lower() in html.lower()]
    assert leaked == [], f"contender identity on the page before the vote: {leaked}"


def _only_battle(live_server: Any) -> tuple[Battle, list[str], str, str]:
    with live_server.session() as db:
        battle = db.scalars(select(Battle)).one()
        prompts = [t.prompt for t in battle.turns]
        return battle, prompts, battle.contender_a.name, battle.contender_b.name


def test_full_round_streams_continues_votes_and_reveals(
        live_server: Any, page: Page, screenshot_dir: Path) -> None:
    identities = _identities(live_server)
    api_responses: list[Response] = []
    page.on("response", lambda r: api_responses.append(r) if "/api/" in r.url else None)
    page.add_init_script(WATCH_STREAMING)
    page.goto(live_server.url + "/")
    _assert_anonymous(page, identities)
    expect(page.locator("#vote-panel")).to_be_hidden()

    first = "How should I plan a small vegetable garden?"
    page.get_by_label("Your prompt").fill(first)
    expect(page.locator("#prompt-counter")).to_have_text(f"{len(first)} / 8,000")
    page.get_by_label("Share my prompts and the answers in public data releases").check()
    page.get_by_label("Your prompt").press("Enter")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    _wait_for_phase(page, "ready")

    assert page.evaluate("window.__streamed") == {"a": True, "b": True}
    for side in ("a", "b"):
        answer = page.locator(f"#conversation-{side} .answer")
        expect(answer).to_have_count(1)
        expect(answer).to_have_class(re.compile(r"\brendered\b"))
        # Rendered markdown: the server's HTML is in the page, not the raw streamed text.
        assert answer.locator("p, ul, ol, h2, h3, pre").count() >= 1
        assert len(answer.inner_text().strip()) > 20
    expect(page.get_by_role("button", name="👈 A is better")).to_be_enabled()
    expect(page.get_by_role("button", name="👎 Both are bad")).to_be_enabled()
    expect(page.get_by_label("Your prompt")).to_have_attribute(
        "placeholder", re.compile("follow-up"))
    _assert_anonymous(page, identities)

    second = "And what if I only have a balcony?"
    _send(page, second)
    _wait_for_phase(page, "ready")
    for side in ("a", "b"):
        conversation = page.locator(f"#conversation-{side}")
        expect(conversation.locator(".turn-prompt")).to_have_text([first, second])
        expect(conversation.locator(".answer.rendered")).to_have_count(2)
        assert conversation.get_attribute("aria-busy") == "false"
    _assert_anonymous(page, identities)
    # The API's JSON answers before the vote name no one either (the event streams' bodies are
    # gone once closed; what they carried is in the page scanned above).
    assert [r.status for r in api_responses] == [201, 200, 201, 200]
    received = b"".join(r.body() for r in api_responses
                        if r.headers.get("content-type") == "application/json").decode().lower()
    assert received.count('"stream_url"') == 2
    assert [v for v in identities if v.lower() in received] == []

    page.get_by_label(re.compile("optional feedback")).fill("A was easier to follow.")
    page.get_by_role("button", name="👈 A is better").click()
    expect(page.locator("#result")).to_contain_text("A is better")

    battle, prompts, name_a, name_b = _only_battle(live_server)
    assert prompts == [first, second]
    assert battle.state == "voted"
    expect(page.locator("#reveal-a .reveal-name")).to_have_text(name_a)
    expect(page.locator("#reveal-b .reveal-name")).to_have_text(name_b)
    expect(page.locator("#side-a")).to_have_class(re.compile(r"\bwinner\b"))
    for button in page.locator("#vote-panel button.vote").all():
        expect(button).to_be_disabled()
    expect(page.get_by_role("button", name="👈 A is better")).to_have_attribute(
        "aria-pressed", "true")
    with live_server.session() as db:
        vote = db.scalars(select(Battle)).one().vote
        assert vote is not None
        assert (vote.winner, vote.feedback) == ("model_a", "A was easier to follow.")
    page.screenshot(path=str(screenshot_dir / "arena-round.png"), full_page=True)

    page.get_by_role("button", name="New round").click()
    expect(page.locator("#conversation-a .turn")).to_have_count(0)
    expect(page.locator("#reveal-a")).to_be_hidden()
    expect(page.get_by_label("Your prompt")).to_be_enabled()
    _assert_anonymous(page, identities)


def test_markup_in_a_prompt_is_shown_as_text_and_never_runs(
        live_server: Any, page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/")
    payload = ('<img src=x onerror="window.__xss=1"> and '
               '<script>window.__xss=1</script> what is this?')
    _send(page, payload)
    _wait_for_phase(page, "ready")

    assert page.evaluate("typeof window.__xss") == "undefined"
    for side in ("a", "b"):
        conversation = page.locator(f"#conversation-{side}")
        expect(conversation.locator(".turn-prompt")).to_have_text(payload)
        expect(conversation.locator("img, script")).to_have_count(0)
    assert not [url for url in requested if url.endswith("/x")], "the <img> was fetched"
    with live_server.session() as db:
        assert db.scalar(select(Turn.prompt)) == payload


def test_failing_pair_shows_the_error_and_a_new_round_button_without_votes(
        live_server: Any, page: Page) -> None:
    live_server.deactivate_contenders()
    live_server.add_contender("Broken One", model="fault-500")
    live_server.add_contender("Broken Two", model="fault-500")
    page.goto(live_server.url + "/")
    _send(page, "Will this work?")
    _wait_for_phase(page, "failed")

    error = page.get_by_role("alert")
    expect(error).to_be_visible()
    expect(error).to_contain_text("This round failed")
    expect(error).to_contain_text("returned an error")
    expect(page.locator("#vote-panel")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("is better|Tie|Both are bad"))) \
        .to_have_count(0)
    expect(page.locator(".answer.failed")).to_have_count(2)
    with live_server.session() as db:
        assert db.scalars(select(Battle.state)).all() == ["failed"]

    page.get_by_role("button", name="New round").click()
    expect(error).to_be_hidden()
    expect(page.get_by_label("Your prompt")).to_be_visible()
    expect(page.locator("#conversation-a .turn")).to_have_count(0)


def test_too_long_prompt_shows_the_limit_and_keeps_the_text(
        live_server: Any, page: Page) -> None:
    page.goto(live_server.url + "/")
    prompt = "x" * 8001
    box = page.get_by_label("Your prompt")
    box.fill(prompt)
    expect(page.locator("#prompt-counter")).to_have_text("8,001 / 8,000 · too long")
    box.press("Enter")

    error = page.get_by_role("alert")
    expect(error).to_have_text("The prompt is 8001 characters long; the limit is 8000.")
    expect(box).to_have_value(prompt)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    expect(page.get_by_role("button", name="New round")).to_be_visible()
    expect(page.locator("#conversation-a .turn")).to_have_count(0)
    with live_server.session() as db:
        assert db.scalar(select(func.count()).select_from(Battle)) == 0


def test_shift_enter_adds_a_line_instead_of_sending(live_server: Any, page: Page) -> None:
    page.goto(live_server.url + "/")
    box = page.get_by_label("Your prompt")
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    expect(page.locator("#conversation-a .turn")).to_have_count(0)
    with live_server.session() as db:
        assert db.scalar(select(func.count()).select_from(Battle)) == 0


def test_columns_stack_on_a_narrow_screen(live_server: Any, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    box_a = page.locator("#side-a").bounding_box()
    box_b = page.locator("#side-b").bounding_box()
    assert box_a is not None and box_b is not None
    assert box_b["y"] >= box_a["y"] + box_a["height"]
    assert box_a["width"] == pytest.approx(box_b["width"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
