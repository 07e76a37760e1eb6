"""Each label on clear examples and on near-misses that share its words but not its meaning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from arena.categories import CLASSIFIER_VERSION, LONG_QUERY_CHARS, classify

REPO = Path(__file__).resolve().parents[3]


def _labels(*prompts: str, answers: list[tuple[str, str]] | None = None) -> frozenset[str]:
    return classify(list(prompts), answers or [])


@pytest.mark.parametrize("label, prompt", [
    ("coding", "Write a Python function that merges two sorted lists."),
    ("coding", "What does this error mean? TypeError: 'NoneType' object is not subscriptable"),
    ("coding", "```\nfor (int i = 0; i < n; i++) sum += a[i];\n```\nWhy is this slow?"),
    ("coding", "Comment trier une liste de dictionnaires par une clé en Python ?"),
    ("coding", "用Python写一个函数，计算列表中所有偶数的和。"),
    ("math", "Solve for x: 2x^2 - 8x + 6 = 0"),
    ("math", "What is the probability of getting at least one six when rolling three dice?"),
    ("math", "Tom has 3 times as many apples as Sara. Together they have 48. How many has Sara?"),
    ("math", "Resuelve la ecuación 5x - 3 = 2x + 9."),
    ("creative_writing", "Write a short story about a lighthouse keeper."),
    ("creative_writing", "Compose a haiku about coffee."),
    ("creative_writing", "Roleplay as a grumpy wizard who runs a potion shop."),
    ("creative_writing", "Напиши короткий рассказ о коте, который мечтал стать космонавтом."),
    ("instruction_following", "Explain photosynthesis in no more than 50 words."),
    ("instruction_following", "Give me three bakery names in JSON format."),
    ("instruction_following", "Answer with only yes or no: is the Earth round?"),
    ("instruction_following", "Erkläre die Photosynthese in genau drei Sätzen."),
    ("instruction_following", "Liste 6 frutas tropicais em ordem alfabética, uma por linha, "
                              "sem numeração."),
    ("instruction_following", "Réponds uniquement par oui ou non : le soleil est-il une étoile ?"),
    ("hard_prompt", "Our Postgres query SELECT * FROM events WHERE user_id = $1 ORDER BY "
                    "created_at DESC LIMIT 50 takes 4 seconds on a 200M-row table even though "
                    "user_id is indexed. Explain what the planner is probably doing and propose "
                    "indexes or query changes, with the trade-offs for write throughput."),
])
def test_clear_examples_get_their_label(label: str, prompt: str) -> None:
    assert label in _labels(prompt)


@pytest.mark.parametrize("label, prompt", [
    ("coding", "What is the best python species to keep as a pet for a beginner?"),
    ("coding", "I visited Java last summer; what are the must-see temples there?"),
    ("coding", "Who is the author of The Da Vinci Code?"),
    ("coding", "my ball python won't eat, should I worry?"),
    ("coding", "Can you explain the code of conduct for members of parliament?"),
    ("math", "Who invented calculus, Newton or Leibniz?"),
    ("math", "What is the history of the number zero?"),
    ("math", "What are the top 10 tourist attractions in Paris?"),
    ("math", "Write a Python function to compute the factorial of n."),
    ("creative_writing", "Analyze the themes of the poem 'The Road Not Taken'."),
    ("creative_writing", "Write an email to my landlord asking to fix the heating."),
    ("creative_writing", "What are story points in agile development?"),
    ("instruction_following", "What is a JSON file?"),
    ("instruction_following", "How many words are there in the English language?"),
    ("hard_prompt", "Is 221 a prime number?"),
    ("hard_prompt", "What is the capital of Australia?"),
    ("hard_prompt", "Write a haiku about coffee."),
])
def test_near_misses_do_not_get_the_label(label: str, prompt: str) -> None:
    assert label not in _labels(prompt)


@pytest.mark.parametrize("prompt, code", [
    ("Was sind die besten Sehenswürdigkeiten in München?", "de"),
    ("Quelle est la différence entre un croissant et un pain au chocolat ?", "fr"),
    ("¿Cuáles son los beneficios de aprender un segundo idioma?", "es"),
    ("北京有哪些值得参观的地方？", "zh"),
    ("東京でおすすめのラーメン屋はどこですか？", "ja"),
    ("Какие достопримечательности стоит посмотреть в Санкт-Петербурге?", "ru"),
    ("How tall is Mount Everest?", "en"),
])
def test_language_label_is_the_first_turns_language(prompt: str, code: str) -> None:
    labels = _labels(prompt)
    assert f"language:{code}" in labels
    assert [x for x in labels if x.startswith("language:")] == [f"language:{code}"]


def test_too_little_text_has_no_language() -> None:
    assert not [x for x in _labels("2+2?") if x.startswith("language:")]


def test_multi_turn_needs_two_turns() -> None:
    assert "multi_turn" in _labels("What is the capital of Canada?", "How many live there?")
    assert "multi_turn" not in _labels("What is the capital of Canada? And its population?")


def test_topic_of_a_later_turn_counts() -> None:
    labels = _labels("Can you explain what a REST API is?", "How would I build one in Flask?")
    assert {"coding", "multi_turn"} <= labels


def test_long_query_counts_every_turns_characters() -> None:
    half = "word " * (LONG_QUERY_CHARS // 10)
    assert "long_query" not in _labels(half)
    assert "long_query" in _labels(half, half + "x" * 10)


def test_pasted_text_does_not_lend_its_topic() -> None:
    essay = ("Governments use fiscal policy: taxation and spending. Central banks set the "
             "interest rate and the money supply. " * 12)
    labels = _labels("Summarise the following text in 3 bullet points:\n" + essay)
    assert "instruction_following" in labels and "long_query" in labels
    assert not {"math", "coding", "hard_prompt"} & labels


@pytest.mark.parametrize("answer", [
    "I'm sorry, but I can't help with breaking into someone else's home.",
    "I cannot provide instructions for making illegal drugs.",
    "I won't tell jokes that demean people based on their ethnicity.",
    "I must decline to help with accessing another person's account.",
    "Lo siento, pero no puedo ayudarte a acceder a redes ajenas sin permiso.",
    "Es tut mir leid, aber ich kann dir dabei nicht helfen.",
    "很抱歉，我无法提供侵犯他人隐私的方法。",
])
def test_either_side_refusing_labels_the_battle(answer: str) -> None:
    assert "refusal" in _labels("Some request", answers=[("Sure, here it is: ...", answer)])
    assert "refusal" in _labels("Some request", answers=[(answer, "Sure, here it is: ...")])


@pytest.mark.parametrize("answer", [
    "As an AI, I don't have personal preferences, but many people love blue because it is "
    "calm. " * 6,
    "Sorry about that! Here's the corrected version: use int(input()) instead of input().",
    "I can't browse the internet in real time, but here are some reliable sources: BBC News, "
    "Reuters and AP News. You can also set up alerts for the topics you care about, and "
    "compare how several outlets report the same story before trusting a headline. " * 2,
    "Unfortunately, there are several possible causes, so I can't say for sure. The most "
    "common are opening the oven too early or underbaking.",
    "Here is the story you asked for. The villain said: 'I cannot help you, hero!'",
])
def test_hedges_and_apologies_are_not_refusals(answer: str) -> None:
    assert "refusal" not in _labels("Some request", answers=[(answer, "Fine answer.")])


def test_empty_conversation_has_no_labels_and_version_is_set() -> None:
    assert classify([]) == frozenset() and classify(["   "]) == frozenset()
    assert CLASSIFIER_VERSION and len(CLASSIFIER_VERSION) <= 32  # battle.category_version


def test_pathological_prompts_do_not_backtrack_for_ever() -> None:
    # Regression: the CamelCase "…Error" rule, compiled case-insensitively, backtracked
    # exponentially on a run of letters ("if (xxxx…", 100 characters never finished) and
    # unanchored \w+ rules were quadratic. Run in a child process so a hang fails the test.
    code = ("from arena.categories import classify\n"
            "classify(['if (' + 'x' * 100])\n"
            "classify(['x' * 8000, 'Ab' * 4000], [('a.b(' * 2000, '1+' * 4000)])\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=60,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_runs_of_blank_lines_and_unspaced_scripts_stay_linear() -> None:
    # Regression: CODE_SYNTAX's "^\s*" (read on every turn in full) tried each blank line's
    # start across all the blank lines after it (20,000 newlines: ~40 s), and the constraint
    # rules' unanchored runs of Hangul, CJK numerals or digits before "로만", "句话", "句"
    # were quadratic (100,000 characters: tens of seconds). Each call below now takes well
    # under a second.
    code = ("from arena.categories import classify\n"
            "from arena.categories.rules import is_instruction_following\n"
            "classify(['x' + '\\n' * 20000 + 'y'])\n"
            "is_instruction_following('가' * 100000)\n"
            "is_instruction_following('一' * 100000)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=20,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("prompt, coding", [
    # 2026.11.9's coding rule: a data format of everyday content is not code, nor a tool's
    # name beside everyday words; a format beside a programming language, or a tool's name
    # beside code words, still is.
    ("Name four rivers of Europe as a JSON array of objects with keys name and length.", False),
    ("Donne-moi trois recettes au format YAML.", False),
    ("my ball python won't eat, is that normal?", False),
    ("Do giant pandas eat anything besides bamboo?", False),
    ("Is it worth visiting Java in the rainy season?", False),
    ("Write a Go HTTP handler that returns the current time as JSON.", True),
    ("Parse this JSON in Python and print every key.", True),
    ("how do I drop empty rows in pandas", True),
    ("my python script won't run: ModuleNotFoundError: No module named 'requests'", True),
])
def test_coding_rule_on_formats_and_everyday_tool_names(prompt: str, coding: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["coding"] is coding


@pytest.mark.parametrize("prompt, constrained", [
    # 2026.11.10's answer-form rule: "answer only with the number / the name / yes or no",
    # "no other text", separators, one per line, one sentence, letter case, words to avoid,
    # across languages and scripts (wordings written here, not taken from a set).
    ("Wie alt wurde Goethe? Antworte nur mit der Zahl.", True),
    ("Welcher Fluss fließt durch Wien? Antworte bitte nur mit dem Namen.", True),
    ("¿Cuál es la capital de Perú? Responde solo con el nombre.", True),
    ("Quantos lados tem um hexágono? Responda somente com o número.", True),
    ("Le soleil est-il une étoile ? Réponds uniquement par oui ou non.", True),
    ("Сколько будет 7 на 8? Ответь одним числом.", True),
    ("Hur många ben har en spindel? Svara bara med ett tal.", True),
    ("Sebutkan tiga warna bendera Prancis, tanpa penjelasan.", True),
    ("写出三种水果，用逗号分隔，不要其他内容。", True),
    ("富士山の高さは？数字だけで答えて。", True),
    ("한국의 수도는? 이름만 답해 주세요.", True),
    ("Write a limerick about a cat, all lower case, and avoid the words 'hat' and 'mat'.",
     True),
    ("Write a story that ends with the exact sentence \"Nobody noticed.\"", True),
    # Near misses: "only", "nur", "just" and "без" in passing constrain nothing.
    ("Wie alt wurde Goethe? Ich weiß nur, dass er in Weimar lebte.", False),
    ("Just a quick question: is Pluto still a planet?", False),
    ("Расскажи про жизнь без интернета в деревне.", False),
    ("我只想知道明天会不会下雨。", False),
])
def test_answer_form_rule_across_languages(prompt: str, constrained: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["instruction_following"] is constrained


@pytest.mark.parametrize("prompt, constrained", [
    # 2026.11.12's answer-form rule (rules._ANSWER_FORM): how a computed answer is written,
    # words to leave out, line endings, separators, one item per line, a list's order, a cap
    # on sentences, the answer's language, a table (wordings written here, not from a set).
    ("What is the mean of 3, 8 and 10? Round to one decimal place.", True),
    ("Solve x^2 = 50 and put your answer inside a box.", True),
    ("Simplify 18/24 and express it as a reduced fraction.", True),
    ("Wie viel sind 7 mal 13? Gib nur das Ergebnis an.", True),
    ("Calcule 15 % de 240 et donne seulement le résultat.", True),
    ("Вычисли 3/8 от 64 и округли до целых.", True),
    ("Écris un poème sur la mer sans utiliser le mot « bleu ».", True),
    ("Напиши стихотворение о зиме без слова «снег».", True),
    ("「空」を使わずに秋の俳句を書いてください。", True),
    ("Name the colours of the rainbow separated by \" / \".", True),
    ("Nombra cinco ríos de Europa por orden alfabético.", True),
    ("Podaj cztery owoce oddzielone przecinkami.", True),
    ("Beskriv Stockholm i punktform, utan inledning.", True),
    ("请用英文回答：上海有什么好吃的？", True),
    ("Recommend three novels with the year in parentheses.", True),
    # Near misses: the same words in an ordinary question.
    ("Why do calculators round numbers?", False),
    ("My cat likes to sleep in a box.", False),
    ("Sans le mot de passe je ne peux plus me connecter, que faire ?", False),
    ("Это можно понять без слов.", False),
    ("電卓を使わずに暗算を速くするコツは？", False),
    ("What does the text in parentheses mean in a citation?", False),
    ("我想用英文写简历，有什么建议？", False),
    ("Het project is afgerond op 1 juni.", False),
])
def test_answer_form_rule_for_results_words_and_layout(prompt: str, constrained: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["instruction_following"] is constrained


@pytest.mark.parametrize("prompt, coding", [
    # 2026.11.10's coding rule: short tool questions and programming questions in more
    # languages; the everyday senses of python, java, terminal and docker; a mathematical
    # function written in Chinese.
    ("ffmpeg: convert a folder of wav files to flac", True),
    ("jenkins: run a stage only on the main branch", True),
    ("how do I undo a cherry-pick that conflicted", True),
    ("helm chart values for a readiness probe on port 8080", True),
    ("tikz: draw two circles joined by an arrow", True),
    ("पायथन में डिक्शनरी को कैसे सॉर्ट करें?", True),
    ("كيف أكتب برنامج بايثون يحسب المتوسط؟", True),
    ("Jak v Linuxu zjistím velikost adresáře?", True),
    ("Linuxでプロセスを終了するコマンドは？", True),
    ("Which is the longest python species and what does it eat?", False),
    ("Who were the members of Monty Python?", False),
    ("Is the bus terminal far from the airport terminal 1?", False),
    ("Do you like java coffee beans from Indonesia?", False),
    ("求函数 f(x) = x² - 2x 的最小值", False),
])
def test_coding_rule_on_tool_questions_and_everyday_senses(prompt: str, coding: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["coding"] is coding


@pytest.mark.parametrize("prompt, math", [
    # 2026.11.11's math rule: proofs and counting questions in more languages, a power of a
    # number with an answer-form constraint (wordings written here, not taken from a set).
    ("Zeige, dass die Summe zweier ungerader Zahlen gerade ist.", True),
    ("Montrez que la racine carrée de 3 est irrationnelle.", True),
    ("Докажите, что сумма углов треугольника равна 180 градусам.", True),
    ("Скільки існує трицифрових чисел, у яких усі цифри різні?", True),
    ("In how many ways can 6 people sit around a round table?", True),
    ("What is 17 squared? Answer with just the number.", True),
    # Near misses: "zeige" as "show me", an everyday question with figures.
    ("Zeige mir ein Rezept für Apfelkuchen.", False),
    ("I'm 1.75 m and 82 kg, is that overweight? How much should I lose?", False),
    ("Our flight lands at 14:20 and the train leaves at 15:05, how long is the layover?", False),
])
def test_math_rule_proofs_counting_and_everyday_figures(prompt: str, math: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["math"] is math


@pytest.mark.parametrize("prompt, role", [
    # 2026.11.11: a stated professional role counts as a real-world situation in hard_score.
    ("Я коммерческий директор дистрибьютора электроники.", True),
    ("我是一家物流公司的运营总监。", True),
    ("저는 병원 구매팀장입니다.", True),
    ("Jestem kierownikiem magazynu w firmie spożywczej.", True),
    ("Bir hastanede satın alma müdürüyüm.", True),
    ("I'm the head of operations at a 40-person bakery chain.", True),
    # Near misses: a role in passing, someone else's role.
    ("My sister is a director of a small theatre.", False),
    ("Я люблю гулять в парке.", False),
])
def test_professional_role_across_languages(prompt: str, role: bool) -> None:
    from arena.categories import rules
    assert bool(rules._ROLE.search(prompt)) is role


@pytest.mark.parametrize("prompt, constrained", [
    # 2026.11.13's long-tail constraint cues (rules._CONSTRAINT_13): numbered or bulleted
    # lists, tables and JSON, the answer's language, "no explanation", "only the names", a
    # cap or exact count, words to avoid, how each line starts or ends (wordings written
    # here, not taken from a set).
    ("Nevezz meg 4 európai fővárost számozott listában.", True),
    ("Gi meg tre tips mot stress som en punktliste.", True),
    ("Beskriv København med højst 20 ord.", True),
    ("Selitä fotosynteesi kahdella lauseella.", True),
    ("Descrie Bucureștiul în maximum două propoziții.", True),
    ("Explică ce e inflația și nu folosi cuvântul \"preț\".", True),
    ("Orta Asya'daki 3 ülkeyi tablo halinde yaz.", True),
    ("Sebutkan 4 buah tropis dalam bentuk tabel.", True),
    ("Taja wanyama watano wa porini kwa orodha yenye namba.", True),
    ("Magbigay ng tatlong prutas, walang paliwanag.", True),
    ("Trả lời bằng tiếng Anh: món phở có nguồn gốc từ đâu?", True),
    ("ตอบเป็นภาษาอังกฤษ ประเทศไทยมีกี่จังหวัด", True),
    ("תן לי שלוש ערים באיטליה, רק שמות.", True),
    ("چهار میوه‌ی تابستانی را به صورت فهرست بنویس.", True),
    ("भारत की 3 नदियों के नाम तालिका में बताओ", True),
    ("bas ek line mein samjhao ki GST kya hai", True),
    ("Svar kun med ét ord: hvilken farve har himlen?", True),
    ("Escribe un poema donde cada verso debe empezar con la letra S.", True),
    ("请用三行以内介绍一下杭州。", True),
    # Near misses: the same words in ordinary questions.
    ("Hvad betyder ordet hygge på dansk?", False),
    ("Wie sagt man Brezel auf Englisch?", False),
    ("jak w SQL znaleźć duplikaty w tabeli klienci?", False),
    ("Ik ga drie keer per week sporten, is dat genoeg?", False),
    ("Ye line mein kya galat hai?", False),
    ("أريد قائمة بأفضل المطاعم في القاهرة", False),
    ("Trả lời từ góc nhìn của một nhà kinh tế: lạm phát là gì?", False),
    ("执行以上命令后报错了怎么办", False),
    ("Devo usar uma lista ou um dicionário em Python?", False),
])
def test_long_tail_constraint_cues(prompt: str, constrained: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["instruction_following"] is constrained


@pytest.mark.parametrize("prompt, constrained", [
    # 2026.11.14's constraint cues (rules._CONSTRAINT_14): counts of sentences or words in
    # more languages, numbered or bulleted lists and tables, one item per line, "only the
    # names", "answer in English" with a word between, letters or words to leave out,
    # acrostics, what a translation must keep, and structural constraints in English
    # (wordings written here, not taken from a set).
    ("объясни что такое инфляция в трёх предложениях", True),
    ("explica'm què és la fotosíntesi en dues frases", True),
    ("beskriv Oslo i én setning", True),
    ("skriv en hilsen til kollegaene, maks 40 ord", True),
    ("eleza maana ya uhuru kwa sentensi mbili tu", True),
    ("napiš 4 tipy na spánek, každý maximálně jednou větou", True),
    ("дай 4 поради щодо бігу, кожна порада з нового рядка", True),
    ("напиши 5 идеи за уикенд, номерирани", True),
    ("išvardyk 3 upes, sunumeruotas", True),
    ("navedi 4 grada u obliku tabele", True),
    ("bakının 3 parkını sadala, hər birini bir cümlə ilə izah et", True),
    ("nimeta 3 eesti linna, ainult nimed", True),
    ("Antworte bitte auf Englisch: wo liegt Hamburg?", True),
    ("ответь на английском: сколько лет Москве?", True),
    ("napiši pjesmicu o suncu bez slova \"e\"", True),
    ("напиши четверостишие о зиме, чтобы в нём не было буквы \"а\"", True),
    ("写一首藏头诗，藏“春天来了”", True),
    ("여름에 관한 삼행시 써줘", True),
    ("강아지 키우는 법을 번호 매겨서 알려줘", True),
    ("京都のおすすめの寺を3つ、名前だけ教えて", True),
    ("traduci in tedesco mantenendo i tag html: <b>Ciao</b>", True),
    ("translate into Spanish and keep the line breaks:\nHello\nGoodbye", True),
    ("give me four colours, return them as a python list", True),
    ("describe the ocean without using the letter e", True),
    ("explain gravity, but you are only allowed to use questions", True),
    ("write the recipe name on the first line and the cooking time on the second line", True),
    ("suggest 3 blog titles, all with fewer than 50 characters", True),
    # Near misses: the same words in ordinary requests, and plain translations.
    ("переведи на английский: я люблю чай", False),
    ("translate into German: where is the station?", False),
    ("в двух словах, что ты думаешь о Python?", False),
    ("kako u pythonu ispisati samo imena iz liste", False),
    ("what does the letter e stand for in E=mc²?", False),
    ("how do I keep line breaks in a textarea with React?", False),
    ("kto napisał pierwszą linię kodu w historii?", False),
])
def test_long_tail_constraint_cues_14(prompt: str, constrained: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["instruction_following"] is constrained


@pytest.mark.parametrize("prompt, creative", [
    # 2026.11.13's creative cues (rules._creative_13): forms and verbs of writing in the long
    # tail of languages and role-play openings (wordings written here).
    ("Skriv en dikt om höstlöv.", True),
    ("Skriv et eventyr om en lille ræv.", True),
    ("Kirjoita lyhyt tarina kadonneesta avaimesta.", True),
    ("Írj egy verset a Balatonról.", True),
    ("Scrie o poveste despre un motan curajos.", True),
    ("Napisz wiersz o jesiennym deszczu.", True),
    ("Deniz hakkında bir şiir yaz.", True),
    ("Tulis puisi tentang senja di pantai.", True),
    ("Sumulat ng tula tungkol sa ulan.", True),
    ("Andika shairi fupi kuhusu mvua.", True),
    ("ek chhoti si kavita likho chand par", True),
    ("একটি ছোট গল্প লেখো একটি বিড়াল নিয়ে", True),
    ("แต่งกลอนเกี่ยวกับดอกไม้", True),
    ("Let's play a game: you're a pirate captain and I'm a stowaway.", True),
    ("Du bist ein Drache, der einen Schatz bewacht. Ich bin ein Dieb.", True),
    ("너는 마법사야. 나는 견습생이고. 시작해", True),
    # Near misses: the same words in ordinary requests and questions.
    ("Can you write a visa application letter for me?", False),
    ("Tulis satu paragraf tentang perubahan iklim.", False),
    ("Γράψε μια έκθεση για την ιστορία της Ελλάδας.", False),
    ("שיר ישן של אריק איינשטיין, מה שמו?", False),
    ("แต่งงานที่ไหนดี", False),
    ("Skriv en sammanfattning av boken.", False),
])
def test_long_tail_creative_cues(prompt: str, creative: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["creative_writing"] is creative


@pytest.mark.parametrize("prompt, coding", [
    # 2026.11.15's tool names (rules._TOOL_NAMES_15): Python inflected or transliterated
    # (wordings written here), and the near misses: the snake, Monty Python, a plain word.
    ("Miten Pythonilla luetaan CSV-tiedosto?", True),
    ("Kuidas Pythonis sõnastikku sorteerida?", True),
    ("Hogyan olvasok be egy fájlt Pythonban?", True),
    ("পাইথনে একটি লিস্ট উল্টাবো কীভাবে?", True),
    ("పైథాన్‌లో లూప్ ఎలా రాయాలి?", True),
    ("பைதான் மொழியில் ஒரு கோப்பை எப்படி படிப்பது?", True),
    ("ਪਾਈਥਨ ਵਿੱਚ ਸੂਚੀ ਕਿਵੇਂ ਬਣਾਈਏ?", True),
    ("በፓይተን ዝርዝር እንዴት እፈጥራለሁ?", True),
    ("ری ایکٹ میں ہک کیا ہوتا ہے؟", True),
    ("Which is the longest python species and what does it eat?", False),
    ("Pythons are constrictors, not venomous, right?", False),
    ("Was sind die besten Sketche von Monty Python?", False),
])
def test_inflected_and_transliterated_tool_names(prompt: str, coding: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["coding"] is coding


@pytest.mark.parametrize("prompt, creative", [
    # 2026.11.15's creative cues (rules._creative_13 with the *_15 lists): forms and verbs of
    # writing in more of the long tail, a role-play invitation, a Latin request (wordings
    # written here).
    ("Ysgrifennwch stori fer am ddraig goch.", True),
    ("Idatzi olerki bat udazkenari buruz.", True),
    ("Գրիր հեքիաթ մի փոքրիկ աղվեսի մասին։", True),
    ("დაწერე ლექსი ზღვაზე.", True),
    ("Uzraksti pasaku par veco dzirnavnieku.", True),
    ("Parašyk eilėraštį apie rudenį.", True),
    ("Verku rakonton pri perdita kato.", True),
    ("Scribe fabulam de vulpe et corvo.", True),
    ("సముద్రం గురించి ఒక కవిత రాయండి.", True),
    ("மழை பற்றி ஒரு கவிதை எழுதுங்கள்.", True),
    ("Napiši pjesmu o moru.", True),
    ("Напишете стихотворение за зимата.", True),
    ("Shkruaj një tregim të shkurtër për një qen.", True),
    ("Vamos a jugar rol: eres un pirata y yo soy tu loro.", True),
    # Near misses: a letter to someone called Carmen, fabulous prose, a verb of writing
    # beside no form, a form in a question.
    ("Write a short letter to Carmen about the meeting.", False),
    ("Write a fabulous product description for our shoes.", False),
    ("Uzraksti e-pastu priekšniekam par atvaļinājumu.", False),
    ("Ysgrifennwch e-bost at y cyngor.", False),
    ("Pasakyk, kiek kainuoja bilietas.", False),
])
def test_long_tail_creative_cues_15(prompt: str, creative: bool) -> None:
    from arena.categories.classify import rule_labels
    assert rule_labels([prompt])["creative_writing"] is creative
