"""A Poisson rate detector: counts against an exposure-scaled, learned rate."""

from __future__ import annotations

import math

from scipy.special import gammainc

from detectors.base import Detector, squash


class PoissonRateDetector(Detector):
    """Scores a window's event count against the rate the entity usually shows.

    ``x`` holds ``count`` (e.g. reports in the window) and ``exposure`` (e.g.
    thousands of viewers). The expected count is ``exposure * rate``, where the
    rate is a Gamma-Poisson posterior: a prior of ``prior_rate`` worth
    ``prior_exposure`` units of exposure (the category-wide norm, so that a stream
    five minutes old is not judged on nothing), plus the entity's own exponentially
    decayed counts and exposure. The score comes from the upper-tail probability
    ``p = P(N >= count)``: ``-log10(p)`` is squashed to ``[0, 1)`` with ``half`` as
    its midpoint. Counts below ``min_count`` score 0.

    With ``established_prior_rate``, a window whose ``x`` holds ``established``
    (true: the entity's actor is an account past the young-account age) takes
    that prior instead: a seller with years behind it who lists a handful of
    items at once is not judged like an account a few days old.

    Examples
    --------
    >>> det = PoissonRateDetector(prior_rate=0.5, prior_exposure=5.0)
    >>> for _ in range(10):
    ...     det.learn_one({"count": 0, "exposure": 1.0})
    >>> det.score_one({"count": 1, "exposure": 1.0})
    0.0
    >>> det.score_one({"count": 25, "exposure": 1.0}) > 0.9
    True
    >>> seller = PoissonRateDetector(prior_rate=0.05, prior_exposure=20.0,
    ...                              established_prior_rate=1.0)
    >>> young, aged = {"count": 5, "exposure": 1.0}, {"count": 5, "exposure": 1.0,
    ...                                               "established": 1.0}
    >>> seller.score_one(young) > 0.6, seller.score_one(aged) < 0.3
    (True, True)
    """

    version = "2"  # 2: a separate prior for established accounts

    def __init__(
        self,
        prior_rate: float = 0.5,
        prior_exposure: float = 5.0,
        decay: float = 0.05,
        min_count: int = 3,
        half: float = 5.0,
        established_prior_rate: float | None = None,
    ) -> None:
        if prior_rate < 0.0 or (established_prior_rate or 0.0) < 0.0:
            raise ValueError("prior_rate and established_prior_rate must not be negative")
        self.prior_rate = prior_rate
        self.established_prior_rate = established_prior_rate
        self.prior_exposure = prior_exposure
        self.decay = decay
        self.min_count = min_count
        self.half = half
        self._counts = 0.0
        self._exposure = 0.0
        self._prior = prior_rate  # the prior of the window last scored or learned

    @property
    def rate(self) -> float:
        """Expected count per unit of exposure (with the prior of the last window seen)."""
        return (self._prior * self.prior_exposure + self._counts) / (
            self.prior_exposure + self._exposure
        )

    def _see(self, x: dict[str, float]) -> None:
        """Take the prior that fits the window's actor."""
        established = self.established_prior_rate is not None and x.get("established")
        self._prior = self.established_prior_rate if established else self.prior_rate

    def surprise(self, x: dict[str, float]) -> float:
        """``-log10 P(N >= count)`` under the expected Poisson count."""
        self._see(x)
        count = float(x["count"])
        mu = max(self.rate * float(x["exposure"]), 1e-9)
        if count <= 0:
            return 0.0
        tail = float(gammainc(count, mu))  # P(N >= k) for N ~ Poisson(mu)
        return -math.log10(max(tail, 1e-300))

    def score_one(self, x: dict[str, float]) -> float:
        if float(x["count"]) < self.min_count:
            return 0.0
        return squash(self.surprise(x), self.half)

    def learn_one(self, x: dict[str, float]) -> None:
        self._see(x)
        keep = 1.0 - self.decay
        mu = self.rate * float(x["exposure"])
        # learn at most a plausible count (mean + 3 sd, at least 1), so a window that holds
        # the first reports of a spike, or a new seller's first listings of a burst, still
        # below min_count, does not raise the baseline after it
        count = min(float(x["count"]), max(mu + 3.0 * math.sqrt(mu), 1.0))
        self._counts = self._counts * keep + count
        self._exposure = self._exposure * keep + float(x["exposure"])

    def state(self) -> list[float]:
        return [self._counts, self._exposure]

    def load(self, state: list[float]) -> None:
        """Two floats; a third (a window count, kept before) is ignored."""
        self._counts, self._exposure = state[0], state[1]

    def baseline(self) -> dict[str, float]:
        # `exposure`: the entity's own decayed exposure behind `rate`, beside the prior's
        return {"rate": self.rate, "prior_rate": self._prior, "exposure": self._exposure}
