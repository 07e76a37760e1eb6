"""The demo endpoint's image and audio styles: deterministic, distinct, valid media."""

from __future__ import annotations

import pytest

from arena.modalities import audio, image
from arena.modalities.demo_media import AUDIO_STYLES, IMAGE_STYLES, demo_audio, demo_image


@pytest.mark.parametrize("model", sorted(IMAGE_STYLES))
def test_demo_images_are_deterministic_valid_and_prompt_dependent(model: str) -> None:
    first = demo_image(model, "a lighthouse")
    assert first == demo_image(model, "a lighthouse") != demo_image(model, "a cat")
    assert model.encode() in first  # it tags itself, as real generators do
    image.sanitise(first)


@pytest.mark.parametrize("model", sorted(AUDIO_STYLES))
def test_demo_audio_is_deterministic_valid_and_long_enough_for_the_gate(model: str) -> None:
    first = demo_audio(model, "read this sentence aloud please")
    assert first == demo_audio(model, "read this sentence aloud please")
    clip = audio.sanitise(first)
    assert clip.facts["duration_s"] >= 5.0


def test_styles_differ() -> None:
    images = {demo_image(m, "same") for m in IMAGE_STYLES}
    clips = {audio.sanitise(demo_audio(m, "same")).data for m in AUDIO_STYLES}
    assert len(images) == len(IMAGE_STYLES) and len(clips) == len(AUDIO_STYLES)
