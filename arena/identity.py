"""Does an answer reveal which model wrote it?

A battle whose answer names its own contender ("I am Llama 3, made by Meta") is no longer
anonymous, so it is flagged and left out of the ratings. Matching is case-insensitive,
whole-word, and ignores the separators people and models use interchangeably
("GPT-4o", "gpt 4o", "gpt_4o", "GPT‑4o" with a non-breaking hyphen).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

MIN_LENGTH = 3

# Identities that are ordinary words would flag ordinary answers. Deliberately short and
# hand-picked: words that also name models or labs, plus the most frequent English words.
COMMON_WORDS = frozenset("""
a about after all also an and any are as assistant at base be because been but by can chat
code command could day demo do even first for from get give go good have he her here him his
how i if in instruct into is it its just know large like look make me medium mini model more
most my new no not now of on one only open or other our out over people pro say see she small
so some take than that the their them then there these they think this time to turbo two ultra
up us use want way we well what when which who will with work would year you your
brief verbose scholar markdown answer bot chatbot llm ai lab labs
""".split())

_SEPARATORS = r"[\s_\-\u2010-\u2015\u2212./:·]*"


def identity_leak(text: str, identities: Iterable[str]) -> str | None:
    """The first of ``identities`` that ``text`` mentions, or ``None``.

    Identities are a contender's public name, upstream model id and organisation. For ids
    like ``owner/name`` both halves count too. Identities shorter than three characters and
    single common words are ignored; a phrase of common words ("demo-brief") must appear whole.
    """
    haystack = _normalise(text)
    for identity in identities:
        for candidate in _candidates(identity):
            pattern = _pattern(candidate)
            if pattern is not None and pattern.search(haystack):
                return identity
    return None


def _normalise(value: str) -> str:
    # NFKC folds full-width letters and compatibility forms, so they cannot dodge the check.
    return unicodedata.normalize("NFKC", value).casefold()


def _candidates(identity: str) -> list[str]:
    parts = [identity]
    if "/" in identity:
        parts += [p for p in identity.split("/") if p]
    return parts


# Every battle checks its contenders' few identities: built once each, not per answer.
@lru_cache(maxsize=4096)
def _pattern(identity: str) -> re.Pattern[str] | None:
    # "Llama3" and "llama 3" are the same name: split at letter/digit changes as well.
    tokens = re.findall(r"[^\W\d_]+|\d+", _normalise(identity))
    if sum(len(t) for t in tokens) < MIN_LENGTH:
        return None
    if len(tokens) == 1 and tokens[0] in COMMON_WORDS:
        return None
    body = _SEPARATORS.join(re.escape(t) for t in tokens)
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])")
