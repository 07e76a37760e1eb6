"""Deterministic image and audio "models" for the demo endpoint: no weights, no GPU.

Each style is a pure function of ``(model, prompt)`` (seeded by their SHA-256), so a battle
replays identically and tests can compare bytes. Styles differ clearly — a voter can form a
preference — and each writes its own name into the file's metadata, as real generators do,
which the arena's sanitisers must strip.
"""

from __future__ import annotations

import hashlib
import io
import struct

import numpy as np
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

RATE = 22_050


def _rng(model: str, prompt: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{model}\x00{prompt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _mondrian(rng: np.random.Generator) -> Image.Image:
    img = Image.new("RGB", (512, 512), (245, 242, 230))
    draw = ImageDraw.Draw(img)
    colours = [(200, 30, 30), (20, 60, 160), (240, 200, 20), (245, 242, 230)]
    xs = sorted(int(x) for x in rng.integers(60, 452, 3))
    ys = sorted(int(y) for y in rng.integers(60, 452, 3))
    edges_x, edges_y = [0, *xs, 512], [0, *ys, 512]
    for i in range(len(edges_x) - 1):
        for j in range(len(edges_y) - 1):
            colour = colours[int(rng.integers(0, len(colours)))]
            draw.rectangle((edges_x[i], edges_y[j], edges_x[i + 1], edges_y[j + 1]),
                           fill=colour, outline=(0, 0, 0), width=8)
    return img


def _sunset(rng: np.random.Generator) -> Image.Image:
    width, height = 640, 384
    hue = rng.uniform(0.0, 1.0)
    top = np.array([40 + 60 * hue, 20, 90 + 80 * hue])
    bottom = np.array([250, 140 + 60 * hue, 60])
    t = np.linspace(0, 1, height)[:, None, None]
    sky = (top * (1 - t) + bottom * t) * np.ones((1, width, 1))
    img = Image.fromarray(sky.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    cx, r = int(rng.integers(120, 520)), int(rng.integers(40, 90))
    draw.ellipse((cx - r, 250 - r, cx + r, 250 + r), fill=(255, 230, 120))
    draw.rectangle((0, 290, width, height), fill=(30, 30, 60))
    return img


def _dots(rng: np.random.Generator) -> Image.Image:
    img = Image.new("RGB", (384, 512), (15, 15, 25))
    draw = ImageDraw.Draw(img)
    palette = rng.integers(80, 255, (5, 3))
    for y in range(16, 512, 32):
        for x in range(16, 384, 32):
            r = int(rng.integers(3, 14))
            colour = tuple(int(c) for c in palette[int(rng.integers(0, 5))])
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return img


IMAGE_STYLES = {"demo-mondrian": _mondrian, "demo-sunset": _sunset, "demo-dots": _dots}


def demo_image(model: str, prompt: str, tag: str | None = None) -> bytes:
    """A PNG in the style of ``model`` (a key of :data:`IMAGE_STYLES`) tagged with its name
    (or ``tag``)."""
    img = IMAGE_STYLES[model](_rng(model, prompt))
    info = PngInfo()
    info.add_text("Software", tag or f"{model} demo generator")
    info.add_text("prompt", prompt[:200])
    out = io.BytesIO()
    img.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


# Voice: (base pitch Hz, syllables per second, harmonics weights); music: a scale and a metre.
_VOICES = {
    "demo-baritone": (110.0, 3.0, (1.0, 0.6, 0.4, 0.2)),
    "demo-soprano": (300.0, 5.5, (1.0, 0.3, 0.1)),
    "demo-robot": (160.0, 4.0, (1.0, 1.0, 1.0, 1.0, 1.0)),
}
_TUNES = {
    "demo-waltz": ((0, 4, 7, 12), 3, 0.32),
    "demo-chimes": ((0, 2, 4, 7, 9), 4, 0.22),
}
AUDIO_STYLES = set(_VOICES) | set(_TUNES)


def _speech(model: str, prompt: str, rng: np.random.Generator) -> np.ndarray:
    base, rate, harmonics = _VOICES[model]
    syllables = max(30, min(48, len(prompt.split()) * 2))
    length = int(RATE / rate)
    t = np.arange(length) / RATE
    envelope = np.sin(np.pi * np.arange(length) / length) ** 2
    out = []
    for _ in range(syllables):
        pitch = base * rng.uniform(0.85, 1.25)
        tone = sum(w * np.sin(2 * np.pi * pitch * (k + 1) * t) for k, w in enumerate(harmonics))
        if model == "demo-robot":
            tone = np.sign(tone)
        out.append(envelope * tone / sum(harmonics))
        out.append(np.zeros(int(length * 0.2)))
    return np.concatenate(out) * 0.5


def _music(model: str, prompt: str, rng: np.random.Generator) -> np.ndarray:
    steps, metre, beat = _TUNES[model]
    root = 220.0 * 2 ** (int(rng.integers(0, 12)) / 12)
    length = int(RATE * beat)
    t = np.arange(length) / RATE
    decay = np.exp(-t * (6 if model == "demo-chimes" else 3))
    notes = []
    for n in range(metre * 6):
        accent = 1.0 if n % metre == 0 else 0.6
        step = steps[int(rng.integers(0, len(steps)))]
        freq = root * 2 ** (step / 12)
        notes.append(accent * decay * np.sin(2 * np.pi * freq * t))
    return np.concatenate(notes) * 0.4


def demo_audio(model: str, prompt: str, tag: str | None = None) -> bytes:
    """A 16-bit WAV in the voice/tune of ``model``, with a LIST/INFO chunk naming it (or
    ``tag``)."""
    rng = _rng(model, prompt)
    samples = _speech(model, prompt, rng) if model in _VOICES else _music(model, prompt, rng)
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    name = (tag or f"{model} demo voice").encode() + b"\x00"
    name += b"\x00" * (len(name) % 2)
    info = b"INFO" + b"ISFT" + struct.pack("<I", len(name)) + name
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"LIST" + struct.pack("<I", len(info)) + info
            + b"data" + struct.pack("<I", len(pcm)) + pcm)
    return b"RIFF" + struct.pack("<I", len(body)) + body


__all__ = ["AUDIO_STYLES", "IMAGE_STYLES", "demo_audio", "demo_image"]
