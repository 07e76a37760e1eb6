"""Build the evaluation sets (JSONL) from the hand-labelled sources in this folder.

    python benchmarks/categories/build_eval_set.py

Sources: the 80 real Vicuna-80 prompts (labels in ``vicuna80_labels.txt``, answers of
guanaco-7b and vicuna-13b attached so refusal is tested on real answers) and the written
prompts of ``written_dev.txt`` / ``written_heldout*.txt`` (format in their header). The labels
were written by reading each item, before (dev) or without looking at (held-out) the
classifier's output. ``multi_turn`` and ``long_query`` are definitions, counted here.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = (Path(sys.argv[1]) if len(sys.argv) > 1
        else HERE.parents[1].parent / "shared" / "data" / "arena")
VICUNA = DATA / "qlora_vicuna80_human"
CODES = {"c": "coding", "m": "math", "w": "creative_writing", "i": "instruction_following",
         "h": "hard_prompt", "r": "refusal"}
LONG_QUERY_CHARS = 1000


def _answers() -> dict[tuple[str, int], str]:
    out = {}
    with open(VICUNA / "answers.jsonl") as fh:
        for line in fh:
            row = json.loads(line)
            out[(row["model"], int(row["question_id"]))] = row["text"]
    return out


def _labels(codes: str) -> list[str]:
    labels, language = [], "en"
    for code in codes.split():
        if code.startswith("lang="):
            language = code[5:]
        elif code != "-":
            labels.append(CODES[code])
    return [*labels, f"language:{language}"]


def _finish(item: dict) -> dict:
    if len(item["turns"]) >= 2:
        item["labels"].append("multi_turn")
    if sum(len(t) for t in item["turns"]) >= LONG_QUERY_CHARS:
        item["labels"].append("long_query")
    item["labels"] = sorted(set(item["labels"]))
    return item


def written(path: Path, split: str, answers: dict[tuple[str, int], str]) -> list[dict]:
    items: list[dict] = []
    text = path.read_text()
    # An item starts at a line "<codes> | …"; continuation lines (pasted texts) follow it.
    blocks = re.split(r"\n(?=[-a-z =]+ \| )", "\n".join(
        line for line in text.splitlines() if not line.startswith("#")))
    for n, block in enumerate(b for b in blocks if b.strip()):
        codes, _, body = block.partition(" | ")
        body = re.sub(r"\{answer:([\w.-]+):(\d+)\}",
                      lambda m: answers[(m.group(1), int(m.group(2)))].strip(), body)
        conversation, _, pair = body.partition(" ## ")
        turns = [t.strip() for t in conversation.split(" >> ")]
        item = {"id": f"{path.stem}-{n + 1:03d}", "split": split, "source": "written",
                "turns": turns, "labels": _labels(codes.strip())}
        if pair:
            a, _, b = pair.partition(" ~~ ")
            item["answers"] = [["", ""]] * (len(turns) - 1) + [[a.strip(), b.strip()]]
        items.append(_finish(item))
    return items


def vicuna(answers: dict[tuple[str, int], str]) -> list[dict]:
    labels = {}
    for line in (HERE / "vicuna80_labels.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            qid, _, codes = line.partition(" ")
            labels[int(qid)] = codes
    items = []
    with open(VICUNA / "questions.jsonl") as fh:
        for line in fh:
            row = json.loads(line)
            qid = int(row["question_id"])
            items.append(_finish({
                "id": f"vicuna80-{qid:02d}", "split": "dev", "source": f"vicuna80:{qid}",
                "turns": [row["text"]],
                "answers": [[answers[("guanaco-7b", qid)], answers[("vicuna-13b", qid)]]],
                "labels": _labels(labels.get(qid, "-"))}))
    return items


#: Held-out set 4 was written from memory of what arena users ask, and some of its prompts
#: came out (nearly) identical to older items. Its "novel" subset leaves out every item this
#: similar (difflib ratio of the normalised text) to any item of the older sets, so it
#: measures phrasings the training data has not seen. Fixed before the new version was scored.
NEAR_DUPLICATE = 0.85


def _norm(item: dict) -> str:
    return re.sub(r"\W+", " ", " ".join(item["turns"]).lower()).strip()[:300]


def novel(items: list[dict], older: list[dict]) -> list[dict]:
    seen = [_norm(item) for item in older]
    out = []
    for item in items:
        text = _norm(item)
        matcher = difflib.SequenceMatcher(None, b=text, autojunk=False)
        near = False
        for other in seen:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() >= NEAR_DUPLICATE and \
                    matcher.quick_ratio() >= NEAR_DUPLICATE and matcher.ratio() >= NEAR_DUPLICATE:
                near = True
                break
        if not near:
            out.append(item)
    return out


def check_novel(items: list[dict], older: list[dict]) -> None:
    """Stop the build when a set written to be novel has a (near-)duplicate of an older item."""
    kept = {id(item) for item in novel(items, older)}
    duplicates = [item["id"] for item in items if id(item) not in kept]
    if duplicates:
        raise SystemExit(f"near-duplicates of older items: {', '.join(duplicates)}")


def main() -> None:
    answers = _answers()
    dev = vicuna(answers) + written(HERE / "written_dev.txt", "dev", answers)
    heldout = written(HERE / "written_heldout.txt", "heldout", answers)
    heldout2 = written(HERE / "written_heldout2.txt", "heldout2", answers)
    heldout3 = written(HERE / "written_heldout3.txt", "heldout3", answers)
    heldout4 = written(HERE / "written_heldout4.txt", "heldout4", answers)
    heldout5 = written(HERE / "written_heldout5.txt", "heldout5", answers)
    heldout6 = written(HERE / "written_heldout6.txt", "heldout6", answers)
    heldout7 = written(HERE / "written_heldout7.txt", "heldout7", answers)
    heldout8 = written(HERE / "written_heldout8.txt", "heldout8", answers)
    heldout9 = written(HERE / "written_heldout9.txt", "heldout9", answers)
    heldout10 = written(HERE / "written_heldout10.txt", "heldout10", answers)
    heldout11 = written(HERE / "written_heldout11.txt", "heldout11", answers)
    heldout12 = written(HERE / "written_heldout12.txt", "heldout12", answers)
    heldout13 = written(HERE / "written_heldout13.txt", "heldout13", answers)
    heldout14 = written(HERE / "written_heldout14.txt", "heldout14", answers)
    heldout15 = written(HERE / "written_heldout15.txt", "heldout15", answers)
    heldout16 = written(HERE / "written_heldout16.txt", "heldout16", answers)
    heldout17 = written(HERE / "written_heldout17.txt", "heldout17", answers)
    heldout18 = written(HERE / "written_heldout18.txt", "heldout18", answers)
    # Sets 5 to 12 were written to have no near-duplicate of any older set, so they have no
    # "novel" subset. Sets 11 and 12 were written at the same time, each checked against sets
    # 1-10 only.
    check_novel(heldout5, dev + heldout + heldout2 + heldout3 + heldout4)
    check_novel(heldout6, dev + heldout + heldout2 + heldout3 + heldout4 + heldout5)
    check_novel(heldout7,
                dev + heldout + heldout2 + heldout3 + heldout4 + heldout5 + heldout6)
    check_novel(heldout8, dev + heldout + heldout2 + heldout3 + heldout4 + heldout5 + heldout6
                + heldout7)
    check_novel(heldout9, dev + heldout + heldout2 + heldout3 + heldout4 + heldout5 + heldout6
                + heldout7 + heldout8)
    check_novel(heldout10, dev + heldout + heldout2 + heldout3 + heldout4 + heldout5 + heldout6
                + heldout7 + heldout8 + heldout9)
    older = (dev + heldout + heldout2 + heldout3 + heldout4 + heldout5 + heldout6 + heldout7
             + heldout8 + heldout9 + heldout10)
    check_novel(heldout11, older)
    check_novel(heldout12, older)
    # Set 13 was written after sets 11 and 12 were scored, so it is checked against them too.
    check_novel(heldout13, older + heldout11 + heldout12)
    # Set 14 was written after set 13 was scored, so it is checked against sets 11-13 too.
    check_novel(heldout14, older + heldout11 + heldout12 + heldout13)
    # Set 15 was written after set 14, so it is checked against sets 11-14 too.
    check_novel(heldout15, older + heldout11 + heldout12 + heldout13 + heldout14)
    # Set 16 was written after set 15 was scored, so it is checked against sets 11-15 too.
    check_novel(heldout16, older + heldout11 + heldout12 + heldout13 + heldout14 + heldout15)
    # Set 17 was written after set 16, so it is checked against sets 11-16 too.
    check_novel(heldout17,
                older + heldout11 + heldout12 + heldout13 + heldout14 + heldout15 + heldout16)
    # Set 18 was written after sets 16 and 17 were scored, so it is checked against sets 11-17 too.
    check_novel(heldout18, older + heldout11 + heldout12 + heldout13 + heldout14 + heldout15
                + heldout16 + heldout17)
    for name, items in (("eval_set.jsonl", dev), ("heldout_set.jsonl", heldout),
                        ("heldout2_set.jsonl", heldout2), ("heldout3_set.jsonl", heldout3),
                        ("heldout4_set.jsonl", heldout4),
                        ("heldout4_novel_set.jsonl",
                         novel(heldout4, dev + heldout + heldout2 + heldout3)),
                        ("heldout5_set.jsonl", heldout5), ("heldout6_set.jsonl", heldout6),
                        ("heldout7_set.jsonl", heldout7), ("heldout8_set.jsonl", heldout8),
                        ("heldout9_set.jsonl", heldout9),
                        ("heldout10_set.jsonl", heldout10),
                        ("heldout11_set.jsonl", heldout11),
                        ("heldout12_set.jsonl", heldout12),
                        ("heldout13_set.jsonl", heldout13),
                        ("heldout14_set.jsonl", heldout14),
                        ("heldout15_set.jsonl", heldout15),
                        ("heldout16_set.jsonl", heldout16),
                        ("heldout17_set.jsonl", heldout17),
                        ("heldout18_set.jsonl", heldout18)):
        if not items:
            continue
        with open(HERE / name, "w") as fh:
            for item in items:
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
        print(f"{name}: {len(items)} items")


if __name__ == "__main__":
    main()
