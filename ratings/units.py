"""The rating scale and the FastChat-equivalent penalty (no imports beyond ``math``, so that
the app can read them without loading the solver)."""

from __future__ import annotations

import math

#: Elo points per unit of theta: rating = offset + SCALE * theta.
SCALE = 400.0 / math.log(10.0)
#: ``reg`` equivalent to FastChat's ``compute_elo_mle_with_tie`` (scikit-learn L2, C=1, every
#: battle duplicated, features +-ln10): penalty ||coef||^2/2 with coef = theta/ln10 against a
#: loss counted twice, i.e. ``reg = 1 / (2 ln(10)^2)`` on our once-counted loss.
FASTCHAT_REG = 1.0 / (2.0 * math.log(10.0) ** 2)
