"""The audio arenas (``speech``, ``music``): outputs normalised to plain PCM WAV.

Sanitising policy (README, "Image and audio arenas"): the endpoint's WAV is decoded with the
standard library (every RIFF chunk other than ``fmt``/``data`` — LIST/INFO, ``id3 ``, ``bext``,
cue points — is skipped, and bytes after the data chunk are ignored), down-mixed to mono,
resampled to ``RATE`` Hz, stripped of leading and trailing silence, trimmed to at most
``MAX_SECONDS`` and scaled to the same RMS loudness (``TARGET_DBFS``, with the peak kept below
full scale), then written as a fresh 16-bit PCM WAV with only ``fmt`` and ``data`` chunks.
Clips are not padded to equal length: a pad would be heard as silence and a trim to the shorter
clip would cut speech, so the (trimmed) duration is reported as a style feature instead.
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Mapping
from typing import Any

import numpy as np

from arena.modalities.base import MediaRejected, Modality, Sanitised, register

RATE = 24_000  # Hz, every served clip
MAX_SECONDS = 30.0
TARGET_DBFS = -20.0  # RMS loudness of every served clip
PEAK = 0.98  # never above this fraction of full scale after normalising
SILENCE = 1e-3  # amplitude under which leading/trailing samples count as silence
MAX_INPUT_BYTES = 64 * 1024 * 1024
_SPEECH_RESERVED = ("model", "input")


def build_request(prompt: str, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Body of OpenAI's ``POST /v1/audio/speech``, asking for WAV (what the sanitiser reads)."""
    body: dict[str, Any] = {"voice": "alloy", "response_format": "wav"}
    body.update((k, v) for k, v in params.items() if k not in _SPEECH_RESERVED)
    return {**body, "model": model, "input": prompt}


def parse_response(payload: Any) -> bytes:
    """``/v1/audio/speech`` answers with the audio bytes as the body."""
    if not isinstance(payload, bytes | bytearray) or not payload:
        raise MediaRejected(details={"reason": "empty_audio"})
    return bytes(payload)


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the sample rate of a PCM WAV file."""
    if len(data) > MAX_INPUT_BYTES:
        raise MediaRejected(details={"reason": "too_large"})
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, ValueError, OSError):
        raise MediaRejected(details={"reason": "not_wav"}) from None
    if channels < 1 or rate < 1000 or width not in (1, 2, 3, 4):
        raise MediaRejected(details={"reason": "unsupported_wav"})
    usable = len(raw) - len(raw) % (width * channels)
    raw = raw[:usable]
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        samples = ints.astype(np.float64) / float(1 << 23)
    else:
        dtype = np.int16 if width == 2 else np.int32
        samples = np.frombuffer(raw, f"<i{width}").astype(np.float64) / float(
            np.iinfo(dtype).max + 1)
    return samples.reshape(-1, channels).mean(axis=1), rate


def encode_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """A minimal 16-bit mono PCM WAV (RIFF, fmt, data chunks only)."""
    ints = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(ints.tobytes())
    return out.getvalue()


def _dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(samples ** 2))) if samples.size else 0.0
    return 20.0 * math.log10(rms) if rms > 0 else -120.0


def sanitise(data: bytes) -> Sanitised:
    """A fresh, loudness-normalised mono WAV at ``RATE`` Hz (policy in the module docstring)."""
    samples, rate = decode_wav(data)
    if rate != RATE and samples.size:
        n_out = max(1, int(round(samples.size * RATE / rate)))
        samples = np.interp(np.arange(n_out) * (rate / RATE), np.arange(samples.size), samples)
    loud = np.flatnonzero(np.abs(samples) > SILENCE)
    if loud.size == 0:
        raise MediaRejected(details={"reason": "silent_audio"})
    samples = samples[loud[0]:loud[-1] + 1][: int(MAX_SECONDS * RATE)]
    source_dbfs = _dbfs(samples)
    gain = 10.0 ** ((TARGET_DBFS - source_dbfs) / 20.0)
    samples = samples * gain
    peak = float(np.max(np.abs(samples)))
    if peak > PEAK:
        # A spiky clip cannot reach the target RMS without clipping; quieter beats distorted.
        samples = samples * (PEAK / peak)
    wav = encode_wav(samples)
    return Sanitised(data=wav, media_type="audio/wav", extension="wav",
                     facts={"duration_s": samples.size / RATE, "loudness_dbfs": source_dbfs,
                            "bytes": float(len(wav))})


def style_features(facts: Mapping[str, float]) -> dict[str, float]:
    """Duration (seconds, after trimming) and the endpoint's own loudness before ours, as dB
    above -120 dBFS (non-negative, for the engine's ``(a - b) / (a + b + 1)`` transform)."""
    if "duration_s" not in facts:
        return {}
    return {"duration": float(facts["duration_s"]),
            "loudness": max(0.0, 120.0 + float(facts.get("loudness_dbfs", TARGET_DBFS)))}


SPEECH = register(Modality(
    name="speech", kind="audio", title="Speech arena", build_request=build_request,
    parse_response=parse_response, style_features=style_features,
    partial="modalities/_audio.html", sanitise=sanitise))
MUSIC = register(Modality(
    name="music", kind="audio", title="Music arena", build_request=build_request,
    parse_response=parse_response, style_features=style_features,
    partial="modalities/_audio.html", sanitise=sanitise))
