"""The text arena: chat completions, rendered as sanitised Markdown (the original arena)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arena.modalities.base import Modality, register


def build_request(prompt: str, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in params.items() if k not in ("model", "messages", "stream")}
    return {**body, "model": model, "messages": [{"role": "user", "content": prompt}],
            "stream": True}


def parse_response(payload: Any) -> str:
    return str(payload)


def style_features(facts: Mapping[str, float]) -> dict[str, float]:
    # The text arena's style features (length, headers, lists, bold) are computed by the
    # battle core when answers complete; nothing extra here.
    return {}


TEXT = register(Modality(
    name="text", kind="text", title="Text arena", build_request=build_request,
    parse_response=parse_response, style_features=style_features,
    partial="modalities/_text.html"))
