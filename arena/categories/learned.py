"""A small learned component beside the rules: one L2-regularised logistic regression per
topical label over hashed word and character n-grams.

Trained here, on the labelled evaluation sets, by ``benchmarks/categories/train_learned.py``
(deterministic: same sets, same file). Only the non-zero weights are stored, in
``learned_weights.npz`` next to this module, and loaded once per process. Scoring needs numpy
and the standard library: the features of a prompt are hashed into :data:`DIMENSIONS` buckets
with a hash that does not depend on the process (no ``hash()``, which is salted).
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arena.categories import rules

#: Buckets of the hashed feature space (a power of two).
DIMENSIONS = 1 << 18
#: Lengths of the character n-grams, read over the lower-cased text with runs of whitespace
#: made one space: they catch code syntax, formulas, inflected and unsegmented (CJK) words.
CHAR_NGRAMS = (2, 3, 4)
#: Characters of the text the features read (the classifier passes the request's head).
MAX_CHARS = 2000
WEIGHTS_FILE = Path(__file__).with_name("learned_weights.npz")

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")
# Multipliers of the polynomial character hash, one per n-gram length (odd 64-bit numbers).
_MULT = np.uint64(0x9E3779B97F4A7C15)
_SALT = {n: np.uint64(0x632BE59BD9B4E019 * (n + 1) & 0xFFFFFFFFFFFFFFFF) for n in range(1, 9)}


def _char_hashes(text: str) -> np.ndarray:
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    out = []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            if len(codes) < n:
                continue
            h = np.full(len(codes) - n + 1, _SALT[n], dtype=np.uint64)
            for k in range(n):
                h = h * _MULT + codes[k:len(codes) - n + 1 + k]
            out.append(h ^ (h >> np.uint64(29)))
    if not out:
        return np.zeros(0, dtype=np.uint64)
    return np.concatenate(out)


def _word_hashes(text: str) -> np.ndarray:
    words = _WORD.findall(text)
    grams = [f"w {w}" for w in words] + [f"b {a} {b}" for a, b in zip(words, words[1:],
                                                                          strict=False)]
    return np.array([zlib.crc32(g.encode()) for g in grams], dtype=np.uint64)


_F = re.IGNORECASE | re.UNICODE
#: Shapes of code and of calculations that n-grams of one language's words see only piecewise:
#: each is counted in the raw text (case and layout kept) and enters as its own feature.
SHAPES = {
    "brackets": re.compile(r"[{}\[\]]|\w\(|\)\s*[{:;]"),
    "line_end_semicolon": re.compile(r";\s*$", re.M),
    "indented_line": re.compile(r"^(?: {2,}|\t)\S", re.M),
    "camel_case": re.compile(r"\b[a-z]+[A-Z][a-zA-Z]*\b"),
    "snake_case": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "dotted_call": re.compile(r"\b\w+\.\w+\("),
    "file_extension": re.compile(
        r"\.(?:py|js|ts|tsx|jsx|java|cpp|hpp|c|h|cs|go|rs|rb|php|sh|sql|html|css|json|yaml|yml|"
        r"toml|xml|csv|md|ipynb|kt|swift)\b"),
    "code_operator": re.compile(r"==|!=|=>|->|::|&&|\|\||\+=|<=|>=|</?\w+>"),
    "error_trace": re.compile(r"traceback|exception|error:|errno|stack ?trace|segfault|"
                              r"line \d+|undefined|null ?pointer|npm |pip |git ", _F),
    "backtick": re.compile(r"`"),
    "digit_run": re.compile(r"\d+(?:[.,]\d+)?"),
    "arithmetic": re.compile(r"\d\s*[-+*/^×÷=<>]\s*\(?\s*[\dxyzn]|[xyzn]\s*[-+*/^=]\s*\d|"
                             r"\d\s*[xyzn]\b|[xyz]\^?²|√|∫|∑|π"),
    "percent_or_fraction": re.compile(r"\d\s*%|\d+/\d+|prozent|pourcent|por ?ciento|процент"
                                      r"|百分|パーセント", _F),
    "latex": re.compile(r"\\(?:frac|int|sum|sqrt|cdot|times|lim|infty|mathbb|binom)|\$[^$]+\$"),
    "quantity_unit": re.compile(
        r"\d\s*(?:km|kg|g|m|cm|mm|l|ml|h|min|s|mph|km/h|m/s|€|\$|dollars?|euros?|hours?|"
        r"minutes?|apples?|metres?|meters?|miles?|liters?|litres?|years?|stunden|jahre|"
        r"heures|ans|horas|años|часов|лет|个|本|円|元|개|살)\b", _F),
    "math_verb": re.compile(
        r"solve|prove|calculate|compute|evaluate|simplify|derivative|integral|equation|"
        r"probability|how many|how much|berechne|löse|beweise|wie viele?|ableitung|gleichung|"
        r"calcule|résou|démontre|combien|équation|calcula|resuelve|demuestra|cu[aá]nt[oa]s?|"
        r"ecuaci[oó]n|calcola|risolvi|dimostra|quant[io]|equazione|calcule|resolva|quantos?|"
        r"equação|oblicz|rozwiąż|ile |вычисли|реши|докажи|сколько|уравнени|производн|"
        r"计算|求|解方程|证明|多少|計算|解け|証明|いくつ|何個|방정식|계산|몇", _F),
    "number_word": re.compile(
        r"\b(?:two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|"
        r"half|twice|zwei|drei|vier|fünf|zehn|hundert|halb|deux|trois|quatre|cinq|dix|cent|"
        r"dos|tres|cuatro|cinco|diez|cien|due|quattro|dieci|cento|dois|três|quatro|dez|"
        r"dwa|trzy|cztery|pięć|dziesięć|два|три|четыре|пять|десять|сто)\b"
        r"|[两三四五六七八九十百千]", _F),
}


#: Context shapes (2026.11.7, the optional ``context`` block): software-tool vocabulary in
#: several languages and scripts (short tool questions and non-English programming questions
#: have few code shapes), Latin identifiers inside CJK, Hangul or Cyrillic text, and the
#: signs of a long professional request (business and clinical words, many sentences), which
#: carries figures without asking for a computed quantity.
CONTEXT = {
    # Not the English words that are tools only sometimes (spring, swift, rust, node, shell,
    # terminal, commit, branch, merge, thread, sheets, macro, script, function, variable,
    # query; until 2026.11.8 they were here, and "Portugal in spring" read as code): the
    # character n-grams still see them, weighed by their neighbours.
    "tool_word": re.compile(
        r"\b(?:chmod|chown|sudo|bash|zsh|git|rebase|vim|"
        r"emacs|regex|regexp|excel|vlookup|xlookup|sumif|countif|spreadsheet|vba|"
        r"api|json|yaml|sql|database|docker|kubernetes|npm|pip|cli|linux|ubuntu|"
        r"powershell|cron|ssh|http|css|html|python|java|javascript|typescript|react|vue|"
        r"django|flask|fastapi|kotlin|golang|c\+\+|c#|php|ruby|goroutines?|"
        r"arraylist|hashmap|async|await|compiler|debug|array|"
        r"programm\w*|código|codice|kod\w*|komórk\w*|formuł\w*|fonction|funci[oó]n|funzione|"
        r"fonksiyon|dosya\w*|betik)\b"
        r"|代码|编程|函数|变量|爬虫|程序|コード|関数|変数|プログラム|코드|함수|변수|프로그램|"
        r"파이썬|자바|리액트|엑셀|код|функци|программ|скрипт", _F),
    "latin_in_other_script": re.compile(
        r"(?<=[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0400-\u04ff])\s*[A-Za-z][\w.#+]{1,}"
        r"|[A-Za-z][\w.#+]{1,}(?=\s*[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af])"),
    "business_word": re.compile(
        r"\b(?:revenue|churn|margin|arr|mrr|cac|ltv|budget|costs?|pricing|profit|sales|"
        r"startup|company|employees|customers|clients|strategy|market|stakeholders?|patient|"
        r"clinical|diagnos\w*|umsatz|mitarbeiter\w*|unternehmen|kunden|empresa|clientes|"
        r"paciente|entreprise|salariés|azienda|clienti|firma|klient\w*|"
        r"компания|клиент\w*|выручк\w*)\b|公司|成本|客户|会社|顧客|회사|고객", _F),
    "sentence": re.compile(r"[.!?。！？](?:\s|$)"),
}


#: Cue words (2026.11.8, the optional ``cues`` block): each a family of words that names a
#: kind of request in many languages and scripts, counted as one feature, so that a model
#: trained on few non-English items can carry what it learned from English ones across:
#: "poem" and "wiersz", "kaç" and "how many" give the same feature. Stems, not the forms of
#: any one item, so the inflections of a word are found too ("w pythonie", "в питоне").
#: Devanagari words stand outside ``\b``: Python's ``re`` does not count vowel signs as word
#: characters, so a word boundary falls inside most Hindi words.
CUES = {
    "creative_form": re.compile(
        r"\b(?:poems?|poetry|verses?|haikus?|sonnets?|limericks?|ballads?|odes?|stor(?:y|ies)|"
        r"tales?|fables?|fairy ?tales?|lyrics|songs?|raps?|screenplay|script for|scene|"
        r"narration|monologue|dialogue between|jokes?|riddles?|myths?|bedtime|role-?play|"
        r"gedicht\w*|geschichte\w*|märchen|lied\w*|songtext|reim\w*|kurzgeschichte|"
        r"poèmes?|poésie|histoire|contes?|chansons?|nouvelle|fables?|blagues?|"
        r"poemas?|poesía|cuentos?|historias?|canci[oó]n\w*|relatos?|versos?|chistes?|"
        r"poesias?|hist[oó]ria\w*|contos?|canção|canções|música|piadas?|"
        r"poesi[ae]|racconto|racconti|storia|storie|favol\w*|canzon\w*|filastrocc\w*|"
        r"barzellett\w*|"
        r"wiersz\w*|opowiada\w*|opowieś\w*|bajk\w*|piosenk\w*|historyjk\w*|fraszk\w*|"
        r"şiir\w*|hikaye\w*|öykü\w*|masal\w*|şarkı\w*|fıkra\w*|"
        r"gedicht\w*|verha\w*|sprookje\w*|liedje\w*|versje\w*|"
        r"dikt\w*|berättelse\w*|saga|sagor|sång\w*|"
        r"básn\w*|příběh\w*|pohádk\w*|písn\w*|povídk\w*|"
        r"puisi|cerita\w*|dongeng|pantun|"
        r"thơ|truyện|câu chuyện|bài hát|"
        r"стих\w*|рассказ\w*|сказк\w*|песн\w*|поэм\w*|басн\w*|"
        r"вірш\w*|оповіданн\w*|казк\w*|пісн\w*|історі\w*|"
        r"قصيدة|قصيده|قصة|قصه|شعر|أغنية|حكاية|"
        r"ποίημα|ιστορία|παραμύθι)\b"
        r"|कविता|कहानी|गीत|गाना"
        r"|诗|故事|小说|歌词|童话|笑话|詩|物語|小説|歌詞|童話|俳句|短歌|お話|話を書|"
        r"시를|시 한|이야기|소설|가사|동화|노래", _F),
    "imperative_write": re.compile(
        r"\b(?:write|compose|make up|invent|create|"
        r"schreib\w*|verfasse|dichte|erfinde|écri[st]\w*|rédige\w*|invente\w*|"
        r"escrib\w*|escrev\w*|compón|hazme|haz|crea|crie|cria|inventa|scrivi\w*|componi|"
        r"napisz\w*|wymyśl\w*|ułóż|yaz|yazar mısın|yazın|uydur|schrijf|verzin\w*|maak|"
        r"skriv\w*|hitta på|napiš\w*|vymysli|tulis\w*|buat\w*|karang\w*|viết|sáng tác|"
        r"напиши\w*|сочини\w*|придумай\w*|напишіть|вигадай|складіть|"
        r"اكتب|أكتب|γράψε)\b|लिखो|लिखें|लिखिए|लिख दो"
        r"|写一|写个|创作|編んで|書いて|作って|써\s?줘|써주|작성해|지어", _F),
    "calculation_ask": re.compile(
        r"\b(?:how (?:many|much|long|far|old)|what (?:is|was) the (?:probability|chance)|"
        r"wie (?:viele?|lange|weit|alt|wahrscheinlich)|wahrscheinlichkeit|"
        r"combien|quelle est la probabilité|probabilité|"
        r"cu[aá]nt[oa]s?|qu[eé] probabilidad|probabilidad\w*|qu[eé] edad|"
        r"quant[oeia]|probabilità|che probabilità|quantos?|quantas?|probabilidade|"
        r"ile|jakie jest prawdopodobieństwo|prawdopodobieństw\w*|"
        r"kaç|ne kadar|olasılı\w*|hoeveel|hoe lang|hur (?:många|mycket|lång)|"
        r"kolik\w*|pravděpodobnost\w*|berapa|peluang|bao nhiêu|xác suất|"
        r"сколько|какова вероятность|вероятност\w*|скільки|ймовірн\w*|"
        r"كم|احتمال)\b|कितन|प्रायिकता"
        r"|多少|几[个天小年]|概率|几率|いくつ|何[個人円日時分]|確率|몇|얼마|확률", _F),
    "calculation_verb": re.compile(
        r"\b(?:solve|calculate|compute|evaluate|simplify|find the (?:value|area|perimeter|sum)|"
        r"prove|show that|berechne\w*|ermittle|löse|beweise|calcul\w*|résou\w*|démontre\w*|"
        r"resuelv\w*|resolv\w*|demuestr\w*|calcol\w*|risolv\w*|dimostr\w*|"
        r"oblicz\w*|rozwiąż\w*|udowodnij|hesapla\w*|çöz\w*|bereken\w*|los op|bewijs|"
        r"beräkna|lös|vypočítej\w*|vypočtěte|spočítej\w*|vyřeš\w*|dokaž\w*|hitung\w*|"
        r"tính|giải|chứng minh|вычисл\w*|посчитай\w*|реши\w*|докажи\w*|обчисл\w*|"
        r"розв'яж\w*|знайди|найди|احسب|أوجد|حل)\b|गणना|हल कर|ज्ञात कर"
        r"|计算|求[出解]|解方程|证明|計算|求め|証明|계산|구하|증명", _F),
    "quantity_word": re.compile(
        r"\b(?:radius|diameter|area|perimeter|circumference|volume|speed|average|percent|"
        r"per (?:day|hour|week)|twice|half|times as|years old|"
        r"radius|fläche|umfang|durchmesser|geschwindigkeit|durchschnitt|pro (?:tag|stunde)|"
        r"jahre alt|doppelt|rayon|aire|périmètre|vitesse|moyenne|par jour|"
        r"radio|área|perímetro|velocidad|promedio|por día|doble|triple|años|"
        r"raggio|perimetro|velocità|al giorno|anni|"
        r"promień\w*|obwód|prędkoś\w*|średni\w*|dziennie|"
        r"yarıçap\w*|çevre\w*|hız\w*|ortalama|günde|"
        r"poloměr\w*|obvod\w*|obsah\w*|rychlost\w*|průměr\w*|denně|"
        r"straal|omtrek|oppervlakte|snelheid|gemiddeld\w*|per dag|"
        r"jari-jari|luas|keliling|kecepatan|rata-rata|bán kính|diện tích|chu vi|vận tốc|"
        r"радиус\w*|площад\w*|периметр\w*|скорост\w*|средн\w*|в день|вдвое|втрое|"
        r"радіус\w*|швидкіст\w*|نصف القطر|مساحة|محيط|سرعة)\b|त्रिज्या|क्षेत्रफल|औसत"
        r"|半径|面积|周长|速度|平均|每天|倍|面積|円周|반지름|넓이|둘레|속력|평균", _F),
    "code_word": re.compile(
        r"\b(?:python(?!s\b)\w*|pyton\w*|javascript\w*|typescript|java|c\+\+|golang|kotlin|"
        r"php|ruby|bash|powershell|sql\w*|html|css|regex\w*|json|yaml|api\w*|"
        r"git|github|gitlab|rebase|cherry-pick|pull request|"
        r"ffmpeg|latex|pandoc|imagemagick|cmake|makefile|gcc|clang|webpack|vite|nginx|apache|"
        r"systemd|tmux|grep|sed|awk|curl|wget|jq|pandas|numpy|pytorch|tensorflow|pygame|"
        r"godot|tampermonkey|greasemonkey|userscript|bookmarklet|vscode|vs code|"
        r"intellij|jupyter|docker\w*|kubernetes|k8s|terraform|ansible|"
        r"excel\w*|vba|macro\w*|spreadsheet|"
        r"function|funkc\w*|funkt\w*|fonksiyon\w*|funci\w*|funç\w*|funzion\w*|fonction\w*|"
        r"skrypt\w*|betiğ\w*|betik\w*|programm\w*|kod\w*|code|coding|código|codice|"
        r"class(?:es)?|variab\w*|zmienn\w*|değişken\w*|"
        r"array\w*|tablic\w*|dizi\w*|lập trình|hàm|mã nguồn|"
        r"питон\w*|пайтон\w*|джаваскрипт|скрипт\w*|функци\w*|функці\w*|програм\w*|"
        r"код\w*|переменн\w*|массив\w*|клас\w*|метод\w*|"
        r"بايثون|برمج\w*|دالة|الدالة|كود|جافا|سكربت|"
        r"कोड)\b|पायथन|फंक्शन|प्रोग्राम|स्क्रिप्ट"
        r"|代码|编程|函数|变量|脚本|程序|コード|関数|変数|プログラム|スクリプト|パイソン|"
        r"코드|함수|변수|프로그램|파이썬|자바|스크립트|깃|커밋|브랜치|리액트|엑셀", _F),
    "format_ask": re.compile(
        r"\b(?:numbered|bullet(?:ed)? (?:list|points?)|in (?:a )?(?:table|json|yaml|csv)|"
        r"as (?:a )?(?:table|json|yaml|csv|list)|only (?:the|one)|no (?:other|extra) text|"
        r"(?:at most|no more than|under|exactly|maximum|max\.?) \d+|in (?:english|french|"
        r"german|spanish)|all caps|lowercase|uppercase|"
        r"nummeriert\w*|aufzählung\w*|tabelle|höchstens|maximal|genau \d+|auf (?:deutsch|"
        r"englisch)|liste numérotée|puces|tableau|au plus|maximum|exactement|en (?:anglais|"
        r"français)|lista numerada|viñetas|tabla|como máximo|exactamente|en (?:inglés|español)|"
        r"elenco (?:numerato|puntato)|tabella|al massimo|esattamente|in (?:inglese|italiano)|"
        r"lista numerada|tópicos|no máximo|exatamente|em (?:inglês|português)|"
        r"numerowan\w*|punktowan\w*|tabel\w*|maksymalnie|dokładnie|po (?:polsku|angielsku)|"
        r"numaralı|madde\w*|tablo\w*|en fazla|tam olarak|genummerd\w*|opsomming|hooguit|"
        r"danh sách|đánh số|gạch đầu dòng|bảng|tối đa|không quá|chính xác|"
        r"нумерованн\w*|маркированн\w*|списк\w*|таблиц\w*|не более|максимум|ровно|"
        r"по-(?:русски|английски)|нумерован\w*|не більше|рівно|"
        r"قائمة|جدول|بحد أقصى)\b|सूची|तालिका|अधिकतम"
        r"|编号|列表|表格|不超过|最多|恰好|箇条書き|番号付き|表形式|以内|목록|번호|표로|이내|"
        r"[{\[]\s*\"\w+\"\s*:", _F),
    "no_explanation": re.compile(
        r"\b(?:no explanation|without (?:any )?(?:explanation|comment)|just the|only the|"
        r"ohne (?:erklärung|kommentar)|sans (?:explication|commentaire)|sin (?:explicación|"
        r"comentario)|senza (?:spiegazion\w*|comment\w*)|sem (?:explicação|comentário)|"
        r"bez (?:wyjaśnie\w*|komentarz\w*|vysvětlení)|açıklama(?:sız| yapma)|"
        r"без (?:пояснени\w*|комментари\w*|коментар\w*)|không (?:giải thích|bình luận))\b"
        r"|不要解释|说明不要|説明は不要|설명 없이", _F),
    "professional_context": re.compile(
        r"\b(?:i(?:'m| am) (?:a|an|the) \w+(?: \w+)? (?:at|in|for|of)|as (?:a|an) \w+(?: \w+)?,"
        r"|we (?:run|have|are|use|train|operate|sell)|our (?:team|company|startup|clinic|"
        r"hospital|firm|school|product)|my (?:boss|company|team|clients?|patients?)|"
        r"ich (?:bin|leite|arbeite)|wir (?:sind|haben|betreiben)|je suis (?:médecin|"
        r"ingénieur|professeur|responsable|directeur|avocat)|nous (?:sommes|avons)|"
        r"prowadzę|"
        r"я (?:врач|инженер|руковож\w*|работаю)|у нас|мы (?:разрабатываем|используем)|"
        r"patients?|clinical|engineer\w*|revenue|budget|employees|stakeholders?)\b"
        r"|当社|弊社|我们是|我们公司|우리 회사|저는 .{1,12}입니다", _F),
}


Vector = tuple[np.ndarray, np.ndarray]
_NUM = (r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|fifty|hundred|"
        r"single|zwei|drei|vier|fünf|zehn|deux|trois|quatre|cinq|dix|dos|tres|cuatro|cinco|"
        r"diez|due|tre|quattro|dieci|dois|duas|três|quatro|dwa|dwie|dwóch|trzy|trzech|"
        r"cztery|pięć|два|двух|две|три|трёх|трех|четыр\w*|пять|пяти|дв\w*|hai|ba|bốn|năm|"
        r"dua|tiga|empat|lima|iki|üç|dört|beş|twee|drie|vier|vijf|dvě|dva|tři|čtyři|pět|"
        r"δύο|τρία|اثنين|اثنتين|ثلاث\w*|أربع|خمس|सात|दो|तीन|चार|पांच|पाँच)")
#: Signals (2026.11.9, the optional ``signals`` block): constraints on the answer's form in
#: many languages and scripts (a length or count limit, "exactly N", "in N sentences",
#: "only answer with", "without explanation / without the word", one per line, no numbering,
#: "in the form …", a single integer), a request for a data format whose content is not code,
#: a tool's name beside everyday words or beside code words, and the length and list shape
#: of a long planning request in an unsegmented script. Families of stems and shapes, each
#: one feature, not the wordings of any item.
SIGNALS: dict[str, re.Pattern[str]] = {
    "limit": re.compile(
        r"\b(?:at most|no more than|not more than|fewer than|less than|under|within|up to|"
        r"maximum|max\.?|höchstens|maximal|nicht mehr als|weniger als|au plus|pas plus de|"
        r"moins de|maximum|máximo|máx\.?|no más de|menos de|como máximo|massimo|al massimo|"
        r"non più di|meno di|no máximo|não mais de|menos de|maksymalnie|najwyżej|nie więcej "
        r"niż|maximaal|hooguit|niet meer dan|nejvýše|maximálně|maksimal|paling banyak|"
        r"tidak lebih dari|tối đa|không quá|en fazla|en çok|не более|не больше|не длиннее|"
        r"максимум|до|не більше|максимум|μέχρι|το πολύ|لا تتجاوز|لا يتجاوز|لا يزيد|بحد أقصى|"
        r"حداکثر)\s*\(?" + _NUM + r"\b"
        r"|(?:अधिकतम|ज़्यादा से ज़्यादा)\s*\d+|" + _NUM + r"\s*(?:\w+\s)?(?:से अधिक नहीं|से ज़्यादा नहीं)"
        r"|不超过|不要超过|最多|以内|以下で|以内で|이내|이하로|넘지 않", _F),
    "exact_count": re.compile(
        r"\b(?:exactly|precisely|genau|exakt|exactement|précisément|exactamente|justo|"
        r"esattamente|exatamente|dokładnie|precies|přesně|pontosan|tepat|persis|"
        r"chính xác|đúng|tam olarak|tam|ровно|точно|рівно|ακριβώς|بالضبط|دقیقا)\s+" + _NUM
        + r"\b|ठीक\s*\d+|恰好|正好|刚好|ちょうど|きっかり|정확히", _F),
    "count_unit": re.compile(
        r"\b" + _NUM + r"\s+(?:\w+\s+)?(?:words?|sentences?|lines?|bullets?|bullet points?|"
        r"paragraphs?|points?|stanzas?|syllables?|characters?|"
        r"wörter\w*|worte\w*|sätze\w*|satz|zeilen?|strophen?|absätze\w*|stichpunkte\w*|"
        r"mots?|phrases?|lignes?|strophes?|paragraphes?|palabras?|frases?|líneas?|estrofas?|"
        r"párrafos?|parole|frasi|righe|strofe|paragrafi|palavras?|linhas?|parágrafos?|"
        r"słow\w*|zdani\w*|linij\w*|wiersz\w*|akapit\w*|woorden|zinnen|regels?|slov\w*|vět\w*|"
        r"řádk\w*|kata|kalimat|baris|paragraf|từ|câu|dòng|đoạn|kelime\w*|cümle\w*|satır\w*|"
        r"слов\w*|предложени\w*|строк\w*|абзац\w*|пункт\w*|речен\w*|рядк\w*|λέξεις|προτάσεις|"
        r"كلمات|كلمة|جمل|جملة|أسطر|نقاط)\b"
        r"|\d+\s*(?:个?字|句|行|段|条|つの文|文字|語|文で|단어|문장|줄|글자|자)"
        r"|[一二三四五六七八九十两]\s*(?:句话|句|行|段|条|个字|つの文|文で)"
        r"|(?:두|세|네|다섯|한)\s*(?:문장|줄|단어)"
        r"|(?:दो|तीन|चार|पांच|पाँच|\d+)\s*(?:वाक्य|शब्द|पंक्ति)", _F),
    "only_answer": re.compile(
        r"\b(?:(?:only|just) (?:answer|reply|respond|output|return|give|write|say|the (?:answer|"
        r"number|code|result|name|word|list))|(?:answer|reply|respond) (?:only|just|with only)|"
        r"nothing else|single (?:integer|number|word|line|value|letter)|"
        r"nur (?:mit|die|den|das|der|eine?n?)|ausschließlich|antworte (?:nur|mit)|"
        r"uniquement|seulement (?:le|la|les|par|avec)|réponds? (?:par|uniquement|seulement)|"
        r"solo (?:el|la|los|las|con|un|una|il|lo|i|le|con)|sólo (?:el|la|con)|únicamente|"
        r"responde (?:solo|sólo|únicamente|con)|rispondi (?:solo|soltanto|con)|soltanto|"
        r"apenas (?:o|a|os|as|com|um|uma)|somente|responda (?:apenas|somente|com)|"
        r"tylko|wyłącznie|odpowiedz (?:tylko|jednym)|alleen (?:de|het|met)|jen|pouze|"
        r"hanya|saja|chỉ (?:trả lời|ghi|viết|đưa|liệt)|sadece|yalnızca|"
        r"только|лишь|ответь (?:только|одним)|лише|тільки|μόνο|فقط|केवल|सिर्फ|"
        r"одним словом|one word)\b"
        r"|只(?:输出|回答|给|写|要|说|列)|仅(?:输出|回答|给)|だけ(?:を|で|答|書|出)|のみ"
        r"|만\s*(?:출력|답|써|작성)", _F),
    "without": re.compile(
        r"\b(?:no (?:explanation|commentary|comments?|working|preamble|intro\w*|numbering|"
        r"bullet|markdown|emojis?)|without (?:any |the |using |explain\w* )?\w+|don'?t (?:use|"
        r"include|explain|add)|do not (?:use|include|explain|add)|"
        r"ohne \w+|keine (?:erklärung|einleitung|nummerierung)|sans \w+|n'utilise pas|"
        r"sin \w+|no (?:uses|incluyas|añadas|expliques)|senza \w+|non (?:usare|aggiungere)|"
        r"sem \w+|não (?:use|usar|inclua)|bez \w+|nie (?:używaj|dodawaj)|zonder \w+|"
        r"tanpa \w+|không (?:dùng|giải thích|có|kèm|sử dụng|đánh số)|"
        r"\w+(?:meden|madan)|açıklama ekleme|kullanma\w*|"
        r"без \w+|не (?:используй|добавляй|пиши)|не використов\w*|χωρίς \w+|"
        r"بدون \w+|دون \w+|لا تستخدم)\b|बिना|"
        r"不要|不用|无需|不需要|别|なしで|せずに|使わず|不要で|없이|말고|하지 ?마", _F),
    "layout": re.compile(
        r"\b(?:one per line|each on (?:its own|a new|a separate) line|comma[- ]separated|"
        r"alphabetical|numbered|bullet(?:ed)? list|eine? pro zeile|je zeile|alphabetisch|"
        r"nummer\w*|une? par ligne|ordre alphabétique|numérot\w*|uno por (?:línea|renglón)|"
        r"una por (?:línea|linha)|uma por linha|um por linha|orden alfabético|ordem alfabética|"
        r"numeraci[oó]n|numeração|uno per riga|una per riga|ordine alfabetico|numerazione|"
        r"po jednym|alfabetyczn\w*|numeracj\w*|по одному|в алфавитном|нумерац\w*|"
        r"mỗi (?:dòng|cái)|bảng chữ cái|đánh số|alfabetik|her satır\w*|numaral\w*|"
        r"per baris|abjad|alfabetisch|per regel|abecedn\w*|číslován\w*|أبجدي\w*|ترقيم)\b"
        r"|每行一个|一行一个|按字母|编号|番号|1行に1つ|五十音|한 줄에|가나다|번호", _F),
    "answer_form": re.compile(
        r"\b(?:in the form|in the format|as a (?:single )?(?:integer|fraction|decimal|number|"
        r"percentage)|rounded to|to \d+ decimal|final answer|sous (?:la )?forme|au format|"
        r"in der form|im format|als (?:zahl|bruch|liste|tabelle)|en (?:la )?forma|en formato|"
        r"na forma|no formato|nella forma|nel formato|in formato|w (?:formacie|postaci)|"
        r"в (?:виде|формате)|у (?:вигляді|форматі)|dưới dạng|theo định dạng|dalam (?:bentuk|"
        r"format)|şeklinde|formatında|biçiminde|in de vorm|ve formátu|με μορφή|بصيغة|"
        r"على شكل|بتنسيق|के रूप में|प्रारूप)\b|形式で|の形で|格式|形式|형식으로|형태로", _F),
    "data_format_everyday": re.compile(r"\b(?:json|yaml|yml|csv|xml|markdown|table|tabelle|"
                                       r"tableau|tabla|tabella|tabela|таблиц\w*)\b", _F),
    "tool_name": re.compile(r"\b(?:python|java|ruby|pandas|git|shell|rust|swift|perl|go)\b", _F),
    "everyday_word": re.compile(
        r"\b(?:eat\w*|feed\w*|food|bamboo|zoo|snakes?|pets?|animals?|bears?|cage|terrarium|"
        r"vet|species|islands?|visit(?:s|ing|ed)?|trip|travel\w*|beach\w*|holidays?|vacation|"
        r"season|weather|rings?|necklace|jewel\w*|gems?|gemstones?|slang|british|coffee|"
        r"countries|capitals|fruits?|recipes?|foods?|planets|animals|cities|books|movies|"
        r"facts|tips|names|packing)\b", _F),
    "cjk_planning": re.compile(
        r"设计|方案|策略|规划|架构|迁移|评估|权衡|風險|风险|合规|計画|設計|移行|戦略|検討|"
        r"アーキテクチャ|リスク|설계|전략|아키텍처|마이그레이션|검토|리스크|"
        r"спроектир\w*|архитектур\w*|стратеги\w*|миграц\w*", _F),
    "enumeration": re.compile(r"[、；;]|\(\d\)|（\d）|[①②③④⑤]|^\s*\d[.)]\s", re.M),
}
_CODE_HINT = re.compile(r"[{}();=<>]|\b(?:code|function|script|program\w*|class|api|sql|"
                        r"regex|compile\w*|debug\w*|error|bug|install|library|module|"
                        r"terminal|command|import|variable|loop|array|dataframe|csv file)\b"
                        r"|代码|函数|コード|코드|код|функци", _F)


def named_bucket(prefix: str, name: str) -> int:
    """The bucket of the count ``name`` in the block hashed with ``prefix`` (:func:`_damped`)."""
    return zlib.crc32(f"{prefix} {name}".encode()) % DIMENSIONS


def _damped(prefix: str, counted: Iterable[tuple[str, int]], *, sort: bool = True) -> Vector:
    """The non-zero ``(name, count)`` pairs as buckets of their own names (hashed with the
    block's ``prefix``), each count damped (``log1p``, capped at 1 from 7 on); sorted by
    bucket unless ``sort`` is False."""
    names, values = [], []
    for name, count in counted:
        if count:
            names.append(named_bucket(prefix, name))
            values.append(min(1.0, np.log1p(count) / np.log(8.0)))
    buckets = np.array(names, dtype=np.int64)
    if not sort:
        return buckets, np.array(values)
    order = np.argsort(buckets)
    return buckets[order], np.array(values)[order]


def _signal_features(text: str) -> Vector:
    """The :data:`SIGNALS` counts of ``text`` (as :func:`_shape_features`), with three
    conjunctions a linear model cannot form: a data format or a tool's name beside no code
    word ("everyday_format", "tool_everyday"), a tool's name beside code words
    ("tool_code"), and a long text in an unsegmented script ("long_cjk")."""
    counted: dict[str, int] = {}  # name -> count, in the order added
    add = counted.__setitem__

    counts = {name: len(pattern.findall(text)) for name, pattern in SIGNALS.items()}
    for name, count in counts.items():
        add(name, count)
    code = bool(_CODE_HINT.search(text))
    add("everyday_format", int(counts["data_format_everyday"] > 0 and not code))
    add("tool_everyday", int(counts["tool_name"] > 0 and counts["everyday_word"] > 0
                             and not code))
    add("tool_code", int(counts["tool_name"] > 0 and code))
    wide = sum(1 for ch in text if "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af")
    add("long_cjk", int(wide >= 120) + int(wide >= 250))
    add("long_text", int(len(text) >= 400) + int(len(text) >= 800))
    return _damped("g", counted.items())


#: Machine-learning and software words beside which figures are a system's, not a
#: calculation's (2026.11.10, the ``forms`` block's "figures_in_software").
_SOFTWARE_CONTEXT = re.compile(
    r"\b(?:model|training|trained|dataset|tokens?|gpus?|a100|h100|parameters|epochs?|"
    r"inference|latency|api|server|dependency|npm|regex|pipeline|transformer|llm|"
    r"embedding|batch|xgboost|auc|precision|recall|classifier|saas|aws|cluster|query|"
    r"database|throughput|requests?)\b|模型|训练|参数|モデル|学習|모델|학습|модел\w*|"
    r"обучени\w*", _F)


def _form_features(text: str) -> Vector:
    """The ``forms`` block (2026.11.10): the rules' multilingual answer-form constraints
    (:data:`arena.categories.rules._ANSWER_ONLY`), code terms of short tool questions, the
    everyday senses of tool names, a mathematical function in CJK text, and figures beside
    software and machine-learning words (a system's numbers, not a calculation)."""
    counted: dict[str, int] = {}  # name -> count, in the order added
    add = counted.__setitem__

    add("answer_only", len(rules._ANSWER_ONLY.findall(text)))
    add("code_term", len(rules._CODE_TERMS.findall(text)))
    add("not_code", len(rules._NOT_CODE.findall(text)))
    languages = {m.lower() for m in rules._LANGUAGES.findall(text)}
    add("tool_name_everyday", int(bool(languages) and languages <= rules._EVERYDAY_NAMES
                                  and bool(rules._EVERYDAY.search(text))
                                  and not rules._PROGRAMMING.search(text)))
    add("tool_name", len(languages - rules._AMBIGUOUS))
    add("cjk_math_function", len(rules._CJK_MATH_FUNCTION.findall(text)))
    figures = len(rules._NUMBER.findall(text))
    software = len(_SOFTWARE_CONTEXT.findall(text))
    add("figures_in_software", int(figures > 0 and software > 0) + int(software >= 3))
    return _damped("f", counted.items())


#: 2026.11.11, the optional ``tasks`` block: what kind of task a request is, across languages
#: (set 9's misses were proofs, counting questions and word problems outside English, and
#: planning briefs from a stated professional role in ru, zh, ja, ko, pl, tr; its false
#: positives everyday questions with figures and long personal requests). Families of stems,
#: each one feature, not the wordings of any item.
TASKS: dict[str, re.Pattern[str]] = {
    "proof": re.compile(
        r"\b(?:prove|proves|show that|demonstrate that|zeige\w*|beweise\w*|montre[rz]? que|"
        r"démontre[rz]?|d[eé]montrez|demuestr\w*|demostra\w*|mostrar que|dimostra\w*|"
        r"mostra che|prove que|provar que|udowodni\w*|wykaż\w*|kanıtla\w*|gösteriniz|"
        r"bewijs\w*|dokaž\w*|buktikan|chứng minh|докаж\w*|доказать|доведі\w*|довести|"
        r"покаж\w* що|покажите,? что)\b|证明|証明|증명|सिद्ध कर", _F),
    "rigour": re.compile(
        r"\b(?:rigorous\w*|complete proof|formal proof|streng\w*|rigoureu\w*|riguros\w*|"
        r"rigoros\w*|ścisł\w*|строг\w*|titiz\w*)\b|严谨|严格|厳密|엄밀", _F),
    "counting": re.compile(
        r"\b(?:how many (?:ways|different|distinct|arrangements|combinations|numbers|"
        r"(?:\w+-)?digit)|in how many ways|arrangements?|wie viele (?:Möglichkeiten|"
        r"verschiedene|Zahlen)|auf wie viele arten|combien de (?:façons|manières|nombres|"
        r"chiffres|combinaisons)|de combien de|cu[aá]nt[oa]s (?:formas|maneras|n[uú]meros|"
        r"combinaciones)|de cu[aá]ntas|quant[ie] (?:modi|numeri)|quantas (?:maneiras|formas)|"
        r"na ile sposobów|ile (?:jest|istnieje|różnych)|kaç (?:farklı|şekilde|yolla)|"
        r"сколькими способами|сколько (?:существует|всего|различных|разных)|"
        r"скількома способами|скільки (?:існує|всього|різних))\b"
        r"|多少种|几种|多少个(?:不同|[一-龥]位数)|何通り|몇 가지|경우의 수", _F),
    "how_many_plain": re.compile(
        r"\b(?:kitne|kitna|kitni|wangapi|ngapi|kiasi gani|kaç|kaçtır|ne kadar|ile|"
        r"berapa|bao nhiêu|hoeveel|kolik|сколько|скільки|combien|wie viele?|cu[aá]nt[oa]s?|"
        r"quant[oeia]|quant[oa]s?|how (?:many|much|long|far|high|fast))\b|多少|几|いくつ|몇|कितन",
        _F),
    "arith_op": re.compile(
        r"\d\s*[×x*·]\s*\d|\d\s*[+\-/÷]\s*\d|\b(?:squared|cubed|to the power|square root|"
        r"cube root|percent of|% of|quadrat|hoch \d|au carré|puissance|al cuadrado|"
        r"elevado|al quadrato|do kwadratu|kare(?:si)?|в квадрате|в степени|у квадраті|"
        r"toplamı|sum of)\b|平方|立方|제곱|二乗|\d\s*%", _F),
    "everyday_figure": re.compile(
        r"\b(?:overweight|underweight|healthy (?:weight|target)|bmi|normal für|tall|"
        r"groß und|wiege|flight|flights|airport|terminal|boarding|layover|"
        r"connecting|tv|inch(?:es)?|sofa|room|salary|stipendio|salario|gehalt|salaire|"
        r"zarplat\w*|зарплат\w*|cost of living|living in|vivere a|vivir en|leben in|"
        r"olympics?|olympi\w*|medals?|medaill\w*|score(?:d)?|match|season|league|"
        r"alkohol|alcohol|beer|bier|promille|landed|landing|Uhr|o'?clock|"
        r"enough time|is that (?:normal|enough|ok|too)|ist das (?:normal|genug))\b"
        r"|\d{1,2}:\d{2}|\d\s?[ap]\.?m\b|올림픽|메달|금메달|奥运|奧運|オリンピック|航班|"
        r"フライト", _F),
    "role": rules._ROLE,
    "planning_ask": re.compile(
        r"\b(?:we need to|i need (?:a|to)|(?:develop|draft|build|design|propose|prepare) "
        r"(?:a|an|the) (?:\w+ )?(?:plan|strategy|roadmap|framework|approach|proposal)|"
        r"phased|step-by-step (?:plan|approach)|decision points?|trade-?offs?|"
        r"(?:entwickle|erstelle)\w* (?:einen|eine) \w*(?:plan|strategie|konzept)|"
        r"plan d'action|élabore[rz]? (?:un|une)|stratégie|"
        r"plan de acción|estrategia|propón|"
        r"разработа\w*|план\w*|стратеги\w*|предложи\w*|этап\w*|"
        r"opracuj\w*|zaproponuj\w*|plan\w* działa\w*|strategi\w*|"
        r"plan(?:ı|ını|lama\w*)|öner\w*|strateji\w*|tasarla\w*|aşama\w*)\b"
        r"|制定|方案|分阶段|规划|设计|决策|手順|まとめて|計画|設計|方針|설계|방안|계획|전략|"
        r"포함한|단계", _F),
    "personal": re.compile(
        r"\b(?:my (?:sister|brother|mother|mom|mum|father|dad|parents|wife|husband|partner|"
        r"girlfriend|boyfriend|friend|family|kids?|son|daughter|grandma|neighbou?r)|"
        r"inherit\w*|sorry|long one|i need (?:some )?advice|ich brauche (?:mal )?(?:einen )?"
        r"rat|meine[rn]? (?:schwester|bruder|mutter|vater|eltern|frau|mann|freundin|freund|"
        r"chef\w*|kollege\w*)|campaign|tabletop|rpg|dungeon|reformat|meeting notes)\b", _F),
}


def _task_features(text: str) -> Vector:
    """The ``tasks`` block (2026.11.11): :data:`TASKS` counts, damped as the other blocks,
    with four conjunctions a linear model cannot form: a question of quantity beside figures
    in a short request ("short_quantity"), an arithmetic operation in a short request with a
    constraint on the answer's form ("answer_form_arith"), figures beside everyday words and
    no calculation verb ("everyday_figures"), and a stated professional role beside a
    planning request in a long text ("role_plan")."""
    counted: dict[str, int] = {}  # name -> count, in the order added
    add = counted.__setitem__

    counts = {name: len(pattern.findall(text)) for name, pattern in TASKS.items()}
    for name, count in counts.items():
        add(name, count)
    figures = len(rules._NUMBER.findall(text))
    short = len(text) < 300
    add("short_quantity", int(short and figures > 0 and counts["how_many_plain"] > 0))
    add("answer_form_arith", int(short and counts["arith_op"] > 0
                                 and bool(rules._ANSWER_ONLY.search(text)
                                          or SIGNALS["only_answer"].search(text))))
    add("everyday_figures", int(figures > 0 and counts["everyday_figure"] > 0
                                and not counts["proof"] and not counts["counting"]
                                and not rules._MATH_STRONG.search(text)))
    add("role_plan", int(counts["role"] > 0 and counts["planning_ask"] > 0)
        + int(counts["role"] > 0 and len(text) >= 250))
    return _damped("t", counted.items())


#: 2026.11.12, the optional ``figures`` block: whether figures in a request are a problem to
#: solve or facts of everyday life, across languages (set 10's math misses were proofs,
#: counting and probability questions in nl, sv, fi, da, hu, he, hi, bn, id and short
#: computations with an answer-form constraint; its false positives everyday questions with
#: figures: a drive, sleep hours, a car's price, blood pressure, a season's races, fares,
#: rent per square metre, a match's score, and long professional briefs with figures).
#: Families of stems, each one feature, not the wordings of any item.
FIGURES: dict[str, re.Pattern[str]] = {
    "proof_more": re.compile(
        r"\b(?:bewijs|bevis\w*|todista\w*|buktikan|bizonyítsd|igazold|dokaži\w*|dokažte|"
        r"αποδείξτε|απόδειξη|thibitisha|prove|proof|beweis\w*|preuve|prueba|dimostrazione|"
        r"доказательств\w*|доведення|dowód)\b|הוכח|הוכיחו|প্রমাণ|सिद्ध क|साबित क|พิสูจน์|"
        r"اثبت|أثبت|برهن|ثابت کنید|证明|証明|증명", _F),
    "chance": re.compile(
        r"\b(?:probabilit\w*|wahrscheinlichkeit\w*|probabilidad\w*|probabilidade\w*|"
        r"вероятност\w*|ймовірн\w*|імовірн\w*|prawdopodobieństw\w*|olasılı\w*|"
        r"sandsynlighed\w*|sannolikhet\w*|sannsynlighet\w*|waarschijnlijkheid|"
        r"todennäköisyy\w*|valószínűség\w*|pravděpodobnost\w*|peluang|xác suất|"
        r"πιθανότητα|uwezekano|odds|dice|die is rolled|coins?|würfel\w*|dés?|dado|dados|"
        r"moedas?|monet\w*|кубик\w*|монет\w*|terning\w*|tärning\w*|kocka\w*)\b"
        r"|概率|機率|確率|확률|הסתברות|संभावना|प्रायिकता|احتمال|ความน่าจะเป็น|"
        r"骰子|サイコロ|주사위", _F),
    "counting_more": re.compile(
        r"\b(?:hányféle\w*|hány különböző|på hur många (?:sätt|olika)|hur många olika|"
        r"på hvor mange måder|hvor mange forskellige|op hoeveel manieren|hoeveel verschillende|"
        r"kuinka mon(?:ella|ta) (?:tavalla|eri)|berapa banyak cara|bao nhiêu cách|"
        r"πόσους τρόπους|kwa njia ngapi|arrange\w*|permutation\w*|combination\w*|"
        r"anagram\w*|letters of the word|buchstaben des wortes|lettres du mot|"
        r"letras de la palabra|букв слова)\b|כמה דרכים|कितने तरीक|何通り|몇 가지|多少种|"
        r"並べ方|排列|组合", _F),
    "geometry_more": re.compile(
        r"\b(?:area|perimeter|radius|diameter|circumference|inscribed|площ\w*|периметр\w*|"
        r"радиус\w*|радіус\w*|вписан\w*|вписан\w*|вписано\w*|круг\w*|квадрат\w*|"
        r"fläche\w*|umfang|kreis\w*|aire|périmètre|rayon|cercle|área|perímetro|radio|"
        r"pole|obwód|promień|koła|alan\w*|çevre\w*|yarıçap\w*|oppervlakte|omtrek|straal|"
        r"omkrets|pinta-ala|ympyrä\w*|kerület\w*|terület\w*|luas|keliling|jari-jari|"
        r"diện tích|chu vi|bán kính|εμβαδ\w*|κύκλ\w*)\b|面积|面積|半径|周长|넓이|반지름|"
        r"शेत्रफल|क्षेत्रफल|त्रिज्या|שטח|רדיוס", _F),
    "number_theory": re.compile(
        r"\b(?:gcd|lcm|hcf|euclid\w*|primes?|prime numbers?|primzahl\w*|nombres? premiers?|"
        r"números? primos?|numeri primi|простых|простые|простое число|простих|liczb\w* pierwsz\w*|"
        r"asal sayı\w*|số nguyên tố|bilangan prima|priemgetal\w*|primtal\w*|alkuluku\w*|"
        r"prímszám\w*|irrational|irrationnel\w*|irracional|irrazionale|иррациональн\w*|"
        r"ірраціональн\w*|niewymiern\w*|irasyonel|irasional|vô tỉ|divisible|teilbar|"
        r"divisible par|делится|ділиться|podzieln\w*|deelbaar|jaollinen|osztható|"
        r"habis dibagi|chia hết|even|odd|gerade|ungerade|pair|impair|genap|ganjil|"
        r"чётн\w*|четн\w*|нечётн\w*|нечетн\w*|парн\w*|непарн\w*|parzyst\w*|"
        r"nieparzyst\w*|çift|tek sayı\w*|jämn\w*|udda|lige|ulige|parillinen|pariton|"
        r"páros|páratlan|consecutive|consecutivos|consécutifs|aufeinanderfolgend\w*|"
        r"последовательн\w*|послідовн\w*|kolejn\w*|ardışık|berurutan|liên tiếp)\b"
        r"|素数|质数|質数|소수|最大公约数|最小公倍数|अभाज्य|अपरिमेय|מספרים? ראשוני\w*|עוקבים|"
        r"מתחלק|বিজোড়|জোড়|মৌলিক", _F),
    "everyday_more": re.compile(
        r"\b(?:drive|driving|drove|road trip|sleep|sleeping|nap|blood pressure|heart rate|"
        r"pulse|cholesterol|year[- ]old|years old|age|price|priced|paid|pay|overpa\w*|"
        r"bought|buy|worth|deal|used car|mileage|menu|restaurant|tip|ticket|fare|train|bus|"
        r"metro|taxi|uber|rent|rental|landlord|deposit|apartment|flat|won|win|wins|"
        r"goals?|scored|season|races|match|game|points? per game|boil|bake|oven|recipe|"
        r"cook|egg|calories|steps|marathon|weather|temperature|degrees outside|"
        r"roughly|approximately|about how|is it normal|is that (?:normal|good|bad|ok|"
        r"enough|too)|worth it|should i|would you|which one|fahren|fahrt|schlafen|"
        r"blutdruck|preis|kostet|miete|zug|bus|spiel|tore|loyer|prix|trajet|train|"
        r"sommeil|tension|c'est cher|match|buts?|conduire|alquiler|precio|cuesta|cuánto "
        r"cuesta|menú|goles|marcó|ganó|partido|tren|autobús|dormir|presión|aluguel|preço|"
        r"custa|trem|ônibus|jogo|affitto|prezzo|costa|treno|partita|"
        r"рост|вес|цен\w*|стоит|аренд\w*|поезд\w*|автобус\w*|матч\w*|гол\w*|"
        r"давлени\w*|сна|спать|лет|возраст\w*|czynsz|cena|pociąg\w*|mecz\w*|"
        r"kira|fiyat\w*|tren|otobüs|maç|gol\w*|kazandı|uyku|tansiyon|yaş\w*|"
        r"giá|thuê|vé|tàu|ngủ|huyết áp|harga|sewa|tiket|kereta|tidur|"
        r"bei|kodi|treni|basi|lala|usingizi)\b"
        r"|身高|体重|多少钱|价格|房租|租金|火车|高铁|公交|比赛|进球|睡眠|血压|岁|"
        r"身長|体重|値段|家賃|電車|試合|睡眠|血圧|歳|"
        r"키|몸무게|가격|월세|기차|버스|경기|수면|혈압|살|"
        r"कितनी दूर|समय लगता|किराया|कीमत|ट्रेन|बस|नींद|रक्तचाप|उम्र|"
        r"מחיר|שכר דירה|רכבת|אוטובוס|משחק|שינה|לחץ דם", _F),
}


#: A rate between two quantities ("120 km/h", "1,79 € pro Liter", "45.000 đồng/kg", "twice as
#: old"): figures in a relation, the mark of a word problem even among everyday words.
_RATE = re.compile(
    r"\d\s*(?:km|m|€|\$|đồng|rp|l|kg|g)?\s*/\s*(?:h|kg|l|m²|m2|min|km|hour|day)\b|\bkm/h|mph|"
    r"\b(?:per|pro|par|por|al|за|на|за один|each|a|an) (?:hour|minute|day|week|month|year|"
    r"litre|liter|kg|person|stunde|liter|heure|litre|hora|litro|час|литр|кг)\b|"
    r"\b(?:times as|twice as|half as|\d+(?:[.,]\d+)? times)\b", _F)


#: Square and cubic units ("45 m²", "2 km²"): a flat's or a field's size, not a power.
_UNIT_POWER = re.compile(r"(?<![A-Za-z])(?:k|c|m)?m[²³2](?![\w])")


def _figure_features(text: str) -> Vector:
    """The ``figures`` block (2026.11.12): :data:`FIGURES` counts, damped as the other
    blocks, with four conjunctions: figures beside everyday words and none of the maths
    families ("everyday_only"), figures in a long request with none of them
    ("long_brief_figures", a business or clinical case), a maths family in a short request
    ("short_maths"), and a computation with a constraint on the answer's form in a short
    request, in any of the rules' languages ("answer_form")."""
    counted: dict[str, int] = {}
    add = counted.__setitem__
    counts = {name: len(pattern.findall(text)) for name, pattern in FIGURES.items()}
    for name, count in counts.items():
        add(name, count)
    figures = len(rules._NUMBER.findall(text))
    # Maths words and formulas; then also operations, percentages and rates, which a
    # business brief has too.
    terms = (counts["proof_more"] + counts["chance"] + counts["counting_more"]
             + counts["geometry_more"] + counts["number_theory"]
             + len(rules._MATH_STRONG.findall(text))
             + len(rules._FORMULA.findall(_UNIT_POWER.sub(" ", text))))
    maths = terms + len(TASKS["arith_op"].findall(text)) + len(_RATE.findall(text))
    short = len(text) < 300
    add("everyday_only", int(figures > 0 and counts["everyday_more"] > 0 and not maths))
    add("long_brief_figures", int(len(text) >= 250 and figures >= 2 and not terms))
    add("short_maths", int(short and maths > 0))
    add("answer_form", int(short and bool(rules._ANSWER_FORM.search(text))
                           and (maths > 0 or figures > 0)))
    return _damped("n", counted.items())


def _shape_features(text: str, shapes: dict[str, re.Pattern[str]] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The :data:`SHAPES` (or ``shapes``) counts of ``text``, damped (``log1p``, capped at 1)
    and hashed into buckets of their own names."""
    return _damped("s", ((name, len(pattern.findall(text)))
                         for name, pattern in (SHAPES if shapes is None else shapes).items()),
                   sort=False)


#: 2026.11.15, the optional ``demands`` block: how demanding a request is, across languages
#: (set 16's hard_prompt misses were detailed engineering tasks outside English: a thread-safe
#: scheduler, a concurrent crawler, a lock-free stack, a minimal compiler, microservice and
#: monitoring architectures, a recommender "with 2 million users"; analyses of trade-offs,
#: risks and sensitivities with domain specifics, in ru, zh, ko, tr, hi, uk, vi, he, fa, pt;
#: its false positives long everyday requests with figures and a story with technical
#: words). Families of stems, each one feature, not the wordings of any item.
DEMANDS: dict[str, re.Pattern[str]] = {
    "build_verb": re.compile(
        r"\b(?:design|implement|architect|build|entw(?:irf|erfe|ickle)|implementiere\w*|"
        r"konzipiere\w*|con[cç]oi[sv]\w*|concevez|impl[eé]mente[rz]?|diseñ[ae]\w*|"
        r"implement[ae]\w*|projet[ae]\w*|progett[ai]\w*|спроектиру\w*|разработа\w*|"
        r"реализу\w*|розроб\w*|спроєкту\w*|реалізу\w*|zaprojektuj\w*|zaimplementuj\w*|"
        r"navrhn\w*|implementuj\w*|tasarla\w*|uygula\w*|geliştir\w*|thiết kế|triển khai|"
        r"xây dựng|rancang\w*|implementasi\w*|ontwerp\w*|implementeer|suunnittele|"
        r"toteuta|tervezz\w*|valósíts)\b|डिज़ाइन कर|डिजाइन कर|लागू कर|طراحی کن|طراحی کنید|"
        r"پیاده‌?سازی|صمم|نفذ|تصميم|תכנן|תכננו|ממש|设计|实现|設計|実装|설계|구현", _F),
    "system_noun": re.compile(
        r"\b(?:architecture|scheduler|compiler|interpreter|parser|lock-free|wait-free|"
        r"thread-safe|concurren\w*|concurrent|distributed|microservices?|consensus|raft|paxos|"
        r"load balanc\w*|rate limit\w*|crawler|allocator|garbage collect\w*|"
        r"event loop|message queue|sharding|replication|fault[- ]toleran\w*|"
        r"high availability|scalab\w*|throughput|latency|deadlock|race condition|mutex|"
        r"aba|epoch|memory model|b-tree|lsm|cache invalidation|idempoten\w*|"
        r"architektur\w*|nebenläufig\w*|verteilt\w*|concurrente|concorrente|distribuid[oa]s?|"
        r"distribu[ée]e?s?|planificateur|compilateur|compilador|compilatore|"
        r"архитектур\w*|планировщик\w*|компилятор\w*|потокобезопас\w*|многопоточ\w*|"
        r"распредел[её]нн\w*|микросервис\w*|архітектур\w*|планувальник\w*|"
        r"багатопоточ\w*|розподілен\w*|мікросервіс\w*|датчик\w*|architektur\w*|"
        r"współbieżn\w*|rozproszon\w*|mimari\w*|eşzamanlı\w*|dağıtık|kiến trúc|"
        r"đồng thời|phân tán|arsitektur\w*|konkuren\w*|terdistribusi)\b"
        r"|माइक्रोसर्विस|आर्किटेक्चर|معماری|معمارية|ארכיטקטורה|架构|架構|调度|調度|编译器|"
        r"線程|线程安全|并发|並發|分布式|微服务|锁竞争|无锁|アーキテクチャ|スケジューラ|"
        r"コンパイラ|スレッドセーフ|並行|分散|ロックフリー|아키텍처|스케줄러|컴파일러|"
        r"동시성|분산|마이크로서비스|스레드", _F),
    "analysis_verb": re.compile(
        r"\b(?:analy[sz]e|evaluate|assess|critically|analysiere\w*|bewerte\w*|"
        r"analyse[rz]?|évalue[rz]?|analiz[ae]\w*|evalú[ae]\w*|analis[ae]\w*|avali[ae]\w*|"
        r"analizz[ai]\w*|valut[ai]\w*|проанализиру\w*|анализ\w*|оцени\w*|проаналізу\w*|"
        r"аналіз\w*|оціні\w*|przeanalizuj\w*|oceń|analyzuj\w*|zhodno\w*|analiz et\w*|"
        r"değerlendir\w*|phân tích|đánh giá|analisis\w*|analyseer|beoordeel|"
        r"analysoi|elemezd)\b|विश्लेषण|تحلیل|حلل|تحليل|נתח|ניתוח|分析|评估|評估|評価|"
        r"분석|평가", _F),
    "weighing": re.compile(
        r"\b(?:trade-?offs?|pros and cons|advantages and disadvantages|risks?|sensitivity|"
        r"justify|justification|complexity|bottlenecks?|failure modes?|edge cases|"
        r"vor- und nachteile|abwägung\w*|risiken|avantages et inconvénients|compromis|"
        r"risques?|ventajas y desventajas|riesgos?|vantagens e desvantagens|riscos?|"
        r"vantaggi e svantaggi|rischi|плюсы и минусы|преимущества и недостатки|риск\w*|"
        r"компромисс\w*|переваги (?:та|і) недоліки|ризик\w*|zalety i wady|ryzyk\w*|"
        r"výhody a nevýhody|rizik\w*|avantaj\w* ve dezavantaj\w*|risk\w*|ưu nhược điểm|"
        r"ưu điểm và nhược điểm|rủi ro|kelebihan dan kekurangan|risiko|"
        r"voor- en nadelen|risico\w*)\b|फायदे और नुकसान|जोखिम|مزایا و معایب|ریسک|"
        r"المزايا والعيوب|مخاطر|יתרונות|חסרונות|סיכונים|优缺点|利弊|权衡|權衡|风险|風險|"
        r"理由|敏感|メリットとデメリット|トレードオフ|リスク|장단점|트레이드오프|위험|리스크|"
        r"민감도", _F),
    "requirement": re.compile(
        r"\b(?:requirements?|must|should support|supports?|handle|guarantee\w*|"
        r"anforderung\w*|muss|unterstütz\w*|exigences?|doit|requisitos?|debe|deve|suporte|"
        r"requisiti|требовани\w*|должн\w*|поддерж\w*|вимог\w*|повин\w*|підтрим\w*|"
        r"wymagani\w*|musi|obsług\w*|požadav\w*|gereksinim\w*|desteklemeli|uysun|"
        r"yêu cầu|hỗ trợ|persyaratan|mendukung|harus|vereisten|moet)\b|आवश्यकता|"
        r"الزامات|باید|متطلبات|يجب|דרישות|חייב|要求|支持|必须|須|要件|対応|요구|지원|포함", _F),
    "advanced_math": re.compile(
        r"\b(?:converge\w*|convergence|uniformly|lebesgue|measurable|compact\w*|hilbert|"
        r"banach|manifold\w*|topolog\w*|homomorph\w*|isomorph\w*|eigen\w*|integral domain|"
        r"konverg\w*|сходи\w*|сходимост\w*|збіжн\w*|zbieżn\w*|yakınsa\w*|hội tụ|"
        r"integrální obor|těleso|obszar całkowitości|целостност\w*|"
        r"gleichmäßig|uniformément|uniformemente|равномерн\w*|rівномірн\w*|"
        r"potęg\w* dwójki|power of two|fermat)\b|收敛|収束|수렴|一致收敛|整环|同构|"
        r"因式分解", _F),
}


def _demand_features(text: str) -> Vector:
    """The ``demands`` block (2026.11.15): :data:`DEMANDS` counts, damped as the other
    blocks, with conjunctions a linear model cannot form: a build verb beside system nouns
    ("build_system"), an analysis verb beside weighing words ("analysis_weighing"), several
    requirements or constraints (a count of requirement words, list separators and figures
    in a request of some length: "constraints"), and a proof beside advanced notions
    ("deep_proof")."""
    counted: dict[str, int] = {}  # name -> count, in the order added
    add = counted.__setitem__

    counts = {name: len(pattern.findall(text)) for name, pattern in DEMANDS.items()}
    for name, count in counts.items():
        add(name, count)
    add("build_system", int(counts["build_verb"] > 0 and counts["system_noun"] > 0)
        + int(counts["build_verb"] > 0 and counts["system_noun"] >= 2))
    add("analysis_weighing", int(counts["analysis_verb"] > 0 and counts["weighing"] > 0))
    separators = len(_SEPARATOR.findall(text))
    add("constraints", int(len(text) >= 80 and counts["requirement"] + separators >= 4)
        + int(len(text) >= 80 and counts["requirement"] + separators >= 8))
    proof = bool(TASKS["proof"].search(text) or FIGURES["proof_more"].search(text))
    add("deep_proof", int(proof and counts["advanced_math"] > 0))
    return _damped("d", counted.items())


#: Separators of listed requirements: commas, semicolons, colons, enumerations (across
#: scripts: "、", "，", "；", "،").
_SEPARATOR = re.compile(r"[,;:，、；،]|\(\w|\b\d[.)]\s")


#: The feature blocks, in the order their buckets are concatenated.
BLOCKS = ("words", "chars", "shape", "context", "cues", "signals", "forms", "tasks",
          "figures", "demands")


def _block(raw: str, name: str) -> Vector:
    """One block's buckets and values for ``raw`` (the text's first :data:`MAX_CHARS`)."""
    if name in ("words", "chars"):
        text = _SPACE.sub(" ", raw.lower()).strip()
        hashes = _word_hashes(text) if name == "words" else _char_hashes(f" {text} ")
        if not len(hashes):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        buckets, counts = np.unique(hashes % np.uint64(DIMENSIONS), return_counts=True)
        weight = np.log1p(counts.astype(np.float64))
        return buckets.astype(np.int64), weight / np.linalg.norm(weight)
    if name == "signals":
        return _signal_features(raw)
    if name == "forms":
        return _form_features(raw)
    if name == "tasks":
        return _task_features(raw)
    if name == "figures":
        return _figure_features(raw)
    if name == "demands":
        return _demand_features(raw)
    return _shape_features(raw, {"shape": SHAPES, "context": CONTEXT, "cues": CUES}[name])


def features(text: str, *, words: bool = True, chars: bool = True, shape: bool = False,
             context: bool = False, cues: bool = False, signals: bool = False,
             forms: bool = False, tasks: bool = False, figures: bool = False,
             demands: bool = False, cache: dict[str, Vector] | None = None) -> Vector:
    """Sparse feature vector of ``text``: sorted bucket indices and their values.

    Each n-gram block (words and word pairs; character n-grams) is counted, damped with
    ``log1p`` and scaled to unit length, so a long prompt does not outweigh a short one; the
    shape, context, cue, signal, form, task, figure and demand blocks (:data:`SHAPES`,
    :data:`CONTEXT`, :data:`CUES`, :data:`SIGNALS`, :func:`_form_features`,
    :func:`_task_features`, :func:`_figure_features`, :func:`_demand_features`) are one
    damped count per pattern.
    ``cache`` (one per text) keeps each block computed once when several models read the
    same text with different blocks.
    """
    raw = text[:MAX_CHARS]
    indices, values = [], []
    for name, wanted in zip(BLOCKS, (words, chars, shape, context, cues, signals, forms,
                                     tasks, figures, demands), strict=True):
        if not wanted:
            continue
        if cache is None:
            part = _block(raw, name)
        elif name in cache:
            part = cache[name]
        else:
            part = cache[name] = _block(raw, name)
        if len(part[0]):
            indices.append(part[0])
            values.append(part[1])
    if not indices:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    index = np.concatenate(indices)
    value = np.concatenate(values)
    # Two blocks may share a bucket: add them up.
    unique, inverse = np.unique(index, return_inverse=True)
    return unique, np.bincount(inverse, weights=value)


#: How a label's model and rule may combine (:attr:`LabelModel.mode`).
MODES = ("or", "and", "model", "rules")


@dataclass(frozen=True)
class LabelModel:
    """One label's logistic regression: non-zero weights by bucket, the intercept, and the
    probability from which the model alone gives the label."""

    buckets: np.ndarray
    weights: np.ndarray
    intercept: float
    threshold: float
    words: bool = True
    chars: bool = True
    shape: bool = False
    context: bool = False
    cues: bool = False
    signals: bool = False
    forms: bool = False
    tasks: bool = False
    figures: bool = False
    demands: bool = False
    #: How the model and the label's rule combine: "or" (either says yes), "and" (both),
    #: "model" (the model alone) or "rules" (the rule alone).
    mode: str = "or"

    def blocks(self) -> dict[str, Any]:
        """The feature blocks the model reads, by name in :data:`BLOCKS` order (the keyword
        arguments of :func:`features`)."""
        return {name: getattr(self, name) for name in BLOCKS}

    def probability(self, index: np.ndarray, value: np.ndarray) -> float:
        if not len(self.buckets) or not len(index):
            return float(1.0 / (1.0 + np.exp(-self.intercept)))
        where = np.searchsorted(self.buckets, index)
        where = np.minimum(where, len(self.buckets) - 1)
        hit = self.buckets[where] == index
        z = self.intercept + float(np.dot(self.weights[where[hit]], value[hit]))
        return float(1.0 / (1.0 + np.exp(-z)))


def save(path: Path, models: dict[str, LabelModel], *, version: str) -> None:
    """Write ``models`` (the training script's output) as one ``.npz`` file."""
    arrays: dict[str, np.ndarray] = {"version": np.array(version),
                                     "labels": np.array(sorted(models))}
    for label, model in models.items():
        arrays[f"{label}.buckets"] = model.buckets.astype(np.int32)
        arrays[f"{label}.weights"] = model.weights.astype(np.float32)
        arrays[f"{label}.intercept"] = np.array(model.intercept, dtype=np.float64)
        arrays[f"{label}.threshold"] = np.array(model.threshold, dtype=np.float64)
        arrays[f"{label}.blocks"] = np.array(list(model.blocks().values()))
        arrays[f"{label}.mode"] = np.array(model.mode)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def _flags(stored: np.ndarray) -> dict[str, Any]:
    """A weights file's block flags by name; blocks after the stored ones are off."""
    return {name: i < len(stored) and bool(stored[i]) for i, name in enumerate(BLOCKS)}


def load(path: Path = WEIGHTS_FILE) -> tuple[str, dict[str, LabelModel]]:
    """The trained version's name and its models, read from ``path``."""
    with np.load(path, allow_pickle=False) as data:
        models = {
            str(label): LabelModel(
                buckets=data[f"{label}.buckets"].astype(np.int64),
                weights=data[f"{label}.weights"].astype(np.float64),
                intercept=float(data[f"{label}.intercept"]),
                threshold=float(data[f"{label}.threshold"]),
                # Older files store fewer flags (2026.11.5: words and chars only): a block
                # added since is off.
                **_flags(data[f"{label}.blocks"]),
                mode=str(data[f"{label}.mode"]) if f"{label}.mode" in data else "or")
            for label in data["labels"]}
        unknown = {m.mode for m in models.values()} - set(MODES)
        if unknown:
            raise ValueError(f"{path}: unknown combination mode(s) {sorted(unknown)}")
        return str(data["version"]), models


_lock = threading.Lock()
_loaded: tuple[str, dict[str, LabelModel]] | None = None


def models() -> tuple[str, dict[str, LabelModel]]:
    """The shipped models, loaded on first use (once per process)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = load()
        return _loaded


def probabilities(text: str) -> dict[str, float]:
    """Each learned label's probability for ``text``."""
    vectors: dict[tuple[bool, ...], Vector] = {}
    blocks: dict[str, Vector] = {}
    out = {}
    for label, model in models()[1].items():
        flags = model.blocks()
        key = tuple(flags.values())
        if key not in vectors:
            vectors[key] = features(text, **flags, cache=blocks)
        out[label] = model.probability(*vectors[key])
    return out


def learned_labels(text: str) -> set[str]:
    """The labels whose model reaches its threshold on ``text``."""
    thresholds = {label: model.threshold for label, model in models()[1].items()}
    return {label for label, p in probabilities(text).items() if p >= thresholds[label]}


def combine(mode: str, rule: bool, model: bool) -> bool:
    """A label from its rule's and its model's verdicts, as :attr:`LabelModel.mode` says."""
    if mode == "and":
        return rule and model
    if mode == "model":
        return model
    if mode == "rules":
        return rule
    return rule or model


def combined_labels(text: str, rules: dict[str, bool]) -> set[str]:
    """The learned labels given for ``text``, each rule's verdict (``rules``) combined with its
    model's as the model's :attr:`~LabelModel.mode` says; labels without a model keep their
    rule's verdict."""
    trained = models()[1]
    said = learned_labels(text)
    return {label for label, rule in rules.items()
            if (combine(trained[label].mode, rule, label in said) if label in trained else rule)}
