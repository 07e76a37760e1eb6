"""Rating engine: exact (style-controlled) Bradley-Terry leaderboards with honest intervals.

Pure numeric library (numpy, scipy, standard library; pyarrow is imported lazily, only to read
Parquet files). See ``ratings/README.md`` for the model, the options and the command line.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Errors, features and units need nothing beyond numpy; the rest loads on first use (below).
from .errors import DisconnectedGraphError, InputError, NotConvergedError, RatingError  # noqa: E402
from .features import (  # noqa: E402
    FEATURE_NAMES,
    FEATURE_SETS,
    FEATURE_TRANSFORM_VERSION,
    extract_features,
)
from .units import FASTCHAT_REG, SCALE  # noqa: E402

if TYPE_CHECKING:
    from .api import fit_leaderboard
    from .arena_hard import arena_hard_scores
    from .io import Battles, fit_file, load_battles
    from .lc_winrate import lc_win_rates
    from .refit import Refit
    from .result import ContenderRating, LeaderboardResult, StyleCoefficient
    from .stream import fit_parquet

# Submodule of each other public name. It loads on first use, so that ``import ratings`` does
# not import scipy: a command line that never fits (``leaderboard publish`` with nothing new)
# starts that much sooner.
_EXPORTS = {
    "fit_leaderboard": "api",
    "arena_hard_scores": "arena_hard",
    "Battles": "io",
    "fit_file": "io",
    "load_battles": "io",
    "lc_win_rates": "lc_winrate",
    "Refit": "refit",
    "ContenderRating": "result",
    "LeaderboardResult": "result",
    "StyleCoefficient": "result",
    "fit_parquet": "stream",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "FASTCHAT_REG",
    "FEATURE_NAMES",
    "FEATURE_SETS",
    "FEATURE_TRANSFORM_VERSION",
    "SCALE",
    "Battles",
    "ContenderRating",
    "DisconnectedGraphError",
    "InputError",
    "LeaderboardResult",
    "NotConvergedError",
    "RatingError",
    "Refit",
    "StyleCoefficient",
    "__version__",
    "arena_hard_scores",
    "extract_features",
    "fit_file",
    "fit_leaderboard",
    "fit_parquet",
    "lc_win_rates",
    "load_battles",
]
