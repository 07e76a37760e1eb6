"""Media sanitisers: served bytes carry nothing that tells two contenders apart."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from arena.modalities import audio, image
from arena.modalities.base import MediaRejected

NAMES = ("Acme-Diffusion-XL", "Globex-Imagen-3")


def _pixels() -> Image.Image:
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), "RGB")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def _tagged_png(name: str) -> bytes:
    info = PngInfo()
    info.add_text("Software", name)
    info.add_text("parameters", f"steps: 30, model: {name}")
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta><tool>{name}</tool></x:xmpmeta>")
    exif = Image.Exif()
    exif[0x0131] = name  # Software
    exif[0x010F] = name  # Make
    out = io.BytesIO()
    _pixels().save(out, format="PNG", pnginfo=info, exif=exif, dpi=(72 + len(name), 72))
    data = out.getvalue()
    # A C2PA manifest box (caBX chunk) naming the generator, before IEND.
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + _png_chunk(b"caBX", f"c2pa.claim_generator={name}".encode()) + data[iend:]


def _tagged_jpeg(name: str) -> bytes:
    exif = Image.Exif()
    exif[0x0131] = name
    out = io.BytesIO()
    _pixels().save(out, format="JPEG", quality=95, exif=exif, comment=name.encode())
    return out.getvalue()


def test_images_whose_metadata_names_the_model_sanitise_to_identical_bytes() -> None:
    tagged = [_tagged_png(n) for n in NAMES]
    assert all(n.encode() in t for n, t in zip(NAMES, tagged, strict=True))
    served = [image.sanitise(t) for t in tagged]
    assert served[0].data == served[1].data
    for name in NAMES:
        assert name.encode() not in served[0].data
    with Image.open(io.BytesIO(served[0].data)) as clean:
        assert clean.format == "PNG" and clean.mode == "RGB"
        assert clean.info == {} and not clean.getexif()
        assert clean.size == (image.BOX, 576)  # 400x300 fitted to the box, aspect kept
    chunks = _chunk_types(served[0].data)
    assert chunks == {b"IHDR", b"IDAT", b"IEND"}
    jpegs = [image.sanitise(_tagged_jpeg(n)) for n in NAMES]
    assert jpegs[0].data == jpegs[1].data and NAMES[0].encode() not in jpegs[0].data


def _chunk_types(png: bytes) -> set[bytes]:
    kinds, pos = set(), 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kinds.add(png[pos + 4:pos + 8])
        pos += 12 + length
    return kinds


def test_image_sizes_follow_one_bounding_box_and_facts_keep_the_native_size() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (100, 400), (255, 0, 0, 0)).save(out, format="PNG")
    result = image.sanitise(out.getvalue())
    with Image.open(io.BytesIO(result.data)) as clean:
        assert clean.size == (192, image.BOX)
        assert clean.getpixel((5, 5)) == (255, 255, 255)  # transparency flattened onto white
    assert result.facts["width"] == 100 and result.facts["height"] == 400
    features = image.style_features(result.facts)
    assert features["aspect"] == pytest.approx(25.0)
    assert features["resolution"] == pytest.approx(4.0)
    assert set(features) == {"resolution", "aspect", "file_size"}


@pytest.mark.parametrize("garbage", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"x" * 50])
def test_garbage_is_rejected_not_served(garbage: bytes) -> None:
    with pytest.raises(MediaRejected):
        image.sanitise(garbage)
    with pytest.raises(MediaRejected):
        audio.sanitise(garbage)


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    pad = b"\x00" if len(payload) % 2 else b""
    return kind + struct.pack("<I", len(payload)) + payload + pad


def _tagged_wav(name: str, rate: int = 22_050, channels: int = 2, gain: float = 0.3) -> bytes:
    t = np.arange(int(rate * 1.5)) / rate
    tone = gain * np.sin(2 * np.pi * 440 * t)
    frames = np.repeat(tone[:, None], channels, axis=1)
    pcm = np.round(frames * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    info = b"INFO" + _riff_chunk(b"INAM", name.encode() + b"\x00") + _riff_chunk(
        b"ISFT", f"{name} TTS engine".encode() + b"\x00")
    id3 = b"ID3\x04\x00\x00" + f"TIT2{name}".encode()
    body = (b"WAVE" + _riff_chunk(b"fmt ", fmt) + _riff_chunk(b"LIST", info)
            + _riff_chunk(b"id3 ", id3) + _riff_chunk(b"data", pcm))
    return b"RIFF" + struct.pack("<I", len(body)) + body + b"TAG" + name.encode()


def test_audio_whose_tags_name_the_model_sanitises_to_identical_bytes() -> None:
    tagged = [_tagged_wav(n) for n in NAMES]
    served = [audio.sanitise(t) for t in tagged]
    assert served[0].data == served[1].data
    for name in NAMES:
        assert name.encode() not in served[0].data
    data = served[0].data
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert data[12:16] == b"fmt " and data[36:40] == b"data"  # no other chunk at all
    assert len(data) == 44 + struct.unpack("<I", data[40:44])[0]
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, audio.RATE)


def test_audio_loudness_is_equalised_and_silence_trimmed() -> None:
    quiet = audio.sanitise(_tagged_wav("a", gain=0.02, rate=16_000, channels=1))
    loud = audio.sanitise(_tagged_wav("b", gain=0.8, rate=48_000))
    levels = []
    for clip in (quiet, loud):
        samples, rate = audio.decode_wav(clip.data)
        assert rate == audio.RATE
        levels.append(20 * math.log10(float(np.sqrt(np.mean(samples ** 2)))))
    assert levels == pytest.approx([audio.TARGET_DBFS] * 2, abs=0.1)
    assert quiet.facts["loudness_dbfs"] < loud.facts["loudness_dbfs"] - 20
    assert quiet.facts["duration_s"] == pytest.approx(1.5, abs=0.01)
    padded = np.concatenate([np.zeros(24_000), 0.3 * np.sin(np.arange(24_000) / 5),
                             np.zeros(48_000)])
    trimmed = audio.sanitise(audio.encode_wav(padded))
    assert trimmed.facts["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert set(audio.style_features(trimmed.facts)) == {"duration", "loudness"}


def test_silent_audio_is_rejected() -> None:
    with pytest.raises(MediaRejected):
        audio.sanitise(audio.encode_wav(np.zeros(1000)))
