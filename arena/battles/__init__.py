"""Battles: pair sampling, endpoint health, creation, turns, generation and their JSON views.

The lifecycle is ``pending → generating → ready → voted`` (or ``failed`` / ``abandoned``).
Every state change that two requests could race on is a conditional ``UPDATE ... WHERE state``
checked by its row count, so it holds across processes and hosts, not only threads.
"""

from arena.battles.generation import (
    GenerationPlan,
    StreamTarget,
    plan_generation,
    replay_events,
    run_generation,
    stream_target,
)
from arena.battles.lifecycle import (
    add_turn,
    battle_view,
    beat,
    claim_generation,
    create_battle,
    get_battle,
    reap_stale,
    recover_stale,
    require_owner,
    vote_target,
)
from arena.battles.sampling import (
    choose_pair,
    eligible_contenders,
    record_failure,
    record_success,
    sample_pair,
)

__all__ = [
    "GenerationPlan", "StreamTarget", "add_turn", "battle_view", "beat", "choose_pair",
    "claim_generation", "create_battle",
    "eligible_contenders", "get_battle", "plan_generation", "record_failure", "record_success",
    "reap_stale", "recover_stale", "replay_events", "require_owner", "run_generation",
    "sample_pair", "stream_target", "vote_target",
]
