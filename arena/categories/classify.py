"""One function from a conversation to its labels, and the classifier's version."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from arena.categories.learned import LabelModel

# The rules and the learned models (hundreds of regular expressions, ~0.5 s to compile) are
# imported by the functions that use them: the app and every command import this module for
# CLASSIFIER_VERSION, and most of them never label anything.

#: Bump whenever a rule, a threshold, a keyword list or the learned weights change: battles
#: labelled by another version are re-labelled by `flask categories relabel`, and snapshots
#: record it. The weights file names the version it was trained for; they must agree.
CLASSIFIER_VERSION = "rules+lr-2026.11.14"

#: Labels other than ``language:<code>``.
TOPICAL = ("coding", "math", "creative_writing", "instruction_following", "hard_prompt")
STRUCTURAL = ("multi_turn", "long_query", "refusal")
LABELS = (*TOPICAL, *STRUCTURAL)
#: Total characters of the user's prompts from which a conversation is a long query (the
#: same threshold as the leaderboard's ``long_prompt`` view).
LONG_QUERY_CHARS = 1000
#: Characters of each turn the topical rules read: the request is stated first, and a long
#: pasted text ("summarise this: …") would otherwise lend its vocabulary to the prompt. Code
#: syntax is still looked for everywhere.
HEAD_CHARS = 400
#: The label's language must be this likely (py3langid, normalised). Lower than the battle's
#: ``language`` column (arena.language): a label is scored against the evaluation set, where
#: short prompts ("How tall is Mount Everest?") are common and almost always right.
LANGUAGE_PROBABILITY = 0.5
LANGUAGE_MIN_LETTERS = 4


def _head(prompt: str) -> str:
    """The part of a turn that states the request: a long turn whose first line is short
    ("Summarise this:", "Fix the bug below") is that line; otherwise the first characters."""
    if len(prompt) > 2 * HEAD_CHARS:
        first = prompt.strip().split("\n", 1)[0]
        if len(first) <= HEAD_CHARS // 2:
            return first
    return prompt[:HEAD_CHARS]


#: Languages a label may name: py3langid knows 97, and on short prompts it confuses major
#: languages with close minor ones (Spanish with Aragonese or Galician); a label of a language
#: nobody writes to the arena in would also make a view of one battle.
LABEL_LANGUAGES = (
    "en", "zh", "es", "ru", "de", "fr", "ja", "ko", "pt", "it", "pl", "vi", "ar", "tr", "nl",
    "uk", "id", "hi", "fa", "he", "sv", "cs", "el", "ro", "hu", "da", "fi", "no", "th", "bg",
    "ca", "sk", "hr", "sr", "lt", "lv", "et", "sl", "ms", "bn", "ta", "ur", "te", "mr")

_lock = threading.Lock()
_identifier: LanguageIdentifier | None = None


def _language_model() -> LanguageIdentifier:
    # Its own instance, restricted to LABEL_LANGUAGES; arena.language's stays unrestricted.
    global _identifier
    with _lock:
        if _identifier is None:
            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LABEL_LANGUAGES))
            _identifier = identifier
        return _identifier


def prompt_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``, or None when too short or unsure."""
    if sum(ch.isalpha() for ch in text) < LANGUAGE_MIN_LETTERS:
        return None
    language, probability = _language_model().classify(text)
    return str(language) if probability >= LANGUAGE_PROBABILITY else None


def request_text(prompts: Sequence[str]) -> str:
    """The request part of every turn, joined: what the topical rules and models read."""
    return "\n".join(_head(p) for p in prompts if p)


def learned_models() -> dict[str, LabelModel]:
    """The shipped learned models, checked to belong to this version."""
    from arena.categories import learned

    version, models = learned.models()
    if version != CLASSIFIER_VERSION:
        raise RuntimeError(f"{learned.WEIGHTS_FILE.name} was trained for {version}, not "
                           f"{CLASSIFIER_VERSION}: run benchmarks/categories/train_learned.py fit")
    return models


def rule_labels(prompts: Sequence[str]) -> dict[str, bool]:
    """The hand-written rules' verdict on each topical label (the learned component's
    partner; see :func:`classify`)."""
    from arena.categories.rules import (
        CODE_SYNTAX,
        is_coding,
        is_creative,
        is_hard,
        is_instruction_following,
        is_math,
    )

    full = "\n".join(p for p in prompts if p)
    text = request_text(prompts)
    coding = is_coding(text) or bool(CODE_SYNTAX.search(full))
    math = is_math(text, coding=coding)
    creative = is_creative(text, coding=coding)
    constrained = is_instruction_following(text)
    hard = is_hard(text, coding=coding, math=math, creative=creative, constrained=constrained)
    return {"coding": coding, "math": math, "creative_writing": creative,
            "instruction_following": constrained, "hard_prompt": hard}


def classify(prompts: Sequence[str],
             answers: Iterable[tuple[str, str]] = ()) -> frozenset[str]:
    """Labels of a conversation: ``prompts`` are the user's turns in order, ``answers`` the
    two sides' answers per turn (refusal is read from them; may be empty).

    The topical labels read every turn, so a conversation that turns to code in its second
    message is a coding conversation; the language is the first turn's. A topical label
    combines its rule's verdict with its learned model's (:mod:`.learned`: probability at
    least the model's threshold) as the model's ``mode`` says: rule OR model, rule AND model,
    or the model alone, chosen per label by cross-validation (see the benchmark README).
    """
    from arena.categories import learned
    from arena.categories.refusal import is_refusal

    labels: set[str] = set()
    full = "\n".join(p for p in prompts if p)
    if not full.strip():
        return frozenset()
    learned_models()
    labels.update(learned.combined_labels(request_text(prompts), rule_labels(prompts)))
    language = prompt_language(prompts[0][:2000]) if prompts else None
    if language is None and len(prompts) > 1:
        language = prompt_language(full[:2000])
    if language:
        labels.add(f"language:{language}")
    if len(prompts) >= 2:
        labels.add("multi_turn")
    if sum(len(p) for p in prompts) >= LONG_QUERY_CHARS:
        labels.add("long_query")
    if any(is_refusal(side) for pair in answers for side in pair):
        labels.add("refusal")
    return frozenset(labels)
