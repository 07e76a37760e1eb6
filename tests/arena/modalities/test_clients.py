"""Image and audio endpoint clients over a real loopback server, faults included."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from arena import modalities
from arena.errors import EndpointHTTPError, EndpointTimeout, EndpointUnreachable
from arena.inference import Endpoint
from arena.modalities.base import MediaRejected
from arena.modalities.clients import generate, generate_sanitised, openai_url

IMAGE, SPEECH = modalities.get("image"), modalities.get("speech")


def _ep(base: str, model: str, **params: Any) -> Endpoint:
    return Endpoint(base_url=base, model=model, connect_timeout=1.0, read_timeout=0.5,
                    total_timeout=5.0, params=params)


def test_openai_url_accepts_base_with_or_without_v1() -> None:
    for base in ("http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/"):
        assert openai_url(base, "audio/speech") == "http://h:1/v1/audio/speech"


@pytest.mark.parametrize("mode", ["ok", "url"])
def test_openai_images_base64_or_fetched_url(media_endpoint: Any, mode: str) -> None:
    data = generate(_ep(media_endpoint.url + "/v1", mode, size="512x512"), IMAGE, "a fox")
    assert data.startswith(b"\x89PNG") and IMAGE.sanitise is not None
    IMAGE.sanitise(data)
    path, body, _ = media_endpoint.requests[-2 if mode == "url" else -1]
    assert path == "/v1/images/generations"
    if mode == "url":  # fetched server-side, once
        assert media_endpoint.requests[-1][0] == "/files/img.png"
    assert body == {"response_format": "b64_json", "size": "512x512", "model": mode,
                    "prompt": "a fox", "n": 1}


def test_openai_speech_returns_wav_and_keeps_client_params_private(media_endpoint: Any) -> None:
    data = generate(_ep(media_endpoint.url, "ok", voice="nova", api="openai"), SPEECH, "hi")
    assert data[:4] == b"RIFF"
    path, body, headers = media_endpoint.requests[-1]
    assert path == "/v1/audio/speech"
    assert body == {"voice": "nova", "response_format": "wav", "model": "ok", "input": "hi"}
    assert "authorization" not in {k.lower() for k in headers}


@pytest.mark.parametrize("modality", [IMAGE, SPEECH], ids=["image", "speech"])
@pytest.mark.parametrize("api", ["openai", "hf"])
def test_typed_failures(media_endpoint: Any, modality: Any, api: str) -> None:
    kind = "image" if modality is IMAGE else "audio"

    def ep(mode: str, base: str | None = None) -> Endpoint:
        if api == "hf":
            return _ep(base or f"{media_endpoint.url}/hf/{kind}/{mode}", "m", api="hf")
        return _ep(base or media_endpoint.url, mode)

    with pytest.raises(EndpointHTTPError) as http_error:
        generate(ep("500"), modality, "p")
    assert http_error.value.details == {"status": 500}
    started = time.monotonic()
    with pytest.raises(EndpointTimeout) as timeout:
        generate(ep("hang"), modality, "p")
    assert timeout.value.details == {"phase": "read"}
    assert time.monotonic() - started < 2.5
    with pytest.raises(MediaRejected):
        generate_sanitised(ep("garbage"), modality, "p")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(EndpointUnreachable):
        generate(ep("ok", base=dead + (f"/hf/{kind}/ok" if api == "hf" else "")), modality, "p")


def test_openai_image_non_json_and_oversized_url_are_rejected(media_endpoint: Any) -> None:
    with pytest.raises(MediaRejected):
        generate(_ep(media_endpoint.url, "notjson"), IMAGE, "p")
    with pytest.raises(MediaRejected) as too_large:
        generate(_ep(media_endpoint.url, "huge"), IMAGE, "p", max_bytes=1024 * 1024)
    assert too_large.value.details == {"reason": "too_large"}


def test_hf_text_to_image_and_speech(media_endpoint: Any) -> None:
    png = generate(_ep(f"{media_endpoint.url}/hf/image/ok", "m", api="hf", seed=3), IMAGE, "fox")
    assert png.startswith(b"\x89PNG")
    path, body, _ = media_endpoint.requests[-1]
    assert path == "/hf/image/ok" and body["inputs"] == "fox"
    wav = generate(_ep(f"{media_endpoint.url}/hf/audio/ok", "m", api="hf"), SPEECH, "hello")
    assert wav[:4] == b"RIFF"


@pytest.mark.parametrize("modality", [IMAGE, SPEECH], ids=["image", "speech"])
def test_contenders_naming_themselves_in_metadata_are_indistinguishable(
        media_endpoint: Any, modality: Any) -> None:
    raw = [generate(_ep(media_endpoint.url, f"tagged-{n}"), modality, "same prompt")
           for n in ("AcmeModel", "GlobexGen")]
    assert b"AcmeModel" in raw[0] and b"GlobexGen" in raw[1]
    served = [generate_sanitised(_ep(media_endpoint.url, f"tagged-{n}"), modality,
                                 "same prompt") for n in ("AcmeModel", "GlobexGen")]
    assert served[0].data == served[1].data
    assert b"AcmeModel" not in served[0].data and b"Globex" not in served[0].data
