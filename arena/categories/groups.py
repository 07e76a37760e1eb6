"""Prompt groups: exact duplicates after normalisation, then near-duplicates by MinHash.

A group id is 32 hex characters of SHA-256 over a normalised prompt. A battle's own id is
that of its first prompt, so exact duplicates share a group the moment they are labelled;
:func:`near_duplicate_groups` then merges prompts whose character 5-gram sets have a Jaccard
similarity of at least :data:`NEAR_JACCARD` (typo fixes, a changed number, an added "please")
into the group of the earliest prompt, so ids stay stable as new battles arrive.

MinHash with banded locality-sensitive hashing finds the candidate pairs in linear time; each
candidate is then checked on its exact 5-gram sets, so no pair under the threshold is merged.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from arena.leaderboard.facts import normalise_prompt
from arena.leaderboard.facts import prompt_group_of as prompt_key

SHINGLE = 5
NEAR_JACCARD = 0.8
#: Prompts shorter than this (normalised) are grouped only when identical: "hi" and "hey"
#: share no meaning a 5-gram set could see.
MIN_NEAR_CHARS = 30
_BANDS, _ROWS = 16, 4
_PERMS = _BANDS * _ROWS
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20261129)  # fixed: signatures must not change between runs
_A = _rng.integers(1, _PRIME, size=_PERMS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=_PERMS, dtype=np.uint64)


def group_id(prompt: str) -> str:
    """The exact-duplicate group of a prompt (the key the flood rule counts without groups)."""
    return prompt_key(prompt)


def _shingles(text: str) -> set[int]:
    if len(text) < SHINGLE:
        return {int.from_bytes(hashlib.blake2b(text.encode(), digest_size=7).digest(), "little")}
    return {int.from_bytes(hashlib.blake2b(text[i:i + SHINGLE].encode(), digest_size=7)
                           .digest(), "little")
            for i in range(len(text) - SHINGLE + 1)}


def _signature(shingles: set[int]) -> np.ndarray:
    values = np.fromiter(shingles, dtype=np.uint64, count=len(shingles))
    # (a*x + b) mod p over 61-bit primes overflows uint64; Python ints would be slow, so the
    # product is taken modulo 2**64 first: still a fine hash family for LSH bucketing.
    hashed = (values[None, :] * _A[:, None] + _B[:, None]) % np.uint64(_PRIME)
    return np.asarray(hashed.min(axis=1))


def near_duplicate_groups(prompts: Sequence[str]) -> list[str]:
    """Group id of each prompt, in input order (earliest first: the group takes its id)."""
    norms = [normalise_prompt(p) for p in prompts]
    ids = [prompt_key(p) for p in prompts]
    parent = list(range(len(prompts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)  # the earliest prompt names the group

    first: dict[str, int] = {}
    sets: dict[int, set[int]] = {}
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, norm in enumerate(norms):
        if norm in first:
            union(first[norm], i)
            continue
        first[norm] = i
        if len(norm) < MIN_NEAR_CHARS:
            continue
        sets[i] = _shingles(norm)
        signature = _signature(sets[i])
        for band in range(_BANDS):
            buckets[(band, signature[band * _ROWS:(band + 1) * _ROWS].tobytes())].append(i)
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for k, i in enumerate(members):
            for j in members[k + 1:]:
                if (i, j) in checked or find(i) == find(j):
                    continue
                checked.add((i, j))
                a, b = sets[i], sets[j]
                if len(a & b) >= NEAR_JACCARD * len(a | b):
                    union(i, j)
    return [ids[find(i)] for i in range(len(prompts))]
