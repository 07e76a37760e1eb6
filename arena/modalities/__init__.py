"""Arenas by modality: one battle core, one plug-in per kind of output.

A :class:`Modality` bundles everything that differs between a text, an image and an audio
arena — how to ask an endpoint (request builder), how to read its answer (response parser),
how to make the answer safe and anonymous (media sanitiser), which per-side style features
the rating fit may control for, and which template partial renders it. Everything else
(battles, votes, ratings, releases) is shared, so adding a modality is a plug-in registered
here, not a schema change: ``contender.arena`` and ``battle.arena`` hold the modality name as
a plain string.

See README, "Adding a modality".
"""

from __future__ import annotations

from arena.modalities.base import (
    MEDIA_KINDS,
    Modality,
    Sanitised,
    UnknownModality,
    get,
    names,
    register,
)

# Importing the built-in plug-ins registers them.
from arena.modalities import audio as _audio  # noqa: E402,F401  isort: skip
from arena.modalities import image as _image  # noqa: E402,F401  isort: skip
from arena.modalities import text as _text  # noqa: E402,F401  isort: skip

DEFAULT_ARENA = "text"

__all__ = ["DEFAULT_ARENA", "MEDIA_KINDS", "Modality", "Sanitised", "UnknownModality", "get",
           "names", "register"]
