"""The detector protocol every riskstream detector follows.

A detector is a River ``AnomalyDetector``: ``score_one(x)`` before ``learn_one(x)``,
``x`` a dict of numbers (one closed window of one entity). Scores are floats in
``[0, 1]``, higher is more anomalous, and 0 during the warm-up (grace) period.

Per-entity state must be a handful of numbers, so every detector can export its
state as a flat list of floats (``state()``) and load it back (``load(state)``):
the stream worker keeps those lists in a changelog-backed table, not the objects.
"""

from __future__ import annotations

import abc
import math

from river.base import AnomalyDetector


class Detector(AnomalyDetector):
    """Base of riskstream detectors: River's protocol plus a flat, serialisable state."""

    #: bumped whenever scoring changes, and reported beside the detector name in signals
    version = "1"

    # a window is a dict of named numbers, narrower than River's ``dict[Hashable, Any]``
    @abc.abstractmethod
    def score_one(self, x: dict[str, float]) -> float:
        """How anomalous ``x`` is, in ``[0, 1]``, before it is learned."""

    @abc.abstractmethod
    def learn_one(self, x: dict[str, float]) -> None:
        """Update the model with ``x``."""

    @abc.abstractmethod
    def state(self) -> list[float]:
        """The learned state as a flat list of floats."""

    @abc.abstractmethod
    def load(self, state: list[float]) -> None:
        """Restore a state exported by :meth:`state`."""

    @abc.abstractmethod
    def baseline(self) -> dict[str, float]:
        """What the detector currently expects, for the signal's ``baseline`` field."""

    def remember_one(self, x: dict[str, float]) -> None:
        """What the detector keeps of every window, flagged or not (``learn_one`` sees
        only clearly normal ones); nothing by default."""

    #: whether :meth:`memory` may keep anything (so a sweep need not ask otherwise)
    remembers = False

    def memory(self, windows: float) -> list[float] | None:
        """The state worth keeping past the entity's TTL, its last window ``windows``
        windows ago, or None (the default): forget the entity."""
        return None

    def side(self, x: dict[str, float]) -> float | None:
        """Which side of what it expects ``x`` lies on: 1.0 above, -1.0 below, 0.0 on
        it; None for a detector with no single expected value (the default)."""
        return None


def require(name: str, value: float, *, above: float | None = None,
            at_least: float | None = None, below: float | None = None,
            at_most: float | None = None, whole: bool = False) -> None:
    """Refuse a parameter that is not a finite number in its range, naming it (a
    policy file's error then says which parameter of which signal).

    >>> require("alpha", 0.5, above=0.0, at_most=1.0)
    >>> require("alpha", 1.5, above=0.0, at_most=1.0)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be above 0 and at most 1, not 1.5
    >>> require("half", float("inf"), above=0.0)
    Traceback (most recent call last):
    ...
    ValueError: half must be a finite number above 0, not inf
    >>> require("min_count", 2.5, at_least=0.0, whole=True)
    Traceback (most recent call last):
    ...
    ValueError: min_count must be a whole number at least 0, not 2.5
    """
    if math.isfinite(value) and (above is None or value > above) and (
            at_least is None or value >= at_least) and (below is None or value < below) and (
            at_most is None or value <= at_most) and (not whole or value == int(value)):
        return
    bounds = [(b, word) for b, word in ((above, "above"), (at_least, "at least"),
                                        (below, "below"), (at_most, "at most")) if b is not None]
    wanted = " and ".join(f"{word} {b:g}" for b, word in bounds)
    if whole:
        wanted = f"a whole number {wanted}".rstrip()
    elif not math.isfinite(value):
        wanted = f"a finite number {wanted}".rstrip()
    raise ValueError(f"{name} must be {wanted}, not {value:g}")


def sign(deviation: float) -> float:
    """1.0, -1.0 or 0.0: the side a deviation from an expected value lies on.

    >>> sign(2.5), sign(-0.1), sign(0.0)
    (1.0, -1.0, 0.0)
    """
    return 1.0 if deviation > 0.0 else -1.0 if deviation < 0.0 else 0.0


def squash(z: float, half: float) -> float:
    """Map a one-sided surprise ``z >= 0`` to ``[0, 1)``; ``z == half`` gives 0.5.

    >>> squash(0.0, 4.0), squash(4.0, 4.0), round(squash(12.0, 4.0), 2)
    (0.0, 0.5, 0.9)
    >>> squash(-3.0, 4.0)
    0.0
    """
    if z <= 0.0 or math.isnan(z):
        return 0.0
    z2 = z * z
    return z2 / (z2 + half * half)


def unsquash(score: float, half: float) -> float:
    """The surprise at which :func:`squash` gives ``score``: its inverse (infinite
    for a score of 1 or more, which no surprise reaches).

    >>> unsquash(0.5, 4.0), round(unsquash(squash(7.0, 3.7), 3.7), 9), unsquash(1.0, 4.0)
    (4.0, 7.0, inf)
    """
    if score >= 1.0:
        return math.inf
    return half * math.sqrt(max(score, 0.0) / (1.0 - score))
