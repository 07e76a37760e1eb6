"""The language label (2026.11.14): languages outside the label list when py3langid's full
model is sure, Hindi in Latin letters, Russian taken for Bulgarian, short ASCII English; and
the near-misses each of them must leave alone."""

from __future__ import annotations

import pytest

from arena.categories import classify
from arena.categories.classify import LABEL_LANGUAGES, prompt_language


@pytest.mark.parametrize(("text", "language"), [
    ("Ninataka kujifunza kupika wali wa nazi, unaweza kunisaidia?", "sw"),
    ("Paano ako makakapag-ipon ng pera habang nag-aaral sa kolehiyo?", "tl"),
    ("Ek wil graag weet hoe om 'n goeie CV te skryf vir my eerste werk.", "af"),
    ("Zein da Bilboko museorik ezagunena eta zergatik?", "eu"),
])
def test_a_language_outside_the_list_is_named_when_the_full_model_is_sure(
        text: str, language: str) -> None:
    assert language not in LABEL_LANGUAGES
    assert prompt_language(text) == language
    assert f"language:{language}" in classify([text])


@pytest.mark.parametrize(("text", "language"), [
    # Near-misses: short prompts in listed languages keep their language (not Aragonese,
    # Galician, Asturian or another close minor language of the full model).
    ("¿Dónde está la estación de tren?", "es"),
    ("Onde fica a estação de comboios mais próxima?", "pt"),
    ("Wie komme ich am schnellsten zum Bahnhof?", "de"),
    ("Où se trouve la gare la plus proche ?", "fr"),
])
def test_listed_languages_are_not_taken_for_close_minor_ones(text: str, language: str) -> None:
    assert prompt_language(text) == language


@pytest.mark.parametrize("text", [
    "yaar mujhe samjhao ki ye error kyu aa raha hai",
    "bhai meri help karo, interview kaise crack karu",
    "ek kahani likho jisme ek billi chand par jaati hai, mujhe chahiye short wali",
])
def test_hindi_in_latin_letters_is_hindi(text: str) -> None:
    assert prompt_language(text) == "hi"


@pytest.mark.parametrize(("text", "language"), [
    ("saya mau tahu kenapa kode ini error terus", "id"),  # Indonesian, no Hindi words
    ("I have a question about my car insurance", "en"),
    ("Hai, come stai? Vorrei prenotare un tavolo per due.", "it"),  # "hai" alone is Italian
])
def test_latin_prompts_without_hindi_words_keep_their_language(text: str, language: str) -> None:
    assert prompt_language(text) == language


def test_russian_taken_for_bulgarian_is_russian_and_bulgarian_stays() -> None:
    assert prompt_language("Почему небо голубое? Объясни просто.") == "ru"
    assert prompt_language("Напиши короткий рассказ про кота") == "ru"
    # Bulgarian: ъ, or none of the letters and words Bulgarian lacks.
    assert prompt_language("Къде мога да намеря хубав ресторант в София?") == "bg"
    assert prompt_language("Напиши кратко стихотворение за морето") == "bg"


def test_short_ascii_notation_is_english_and_too_little_text_is_nothing() -> None:
    assert prompt_language("derivative of ln(x) * x^2") == "en"
    assert prompt_language("godot: signal not connected in _ready") == "en"
    assert prompt_language("x = 3") is None
    assert prompt_language("12345 + 678") is None


def test_an_english_question_quoting_hindi_stays_english() -> None:
    # Found in review: the Hinglish rule overrode an English guess of 0.99.
    assert prompt_language('What does "kya hai" mean in Hindi? Also how do I say '
                           '"mujhe chahiye"?') == "en"
    assert prompt_language("Can you explain the lyrics of the song Kal Ho Naa Ho and "
                           "Mera Joota Hai Japani?") == "en"
    # …while Hinglish quoting an English error message stays Hindi.
    assert prompt_language('bhai mera python script "ModuleNotFoundError: No module named '
                           'requests" de raha hai, kya karu') == "hi"


def test_nynorsk_is_norwegian_like_bokmal() -> None:
    # The full model names Nynorsk "nn"; the list's Norwegian is "no".
    assert prompt_language("Korleis kan eg lære meg nynorsk på ein enkel måte?") == "no"
    assert prompt_language("Hvordan kan jeg lære meg norsk på en enkel måte?") == "no"
