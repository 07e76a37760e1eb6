"""One function from a conversation to its labels, and the classifier's version."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

from arena.language import full_model

if TYPE_CHECKING:
    from arena.categories.learned import LabelModel

# The rules and the learned models (hundreds of regular expressions, ~0.5 s to compile) are
# imported by the functions that use them: the app and every command import this module for
# CLASSIFIER_VERSION, and most of them never label anything.

#: Bump whenever a rule, a threshold, a keyword list or the learned weights change: battles
#: labelled by another version are re-labelled by `flask categories relabel`, and snapshots
#: record it. The weights file names the version it was trained for; they must agree.
CLASSIFIER_VERSION = "rules+lr-2026.11.16"

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

#: 2026.11.14: a language outside LABEL_LANGUAGES is named when py3langid's full model (all its
#: languages) is at least this sure of it: Swahili, Tagalog, Afrikaans, Basque, Uzbek, Zulu,
#: Sinhala… were never labelled before (held-out sets 14 and 15: 0 of 33 such items), and
#: a short Spanish prompt is not taken for Aragonese at this level (dev and sets 1-15: no
#: such confusion). Its codes other than ISO 639-1 become the macrolanguage's where there is
#: one, or are not used.
WIDE_PROBABILITY = 0.9
_WIDE_CODES = {"ary": "ar", "arz": "ar", "uzs": "uz", "yue": "zh", "wuu": "zh",
               "nn": "no", "nb": "no"}  # Nynorsk and Bokmål are the list's Norwegian
#: Hindi written in Latin letters ("Hinglish", common in the arena): py3langid knows Hindi only
#: in Devanagari (and guesses Estonian, Indonesian…). Two of the strong words and three in all,
#: in a prompt of ASCII letters, outside double quotes, unless that text is at least
#: HINGLISH_OVER_ENGLISH likely English (an English question quoting Hindi words or naming a
#: Hindi song; but a Hinglish prompt quoting an English error message stays Hindi).
_HINGLISH_STRONG = frozenset((
    "hai", "hain", "kya", "kaise", "nahi", "nahin", "mujhe", "batao", "likho", "karo", "karu",
    "karun", "kitne", "kitna", "kitni", "kyu", "kyun", "kyon", "bhai", "yaar", "chahiye",
    "hota", "hoti", "raha", "rahi", "rahe", "hoga", "kaun", "kahan", "mera", "meri", "apna",
    "apni", "baare", "liye", "samjhao", "bata", "bana", "banao", "sakta", "sakti", "jata",
    "jaata", "hoon"))
_HINGLISH = _HINGLISH_STRONG | {"ho", "ke", "ki", "ko", "se", "ka", "hu", "tha", "thi", "aur",
                                "wala", "wali", "mein", "kab"}
HINGLISH_OVER_ENGLISH = 0.9
_QUOTED = re.compile(r'"[^"\n]*"')
_ASCII_WORD = re.compile(r"[a-z]+")
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
#: A short English prompt of notation and names ("derivative of sqrt(x) * e^(3x)", "godot 4:
#: get_node returns null") is English when it is all ASCII and English is the restricted
#: model's first guess at this level, below LANGUAGE_PROBABILITY.
ASCII_ENGLISH_PROBABILITY = 0.2
#: Russian that py3langid takes for Bulgarian: no ъ (Bulgarian's most frequent vowel letter),
#: and a letter or a word Bulgarian does not have.
_NOT_BULGARIAN = re.compile(
    r"[ыэё]|(?<!\w)(?:что|это|почему|пожалуйста|сколько|нужно|можно|если|мне|меня|вы|ты|"
    r"стиле|про)(?!\w)")

_lock = threading.Lock()
_identifier: LanguageIdentifier | None = None


def _language_model() -> LanguageIdentifier:
    # Its own instance, restricted to LABEL_LANGUAGES; arena.language's full model (which
    # prompt_language reads too) stays unrestricted.
    global _identifier
    with _lock:
        if _identifier is None:
            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LABEL_LANGUAGES))
            _identifier = identifier
        return _identifier


def prompt_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``, or None when too short or unsure.

    In order: a language outside LABEL_LANGUAGES the full model is sure of; Russian for a
    "Bulgarian" guess with a letter or word Bulgarian lacks (that evidence, not the guess's
    probability, decides); Hindi in Latin letters; the restricted model's guess when likely
    enough; English for short ASCII notation."""
    if sum(ch.isalpha() for ch in text) < LANGUAGE_MIN_LETTERS:
        return None
    wide, certainty = full_model().classify(text)
    wide = _WIDE_CODES.get(str(wide), str(wide))
    if wide not in LABEL_LANGUAGES and len(wide) == 2 and certainty >= WIDE_PROBABILITY:
        return wide
    language, probability = _language_model().classify(text)
    low = text.lower()
    if language == "bg" and "ъ" not in low and _NOT_BULGARIAN.search(low):
        return "ru"
    ascii_only = not _NOT_ASCII.search(text)
    if ascii_only:
        # Quoted text (an error message, a phrase asked about) is not what the prompt is
        # written in: the words are counted, and English weighed, without it.
        own = _QUOTED.sub(" ", low)
        guess, likely = (language, probability) if own == low else \
            _language_model().classify(own)
        words = set() if guess == "en" and likely >= HINGLISH_OVER_ENGLISH else \
            set(_ASCII_WORD.findall(own))
        if len(words & _HINGLISH_STRONG) >= 2 and len(words & _HINGLISH) >= 3:
            return "hi"
    if probability >= LANGUAGE_PROBABILITY:
        return str(language)
    if ascii_only and language == "en" and probability >= ASCII_ENGLISH_PROBABILITY:
        return "en"
    return None


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
