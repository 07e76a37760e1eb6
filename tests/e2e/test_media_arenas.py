"""A full round in the image arena and in the speech arena, in Chromium: outputs appear
together, the vote stays locked until the view/listen gate is met, then the reveal."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

IMAGE = (("Heron-Paint", "Wader Studio", "demo-mondrian"),
         ("Ibis-Canvas", "Marsh Pixels", "demo-sunset"))
SPEECH = (("Curlew-Voice", "Shore Audio", "demo-baritone"),
          ("Godwit-Speak", "Estuary Sound", "demo-soprano"))


@pytest.fixture
def live_server_config(live_server_config: dict[str, Any]) -> dict[str, Any]:
    return {**live_server_config, "MEDIA_VIEW_GATE_S": 2, "MEDIA_LISTEN_GATE_S": 2}


def _seed(live_server: Any, contenders: tuple[tuple[str, str, str], ...], arena: str) -> None:
    for name, org, model in contenders:
        live_server.add_contender(name, org, model, arena=arena)


def _votes(page: Page) -> Any:
    return page.locator("#vote-bar button")


def test_image_round(page: Page, live_server: Any, save_screenshot: Callable[..., Path]) -> None:
    _seed(live_server, IMAGE, "image")
    page.goto(f"{live_server.url}/arena/image")
    page.fill("#prompt", "A lighthouse at dusk")
    page.click("#send")
    images = page.locator(".media-image")
    expect(images).to_have_count(2, timeout=20_000)
    shown = time.monotonic()
    expect(_votes(page).first).to_be_disabled()  # the view gate holds the vote
    for name, org, _ in IMAGE:
        assert name not in page.content() and org not in page.content()
    expect(_votes(page).first).to_be_enabled(timeout=5_000)
    assert time.monotonic() - shown >= 1.5
    images.first.click()
    expect(images.first).to_have_class("media-image zoomed")
    images.first.click()
    save_screenshot("media-image-round")
    page.click("#vote-bar button[data-winner='model_a']")
    expect(page.locator("#result")).to_be_visible()
    revealed = page.locator("#reveal-a").inner_text() + page.locator("#reveal-b").inner_text()
    assert all(name in revealed for name, _, _ in IMAGE)
    save_screenshot("media-image-revealed")


def test_speech_round_waits_for_both_clips(page: Page, live_server: Any,
                                           save_screenshot: Callable[..., Path]) -> None:
    _seed(live_server, SPEECH, "speech")
    page.goto(f"{live_server.url}/arena/speech")
    page.fill("#prompt", "Good morning, today is sunny and mild")
    page.click("#send")  # a user gesture on the page: playback may start from script
    clips = page.locator(".media-output audio")
    expect(clips).to_have_count(2, timeout=20_000)
    time.sleep(2.5)
    expect(_votes(page).first).to_be_disabled()  # time alone does not open a listen gate
    page.evaluate("document.querySelector('#side-a audio').play()")
    time.sleep(2.5)
    expect(_votes(page).first).to_be_disabled()  # one clip heard is not enough
    assert "B:" in page.locator("#status").inner_text()
    page.evaluate("document.querySelector('#side-b audio').play()")
    expect(_votes(page).first).to_be_enabled(timeout=8_000)
    save_screenshot("media-speech-round")
    page.click("#vote-bar button[data-winner='tie']")
    expect(page.locator("#result")).to_be_visible()
    revealed = page.locator("#reveal-a").inner_text() + page.locator("#reveal-b").inner_text()
    assert all(name in revealed for name, _, _ in SPEECH)
    save_screenshot("media-speech-revealed")
