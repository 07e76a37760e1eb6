"""Personal data scrubbing for released texts: find spans, replace them with typed placeholders.

Detectors, most specific first (an earlier kind wins where spans overlap):

``KEY``
    API keys and tokens by their documented prefixes (OpenAI ``sk-``, Hugging Face ``hf_``,
    GitHub ``ghp_``/``github_pat_``, AWS ``AKIA``, Slack ``xox?-``, Google ``AIza``, Stripe,
    GitLab), JWTs, ``Bearer`` tokens, PEM private keys, values of ``api_key=``/``password:``
    assignments and long high-entropy strings.
``EMAIL``
    Addresses with a dotted domain.
``CARD``
    13-19 digit runs (spaces or dashes allowed) with a card-network prefix and a valid Luhn
    check digit.
``IP``
    IPv4/IPv6 candidates validated by the standard library's :mod:`ipaddress`.
``PHONE``
    Google's libphonenumber (the ``phonenumbers`` port), matcher run over several regions at
    leniency ``VALID``, so national formats of those regions and every ``+`` number are found.
``ADDRESS``
    Street addresses where a pattern can see them: ``<number> <Name> <street type>`` (English),
    ``<Name>straße 5`` style (German), ``12 rue …`` (French), PO boxes, plus a trailing
    ``City, ST 12345`` or UK postcode. Addresses without a house number or street type are
    missed: recall for this kind is measured on the test corpus and reported, not promised.

Presidio and spaCy NER models would find names and free-form addresses, but their models cannot
be downloaded in this environment; the detectors above need no model.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

#: The detectors' own version: bump it whenever a change here can change any output.
SCRUBBER_RULES = "2026.11.1"


def scrubber_version() -> str:
    """What a scrubbed copy (:class:`arena.models.ScrubbedTurn`) was made with: these rules,
    libphonenumber's data (it decides which numbers are valid) and the Unicode tables behind
    ``\\w`` and ``\\d``. A copy made with anything else is scrubbed again."""
    import phonenumbers  # here, not at import (0.2 s): the app's start-up does not scrub

    return f"{SCRUBBER_RULES}+pn{phonenumbers.__version__}+ucd{unicodedata.unidata_version}"


#: Placeholder kinds, in priority order for overlapping detections.
KINDS: tuple[str, ...] = ("KEY", "EMAIL", "CARD", "IP", "PHONE", "ADDRESS")
#: Regions whose national phone formats are recognised (``+`` numbers are found in any).
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "AU", "BR", "ES", "IT", "NL")


@dataclass(frozen=True, order=True)
class Span:
    """A detected piece of personal data: ``text[start:end]`` is of kind ``kind``."""

    start: int
    end: int
    kind: str


# Each pattern with the literals one of which any match contains: a substring test (C speed)
# skips the regex on texts that cannot match, which is most of them.
_KEY_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(p), needles) for p, needles in (
        (r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )*PRIVATE KEY-----",
         ("PRIVATE KEY-----",)),
        (r"(?<![\w-])sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-)?[A-Za-z0-9_-]{20,}", ("sk-",)),
        (r"(?<!\w)hf_[A-Za-z0-9]{30,}", ("hf_",)),
        (r"(?<!\w)gh[pousr]_[A-Za-z0-9]{30,}", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
        (r"(?<!\w)github_pat_[A-Za-z0-9_]{40,}", ("github_pat_",)),
        (r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])", ("AKIA", "ASIA")),
        (r"(?<!\w)xox[abposr]-[A-Za-z0-9-]{10,}", ("xox",)),
        (r"(?<![\w-])AIza[0-9A-Za-z_-]{35}", ("AIza",)),
        (r"(?<!\w)(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}", ("_live_", "_test_")),
        (r"(?<!\w)glpat-[A-Za-z0-9_-]{20,}", ("glpat-",)),
        (r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", ("eyJ",)),
    ))
# Only the secret after these markers is replaced, so the sentence stays readable.
_BEARER = re.compile(r"\bBearer\s+([A-Za-z0-9._~+/=-]{16,})")
_ASSIGNED_SECRET = re.compile(
    r"(?i)(?<![a-z])(?:api[_-]?key|access[_-]?token|auth[_-]?token|secret(?:[_-]?key)?"
    r"|client[_-]?secret|password|passwd|pwd)\b[\"']?\s*[:=]\s*[\"']?([^\s\"',;]{8,})")
# Case-folded literals one of which every _ASSIGNED_SECRET match contains.
_SECRET_WORDS = ("key", "token", "secret", "passw", "pwd")
# Long runs of token characters; kept as KEY only when they look random (see _looks_random).
_OPAQUE = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+_=-]{32,}(?![\w+/=-])")

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])")
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
                   r"(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\d)")
_PHONE_HINT = re.compile(r"\+?\(?\d[\d\s().\-/]{4,}\d")
# The matcher is slow (it parses every candidate once per region), so it runs only on texts with
# a run that could be a phone number: "+" numbers, or seven or more digits (the shortest
# national numbers of PHONE_REGIONS with their trunk prefix). Recall on the test corpus is the
# same with and without this gate.
_PHONE_MIN_DIGITS = 7
# A bare run of digits is as often an order number or an id as a phone number; it counts only
# after one of these words (formatted numbers and "+" numbers need no cue).
# Decimal numbers the matcher can take for national numbers ("365.256363", "1.4285 x 10").
_DECIMAL = re.compile(r"\d\.\d{5,}|^\d+\.\d+$|\d\.\d+\s*[x×*]\s*10")
_PHONE_CUE = re.compile(r"(?i)\b(?:phone|tel|telephone|call|mobile|cell|whats\s?app|text|ring"
                        r"|sms|fax|contact|reach|dial)\b[^\n\d]{0,30}$")

# Abbreviations may carry a dot ("Main St."); full words never swallow a sentence's full stop.
_STREET_TYPES = (
    r"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Way|Place|Terrace|Parkway|Highway"
    r"|Square|Circle|Crescent|Close|Row|Mews|Gardens|Grove|Hill|Walk)\b"
    r"|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Hwy|Sq|Cir)\b\.?")
_CITY_TAIL = (r"(?:,?\s+(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*[\w-]+,?\s*)?"
              r"(?:[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2},?\s*)?"
              r"(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}))?")
_ADDRESS_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s+(?:(?:[NSEW]|North|South|East|West)\.?\s+)?"
               r"(?:[A-Z][A-Za-z'-]+\s+){1,4}(?:" + _STREET_TYPES + r")" + _CITY_TAIL),
    re.compile(r"\b[A-ZÄÖÜ][a-zäöüß-]+(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm)"
               r"\s+\d{1,4}[a-z]?(?:,\s*\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+)?"),
    re.compile(r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|place|chemin|allée|quai)"
               r"\s+(?:(?:de|du|des|la|le|l'|d')\s*)*[A-ZÉ][\w'-]+(?:\s[A-ZÉ][\w'-]+){0,3}"
               r"(?:,\s*\d{5}\s+[A-Z][\w-]+)?"),
    re.compile(r"\b(?:Calle|Avenida|Paseo|Plaza|Carrer|Rua|Via|Viale|Piazza|Corso)\s+"
               r"(?:(?:de|del|la|los|las|da|do|dos)\s+)*[A-ZÁÉÍÓÚ][\w'-]+(?:\s[A-ZÁÉÍÓÚ][\w'-]+){0,3}"
               r",?\s+\d{1,4}\b"),
    re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b" + _CITY_TAIL),
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_prefix_ok(digits: str) -> bool:
    # Visa 4, Mastercard 51-55/22-27, Amex 34/37, Diners 30/36/38, Discover/UnionPay 6, JCB 35.
    return digits[0] in "3456" or digits[:2] in {"22", "23", "24", "25", "26", "27"}


def _looks_random(token: str) -> bool:
    """Mixed letters and digits with high character entropy: a secret, not a word or a hash."""
    if not (re.search(r"[a-z]", token) and re.search(r"[A-Z]", token)
            and re.search(r"\d", token)):
        return False  # hex digests, UUID-less words and snake_case identifiers stay
    counts = Counter(token)
    entropy = -sum(c / len(token) * math.log2(c / len(token)) for c in counts.values())
    return entropy >= 4.0


def _key_spans(text: str) -> Iterable[Span]:
    for pattern, needles in _KEY_PATTERNS:
        if any(needle in text for needle in needles):
            for m in pattern.finditer(text):
                yield Span(m.start(), m.end(), "KEY")
    if "Bearer" in text:
        for m in _BEARER.finditer(text):
            yield Span(m.start(1), m.end(1), "KEY")
    folded = text.lower()
    if any(word in folded for word in _SECRET_WORDS):
        for m in _ASSIGNED_SECRET.finditer(text):
            yield Span(m.start(1), m.end(1), "KEY")
    for m in _OPAQUE.finditer(text):
        if _looks_random(m.group()):
            yield Span(m.start(), m.end(), "KEY")


def _email_spans(text: str) -> Iterable[Span]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), "EMAIL")


def _digit_count(text: str) -> int:
    return sum(text.count(d) for d in "0123456789")


def _card_spans(text: str, digits_in_text: int) -> Iterable[Span]:
    if digits_in_text < 13:
        return
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if 13 <= len(digits) <= 19 and _card_prefix_ok(digits) and _luhn_ok(digits):
            yield Span(m.start(), m.end(), "CARD")


def _ip_spans(text: str) -> Iterable[Span]:
    if text.count(".") < 3 and text.count(":") < 2:
        return
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        yield Span(m.start(), m.end(), "IP")
    for m in _IPV6.finditer(text):
        candidate = m.group()
        if candidate.count(":") < 2:
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Span(m.start(), m.end(), "IP")


def _phone_spans(text: str, regions: Sequence[str], digits_in_text: int) -> Iterable[Span]:
    if digits_in_text < _PHONE_MIN_DIGITS or not any(
            m.group().startswith("+") or _digit_count(m.group()) >= _PHONE_MIN_DIGITS
            for m in _PHONE_HINT.finditer(text)):
        return
    import phonenumbers

    for region in regions:
        matcher = phonenumbers.PhoneNumberMatcher(text, region,
                                                  leniency=phonenumbers.Leniency.VALID)
        for match in matcher:
            if match.raw_string.isdigit() and not _PHONE_CUE.search(text[:match.start]):
                continue
            if _DECIMAL.search(match.raw_string):
                continue
            yield Span(match.start, match.end, "PHONE")


# Per address pattern, literals one of which a match contains (None: no cheap test).
_ADDRESS_NEEDLES: tuple[tuple[str, ...] | None, ...] = (
    None,
    ("straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "ring", "damm"),
    ("rue", "avenue", "boulevard", "place", "chemin", "allée", "quai"),
    ("Calle", "Avenida", "Paseo", "Plaza", "Carrer", "Rua", "Via", "Piazza", "Corso"),
    ("Box",),
)


def _address_spans(text: str, digits_in_text: int) -> Iterable[Span]:
    if not digits_in_text:
        return  # every pattern needs a house number, box number or postcode
    for pattern, needles in zip(_ADDRESS_PATTERNS, _ADDRESS_NEEDLES, strict=True):
        if needles is not None and not any(needle in text for needle in needles):
            continue
        for m in pattern.finditer(text):
            yield Span(m.start(), m.end(), "ADDRESS")


def find_pii(text: str, *, phone_regions: Sequence[str] = PHONE_REGIONS) -> list[Span]:
    """Non-overlapping spans of personal data in ``text``, sorted by position.

    Where detections overlap, the kind earlier in :data:`KINDS` wins, then the longer span
    (an API key that contains digits is a key, not a phone number).
    """
    digits = _digit_count(text)
    found: list[Span] = [
        *_key_spans(text), *_email_spans(text), *_card_spans(text, digits), *_ip_spans(text),
        *_phone_spans(text, phone_regions, digits), *_address_spans(text, digits),
    ]
    rank = {kind: i for i, kind in enumerate(KINDS)}
    found.sort(key=lambda s: (rank[s.kind], -(s.end - s.start), s.start))
    taken: list[Span] = []
    for span in found:
        if all(span.end <= t.start or span.start >= t.end for t in taken):
            taken.append(span)
    return sorted(taken)


def scrub(text: str, *, phone_regions: Sequence[str] = PHONE_REGIONS) -> str:
    """``text`` with every detected span replaced by ``[KIND]`` (e.g. ``[EMAIL]``)."""
    if not text:
        return text
    out: list[str] = []
    pos = 0
    for span in find_pii(text, phone_regions=phone_regions):
        out.append(text[pos:span.start])
        out.append(f"[{span.kind}]")
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


#: Texts from which :func:`scrub_many` spreads the work over processes (fewer: this process).
PARALLEL_FROM = 2000
_BATCH = 256


def _scrub_batch(texts: list[str]) -> list[str]:
    return [scrub(text) for text in texts]


def _workers() -> int:
    # the CPUs this process may run on (cgroup/affinity), not the host's
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextlib.contextmanager
def scrub_pool(workers: int | None = None) -> Iterator[Executor | None]:
    """Worker processes for several :func:`scrub_many` calls (None: one CPU, no pool)."""
    workers = _workers() if workers is None else workers
    if workers < 2:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: the workers import this module only, never a copy of the caller's open database
    # connections
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def scrub_many(texts: Sequence[str], *, workers: int | None = None,
               parallel_from: int = PARALLEL_FROM, pool: Executor | None = None) -> list[str]:
    """``[scrub(t) for t in texts]``, on up to ``workers`` processes (default: one per CPU),
    or on ``pool`` (see :func:`scrub_pool`), when there are at least ``parallel_from`` texts.
    Same results, same order."""
    if len(texts) < parallel_from:
        return _scrub_batch(list(texts))
    batches = [list(texts[i:i + _BATCH]) for i in range(0, len(texts), _BATCH)]
    if pool is not None:
        return [text for batch in pool.map(_scrub_batch, batches) for text in batch]
    with scrub_pool(workers) as own:
        if own is None:
            return _scrub_batch(list(texts))
        return [text for batch in own.map(_scrub_batch, batches) for text in batch]
