"""Rating engine: exact (style-controlled) Bradley-Terry leaderboards with honest intervals.

Pure numeric library (numpy, scipy, standard library; pyarrow is imported lazily, only to read
Parquet files). See ``ratings/README.md`` for the model, the options and the command line.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import FASTCHAT_REG, SCALE, fit_leaderboard  # noqa: E402
from .arena_hard import arena_hard_scores  # noqa: E402
from .errors import (  # noqa: E402
    DisconnectedGraphError,
    InputError,
    NotConvergedError,
    RatingError,
)
from .features import (  # noqa: E402
    FEATURE_NAMES,
    FEATURE_SETS,
    FEATURE_TRANSFORM_VERSION,
    extract_features,
)
from .io import Battles, fit_file, load_battles  # noqa: E402
from .lc_winrate import lc_win_rates  # noqa: E402
from .refit import Refit  # noqa: E402
from .result import ContenderRating, LeaderboardResult, StyleCoefficient  # noqa: E402
from .stream import fit_parquet  # noqa: E402

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
