"""Dataset cards: a release's ``README.md`` and the Hub repository's top-level card.

The YAML header's ``configs`` entry points ``datasets.load_dataset`` at the Parquet file (the
JSONL file holds the same rows for readers without Parquet, so it is not listed twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import yaml

LICENSE = "cc-by-4.0"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("question_id", "Id of the battle within this release: a keyed hash, not linkable to the "
                    "site or to other releases."),
    ("model_a, model_b", "Public names of the two contenders (left and right)."),
    ("winner", "`model_a`, `model_b`, `tie` or `both_bad`."),
    ("weight", "Prompt-flood weight used by the leaderboard: a first prompt seen `n` times in "
               "the window weighs `min(1, 20 / n)` per battle, else 1."),
    ("tstamp", "Vote time, Unix seconds (UTC), floored to the hour."),
    ("turn", "Number of turns (user messages) in the conversation."),
    ("language", "Detected language of the prompt (ISO 639-1), or null."),
    ("anony", "Always true: only anonymous battles count and are released."),
    ("source", "`arena` (fought on the site) or `import` (read from a clean_battle file)."),
    ("voter", "Voter pseudonym: HMAC of the voter under a secret key "
              "(see Pseudonymisation); null for imported battles."),
    ("labels", "Prompt categories from the offline classifier (`coding`, `math`, "
               "`creative_writing`, `instruction_following`, `hard_prompt`, "
               "`language:<code>`, `multi_turn`, `long_query`, `refusal`); empty if unlabelled."),
    ("category_version", "Version of the classifier that gave `labels` (null if unlabelled)."),
    ("<feature>_a, <feature>_b", "Raw style features of each side summed over turns, as the "
                                 "leaderboard uses them: `length` (tokens), `markdown_header`, "
                                 "`markdown_list`, `markdown_bold`, `citations`."),
    ("features_complete", "True when every style feature is known for both sides."),
    ("completion_tokens_a/_b, prompt_tokens_a/_b",
     "Token counts reported by the endpoints, summed over turns (null if not reported)."),
    ("latency_ms_a/_b", "Total generation time of each side in milliseconds, summed over turns."),
    ("n_sources_a/_b", "Number of citations (sources) the endpoint returned, summed over turns."),
    ("conversation_a, conversation_b",
     "OpenAI-style message lists (`role`, `content`) of each side, PII-scrubbed; null unless "
     "the voter consented for this battle (when it started) and still did at the cut."),
)


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def _front_matter(meta: Mapping[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(dict(meta), sort_keys=False, allow_unicode=True) + "---\n"


def _leaderboard_section(snapshot: Mapping[str, Any], source_url: str | None) -> list[str]:
    install = (f'pip install "{source_url}"' if source_url else
               "pip install <a checkout or archive of the arena's repository>")
    lines = ["## Leaderboard snapshot", "",
             "`leaderboard.json` holds the leaderboard computed from exactly these rows. Each "
             "view is recomputed, float for float, by running its command inside this folder. "
             "The arena's repository is an installable Python project (`pyproject.toml`): "
             "installing it gives the `ratings` package and `python -m ratings` "
             "(Python 3.11+):", "", "```", install, "```", ""]
    for key, view in snapshot.get("views", {}).items():
        lines += [f"**{view.get('title', key)}** (`{key}`)", "", "```",
                  view["command"], "```", ""]
        if "error" in view:
            lines += [f"This view could not be fitted on this window: {view['error']}", ""]
            continue
        models = view["result"]["models"]
        lines += ["| rank | model | rating | 95% CI | votes |", "|---|---|---|---|---|"]
        for m in models:
            lines.append(f"| {m['rank']} | {m['name']} | {m['rating']:.1f} | "
                         f"{m['ci_low']:.1f} – {m['ci_high']:.1f} | {m['votes']} |")
        lines.append("")
    return lines


def dataset_card(*, name: str, window_start: datetime, window_end: datetime, n_rows: int,
                 with_text: int, excluded: Mapping[str, int], snapshot: Mapping[str, Any],
                 linkable: bool, public_url: str | None, source_url: str | None = None) -> str:
    """The ``README.md`` of one release folder."""
    meta = {
        "license": LICENSE,
        "pretty_name": f"Open Arena votes {name}",
        "tags": ["arena", "human-feedback", "pairwise-preference", "leaderboard"],
        "size_categories": [_size_category(n_rows)],
        "configs": [{"config_name": "default",
                     "data_files": [{"split": "train", "path": "battles.parquet"}]}],
    }
    site = f" of [{public_url}]({public_url})" if public_url else ""
    dropped = ", ".join(f"{v} battles ({k.replace('_', ' ')})" for k, v in excluded.items())
    pseudo = ("keyed without the release name, so a voter keeps one pseudonym across "
              "releases (the operator opted in)" if linkable else
              "keyed per release under a key only the site holds, so the releases alone do not "
              "let anyone link one voter across releases")
    lines = [
        f"# Open Arena votes: {name}", "",
        f"Pairwise human votes between anonymous models from the arena{site}: every eligible "
        f"battle whose vote was cast from {window_start.isoformat()} (inclusive) to "
        f"{window_end.isoformat()} (exclusive).", "",
        f"* Rows: {n_rows} battles ({with_text} with conversation texts).",
        f"* Excluded from this window: {dropped or 'none'}.",
        "* Files: `battles.parquet` and `battles.jsonl` (the same rows), `leaderboard.json`, "
        "and `manifest.json` with row counts, sizes and SHA-256 of every other file.", "",
        "```python", "from datasets import load_dataset",
        'ds = load_dataset("path/to/this/folder", split="train")', "```", "",
        "## What is included and what is not", "",
        "* Only battles the leaderboard counts: voted, anonymous (names hidden until the vote) "
        "and not flagged for an answer that revealed a model's identity. Failed and abandoned "
        "battles never have a vote.",
        "* Battles involving an unreleased model are left out (not renamed), also after the "
        "model becomes public; the snapshot below is computed without them.",
        "* Voters who opted out of data releases, or asked for their data to be deleted, are "
        "left out of every release cut after their request.",
        "* Prompts and answers appear only where the voter consented to releasing them when "
        "the battle was started and had not withdrawn that consent when the release was cut, "
        "and only after scrubbing: e-mail addresses, phone numbers, IP addresses, payment card "
        "numbers, API keys and tokens, and street addresses where a pattern can detect them "
        "are replaced by `[EMAIL]`, `[PHONE]`, `[IP]`, `[CARD]`, `[KEY]`, `[ADDRESS]`. "
        "Scrubbing is automatic and imperfect; please report anything it missed.",
        "* Free-text vote feedback is never released. No IP address, cookie or account id is.",
        "",
        "## Pseudonymisation and coarsening", "",
        f"`voter` is the first 16 hex digits of HMAC-SHA256 of the voter's id, {pseudo}. "
        "`question_id` is made the same way from the battle. `tstamp` is floored to the hour.",
        "",
        "## Columns", "",
        "| column | meaning |", "|---|---|",
        *[f"| `{c}` | {d} |" for c, d in COLUMNS], "",
        "## Weights", "",
        "The leaderboard down-weights prompt floods (the same first prompt, normalised, sent "
        "many times): each battle counts `weight` times in the likelihood. The `ratings` command "
        "line reads the `weight` column, so the commands below apply it.", "",
        *_leaderboard_section(snapshot, source_url),
        "## License", "",
        f"Votes and metadata: {LICENSE}. Model answers remain subject to the terms of the "
        "models that wrote them.", "",
    ]
    return _front_matter(meta) + "\n" + "\n".join(lines)


def hub_card(repo_id: str, releases: Sequence[Mapping[str, Any]],
             public_url: str | None) -> str:
    """Top-level ``README.md`` of the Hub dataset repo: one config per release, newest default."""
    ordered = sorted(releases, key=lambda r: r["name"])
    configs = []
    for i, rel in enumerate(ordered):
        config: dict[str, Any] = {
            "config_name": rel["name"],
            "data_files": [{"split": "train", "path": f"releases/{rel['name']}/battles.parquet"}]}
        if i == len(ordered) - 1:
            config["default"] = True
        configs.append(config)
        # Each media arena's rows load as their own config (another schema than the text's).
        configs.extend({"config_name": f"{rel['name']}-{arena}", "data_files": [
            {"split": "train", "path": f"releases/{rel['name']}/media/{arena}/battles.jsonl"}]}
            for arena in rel.get("arenas", ()))
    total = sum(int(r["n_battles"]) for r in ordered)
    meta = {"license": LICENSE, "pretty_name": "Open Arena votes",
            "tags": ["arena", "human-feedback", "pairwise-preference", "leaderboard"],
            "size_categories": [_size_category(total)], "configs": configs}
    site = f" from [{public_url}]({public_url})" if public_url else ""
    lines = [f"# {repo_id}", "",
             f"Rolling releases of pairwise human votes{site}. Each release covers one window "
             "and lives in `releases/<name>/` with its own card (columns, exclusions, "
             "pseudonymisation), `manifest.json` (SHA-256 of every file) and "
             "`leaderboard.json` (the leaderboard recomputable from it with one command).", "",
             "Image and audio arenas, where a release has them, are in "
             "`releases/<name>/media/<arena>/`: their rows (`battles.jsonl`, config "
             "`<name>-<arena>`) and the sanitised outputs voters saw (`files/<sha256>.png|wav`, "
             "public contenders only); `leaderboard.json` holds their boards under `arenas`.",
             "", "| release | window | battles | media arenas |", "|---|---|---|---|"]
    for rel in reversed(ordered):
        lines.append(f"| [{rel['name']}](releases/{rel['name']}/README.md) | "
                     f"{rel['window_start']} – {rel['window_end']} | {rel['n_battles']} | "
                     f"{', '.join(rel.get('arenas', ())) or '–'} |")
    lines.append("")
    return _front_matter(meta) + "\n" + "\n".join(lines)
