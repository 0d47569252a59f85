"""A univariate detector for metric series: how far a value sits from the series' level.

The level and spread are a running mean and variance at first (weight ``1/n``)
that become exponentially weighted once ``1/n`` falls below ``alpha``, so a new
series gets a stable baseline quickly and an old one still follows slow drift.
The score is the deviation in standard deviations, squashed to ``[0, 1)`` with
``half`` as its midpoint, on either side: a signal's ``direction`` in the policy
chooses which side may open it (``side()`` tells the engine). State: three
floats.

A policy may give it to ``purchase_anomaly`` instead of ``record``.

Examples
--------
>>> det = LevelDetector(grace=5)
>>> for i in range(200):
...     det.learn_one({"value": 10.0 + (i % 5) * 0.1})
>>> det.score_one({"value": 10.2}) < 0.1
True
>>> det.score_one({"value": 40.0}) > 0.9
True
>>> det.score_one({"value": -20.0}) > 0.9, det.side({"value": -20.0})
(True, -1.0)
"""

from __future__ import annotations

from detectors.base import Detector, require, sign, squash
from detectors.ewma import EWMeanVar


class LevelDetector(Detector):
    """Scores ``{"value": float}`` by its distance from the series' level, in std units."""

    version = "1"

    def __init__(
        self,
        alpha: float = 0.001,
        grace: int = 5,
        half: float = 4.0,
        min_std: float = 1e-6,
        rel_std: float = 1e-3,
    ) -> None:
        require("alpha", alpha, above=0.0, at_most=1.0)
        require("grace", grace, at_least=0.0, whole=True)
        require("half", half, above=0.0)
        require("min_std", min_std, above=0.0)
        require("rel_std", rel_std, at_least=0.0)
        self.alpha = alpha
        self.grace = grace
        self.half = half
        self.min_std = min_std
        self.rel_std = rel_std
        self._level = EWMeanVar(alpha)

    def _std(self) -> float:
        """The spread, floored so a perfectly flat series does not divide by zero."""
        return max(self._level.std, self.min_std, abs(self._level.mean) * self.rel_std)

    def score_one(self, x: dict[str, float]) -> float:
        if self._level.n < self.grace:
            return 0.0
        deviation = abs(float(x["value"]) - self._level.mean)
        return squash(deviation / self._std(), self.half)

    def side(self, x: dict[str, float]) -> float:
        """1.0 if the value is above the level, -1.0 if below, 0.0 on it."""
        return sign(float(x["value"]) - self._level.mean)

    def learn_one(self, x: dict[str, float]) -> None:
        self._level.alpha = max(self.alpha, 1.0 / (self._level.n + 1))
        self._level.update(float(x["value"]))

    def state(self) -> list[float]:
        return self._level.state()

    def load(self, state: list[float]) -> None:
        self._level.load(state)

    def baseline(self) -> dict[str, float]:
        return {"mean": self._level.mean, "std": self._std(), "windows": self._level.n}
