"""Style features of an answer and the fixed transform that turns a pair of them into a covariate.

Raw features (per answer, summed over assistant turns):

``length``
    Number of tokens, counted tokenizer-free as runs of word characters plus single punctuation
    marks (regex ``\\w+|[^\\w\\s]``). Fenced code counts.
``markdown_header``
    Lines starting with 1-6 ``#`` and a space, outside fenced code blocks.
``markdown_list``
    Lines starting with ``-``, ``*``, ``+`` or ``1.``/``1)`` and a space, outside code blocks.
``markdown_bold``
    ``**bold**`` / ``__bold__`` spans, outside code blocks.
``citations``
    Distinct ``http(s)://`` URLs plus distinct numeric references like ``[3]``, outside code.

Transform ``ratio-v1`` (:data:`FEATURE_TRANSFORM_VERSION`): for raw values ``a`` (side A) and
``b`` (side B) the covariate is ``(a - b) / (a + b + 1)``, a bounded, antisymmetric number in
(-1, 1). It has no data-dependent scaling, so a coefficient means the same thing in every run and
every release; a change of the formula must change the version string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "length": ("length",),
    "markdown": ("markdown_header", "markdown_list", "markdown_bold"),
    "citations": ("citations",),
}
FEATURE_NAMES: tuple[str, ...] = tuple(n for names in FEATURE_SETS.values() for n in names)
FEATURE_TRANSFORM_VERSION = "ratio-v1"

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_HEADER = re.compile(r"^#{1,6}\s+\S", re.MULTILINE)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+?\*\*|__[^_\n]+?__")
_URL = re.compile(r"https?://[^\s)\]>\"']+")
_REF = re.compile(r"\[(\d{1,3})\]")


def _answer_text(answer: Any) -> str:
    """Concatenate the assistant turns of an OpenAI message list, or return a plain string."""
    if answer is None:
        return ""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, Sequence):
        parts = []
        for message in answer:
            if not isinstance(message, Mapping):
                raise TypeError("a message list must contain mappings with 'role' and 'content'")
            if message.get("role") != "assistant":
                continue
            content = message.get("content")
            if isinstance(content, list):  # OpenAI content parts
                content = "\n".join(
                    str(p.get("text", "")) for p in content if isinstance(p, Mapping)
                )
            parts.append("" if content is None else str(content))
        return "\n".join(parts)
    raise TypeError(f"expected a string or an OpenAI message list, got {type(answer).__name__}")


def extract_features(
    text_or_messages: str | Sequence[Mapping[str, Any]] | None,
) -> dict[str, float]:
    """Raw style features of one answer.

    Parameters
    ----------
    text_or_messages : str or sequence of mapping or None
        The answer as plain text, or an OpenAI message list whose assistant turns are summed.
        ``None`` counts as an empty answer.

    Returns
    -------
    dict of str to float
        One value for every name in :data:`FEATURE_NAMES`.
    """
    text = _answer_text(text_or_messages)
    prose = _FENCE.sub("", text)
    urls = set(_URL.findall(prose))
    refs = set(_REF.findall(_URL.sub("", prose)))
    return {
        "length": float(len(_TOKEN.findall(text))),
        "markdown_header": float(len(_HEADER.findall(prose))),
        "markdown_list": float(len(_LIST.findall(prose))),
        "markdown_bold": float(len(_BOLD.findall(prose))),
        "citations": float(len(urls) + len(refs)),
    }


def expand_control(control: Sequence[str] | str) -> tuple[str, ...]:
    """Expand set names (``markdown``) into feature names, keeping order and dropping repeats."""
    if isinstance(control, str):
        control = [c for c in control.split(",") if c.strip()]
    out: list[str] = []
    for name in control:
        name = name.strip()
        for feature in FEATURE_SETS.get(name, (name,)):
            if feature not in out:
                out.append(feature)
    return tuple(out)


def transform(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Covariate of transform ``ratio-v1``: ``(a - b) / (a + b + 1)`` (inputs non-negative)."""
    return (a - b) / (a + b + 1.0)
