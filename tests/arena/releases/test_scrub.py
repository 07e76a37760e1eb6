"""PII scrubbing: recall per kind and precision over a corpus of realistic examples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from arena.releases.scrub import KINDS, find_pii, scrub, scrub_many

CORPUS = Path(__file__).with_name("pii_corpus.yaml")
DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "arena"
# Recall each kind must reach on the corpus; addresses are pattern-based and reported honestly.
RECALL_FLOOR = {"EMAIL": 0.95, "IP": 0.95, "CARD": 0.95, "KEY": 0.95, "PHONE": 0.9,
                "ADDRESS": 0.75}
PRECISION_FLOOR = 0.95


def _load() -> list[dict[str, Any]]:
    items = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return list(items)


def _measure() -> tuple[Counter[str], Counter[str], int, int, list[str]]:
    found, expected = Counter(), Counter()
    detections = false_positives = 0
    misses: list[str] = []
    for item in _load():
        text = item["text"]
        spans = find_pii(text)
        truth = []
        for kind, value in item["pii"]:
            start = text.index(value)
            truth.append((start, start + len(value), kind))
        for start, end, kind in truth:
            expected[kind] += 1
            if any(s.kind == kind and s.start <= start and s.end >= end for s in spans):
                found[kind] += 1
            else:
                misses.append(f"{kind}: {text[start:end]!r}")
        for s in spans:
            detections += 1
            if not any(s.start < end and s.end > start for start, end, _ in truth):
                false_positives += 1
                misses.append(f"false positive {s.kind}: {text[s.start:s.end]!r}")
    return found, expected, detections, false_positives, misses


def test_corpus_is_large_and_mixed() -> None:
    items = _load()
    kinds = Counter(kind for item in items for kind, _ in item["pii"])
    assert len(items) >= 60
    assert sum(1 for item in items if not item["pii"]) >= 20
    assert all(kinds[k] >= 8 for k in KINDS)
    for item in items:
        for kind, value in item["pii"]:
            assert kind in KINDS
            assert value in item["text"]


def test_recall_per_kind_and_precision_meet_their_floors() -> None:
    found, expected, detections, false_positives, misses = _measure()
    print("\nPII scrubbing on", CORPUS.name)
    for kind in KINDS:
        print(f"  {kind:8s} recall {found[kind]}/{expected[kind]} = "
              f"{found[kind] / expected[kind]:.3f}")
    total_found, total = sum(found.values()), sum(expected.values())
    precision = (detections - false_positives) / detections
    print(f"  overall  recall {total_found}/{total} = {total_found / total:.3f}; precision "
          f"{detections - false_positives}/{detections} = {precision:.3f}")
    for miss in misses:
        print("  missed or spurious:", miss)
    for kind, floor in RECALL_FLOOR.items():
        assert found[kind] / expected[kind] >= floor, (kind, misses)
    assert precision >= PRECISION_FLOOR, misses


def test_scrub_replaces_each_kind_with_its_placeholder() -> None:
    text = ("Mail jane@example.com or call +1 201-555-0123 from 203.0.113.9, pay with "
            "4111 1111 1111 1111 using key hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 at "
            "742 Evergreen Terrace.")
    assert scrub(text) == ("Mail [EMAIL] or call [PHONE] from [IP], pay with [CARD] using key "
                           "[KEY] at [ADDRESS].")


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1112 fails the Luhn check",
    "999.12.1.1 is not an address",
    "12:30:45 is a time, not IPv6",
    "",
])
def test_lookalikes_are_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_a_key_that_contains_digits_is_one_key_not_a_phone_number() -> None:
    assert scrub("token sk-proj-20155501234567890123456789abc") == "token [KEY]"


def test_real_model_answers_lose_only_their_email_addresses() -> None:
    # 720 real answers (Vicuna-80 study) hold no personal data except sample e-mail addresses
    # in answers about writing e-mails; every other detection would be a false positive.
    answers = DATA / "qlora_vicuna80_human" / "answers.jsonl"
    texts = [json.loads(line)["text"] for line in answers.read_text().splitlines()]
    found = [(s.kind, t[s.start:s.end]) for t in texts for s in find_pii(t)]
    print(f"\n{len(texts)} real answers: {len(found)} detections {Counter(k for k, _ in found)}")
    assert {kind for kind, _ in found} == {"EMAIL"}
    assert all("@" in value for _, value in found)


def test_scrubbing_on_several_processes_gives_the_same_texts_in_order() -> None:
    answers = DATA / "qlora_vicuna80_human" / "answers.jsonl"
    texts = [item["text"] for item in _load()] + [
        json.loads(line)["text"] for line in answers.read_text(encoding="utf-8").splitlines()][:200]
    expected = [scrub(text) for text in texts]
    assert expected != texts  # the corpus has personal data to replace
    assert scrub_many(texts, workers=2, parallel_from=1) == expected
    assert scrub_many(texts, workers=1) == expected
