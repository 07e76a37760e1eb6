"""The image arena: text-to-image endpoints, outputs re-encoded as fresh PNGs.

Sanitising policy (README, "Image and audio arenas"): the output is decoded with Pillow and
its pixels are copied into a brand-new image, so nothing of the original container survives
(EXIF, PNG text/iTXt/zTXt chunks, XMP, C2PA manifests, ICC profiles, generator tags). Alpha
is flattened onto white, and every image is scaled to fit the same ``BOX`` × ``BOX`` bounding
box (aspect ratio kept), so the two sides of a battle are shown at comparable sizes and a
model cannot be recognised by its native resolution. The native resolution, aspect ratio and
file size are kept as style features instead.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Mapping
from typing import Any

from PIL import Image, UnidentifiedImageError

from arena.modalities.base import MediaRejected, Modality, Sanitised, register

BOX = 768  # longest side of every served image, in pixels
MAX_INPUT_BYTES = 32 * 1024 * 1024
MAX_PIXELS = 64 * 1024 * 1024  # decompression-bomb guard (64 Mpx)


def build_request(prompt: str, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Body of OpenAI's ``POST /v1/images/generations``; base64 asked first (no second fetch)."""
    body: dict[str, Any] = {"response_format": "b64_json", "size": "1024x1024"}
    body.update((k, v) for k, v in params.items() if k not in ("model", "prompt", "n"))
    return {**body, "model": model, "prompt": prompt, "n": 1}


def parse_response(payload: Any) -> bytes | str:
    """The first image of an images/generations answer: its bytes, or its URL to fetch."""
    try:
        item = payload["data"][0]
    except (KeyError, IndexError, TypeError):
        raise MediaRejected(details={"reason": "no_image"}) from None
    if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
        try:
            return base64.b64decode(item["b64_json"], validate=True)
        except (binascii.Error, ValueError):
            raise MediaRejected(details={"reason": "bad_base64"}) from None
    if isinstance(item, dict) and isinstance(item.get("url"), str):
        return str(item["url"])
    raise MediaRejected(details={"reason": "no_image"})


def sanitise(data: bytes) -> Sanitised:
    """A fresh PNG of the image's pixels only, fitted to the ``BOX`` bounding box."""
    if len(data) > MAX_INPUT_BYTES:
        raise MediaRejected(details={"reason": "too_large"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as source:
                if source.width * source.height > MAX_PIXELS:
                    raise MediaRejected(details={"reason": "too_many_pixels"})
                source.seek(0)  # animated formats: the first frame only
                rgba = source.convert("RGBA")
    except MediaRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected(details={"reason": "not_an_image"}) from None
    width, height = rgba.size
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    scale = BOX / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    fitted = flat.resize(size, Image.Resampling.LANCZOS)
    # frombytes: a new image object with an empty .info, so no chunk can be carried over.
    clean = Image.frombytes("RGB", fitted.size, fitted.tobytes())
    out = io.BytesIO()
    clean.save(out, format="PNG", compress_level=6)
    png = out.getvalue()
    return Sanitised(data=png, media_type="image/png", extension="png",
                     facts={"width": float(width), "height": float(height),
                            "bytes": float(len(png))})


def style_features(facts: Mapping[str, float]) -> dict[str, float]:
    """Native resolution (units of 10,000 pixels), aspect ratio (100 × width / height) and
    served file size (KiB).

    Non-negative raw values, like text lengths: the rating engine compares the two sides
    with its fixed ``(a - b) / (a + b + 1)`` transform.
    """
    width, height = facts.get("width", 0.0), facts.get("height", 0.0)
    if width <= 0 or height <= 0:
        return {}
    return {"resolution": width * height / 1e4, "aspect": 100.0 * width / height,
            "file_size": max(facts.get("bytes", 0.0), 0.0) / 1024}


IMAGE = register(Modality(
    name="image", kind="image", title="Image arena", build_request=build_request,
    parse_response=parse_response, style_features=style_features,
    partial="modalities/_image.html", sanitise=sanitise))
