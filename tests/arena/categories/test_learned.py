"""The learned component: its shipped weights load, belong to this version, score the same in
every process, and are what the training script regenerates from the evaluation sets."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from arena.categories import CLASSIFIER_VERSION, TOPICAL, classify, learned
from arena.categories.classify import learned_models, request_text, rule_labels

REPO = Path(__file__).resolve().parents[3]
TRAIN = REPO / "benchmarks" / "categories" / "train_learned.py"


def test_shipped_weights_load_and_name_this_version() -> None:
    version, models = learned.load()
    assert version == CLASSIFIER_VERSION
    assert set(models) == set(TOPICAL)
    for model in models.values():
        assert len(model.buckets) == len(model.weights) > 1000
        assert np.all(np.diff(model.buckets) > 0)  # sorted, for searchsorted
        assert 0.0 < model.threshold < 1.0 and np.isfinite(model.intercept)


def test_weights_of_another_version_are_refused(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _, models = learned.load()
    stale = tmp_path / "weights.npz"
    learned.save(stale, models, version="rules+lr-1999.01.1")
    monkeypatch.setattr(learned, "_loaded", learned.load(stale))
    with pytest.raises(RuntimeError, match="trained for rules\\+lr-1999.01.1"):
        learned_models()
    with pytest.raises(RuntimeError):
        classify(["Write a Python function that reverses a list."])


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    version, models = learned.load()
    path = tmp_path / "copy.npz"
    learned.save(path, models, version=version)
    again_version, again = learned.load(path)
    assert again_version == version
    for label, model in models.items():
        other = again[label]
        assert np.array_equal(model.buckets, other.buckets)
        assert np.allclose(model.weights, other.weights)
        assert dataclasses.replace(model, buckets=other.buckets,
                                   weights=other.weights) == other


def test_features_do_not_depend_on_the_process_hash_seed() -> None:
    # Python's hash() is salted per process; the features must not use it.
    text = "Écris une fonction Python: def f(x): return x**2 — 用Python写一个函数"
    index, value = learned.features(text)
    code = ("import json, sys\nfrom arena.categories import learned\n"
            f"i, v = learned.features({text!r})\n"
            "print(json.dumps([i.tolist(), v.tolist()]))\n")
    for seed in ("1", "12345"):
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                             text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        other_index, other_value = json.loads(out.stdout)
        assert other_index == index.tolist()
        assert np.allclose(other_value, value)


def test_probabilities_are_stable_and_bounded() -> None:
    text = "How do I exit vim without saving?"
    first = learned.probabilities(text)
    assert first == learned.probabilities(text)
    assert set(first) == set(TOPICAL)
    assert all(0.0 < p < 1.0 for p in first.values())
    empty = learned.probabilities("")
    assert all(0.0 < p < 0.5 for p in empty.values())  # intercepts alone say no


def test_model_adds_a_label_the_rules_miss() -> None:
    # From the training data (dev set): the rules have no keyword for vim.
    prompt = "How do I exit vim?"
    assert not rule_labels([prompt])["coding"]
    assert "coding" in learned.learned_labels(request_text([prompt]))
    assert "coding" in classify([prompt])


def _trainer():  # noqa: ANN202 - the script's module
    spec = importlib.util.spec_from_file_location("train_learned", TRAIN)
    assert spec and spec.loader
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    return train


@pytest.mark.parametrize("c", [0.1, 10.0, 100.0])
def test_trainer_reaches_the_regularised_optimum(c: float) -> None:
    # Sparse rows, a separable label and unused buckets: the primal solver's answer has a zero
    # gradient (w + c X'g = 0 and sum(g) = 0 for the unpenalised intercept) and weight 0 on
    # every bucket no row uses.
    from scipy import sparse

    train = _trainer()
    rng = np.random.default_rng(7)
    x = sparse.random(300, 5000, density=0.004, random_state=8, format="csr") * 3.0
    x = sparse.csr_matrix(x)
    y = (np.asarray(x[:, :2500].sum(axis=1)).ravel() > np.asarray(x[:, 2500:].sum(axis=1))
         .ravel()).astype(int)
    y[rng.choice(300, 20, replace=False)] ^= 1
    w, b = train.fit(x, y, c)
    s = 2.0 * y - 1.0
    g = -s / (1.0 + np.exp(s * (x @ w + b)))
    assert np.abs(w + c * (x.T @ g)).max() < 1e-7 * max(1.0, c)
    assert abs(c * g.sum()) < 1e-7 * max(1.0, c)
    assert np.all(w[np.setdiff1d(np.arange(5000), x.indices)] == 0.0)
    assert np.count_nonzero(w) > 100


def test_training_script_regenerates_the_shipped_weights(tmp_path: Path) -> None:
    train = _trainer()
    out = tmp_path / "weights.npz"
    train.fit_all(out)
    version, fresh = learned.load(out)
    shipped_version, shipped = learned.load()
    assert version == shipped_version == CLASSIFIER_VERSION
    for label, model in shipped.items():
        other = fresh[label]
        assert other.threshold == model.threshold
        assert np.array_equal(other.buckets, model.buckets)
        assert np.allclose(other.weights, model.weights, rtol=1e-4, atol=1e-6)
        assert other.intercept == pytest.approx(model.intercept, rel=1e-6)


def test_plain_translations_are_trained_as_not_instruction_following() -> None:
    train = _trainer()
    items, _ = train.load()
    by_id = {item["id"]: item for item in items}
    # Every listed id is a training item its set labelled instruction_following.
    assert train.PLAIN_TRANSLATIONS <= set(by_id)
    assert all("instruction_following" in by_id[i]["labels"] for i in train.PLAIN_TRANSLATIONS)
    y = train.targets(items, "instruction_following")
    gold = np.array(["instruction_following" in item["labels"] for item in items])
    dropped = {item["id"] for item, yes, target in zip(items, gold, y, strict=True)
               if yes and not target}
    assert dropped == train.PLAIN_TRANSLATIONS
    assert not np.any(y.astype(bool) & ~gold)
    # Other labels are the files' own.
    assert np.array_equal(train.targets(items, "coding"),
                          [("coding" in item["labels"]) for item in items])


@pytest.mark.parametrize(("text", "shapes"), [
    ("Why?\nTraceback (most recent call last):\n  File \"main.py\", line 12\n"
     "ValueError: bad", {"error_trace", "file_extension", "indented_line"}),
    ("const userName = getUser(id);\nif (x == 3) { run_task(); }",
     {"camel_case", "snake_case", "line_end_semicolon", "code_operator", "brackets"}),
    ("Wie viel ist 15 Prozent von 80? Ein Zug fährt 120 km in 2 Stunden.",
     {"percent_or_fraction", "quantity_unit", "math_verb", "digit_run"}),
    ("Solve for x: 3x + 5 = 20", {"arithmetic", "math_verb", "digit_run"}),
    ("Calcule \\frac{1}{2} + \\sqrt{9}", {"latex", "math_verb"}),
])
def test_shapes_are_found_in_code_and_calculations(text: str, shapes: set[str]) -> None:
    found = {name for name, pattern in learned.SHAPES.items() if pattern.search(text)}
    assert shapes <= found


def test_plain_prose_has_no_code_or_calculation_shape() -> None:
    # Near-misses: a question about snakes, an explanation request, a dress code.
    for text in ("How do pythons kill their prey?", "Explain quantum entanglement simply.",
                 "What is the dress code for a wedding?"):
        assert learned._shape_features(text)[0].size == 0, text
    index, _ = learned.features("x = 1;", shape=False)
    with_shape, _ = learned.features("x = 1;", shape=True)
    assert set(index.tolist()) < set(with_shape.tolist())


def test_a_two_block_file_loads_without_the_shape_block(tmp_path: Path) -> None:
    # 2026.11.5's files stored [words, chars] only.
    _, models = learned.load()
    path = tmp_path / "old.npz"
    learned.save(path, models, version="old")
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    for label in models:
        arrays[f"{label}.blocks"] = arrays[f"{label}.blocks"][:2]
    np.savez(path, **arrays)
    assert not any(model.shape for model in learned.load(path)[1].values())


@pytest.mark.parametrize(("text", "shapes"), [
    ("what does chmod 755 actually do", {"tool_word"}),
    ("Jak napisać formułę, która sumuje kolumnę A?", {"tool_word"}),
    ("리액트에서 useState 값이 바로 안 바뀌는 이유가 뭐야?", {"latin_in_other_script"}),
    ("用Python写一个爬虫，抓取所有图片的链接", {"tool_word", "latin_in_other_script"}),
    ("Our SaaS startup has $1.2M ARR and 8% churn. What should we cut first?",
     {"business_word", "sentence"}),
])
def test_context_shapes_are_found(text: str, shapes: set[str]) -> None:
    found = {name for name, pattern in learned.CONTEXT.items() if pattern.search(text)}
    assert shapes <= found


def test_context_shapes_near_misses() -> None:
    # Snakes and islands are not tools; a Latin word in Latin text is not an identifier in
    # another script; a short question has no sentence of prose around figures.
    found = learned._shape_features("How do pythons kill their prey on a Pacific island",
                                    learned.CONTEXT)[0]
    assert found.size == 0
    assert not learned.CONTEXT["latin_in_other_script"].search("Use the useState hook")
    assert not learned.CONTEXT["business_word"].search("What is 15% of 80")
    plain, _ = learned.features("chmod 755", context=False)
    with_context, _ = learned.features("chmod 755", context=True)
    assert set(plain.tolist()) < set(with_context.tolist())


@pytest.mark.parametrize(("mode", "expected"), [
    ("or", [True, True, True, False]), ("and", [True, False, False, False]),
    ("model", [True, False, True, False]), ("rules", [True, True, False, False])])
def test_modes_combine_rule_and_model(mode: str, expected: list[bool]) -> None:
    cases = [(True, True), (True, False), (False, True), (False, False)]
    assert [learned.combine(mode, rule, model) for rule, model in cases] == expected


def test_mode_and_context_survive_save_and_load(tmp_path: Path) -> None:
    _, models = learned.load()
    changed = {label: dataclasses.replace(model, mode="and", context=True)
               for label, model in models.items()}
    path = tmp_path / "modes.npz"
    learned.save(path, changed, version="x")
    assert all(m.mode == "and" and m.context for m in learned.load(path)[1].values())


def test_a_weights_file_with_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    # found in review: an unknown mode used to combine silently as "or"
    _, models = learned.load()
    path = tmp_path / "typo.npz"
    learned.save(path, {label: dataclasses.replace(model, mode="model-only")
                        for label, model in models.items()}, version="x")
    with pytest.raises(ValueError, match="unknown combination mode"):
        learned.load(path)


def test_shipped_modes_decide_classify(monkeypatch: pytest.MonkeyPatch) -> None:
    # A label whose model is switched to "model" mode with a never-reached threshold is not
    # given even where its rule says yes; in "or" mode the rule's yes stands.
    version, models = learned.load()
    prompt = "Write a Python function that merges two sorted lists."
    assert rule_labels([prompt])["coding"]
    for mode, expected in (("model", False), ("or", True), ("rules", True), ("and", False)):
        models = {**models, "coding": dataclasses.replace(models["coding"], mode=mode,
                                                          threshold=1.1)}
        monkeypatch.setattr(learned, "_loaded", (version, models))
        assert ("coding" in classify([prompt])) is expected, mode


@pytest.mark.parametrize("prompt", [
    # Set 5's kinds of coding misses (training data since 2026.11.7): a short tool question
    # and a Korean programming question, which no rule matches.
    "what does chmod 755 actually do",
    "리액트에서 useState 값이 바로 안 바뀌는 이유가 뭐야?",
])
def test_model_finds_short_tool_and_non_english_coding_questions(prompt: str) -> None:
    assert not rule_labels([prompt])["coding"]
    assert "coding" in classify([prompt])


def test_math_follows_its_model_not_the_rule() -> None:
    # 2026.11.7 gives math from the model alone (mode "model", chosen by CV): a business case
    # full of figures, which the rule calls math, is not math (the guide); a word problem is.
    case = ("Our SaaS startup has $1.2M ARR, 8% monthly logo churn, a CAC of $450 and an LTV "
            "of $1,800. Should we raise prices or cut spend? Give me a plan for the board.")
    assert learned_models()["math"].mode == "model"
    assert rule_labels([case])["math"]
    assert "math" not in classify([case])
    assert "math" in classify(["Tom has 3 times as many apples as Sara. Together they have 48. "
                               "How many has Sara?"])


@pytest.mark.parametrize(("text", "cues"), [
    # 2026.11.8's cue block: one feature per kind of request, in many languages and scripts.
    ("Napisz wiersz o morzu", {"creative_form", "imperative_write"}),
    ("Bir kedi hakkında masal yaz", {"creative_form", "imperative_write"}),
    ("Viết một câu chuyện về con mèo", {"creative_form", "imperative_write"}),
    ("اكتب قصة عن القمر", {"creative_form", "imperative_write"}),
    ("समुद्र पर एक कविता लिखो", {"creative_form", "imperative_write"}),
    ("Ein Zug fährt 80 km pro Stunde. Wie lange braucht er für 200 km?",
     {"calculation_ask", "quantity_word"}),
    ("Vypočítej obsah čtverce o straně 4 cm.", {"calculation_verb", "quantity_word"}),
    ("jak w pythonie posortować listę", {"code_word"}),
    ("как в питоне открыть файл", {"code_word"}),
    ("Podaj 3 miasta w formie listy numerowanej, bez komentarza",
     {"format_ask", "no_explanation"}),
])
def test_cues_are_found_across_languages(text: str, cues: set[str]) -> None:
    found = {name for name, pattern in learned.CUES.items() if pattern.search(text)}
    assert cues <= found


def test_cue_near_misses() -> None:
    # Words that name tools only sometimes are no code cue; a trip in spring is not code.
    for text in ("What are some good places to visit in Portugal in spring?",
                 "How do pythons kill their prey?", "Merge the two paragraphs into one."):
        assert not learned.CUES["code_word"].search(text), text
        assert not learned.CONTEXT["tool_word"].search(text), text
    assert "coding" not in classify(["Where should I go in Portugal in spring?"])
    plain, _ = learned.features("napisz wiersz", cues=False)
    with_cues, _ = learned.features("napisz wiersz", cues=True)
    assert set(plain.tolist()) < set(with_cues.tolist())


def test_block_cache_gives_the_same_vectors() -> None:
    text = "Napisz wiersz o jesieni. def f(x): return x + 1"
    cache: dict = {}
    for flags in ({"shape": True}, {"shape": True, "context": True, "cues": True},
                  {"words": False, "cues": True}):
        index, value = learned.features(text, **flags)
        cached_index, cached_value = learned.features(text, cache=cache, **flags)
        assert np.array_equal(index, cached_index) and np.array_equal(value, cached_value)


@pytest.mark.parametrize("text, signals", [
    # 2026.11.9's signal block: constraints on the answer's form in many languages and
    # scripts, inflected forms included (wordings written here, not taken from a set).
    ("Describe Lisbon in at most 40 words.", {"limit", "count_unit"}),
    ("Beschreibe Lissabon in höchstens 40 Wörtern.", {"limit", "count_unit"}),
    ("Décris Lisbonne en pas plus de 40 mots.", {"limit", "count_unit"}),
    ("Опиши Лиссабон не более чем в 40 словах, в трёх предложениях.", {"count_unit"}),
    ("Mô tả Hà Nội trong đúng ba câu.", {"count_unit", "exact_count"}),
    ("Jelaskan gravitasi dalam tepat tiga kalimat.", {"count_unit", "exact_count"}),
    ("用不超过100字介绍一下西安。", {"limit", "count_unit"}),
    ("Antworte nur mit Ja oder Nein: ist Wasser nass?", {"only_answer"}),
    ("Réponds uniquement par un chiffre.", {"only_answer"}),
    ("只回答是或否：月亮是行星吗？", {"only_answer"}),
    ("Escribe una función que sume dos números, sin comentarios.", {"without"}),
    ("Nenne 5 Gemüse, eins pro Zeile, ohne Nummerierung.", {"without", "layout"}),
    ("Liste 6 frutas tropicais em ordem alfabética, uma por linha, sem numeração.",
     {"without", "layout"}),
    ("Compute 17 * 23 and give the answer as a single integer, no working.",
     {"only_answer", "answer_form", "without"}),
    ("Podaj wynik w postaci ułamka.", {"answer_form"}),
])
def test_signals_are_found_across_languages(text: str, signals: set[str]) -> None:
    found = {name for name, pattern in learned.SIGNALS.items() if pattern.search(text)}
    assert signals <= found


def _signal_names(text: str) -> set[int]:
    return set(learned._signal_features(text)[0].tolist())


def _bucket(name: str) -> int:
    return learned.named_bucket("g", name)


def test_signal_conjunctions() -> None:
    # A data format of everyday content, and a tool's name beside everyday words, without
    # code words; the same names beside code words are the other conjunction.
    assert _bucket("everyday_format") in _signal_names("List 4 rivers of Europe as a YAML list.")
    assert _bucket("everyday_format") not in _signal_names(
        "Write a Python function that returns the rivers as a JSON array.")
    assert _bucket("tool_everyday") in _signal_names("my ball python won't eat its mice")
    assert _bucket("tool_everyday") not in _signal_names("my python script won't run")
    assert _bucket("tool_code") in _signal_names("my python script won't run")
    assert _bucket("long_cjk") in _signal_names("我们公司计划" * 30)
    assert _bucket("long_cjk") not in _signal_names("北京有哪些值得参观的地方？")


def test_signal_near_misses() -> None:
    # A number is no count constraint without a unit, and "only" in passing is no "only
    # answer with".
    for text in ("I have 3 cats and 2 dogs.", "The only problem is the weather."):
        found = {name for name, pattern in learned.SIGNALS.items() if pattern.search(text)}
        assert not found & {"count_unit", "limit", "exact_count", "only_answer"}, (text, found)
    plain, _ = learned.features("tepat dua kalimat", signals=False)
    with_signals, _ = learned.features("tepat dua kalimat", signals=True)
    assert set(plain.tolist()) < set(with_signals.tolist())


def test_form_block() -> None:
    # 2026.11.10's form block: the rules' answer-form constraints, code terms, everyday
    # senses of tool names and figures beside software words, each its own feature.
    def names(text: str) -> set[int]:
        return set(learned._form_features(text)[0].tolist())

    def bucket(name: str) -> int:
        return learned.named_bucket("f", name)

    assert bucket("answer_only") in names("Antworte nur mit der Zahl.")
    assert bucket("answer_only") not in names("Ich weiß nur, dass es regnet.")
    assert bucket("code_term") in names("cherry-pick two commits onto main")
    assert bucket("tool_name_everyday") in names("how long is the biggest python ever found")
    assert bucket("figures_in_software") in names("our model trains on 8 GPUs for 3 days")
    assert bucket("figures_in_software") not in names("A train leaves at 3 pm at 80 km/h.")
    plain, _ = learned.features("Antworte nur mit der Zahl.", forms=False)
    with_forms, _ = learned.features("Antworte nur mit der Zahl.", forms=True)
    assert set(plain.tolist()) < set(with_forms.tolist())


def test_task_block() -> None:
    # 2026.11.11's task block: proofs, counting, quantity questions beside figures in more
    # languages, a stated professional role beside a planning request, everyday figures.
    def names(text: str) -> set[int]:
        return set(learned._task_features(text)[0].tolist())

    def bucket(name: str) -> int:
        return learned.named_bucket("t", name)

    assert bucket("proof") in names("Udowodnij, że liczb pierwszych jest nieskończenie wiele.")
    assert bucket("proof") not in names("Pokaż mi zdjęcia z wakacji.")
    assert bucket("counting") in names("Сколькими способами можно рассадить 5 гостей?")
    assert bucket("short_quantity") in names("agar 4 log 12 din me kaam karte hain to kitne din")
    assert bucket("answer_form_arith") in names("What is 12 squared? Reply with only the number.")
    assert bucket("everyday_figures") in names("is a 65 inch TV too big for a 3 m room")
    assert bucket("everyday_figures") not in names("Solve 3x + 5 = 20 for x.")
    assert bucket("role_plan") in names("我是一家零售企业的供应链总监，"
                                        "请帮我制定一个分阶段的库存方案。")
    assert bucket("role_plan") not in names("My sister and I need to plan a birthday party.")
    plain, _ = learned.features("Докажите теорему.", tasks=False)
    with_tasks, _ = learned.features("Докажите теорему.", tasks=True)
    assert set(plain.tolist()) < set(with_tasks.tolist())


def test_figure_block() -> None:
    # 2026.11.12's figure block: proofs, probability, counting, geometry and number theory in
    # more languages; figures among everyday words and in long briefs with no maths; a
    # computation with a constraint on the answer's form.
    def names(text: str) -> set[int]:
        return set(learned._figure_features(text)[0].tolist())

    def bucket(name: str) -> int:
        return learned.named_bucket("n", name)

    assert bucket("proof_more") in names("Bevisa att summan av två udda tal är jämn.")
    assert bucket("proof_more") in names("Buktikan bahwa hasil kali dua bilangan ganjil ganjil.")
    assert bucket("chance") in names("Mikä on todennäköisyys saada kaksi kruunaa?")
    assert bucket("counting_more") in names("Hányféleképpen ülhet le 5 ember egy padra?")
    assert bucket("number_theory") in names("Prove that there are infinitely many primes.")
    assert bucket("short_maths") in names("Hvad er sandsynligheden for to seksere?")
    assert bucket("everyday_only") in names("is 6 hours of sleep enough for a 30 year old")
    assert bucket("everyday_only") in names("Miete 950 € für 40 m² in Köln, ist das teuer?")
    # A word problem among everyday words: the rate makes it maths.
    assert bucket("everyday_only") not in names("A train goes 240 km at 80 km/h. How long?")
    assert bucket("everyday_only") not in names("What is the probability of two sixes?")
    brief = ("We run 14 warehouses with 2,300 staff; turnover rose from 18% to 31% this year. "
             "Analyse likely causes and propose a retention plan with costs and risks, "
             "covering pay, shifts, training and how we would measure progress each quarter. "
             "The board meets in six weeks.")
    assert bucket("long_brief_figures") in names(brief)
    assert bucket("answer_form") in names("What is 2^10? Round to the nearest whole number.")
    assert bucket("answer_form") not in names("Round up some ideas for a party.")
    plain, _ = learned.features("Bevisa satsen.", figures=False)
    with_figures, _ = learned.features("Bevisa satsen.", figures=True)
    assert set(plain.tolist()) < set(with_figures.tolist())


@pytest.mark.parametrize(("flags", "block"), [(8, "figures"), (9, "demands")])
def test_a_weights_file_from_before_a_block_loads_without_it(tmp_path: Path, flags: int,
                                                            block: str) -> None:
    # Files written before 2026.11.12 have eight block flags (the ninth, figures, reads as
    # off), before 2026.11.15 nine (the tenth, demands, reads as off).
    _, models = learned.load()
    path = tmp_path / "old.npz"
    learned.save(path, models, version="rules+lr-2026.11.11")
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    for label in models:
        arrays[f"{label}.blocks"] = arrays[f"{label}.blocks"][:flags]
    np.savez_compressed(path, **arrays)
    _, old = learned.load(path)
    assert not any(getattr(model, block) for model in old.values())


def _demand_names(text: str) -> set[str]:
    names = list(learned.DEMANDS) + ["build_system", "analysis_weighing", "constraints",
                                     "deep_proof"]
    by_bucket = {learned.named_bucket("d", name): name for name in names}
    return {by_bucket[b] for b in learned._demand_features(text)[0].tolist()}


@pytest.mark.parametrize(("text", "wanted"), [
    # Engineering tasks: a build verb beside system nouns, in several languages.
    ("Спроектируй распределённый планировщик задач с гарантией доставки.", "build_system"),
    ("用Java实现一个无锁队列，并说明内存模型的问题。", "build_system"),
    ("Rust로 분산 키-값 저장소를 설계하고 복제 전략을 설명해 주세요.", "build_system"),
    ("Zaprojektuj architekturę współbieżnego serwera czatu.", "build_system"),
    ("Thiết kế kiến trúc microservices cho hệ thống đặt vé.", "build_system"),
    ("Design a thread-safe rate limiter for a distributed API gateway.", "build_system"),
    # Analyses that weigh options or risks.
    ("Проанализируй риски перехода банка на облачную инфраструктуру.", "analysis_weighing"),
    ("Analysiere die Vor- und Nachteile von Kernenergie für Deutschland.", "analysis_weighing"),
    ("請分析這個方案的風險與成本。", "analysis_weighing"),
    ("Phân tích ưu nhược điểm của năng lượng gió ở miền Trung.", "analysis_weighing"),
    ("נתח את היתרונות של מעבר לענן עבור בנק קטן.", "analysis_weighing"),
    # Proofs about advanced notions.
    ("Udowodnij, że szereg harmoniczny nie jest zbieżny.", "deep_proof"),
    ("Prove that every compact subset of a metric space is closed.", "deep_proof"),
    ("证明：该级数一致收敛。", "deep_proof"),
    # Several listed requirements.
    ("Write a job queue in Go: it must retry failed jobs, support priorities, persist to "
     "disk, and expose metrics; handle 10k jobs per second.", "constraints"),
])
def test_demand_block_finds_demanding_requests(text: str, wanted: str) -> None:
    assert wanted in _demand_names(text)


@pytest.mark.parametrize(("text", "unwanted"), [
    # Near misses: a build verb without a system, a system word in everyday use, an
    # analysis without weighing, a plain proof, a short list.
    ("Design a birthday card for my grandmother.", "build_system"),
    ("How do I implement a for loop in Python?", "build_system"),
    ("What does the architecture of Gothic cathedrals look like?", "build_system"),
    ("Analyse this poem's imagery.", "analysis_weighing"),
    ("Is it risky to swim after eating?", "analysis_weighing"),
    ("Prove that the sum of two even numbers is even.", "deep_proof"),
    ("Докажите, что 17 — простое число.", "deep_proof"),
    ("Milk, eggs, bread: what can I bake?", "constraints"),
])
def test_demand_block_near_misses(text: str, unwanted: str) -> None:
    assert unwanted not in _demand_names(text)


def test_demand_block_is_optional() -> None:
    plain, _ = learned.features("Спроектируй планировщик.", demands=False)
    with_demands, _ = learned.features("Спроектируй планировщик.", demands=True)
    assert set(plain.tolist()) < set(with_demands.tolist())
