"""The media arenas' part of a data release (image, speech, music battles).

The main ``battles.parquet`` stays the text arena's, so its snapshot reproduces the text
leaderboard exactly as before. Each media arena with releasable battles gets a folder
``media/<arena>/`` holding ``battles.jsonl`` — the same scrubbed rows (pseudonyms, consent
rules and exclusions as for text: battles with an unreleased contender never appear) plus the
arena, both outputs' SHA-256 and the modality's style features — and ``files/<sha256>.<ext>``,
the sanitised outputs themselves (the exact bytes voters saw).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena import modalities
from arena.leaderboard.data import RatedBattle, view_spec
from arena.media import MediaStore
from arena.models import Answer, Turn
from arena.releases.rows import release_rows

_EXT = {"image/png": "png", "audio/wav": "wav"}


def _media_hashes(db: Session, battle_ids: list[int]) -> dict[int, dict[str, tuple[str, str]]]:
    rows = db.execute(select(Turn.battle_id, Answer.side, Answer.media_sha256, Answer.media_type)
                      .join(Answer, Answer.turn_id == Turn.id)
                      .where(Turn.battle_id.in_(battle_ids), Turn.position == 0,
                             Answer.media_sha256.is_not(None)))
    out: dict[int, dict[str, tuple[str, str]]] = {}
    for battle_id, side, sha, kind in rows:
        out.setdefault(battle_id, {})[side] = (str(sha), kind or "")
    return out


@dataclass
class MediaRelease:
    """What :func:`write_media_release` wrote: every file (row files and media files, so the
    manifest and the Hub upload list them), and per arena its row count and released battles
    (in row order, for the arena's snapshot)."""

    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    kept: dict[str, list[RatedBattle]] = field(default_factory=dict)


def rows_file(arena: str) -> str:
    """A media arena's row file, relative to the release folder."""
    return f"media/{arena}/battles.jsonl"


def write_media_release(db: Session, folder: Path, battles: Sequence[RatedBattle], *,
                        release: str, secret_key: str, linkable: bool,
                        store: MediaStore) -> MediaRelease:
    """Write ``media/<arena>/`` for each media arena in ``battles``."""
    out_release = MediaRelease()
    written, counts = out_release.files, out_release.counts
    for arena in modalities.names():
        chosen = [b for b in battles if b.arena == arena]
        if arena == "text" or not chosen:
            continue
        data = release_rows(db, chosen, release=release, secret_key=secret_key,
                            linkable=linkable)
        if not data.rows:
            continue
        hashes = _media_hashes(db, [b.battle_id for b in data.kept])
        style = view_spec(f"{arena}-style").features
        base = folder / "media" / arena
        (base / "files").mkdir(parents=True, exist_ok=True)
        lines = []
        for row, battle in zip(data.rows, data.kept, strict=True):
            media = hashes.get(battle.battle_id, {})
            out: dict[str, Any] = {k: v for k, v in row.items()
                                   if not k.endswith(("_a", "_b")) or k.startswith(
                                       ("conversation_", "model_"))}
            out["arena"] = arena
            out.update(sorted(battle.features.items()))
            # The arena's own style features, as `--filter features_complete=true` reads it.
            out["features_complete"] = all(f"{name}_{side}" in battle.features
                                           for name in style for side in "ab")
            for side in "ab":
                sha, kind = media.get(side, ("", ""))
                out[f"media_{side}"] = sha or None
                if sha:
                    target = base / "files" / f"{sha}.{_EXT.get(kind, 'bin')}"
                    if not target.exists():
                        target.write_bytes(store.get(sha))
                        written.append(target)
            lines.append(json.dumps(out, ensure_ascii=False))
        (folder / rows_file(arena)).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(folder / rows_file(arena))
        counts[arena] = len(lines)
        out_release.kept[arena] = list(data.kept)
    return out_release


def card_section(counts: dict[str, int]) -> str:
    """The dataset card's paragraph on media arenas ("" when there are none)."""
    if not counts:
        return ""
    listed = ", ".join(f"{arena} ({n} battles)" for arena, n in sorted(counts.items()))
    return (
        "\n## Media arenas\n\n"
        f"This release also holds media arenas: {listed}. Each has `media/<arena>/battles.jsonl`"
        " (the same scrubbed rows, plus `arena`, the outputs' SHA-256 in `media_a`/`media_b`"
        " and the arena's style features) and `media/<arena>/files/<sha256>.<ext>`: the"
        " sanitised outputs exactly as voters saw them (fresh PNGs with no metadata; 16-bit"
        " mono 24 kHz WAV at equal RMS loudness). Only outputs of public contenders are"
        " included. `battles.parquet` covers the text arena only; `leaderboard.json` holds each"
        " media arena's leaderboard under `arenas`, with the `python -m ratings` command that"
        " recomputes it from `media/<arena>/battles.jsonl` in the release folder.\n")


__all__ = ["MediaRelease", "card_section", "rows_file", "write_media_release"]
