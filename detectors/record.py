"""A univariate detector for metric series: how far a value goes beyond the ranges
the series has shown.

Two ranges are kept, each as a low and a high mark that widen to take in every
learned value and slowly narrow towards their middle (``decay`` per value):

* the range of the values themselves, which catches a value higher (or lower)
  than the series has been;
* the range of each value's deviation from the series' recent level (an
  exponentially weighted mean, weight ``alpha``), which catches a sudden jump
  or fall that stays inside the first range.

The surprise is how far the value lies beyond either range, as a share of that
range's width (at least ``min_range``), squashed to ``[0, 1)`` with ``half`` as
its midpoint. Scaling by the series' own range, not by its standard deviation,
makes one configuration fit series with heavy tails as well as tame ones: a
series that often swings far has a wide range, and only a swing beyond it
counts. State: six floats.

This is the detector ``riskstream bench nab`` measures, with the parameters the
default policy gives it (``purchase_anomaly``).

Examples
--------
>>> det = RecordDetector(grace=5)
>>> for i in range(200):
...     det.learn_one({"value": 10.0 + (i % 5) * 0.1})
>>> det.score_one({"value": 10.3})  # inside the range: no surprise
0.0
>>> det.score_one({"value": 10.45}) < 0.05  # just beyond it: a little
True
>>> det.score_one({"value": 40.0}) > 0.9, det.score_one({"value": -20.0}) > 0.9
(True, True)
>>> det.side({"value": 40.0}), det.side({"value": -20.0})
(1.0, -1.0)
"""

from __future__ import annotations

import math

from detectors.base import Detector, require, sign, squash


def _beyond(x: float, low: float, high: float, min_width: float) -> float:
    """How far ``x`` lies outside ``[low, high]``, in widths of that range.

    >>> _beyond(12.0, 0.0, 10.0, 1.0), _beyond(5.0, 0.0, 10.0, 1.0), _beyond(-1.0, 0.0, 0.0, 2.0)
    (0.2, 0.0, 0.5)
    """
    excess = x - high if x > high else low - x if x < low else 0.0
    if excess <= 0.0:
        return 0.0
    width = max(high - low, min_width)
    return excess / width if width > 0.0 else math.inf


class RecordDetector(Detector):
    """Scores ``{"value": float}`` by how far it goes beyond the ranges seen so far."""

    version = "1"

    def __init__(
        self,
        alpha: float = 0.05,
        decay: float = 1e-4,
        grace: int = 5,
        half: float = 0.7,
        min_range: float = 0.0,
    ) -> None:
        require("alpha", alpha, above=0.0, at_most=1.0)
        require("decay", decay, at_least=0.0, below=1.0)
        require("grace", grace, at_least=0.0, whole=True)
        require("half", half, above=0.0)
        require("min_range", min_range, at_least=0.0)
        self.alpha = alpha
        self.decay = decay
        self.grace = grace
        self.half = half
        self.min_range = min_range
        self._level = 0.0  # recent level: exponentially weighted mean
        self._low = self._high = 0.0  # range of the values
        self._dev_low = self._dev_high = 0.0  # range of the deviations from the level
        self._n = 0

    def score_one(self, x: dict[str, float]) -> float:
        if self._n < self.grace:
            return 0.0
        v = float(x["value"])
        surprise = max(_beyond(v, self._low, self._high, self.min_range),
                       _beyond(v - self._level, self._dev_low, self._dev_high, self.min_range))
        return 1.0 if math.isinf(surprise) else squash(surprise, self.half)

    def side(self, x: dict[str, float]) -> float:
        """1.0 if the value is above the recent level, -1.0 if below, 0.0 on it."""
        return sign(float(x["value"]) - self._level)

    def learn_one(self, x: dict[str, float]) -> None:
        v = float(x["value"])
        if self._n == 0:
            self._level = self._low = self._high = v
        else:
            dev = v - self._level
            if self._n == 1:
                self._dev_low = self._dev_high = dev
            self._low, self._high = self._narrowed(self._low, self._high)
            self._dev_low, self._dev_high = self._narrowed(self._dev_low, self._dev_high)
            self._low, self._high = min(self._low, v), max(self._high, v)
            self._dev_low, self._dev_high = min(self._dev_low, dev), max(self._dev_high, dev)
            self._level += self.alpha * dev
        self._n += 1

    def _narrowed(self, low: float, high: float) -> tuple[float, float]:
        shrink = self.decay * (high - low) / 2.0
        return low + shrink, high - shrink

    def state(self) -> list[float]:
        return [self._level, self._low, self._high, self._dev_low, self._dev_high,
                float(self._n)]

    def load(self, state: list[float]) -> None:
        self._level, self._low, self._high, self._dev_low, self._dev_high, n = state
        self._n = int(n)

    def baseline(self) -> dict[str, float]:
        return {"level": self._level, "low": self._low, "high": self._high,
                "windows": self._n}
