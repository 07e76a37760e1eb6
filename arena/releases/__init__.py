"""Rolling data releases: scrubbed dataset dumps that reproduce the leaderboard.

``flask releases cut [--now ISO] [--push]`` (cron-ready, idempotent) writes every complete
window past the embargo into ``RELEASES_DIR/<start>_<end>/``: ``battles.parquet`` and
``battles.jsonl`` (same rows), ``README.md`` (dataset card that ``datasets.load_dataset`` reads),
``leaderboard.json`` (overall, style- and citation-controlled views, each the literal output of
``python -m ratings fit battles.parquet ...`` run in that folder) and ``manifest.json`` (rows,
bytes and SHA-256 of every other file). ``flask releases push`` uploads unpushed releases to
``RELEASE_HUB_REPO``, one commit each.

Modules: :mod:`.cut` (windows, atomic writing), :mod:`.rows` (exclusions, pseudonyms, texts),
:mod:`.scrub` (personal data), :mod:`.card` (dataset cards), :mod:`.hub` (Hub upload),
:mod:`.voters` (consent, opt-out, deletion), :mod:`.cli`, :mod:`.web` (Data page, privacy forms,
``/api/v1/releases`` and ``/api/v1/me``), :mod:`.openapi`.

Decisions: battles with an unreleased contender are left out (not renamed); opted-out and
deleted voters are left out of every release cut after their request; deletion erases texts but
keeps the anonymous outcome on the leaderboard; pseudonyms are keyed per release unless
``RELEASE_LINKABLE_PSEUDONYMS``; vote times are floored to the hour; texts only with consent and
always scrubbed; feedback text never. The first window starts at midnight UTC of the earliest
eligible vote's day.
"""
