"""A cumulative-sum detector for a sustained rise of a small count: segment surges."""

from __future__ import annotations

import math

from detectors.base import require, squash
from detectors.rate import PoissonRateDetector


class RateCusumDetector(PoissonRateDetector):
    """Accumulates evidence that a count runs at ``shift`` times its usual rate.

    The usual rate is :class:`PoissonRateDetector`'s (a prior worth
    ``prior_exposure`` units of exposure plus the entity's own decayed counts).
    A surge of a few extra reports per window is not surprising in any one
    window but is over several, so each window adds the log-likelihood ratio of
    "``shift`` times the usual rate" against "the usual rate" to a running sum
    (a Poisson CUSUM), and the sum forgets by ``forget`` per window so that it
    falls back soon after a surge ends. The first ``set_aside`` counted items of
    every window are set aside (counted is the excess over them, judged against
    the excess expected): with ``set_aside=1`` one stream reported window after
    window is that stream's own spike, not its segment's. The score is the sum
    squashed to ``[0, 1)``, 0.5 at ``half``.

    In a small segment, where the excess expected is a fraction of one stream, a
    ratio understates a surge: one extra reported stream a window is far more than
    3 times nothing. With ``extra``, the rise looked for is at least ``extra``
    counted items a window above the usual, or ``shift`` times it, whichever is
    larger. The usual excess is taken as at least ``min_expected``, so that the
    evidence of one item in a nearly silent segment stays bounded.

    ``score_one`` advances the sum: call it once per window, as the engine does.

    >>> det = RateCusumDetector(prior_rate=0.3, prior_exposure=20.0)
    >>> [round(det.score_one({"count": 1, "exposure": 1.0}), 2) for _ in range(5)]
    [0.0, 0.0, 0.0, 0.0, 0.0]
    >>> [round(det.score_one({"count": 4, "exposure": 1.0}), 2) for _ in range(4)]
    [0.22, 0.48, 0.63, 0.71]
    >>> small = RateCusumDetector(prior_rate=0.1, prior_exposure=1e9, extra=1.0)
    >>> [round(small.score_one({"count": 3, "exposure": 1.0}), 2) for _ in range(3)]
    [0.42, 0.7, 0.81]
    """

    version = "1"

    def __init__(
        self,
        prior_rate: float = 0.5,
        prior_exposure: float = 20.0,
        decay: float = 0.01,
        shift: float = 3.0,
        forget: float = 0.8,
        set_aside: int = 1,
        half: float = 6.0,
        extra: float = 0.0,
        min_expected: float = 0.05,
    ) -> None:
        require("shift", shift, above=1.0)  # the rise to look for, as a ratio
        require("forget", forget, at_least=0.0, below=1.0)
        require("set_aside", set_aside, at_least=0.0, whole=True)
        require("extra", extra, at_least=0.0)  # counted items a window above the usual
        require("min_expected", min_expected, above=0.0)
        super().__init__(prior_rate=prior_rate, prior_exposure=prior_exposure, decay=decay,
                         min_count=0, half=half)
        self.shift = shift
        self.forget = forget
        self.set_aside = int(set_aside)
        self.extra = extra
        self.min_expected = min_expected
        self._sum = 0.0

    def _excess_mean(self, mu: float) -> float:
        """``E[max(N - set_aside, 0)]`` for ``N ~ Poisson(mu)``."""
        a = self.set_aside
        below = sum((a - j) * math.exp(-mu) * mu**j / math.factorial(j) for j in range(a))
        return mu - a + below

    def score_one(self, x: dict[str, float]) -> float:
        mu = self.rate * float(x["exposure"])
        excess = max(float(x["count"]) - self.set_aside, 0.0)
        usual = max(self._excess_mean(mu), self.min_expected)
        surge = max(self.shift * usual, usual + self.extra)
        step = excess * math.log(surge / usual) - (surge - usual)
        self._sum = max(self.forget * self._sum + step, 0.0)
        return squash(self._sum, self.half)

    def state(self) -> list[float]:
        return [*super().state(), self._sum]

    def load(self, state: list[float]) -> None:
        *rate_state, self._sum = state
        super().load(rate_state)

    def baseline(self) -> dict[str, float]:
        return super().baseline() | {"cusum": self._sum}
