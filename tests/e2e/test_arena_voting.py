"""The voting page of issue 9 in real Chromium: the vote bar in view at four screen sizes,
keyboard votes, resume after reload, share links, Stop/Retry, copy, highlighted code, facts
after the vote, dark mode, the phone layout, the stored consent, and axe-core on every page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from arena.models import Battle, Voter

pytestmark = pytest.mark.e2e

PHASE = "document.getElementById('arena').dataset.phase"
VOTES = ("model_a", "model_b", "tie", "both_bad")

# Whether the element at a point is `element` or inside it: what a click there would hit.
HIT = """(el) => {
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const inside = x >= 0 && y >= 0 && x <= window.innerWidth && y <= window.innerHeight;
  const hit = document.elementFromPoint(x, y);
  return {inside, hit: Boolean(hit && (hit === el || el.contains(hit))),
          what: hit ? hit.outerHTML.slice(0, 80) : null};
}"""


def wait_phase(page: Page, phase: str, timeout: float = 20_000) -> None:
    page.wait_for_function(f"{PHASE} === {phase!r}", timeout=timeout)


def send(page: Page, prompt: str) -> None:
    box = page.get_by_label("Your prompt")
    box.fill(prompt)
    box.press("Enter")


def play_to_ready(page: Page, url: str, prompt: str = "How do I keep basil alive indoors?"
                  ) -> str:
    page.goto(url + "/")
    send(page, prompt)
    wait_phase(page, "ready")
    match = re.search(r"/b/([^/?#]+)$", page.url)
    assert match, f"the page URL is not the battle's: {page.url}"
    return match.group(1)


def only_pair(live_server: Any, model: str) -> None:
    live_server.deactivate_contenders()
    live_server.add_contender("Heron-One", model=model)
    live_server.add_contender("Heron-Two", model=model)


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768), (1920, 1080), (390, 844)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_vote_bar_is_in_view_and_focus_stays_off_the_follow_up_box(
        live_server: Any, page: Page, size: tuple[int, int]) -> None:
    # The verbose contenders give long answers: the columns fill the screen.
    only_pair(live_server, "demo-verbose")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    play_to_ready(page, live_server.url)
    for winner in VOTES:
        button = page.locator(f"#vote-panel button[data-winner={winner}]")
        seen = button.evaluate(HIT)
        assert seen["inside"] and seen["hit"], f"{winner} at {size}: {seen}"
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    assert focused not in ("prompt", "feedback"), focused
    assert page.evaluate("window.scrollY") == 0 or size[0] < 800  # no jump on a wide screen
    if size == (390, 844):
        # What is shown (and read out) names the stacked places, not left and right.
        expect(page.locator("#vote-panel button[data-winner=model_a]")) \
            .to_have_accessible_name("👆 A (top) is better")
        expect(page.locator("#vote-panel button[data-winner=model_b]")) \
            .to_have_accessible_name("👇 B (bottom) is better")
        expect(page.locator("#side-a-title")).to_have_accessible_name("Model A (top)")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_keyboard_shortcuts_vote_and_are_documented(live_server: Any, page: Page) -> None:
    public_id = play_to_ready(page, live_server.url)
    expect(page.locator("#vote-keys")).to_contain_text("B is better")
    # Typing in the feedback box is text, not a vote.
    page.get_by_label(re.compile("optional feedback")).press_sequentially("a bit better")
    assert page.evaluate(PHASE) == "ready"
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("b")
    expect(page.locator("#result")).to_contain_text("B is better")
    with live_server.session() as db:
        battle = db.scalars(select(Battle).where(Battle.public_id == public_id)).one()
        assert battle.vote is not None
        assert (battle.vote.winner, battle.vote.feedback) == ("model_b", "a bit better")


def test_reload_warns_and_resumes_the_unvoted_battle_for_its_owner_only(
        live_server: Any, page: Page, browser: Browser) -> None:
    public_id = play_to_ready(page, live_server.url, "Explain `git rebase` in **two** lines")
    answers = [page.locator(f"#conversation-{s} .answer").inner_text() for s in "ab"]
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", accept)
    page.reload()
    wait_phase(page, "ready")
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(f"/b/{public_id}")
    # The prompt is rendered like the answers (markdown), and the answers are back.
    expect(page.locator("#conversation-a .turn-prompt strong")).to_have_text("two")
    assert [page.locator(f"#conversation-{s} .answer").inner_text() for s in "ab"] == answers
    page.keyboard.press("a")
    expect(page.locator("#result")).to_contain_text("A is better")
    with live_server.session() as db:
        assert db.scalar(select(Battle.state).where(Battle.public_id == public_id)) == "voted"

    stranger = browser.new_context()
    try:
        other = stranger.new_page()
        assert other.goto(f"{live_server.url}/b/{public_id}").status == 404  # not shared
    finally:
        stranger.close()


def test_unvoted_battle_url_is_not_found_for_anyone_else(
        live_server: Any, page: Page, browser: Browser) -> None:
    public_id = play_to_ready(page, live_server.url)
    stranger = browser.new_context()
    try:
        response = stranger.new_page().goto(f"{live_server.url}/b/{public_id}")
        assert response is not None and response.status == 404
    finally:
        stranger.close()


def test_share_link_shows_the_revealed_conversation_with_consent(
        live_server: Any, page: Page, browser: Browser, assert_accessible: Any,
        save_screenshot: Any) -> None:
    only_pair(live_server, "demo-markdown")
    page.goto(live_server.url + "/")
    page.get_by_label("Share my prompts and the answers in public data releases").check()
    send(page, "Plan a python script to rename files")
    wait_phase(page, "ready")
    page.get_by_role("button", name="🤝 Tie").click()
    link = page.locator("#share-link")
    expect(link).to_be_visible()
    # Per-side facts after the vote: tokens, time to first token, total time.
    for side in "ab":
        facts = page.locator(f"#reveal-{side} .facts")
        expect(facts).to_contain_text("Tokens")
        expect(facts).to_contain_text("First token")
        expect(facts).to_contain_text(re.compile(r"Total time\s*\d+\.\d\d s"))
    expect(page.locator("#reveal-a a.reveal-name")).to_have_attribute(
        "href", re.compile(r"/leaderboard"))
    assert_accessible("the arena page after the vote")
    href = link.get_attribute("href")
    assert href

    stranger = browser.new_context()
    try:
        other = stranger.new_page()
        response = other.goto(href)
        assert response is not None and response.status == 200
        expect(other.locator("#verdict")).to_have_text("Tie")
        names = [other.locator(f"#reveal-{s} .reveal-name").inner_text() for s in "ab"]
        assert sorted(names) == ["Heron-One", "Heron-Two"]
        expect(other.locator("#reveal-a a.reveal-name")).to_have_attribute(
            "href", re.compile(r"/leaderboard.*heron-(one|two)", re.IGNORECASE))
        expect(other.locator("#conversation-a .turn-prompt")).to_contain_text("rename files")
        expect(other.locator("#conversation-a pre code .tok-keyword").first).to_have_text("def")
        expect(other.locator("#side-a .facts")).to_contain_text("Tokens")
    finally:
        stranger.close()
    page.goto(href)
    save_screenshot("battle-share")
    assert_accessible("the shared battle page")


def test_stop_keeps_the_prompt_and_retry_starts_a_new_battle_with_it(
        live_server: Any, page: Page) -> None:
    only_pair(live_server, "fault-slow")  # the first chunk takes 2 s: time to press Stop
    page.goto(live_server.url + "/")
    send(page, "Tell me about the moon")
    stop = page.get_by_role("button", name="■ Stop")
    expect(stop).to_be_visible()
    wait_phase(page, "streaming")
    stop.click()
    wait_phase(page, "failed")
    expect(page.get_by_role("alert")).to_contain_text("You stopped it")
    page.get_by_role("button", name="↻ Retry with the same prompt").click()
    wait_phase(page, "ready")
    expect(page.locator("#conversation-a .turn-prompt")).to_have_text("Tell me about the moon")
    with live_server.session() as db:
        rows = db.execute(select(Battle.state, Battle.id).order_by(Battle.id)).all()
        prompts = [b.turns[0].prompt for b in db.scalars(select(Battle).order_by(Battle.id))]
    assert [r.state for r in rows] == ["abandoned", "ready"]
    assert prompts == ["Tell me about the moon"] * 2


def test_failed_round_offers_a_retry_with_the_same_prompt(
        live_server: Any, page: Page) -> None:
    only_pair(live_server, "fault-500")
    page.goto(live_server.url + "/")
    send(page, "Will this work?")
    wait_phase(page, "failed")
    retry = page.get_by_role("button", name="↻ Retry with the same prompt")
    expect(retry).to_be_focused()
    retry.click()
    wait_phase(page, "failed")
    with live_server.session() as db:
        assert [b.turns[0].prompt for b in db.scalars(select(Battle))] == ["Will this work?"] * 2


def test_copy_buttons_and_highlighted_code(live_server: Any, page: Page) -> None:
    only_pair(live_server, "demo-markdown")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    play_to_ready(page, live_server.url, "Show me a planning helper")
    code = page.locator("#conversation-a pre code")
    expect(code.locator(".tok-keyword").first).to_have_text("def")
    expect(code.locator(".tok-string").first).to_be_visible()
    page.locator("#conversation-a pre .copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == code.inner_text()
    page.get_by_role("button", name="Copy model B's answer").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("## ") and "```python" in copied  # the answer's markdown source


def test_consent_box_shows_the_choice_made_on_the_privacy_page(
        live_server: Any, page: Page) -> None:
    page.goto(live_server.url + "/privacy")
    page.locator("#release_consent").check()
    page.locator("#save-choices").click()
    page.goto(live_server.url + "/")
    box = page.get_by_label("Share my prompts and the answers in public data releases")
    expect(box).to_be_checked()
    public_id = play_to_ready(page, live_server.url)
    with live_server.session() as db:
        battle = db.scalars(select(Battle).where(Battle.public_id == public_id)).one()
        voter = db.get(Voter, battle.voter_id)
        assert battle.release_consent is True
        assert voter is not None and voter.release_consent is True  # not silently revoked


def test_terms_are_shown_before_the_first_prompt(live_server: Any, page: Page) -> None:
    page.goto(live_server.url + "/")
    terms = page.locator("#terms")
    expect(terms).to_be_visible()
    expect(terms).to_contain_text("Don't type personal")
    expect(terms.get_by_role("link", name="privacy page")).to_be_visible()


def test_dark_mode_follows_the_system_and_stays_accessible(
        live_server: Any, browser: Browser, assert_accessible: Any) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        play_to_ready(page, live_server.url)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        red, green, blue = map(int, re.findall(r"\d+", background)[:3])
        assert max(red, green, blue) < 60, background
        assert_accessible("the arena page in dark mode", on=page)
    finally:
        context.close()


def test_axe_finds_no_serious_violations_on_every_page(
        live_server: Any, page: Page, assert_accessible: Any) -> None:
    for path in ("/", "/leaderboard", "/data", "/privacy"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        assert_accessible(path)
    play_to_ready(page, live_server.url)
    assert_accessible("the arena page, ready to vote")


def test_screenshots_for_the_readme(live_server: Any, browser: Browser, page: Page,
                                    screenshot_dir: Path) -> None:
    only_pair(live_server, "demo-markdown")
    page.set_viewport_size({"width": 1280, "height": 800})
    play_to_ready(page, live_server.url, "How should I structure a small Python project?")
    page.screenshot(path=str(screenshot_dir / "arena-ready.png"))
    for name, options in (("arena-dark", {"color_scheme": "dark",
                                          "viewport": {"width": 1280, "height": 800}}),
                          ("arena-phone", {"viewport": {"width": 390, "height": 844},
                                           "device_scale_factor": 2})):
        context = browser.new_context(**options)
        try:
            other = context.new_page()
            play_to_ready(other, live_server.url,
                          "How should I structure a small Python project?")
            other.screenshot(path=str(screenshot_dir / f"{name}.png"))
        finally:
            context.close()
    assert all((screenshot_dir / f"{n}.png").stat().st_size > 10_000
               for n in ("arena-ready", "arena-dark", "arena-phone"))
