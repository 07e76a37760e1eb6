"""Error hierarchy of the rating engine.

Every failure the engine can diagnose raises a subclass of :class:`RatingError` with a message
that names the offending row, column, contender or setting.
"""

from __future__ import annotations


class RatingError(Exception):
    """Base class of every error raised by :mod:`ratings`."""


class InputError(RatingError, ValueError):
    """Malformed battles or options (unknown label, missing column, self-battle, bad value)."""


class DisconnectedGraphError(RatingError):
    """The comparison graph has several components, so relative ratings are not identified.

    Attributes
    ----------
    components : list of list of str
        Contender names of each connected component, largest first.
    """

    def __init__(self, message: str, components: list[list[str]]) -> None:
        super().__init__(message)
        self.components = components


class NotConvergedError(RatingError):
    """Newton's method did not reach the requested tolerance (or the optimum does not exist).

    Attributes
    ----------
    iterations : int
        Iterations performed.
    gradient_norm : float
        Max-norm of the gradient of the objective at the last iterate.
    """

    def __init__(self, message: str, iterations: int = 0, gradient_norm: float = float("nan")):
        super().__init__(message)
        self.iterations = iterations
        self.gradient_norm = gradient_norm
