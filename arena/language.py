"""Language of a prompt (py3langid), recorded only when the classifier is confident."""

from __future__ import annotations

import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

# Below this normalised probability the label is a guess (short or code-like prompts), and a
# wrong language is worse than none for per-language leaderboards.
MIN_PROBABILITY = 0.8
# Fewer letters than this rarely carry enough signal.
MIN_LETTERS = 12

_lock = threading.Lock()
_identifier: LanguageIdentifier | None = None


def full_model() -> LanguageIdentifier:
    """py3langid with all its languages, normalised probabilities; loading it takes most of
    a second, so once per process, on first use (shared with the classifier's language
    label, :func:`arena.categories.classify.prompt_language`)."""
    global _identifier
    with _lock:
        if _identifier is None:
            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``, or None when it is too short or the guess is unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    lang, probability = full_model().classify(text)
    return str(lang) if probability >= MIN_PROBABILITY else None
