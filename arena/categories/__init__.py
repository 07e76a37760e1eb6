"""Prompt categories: an offline, versioned classifier of battles' conversations.

Labels: ``coding``, ``math``, ``creative_writing``, ``instruction_following``,
``hard_prompt``, ``language:<code>``, ``multi_turn``, ``long_query`` and ``refusal`` (either
answer declined). Hand-written rules (:mod:`.rules`, :mod:`.refusal`), small logistic
regressions trained here on the labelled sets (:mod:`.learned`, weights shipped in the
package) and py3langid; nothing is downloaded. Quality and speed are measured in
``benchmarks/categories/``.

Labels live in ``battle_label`` with the version in ``battle.category_version``
(:mod:`.store`); near-duplicate prompts share ``battle.prompt_group`` (:mod:`.groups`).
"""

from arena.categories.classify import (
    CLASSIFIER_VERSION,
    LABELS,
    LONG_QUERY_CHARS,
    STRUCTURAL,
    TOPICAL,
    classify,
)
from arena.categories.store import label_battle, regroup, relabel

__all__ = ["CLASSIFIER_VERSION", "LABELS", "LONG_QUERY_CHARS", "STRUCTURAL", "TOPICAL",
           "classify", "label_battle", "regroup", "relabel"]
