"""Viewer inflation: audience jumps while engagement per viewer collapses."""

from __future__ import annotations

import math

from scipy.special import gammaincc, ndtri

from detectors.base import Detector, require, squash
from detectors.ewma import EWMeanVar


class ViewerInflationDetector(Detector):
    """Flags a stream whose viewers jump while its engagement does not follow.

    ``x`` holds ``viewers`` (mean concurrent viewers in the window) and
    ``engagement`` (comments, likes, shares, follows, gifts and purchases in the
    window, scaled to a full window if the stream was live for only ``live`` of
    it). Two exponentially weighted baselines are kept on log scale: viewers, and
    engagement per viewer. The score needs both at once: ``min(z_up(viewers),
    z_down(engagement per viewer))``, squashed to ``[0, 1)``. Bought viewers add
    audience but not interaction; organic growth brings both, and a quiet lull
    lowers engagement without adding viewers, so neither alone is enough. The
    deficit must also be more than chance: the engagement count is judged against
    the Poisson count the usual rate per viewer expects at the window's audience,
    and the lower-tail probability ``P(N <= engagement)``, read as a normal ``z``,
    joins the minimum. A stream the usual rate gives 2.5 events a window draws
    none 8% of the time, which says nothing; one that expects 2,700 and sees 300
    is inflated. After the grace period, learned values are winsorised at ``clip``
    standard deviations, so a window that is odd but below the alarm line (say,
    one that holds the first seconds of an attack) barely moves the baseline.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(3)
    >>> det = ViewerInflationDetector()
    >>> for _ in range(8):
    ...     det.learn_one({"viewers": 500 * rng.uniform(0.9, 1.1), "engagement": 120})
    >>> det.score_one({"viewers": 520, "engagement": 118}) < 0.05
    True
    >>> det.score_one({"viewers": 1000, "engagement": 240}) < 0.05  # organic: both double
    True
    >>> det.score_one({"viewers": 4500, "engagement": 125}) > 0.8
    True
    >>> few = ViewerInflationDetector()  # about one engagement event a window at 200 viewers
    >>> for _ in range(8):
    ...     few.learn_one({"viewers": 200 * rng.uniform(0.9, 1.1), "engagement": 1})
    >>> round(few.score_one({"viewers": 520, "engagement": 0}), 2)  # expects 4: P(0) 1.4%
    0.35
    >>> round(few.score_one({"viewers": 1000, "engagement": 0}), 3)  # expects 9: the open bar
    0.601
    >>> round(few.score_one({"viewers": 5200, "engagement": 0}), 2)  # expects 51
    0.91
    """

    version = "2"  # 2: the deficit must also be unlikely as a Poisson count

    def __init__(
        self,
        alpha: float = 0.2,
        grace_period: int = 3,
        min_viewers: float = 50.0,
        min_std: float = 0.25,
        half: float = 3.0,
        clip: float = 3.0,
    ) -> None:
        require("alpha", alpha, above=0.0, at_most=1.0)
        require("grace_period", grace_period, at_least=0.0, whole=True)
        require("min_viewers", min_viewers, at_least=0.0)
        require("min_std", min_std, above=0.0)
        require("half", half, above=0.0)
        require("clip", clip, above=0.0)
        self.alpha = alpha
        self.grace_period = grace_period
        self.min_viewers = min_viewers
        self.min_std = min_std
        self.half = half
        self.clip = clip
        self._viewers = EWMeanVar(alpha)
        self._per_viewer = EWMeanVar(alpha)

    @staticmethod
    def _logs(x: dict[str, float]) -> tuple[float, float]:
        viewers = max(float(x["viewers"]), 0.0)
        log_viewers = math.log1p(viewers)
        log_per_viewer = math.log((float(x["engagement"]) + 1.0) / (viewers + 1.0))
        return log_viewers, log_per_viewer

    def score_one(self, x: dict[str, float]) -> float:
        if self._viewers.n < self.grace_period or float(x["viewers"]) < self.min_viewers:
            return 0.0
        log_viewers, log_per_viewer = self._logs(x)
        z_up = (log_viewers - self._viewers.mean) / max(self._viewers.std, self.min_std)
        z_down = (self._per_viewer.mean - log_per_viewer) / max(self._per_viewer.std, self.min_std)
        ratio_z = min(z_up, z_down)
        if ratio_z <= 0.0:  # nothing to test the deficit of: spare the Poisson tail
            return 0.0
        return squash(min(ratio_z, self._deficit_z(x)), self.half)

    def _deficit_z(self, x: dict[str, float]) -> float:
        """The engagement count's lower-tail probability under the Poisson count the
        usual rate per viewer expects (its geometric mean, so on the low side), as
        a normal ``z``: ``P = 0.08`` gives 1.4, ``P = 1e-4`` 3.7. ``engagement`` is
        per full window; ``live`` (default 1), the share of the window the stream
        was live, scales the count back to what was seen and what was expected."""
        viewers, live = max(float(x["viewers"]), 0.0), float(x.get("live", 1.0))
        expected = (math.exp(self._per_viewer.mean) * (viewers + 1.0) - 1.0) * live
        if expected <= 0.0:
            return 0.0
        seen = max(float(x["engagement"]), 0.0) * live
        tail = float(gammaincc(seen + 1.0, expected))
        return float(-ndtri(tail))  # P(N <= k) for N ~ Poisson(expected); inf when 0

    def learn_one(self, x: dict[str, float]) -> None:
        log_viewers, log_per_viewer = self._logs(x)
        clip = self.clip if self._viewers.n >= self.grace_period else None
        self._viewers.update(log_viewers, clip, self.min_std)
        self._per_viewer.update(log_per_viewer, clip, self.min_std)

    def state(self) -> list[float]:
        # both series learn every window together: their counts are one number
        return [*self._viewers.state(), self._per_viewer.mean, self._per_viewer.var]

    def load(self, state: list[float]) -> None:
        """Five floats; six (each series with its own count) from before is read too."""
        self._viewers.load(state[:3])
        self._per_viewer.load([state[3], state[4], state[2]])

    def baseline(self) -> dict[str, float]:
        return {
            "viewers": math.expm1(self._viewers.mean),
            "engagement_per_viewer": math.exp(self._per_viewer.mean),
            "windows": self._viewers.n,
        }
