"""A detector for sudden price moves of one listing: bait drops and hikes.

A listing's price is judged against its own previous price (the event's
``previous_price`` when given, else the last price this detector learned):
the score is ``|log(price / reference)|`` over ``scale``, squashed to
``[0, 1)`` with ``half`` as its midpoint. Ordinary repricing (a 10-20% move)
scores near 0, a bait-level drop to a twentieth of the price near 1. State:
one float (the last log price).

Examples
--------
>>> det = PriceShiftDetector()
>>> det.learn_one({"log_price": math.log(100.0), "log_reference": math.nan})
>>> det.score_one({"log_price": math.log(90.0), "log_reference": math.nan}) < 0.05
True
>>> det.score_one({"log_price": math.log(6.0), "log_reference": math.log(100.0)}) > 0.8
True
"""

from __future__ import annotations

import math

from detectors.base import Detector, squash


class PriceShiftDetector(Detector):
    """Scores ``{"log_price", "log_reference"}`` (NaN reference: use the learned price)."""

    version = "1"

    def __init__(self, scale: float = 1.0, half: float = 1.2) -> None:
        self.scale = scale
        self.half = half
        self._last = math.nan

    def _reference(self, x: dict[str, float]) -> float:
        ref = float(x.get("log_reference", math.nan))
        return self._last if math.isnan(ref) else ref

    def score_one(self, x: dict[str, float]) -> float:
        ref = self._reference(x)
        if math.isnan(ref):
            return 0.0
        return squash(abs(float(x["log_price"]) - ref) / self.scale, self.half)

    def learn_one(self, x: dict[str, float]) -> None:
        self._last = float(x["log_price"])

    def state(self) -> list[float]:
        return [self._last]

    def load(self, state: list[float]) -> None:
        self._last = float(state[0])

    def baseline(self) -> dict[str, float]:
        return {} if math.isnan(self._last) else {"previous_price": round(math.exp(self._last), 2)}
