"""The :class:`Modality` plug-in interface and its registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from arena.errors import InferenceError, NotFound

# What a modality's answers are made of: text is stored in ``answer.text``; images and audio
# are stored as sanitised media files (see arena.media) referenced by their SHA-256.
MEDIA_KINDS = ("text", "image", "audio")


class UnknownModality(NotFound):
    code = "unknown_arena"
    message = "No such arena."


class MediaRejected(InferenceError):
    """An endpoint's output could not be decoded as the modality's media (garbage bytes).

    An :class:`InferenceError`, so a battle side fails and the endpoint's health counts it
    exactly as for a broken text stream.
    """

    code = "media_rejected"
    message = "A model returned output that could not be displayed."


@dataclass(frozen=True)
class Sanitised:
    """Media bytes after sanitising: a fresh container with no identifying metadata."""

    data: bytes
    media_type: str  # MIME type of ``data``
    extension: str  # file name extension used in releases ("png", "wav")
    # Facts measured while sanitising (width/height, duration/loudness), reused as style
    # features so publishing never re-decodes media.
    facts: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Modality:
    """One kind of arena.

    ``build_request(prompt, model, params) -> dict``: the JSON body (or keyword arguments) for
    the endpoint. ``parse_response(payload) -> Any``: the answer (text, or media bytes / URL).
    ``sanitise(data) -> Sanitised``: re-encode media so that nothing identifies the model
    (``None`` for text). ``style_features(facts) -> dict[str, float]``: per-side features for
    ``--control``, computed from :attr:`Sanitised.facts` (or the text). ``partial``: the Jinja
    partial that renders one side.
    """

    name: str
    kind: str
    title: str
    build_request: Callable[[str, str, Mapping[str, Any]], dict[str, Any]]
    parse_response: Callable[[Any], Any]
    style_features: Callable[[Mapping[str, float]], dict[str, float]]
    partial: str
    sanitise: Callable[[bytes], Sanitised] | None = None
    # Seconds each output must be viewed/played before the vote unlocks (None: the
    # configured default for the kind, e.g. MEDIA_LISTEN_GATE_S for audio).
    gate_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in MEDIA_KINDS:
            raise ValueError(f"modality kind must be one of {MEDIA_KINDS}, got {self.kind!r}")
        if (self.kind == "text") != (self.sanitise is None):
            raise ValueError("media modalities need a sanitiser; text has none")


_REGISTRY: dict[str, Modality] = {}


def register(modality: Modality) -> Modality:
    """Add (or replace) a modality under its name; returns it, so it can be a module constant."""
    _REGISTRY[modality.name] = modality
    return modality


def get(name: str) -> Modality:
    """The modality called ``name``; raises :class:`UnknownModality` (404)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModality() from None


def names() -> list[str]:
    """Registered modality names, text first, then alphabetically."""
    return sorted(_REGISTRY, key=lambda n: (n != "text", n))
