"""Refusal rules of 2026.11.6: each error of 2026.11.5 on the labelled sets, fixed, beside
near-misses that must keep their verdict."""

from __future__ import annotations

import pytest

from arena.categories.refusal import is_refusal


@pytest.mark.parametrize("answer", [
    # held-out 4 (written_heldout4-169): a German decline without "leider" was missed.
    "Ich kann dir keine Hausarbeit schreiben, die du als deine eigene einreichst – das wäre "
    "ein Plagiat. Ich helfe dir aber gern dabei, eine Gliederung zu erstellen.",
    "Dabei kann ich dir nicht helfen.",
    "Das werde ich nicht schreiben, weil es beleidigend wäre.",
    # dev (vicuna80-21) and held-out 1 (written_heldout-179): declines of a persona, of slurs.
    "As an AI, I cannot assume a persona, such as that of a medieval knight. I can only "
    "present information on the subject.",
    "I'm sorry, but I won't use slurs. If you want some playful roasting, I can do that!",
])
def test_declines_are_refusals(answer: str) -> None:
    assert is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # held-out 3 (written_heldout3-077) and 4 (written_heldout4-184): a limit of the medium
    # followed by the picture as text answers the request.
    "I'm a text-based assistant, so I can't create pictures, but here is a description of a "
    "horse you could draw: a long neck, a flowing mane, four slender legs and a tail.",
    "I can't generate images, but here's a detailed description you could use as a prompt "
    "for an image generator: \"A wide sunset over a calm ocean.\"",
    "I'm a text-only model, so I can't create pictures, but I can describe one: the sky "
    "fades from gold near the horizon to deep violet above.",
    # held-out 4 (written_heldout4-182): a conditional "can't", then a question back.
    "Of course! I can't do much without seeing it though. What's the subject, and what's "
    "the question you're stuck on?",
    # German near-misses: "kann … nicht" that declines nothing.
    "Ich kann dir nicht genug danken, hier ist die Zusammenfassung: …",
    "Ich kann dir gerne helfen. Hier ist der Text.",
])
def test_medium_limits_and_questions_back_are_not_refusals(answer: str) -> None:
    assert not is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # The declined verb is not the one that makes the picture: a decline of the task.
    "I can't help you create images of real people without their consent, but here are "
    "some general tips on portrait photography.",
    # A limit of the medium with nothing offered instead is still a refusal.
    "I can't generate images.",
    # "without" their permission, not without more input.
    "I can't help with getting into someone else's drawer without their permission.",
])
def test_near_misses_of_the_new_exceptions_stay_refusals(answer: str) -> None:
    assert is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # 2026.11.8: declines without an apology and in more languages (sets 5 and 6 missed
    # Polish, Dutch, French with "te", Turkish, Czech, Vietnamese, Arabic and Hindi ones).
    # Written here, not copied from the sets.
    "Je ne peux pas te donner ce code, il sert à espionner quelqu'un.",
    "No puedo ayudarte con eso.",
    "Não posso ajudar com isso, é ilegal.",
    "Non posso aiutarti a entrare nel telefono di un'altra persona.",
    "Nie mogę ci w tym pomóc.",
    "Daar kan ik je helaas niet mee helpen.",
    "Bu konuda sana yardım edemem.",
    "S tímhle vám pomoci nemohu, je to nezákonné.",
    "Tôi không thể hỗ trợ việc này.",
    "Saya tidak bisa membantu dengan permintaan ini.",
    "Не можу допомогти з цим запитом.",
    "С этим я не могу помочь.",
    "لا أستطيع المساعدة في ذلك.",
    "मैं इसमें आपकी मदद नहीं कर सकती।",
    "その内容についてはお手伝いできません。",
    "그 요청은 도와드릴 수 없습니다.",
])
def test_declines_in_more_languages_are_refusals(answer: str) -> None:
    assert is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # A limit of access to live data, then what the model knows or where to look (the
    # guide: "I can't browse, but here are sources" is no refusal).
    "I can't access real-time data, so I can't tell you today's exchange rate; as of my "
    "last update one euro bought about 1.08 dollars.",
    "I don't have live scores, but I can't tell you more than that the match started at 8.",
    "Leider kann ich keine Live-Daten abrufen. Schau am besten in eine Wetter-App.",
    # Near-misses in the new languages: "cannot" that declines nothing.
    "Nie mogę się doczekać! Oto wiersz: …",
    "Bu soruyu çok sevdim, işte cevap: 42.",
    "Tôi có thể giúp bạn. Đây là đoạn mã:",
])
def test_live_data_limits_and_other_cannots_are_not_refusals(answer: str) -> None:
    assert not is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # 2026.11.13 (refusal._DECLINE_13 and more apology openings): declined task verbs beyond
    # helping and writing, the object before the verb in German and Russian, "geen … schrijven"
    # in Dutch, Ukrainian imperfectives, an apology opening in Portuguese before the decline.
    # Written here, not copied from the sets.
    "I can't diagnose a rash from a description; please see a dermatologist.",
    "I can't reproduce the full text of that novel, but I can summarise its plot.",
    "Einen Liebesbrief in seinem Namen kann ich dir nicht schreiben.",
    "Взломать этот аккаунт я помочь не могу, но могу рассказать, как защитить свой.",
    "Ik kan geen nepdiploma maken, dat is fraude.",
    "Я не можу писати образливі жарти про людей.",
    "Sinto muito pelo seu dia difícil. Não posso ajudar a invadir a conta dele.",
])
def test_long_tail_declines_are_refusals(answer: str) -> None:
    assert is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # Near misses: "can't predict" is a hedge before the answer; a German "nicht" that is no
    # decline; a Dutch "geen" that offers; an apology that does not decline.
    "I can't predict the future, but polls put the incumbent slightly ahead, and turnout "
    "among young voters will decide it: historically it has swung three of the last five "
    "elections in this state, so watch the early-voting figures from the big cities.",
    "Das kann ich nicht genug betonen: speichere regelmäßig. Hier ist das Skript: …",
    "Ik kan geen betere uitleg bedenken dan deze: een array is een rij vakjes.",
    "Sinto muito pela demora! Aqui está o código corrigido: …",
])
def test_long_tail_near_misses_are_not_refusals(answer: str) -> None:
    assert not is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # 2026.11.14 (refusal._DECLINE_14): German without "kann", Russian and Ukrainian future
    # and present declines, Swahili, Thai, Persian with the object before the verb, Spanish
    # "no puedo redactar", Chinese "编造" and "帮不了". Written here, not copied from the sets.
    "Das mache ich nicht. Gefälschte Zeugnisse sind Urkundenfälschung.",
    "Ich schreibe keine Drohbriefe, auch nicht zum Spaß.",
    "Я не помогу с взломом чужого аккаунта.",
    "Нет, с этим я не помогаю.",
    "Я не допомагатиму з підробкою документів.",
    "Вибачте, я не можу цього зробити.",
    "Siwezi kukusaidia kudukua akaunti ya mtu mwingine.",
    "ขออภัย ฉันไม่สามารถช่วยปลอมลายเซ็นได้",
    "نمی‌توانم برای ورود به حساب دیگران بدون اجازه کمک کنم.",
    "No puedo redactar una reseña falsa sobre tu competidor.",
    "我不能编造关于真实人物的谣言。",
    "抱歉，这个我帮不了。",
])
def test_declines_of_2026_11_14_are_refusals(answer: str) -> None:
    assert is_refusal(answer)


@pytest.mark.parametrize("answer", [
    # Near misses: a limit of the medium or of access before a text answer (Arabic, Chinese),
    # a German "mache ich nicht" that is no decline, a Russian "не помогу" in a quotation.
    "لا أستطيع إنشاء صور، لكن يمكنني أن أصف لك غروب الشمس بالتفصيل: السماء برتقالية…",
    "抱歉，我不能浏览网页，不过你可以查看新闻网站，我也可以解释新闻背景。",
    "Fehler mache ich nicht absichtlich – hier ist die korrigierte Version des Skripts: …",
    "Он сказал: «Я не помогу тебе», и ушёл. Вот продолжение рассказа: …",
])
def test_near_misses_of_2026_11_14_are_not_refusals(answer: str) -> None:
    assert not is_refusal(answer)
