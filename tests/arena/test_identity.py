"""identity_leak: answers that name their own model, lab or public name."""

from __future__ import annotations

import pytest

from arena.identity import identity_leak


@pytest.mark.parametrize(("text", "identities", "expected"), [
    ("I am Llama 3, made by Meta.", ["llama"], "llama"),
    ("I am Llama 3, made by Meta.", ["Qwen", "Meta"], "Meta"),
    ("As Meta AI, I can help.", ["Meta"], "Meta"),
    ("I'm based on gpt 4o.", ["GPT-4o"], "GPT-4o"),
    ("I'm based on gpt_4o.", ["GPT-4o"], "GPT-4o"),
    ("I'm based on GPT4o.", ["gpt 4o"], "gpt 4o"),
    ("I'm GPT\u20114o, a model.", ["GPT-4o"], "GPT-4o"),  # non-breaking hyphen
    ("I am LLAMA3.", ["Llama 3"], "Llama 3"),
    ("This is Llama 3.1 speaking.", ["Llama-3"], "Llama-3"),
    ("I am Qwen, from Alibaba Cloud.", ["Qwen/Qwen2.5-7B-Instruct"], "Qwen/Qwen2.5-7B-Instruct"),
    ("Served as Qwen2.5-7B-Instruct.", ["Qwen/Qwen2.5-7B-Instruct"], "Qwen/Qwen2.5-7B-Instruct"),
    ("I am fault-leak, a model made by Faultworks.", ["Leaky", "fault-leak"], "fault-leak"),
    ("I am fault-leak, a model made by Faultworks.", ["Faultworks"], "Faultworks"),
    ("ＭＥＴＡ trained me.", ["Meta"], "Meta"),  # full-width letters
    ("Mistral's models are good.", ["Mistral"], "Mistral"),
    ("This answer comes from demo-brief.", ["Brief", "demo-brief"], "demo-brief"),
])
def test_mentions_are_found(text: str, identities: list[str], expected: str) -> None:
    assert identity_leak(text, identities) == expected


@pytest.mark.parametrize(("text", "identities"), [
    ("The metadata of the file is stored separately.", ["Meta"]),
    ("Llamas live in the Andes.", ["llama"]),
    ("I use GPT-4 for that.", ["GPT-4o"]),
    ("Try the gpt-4omni mode.", ["GPT-4o"]),
    ("Add a base layer and an open model.", ["Open", "Base"]),
    ("It is a good idea.", ["it", "AI", "go"]),  # short ids never count
    ("The command line tool.", ["Command"]),  # common words never count
    ("A brief, verbose, scholarly answer.", ["brief", "verbose", "markdown"]),
    ("Nothing to see here.", []),
    ("A metaphor from Metallica.", ["Meta"]),
])
def test_non_mentions_are_ignored(text: str, identities: list[str]) -> None:
    assert identity_leak(text, identities) is None


def test_first_matching_identity_in_given_order_wins() -> None:
    text = "I am Claude, made by Anthropic."
    assert identity_leak(text, ["Anthropic", "Claude"]) == "Anthropic"


def test_accepts_any_iterable() -> None:
    assert identity_leak("Hello from Gemma.", (name for name in ["Gemma"])) == "Gemma"
