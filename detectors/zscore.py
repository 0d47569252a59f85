"""A univariate EWMA z-score detector: the baseline for metric series."""

from __future__ import annotations

from detectors.base import Detector, require, sign, squash
from detectors.ewma import EWMeanVar


class EWMAZScoreDetector(Detector):
    """Scores how far a value sits from its exponentially weighted mean, in std units.

    Parameters
    ----------
    feature
        The key of ``x`` to watch.
    alpha
        Weight of the newest window in the mean and variance.
    grace_period
        Windows learned before any score above 0.
    min_std
        Floor on the standard deviation, in the feature's units, so that a flat
        history does not turn every wiggle into an alarm.
    half
        The z at which the score is 0.5.
    direction
        ``"up"``, ``"down"`` or ``"both"``: which direction counts as anomalous.
    clip
        After the grace period, learn values winsorised at this many standard
        deviations (None: learn them as they are).

    Examples
    --------
    >>> import random
    >>> rng = random.Random(7)
    >>> det = EWMAZScoreDetector(feature="v")
    >>> for _ in range(50):
    ...     det.learn_one({"v": 10 + rng.gauss(0, 1)})
    >>> det.score_one({"v": 10.5}) < 0.1
    True
    >>> det.score_one({"v": 30.0}) > 0.9
    True
    >>> det.side({"v": 30.0}), det.side({"v": -5.0})
    (1.0, -1.0)
    """

    version = "1"

    def __init__(
        self,
        feature: str = "value",
        alpha: float = 0.05,
        grace_period: int = 5,
        min_std: float = 1e-3,
        half: float = 4.0,
        direction: str = "up",
        clip: float | None = 3.0,
    ) -> None:
        if direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be 'up', 'down' or 'both', not {direction!r}")
        require("alpha", alpha, above=0.0, at_most=1.0)
        require("grace_period", grace_period, at_least=0.0, whole=True)
        require("min_std", min_std, above=0.0)
        require("half", half, above=0.0)
        if clip is not None:
            require("clip", clip, above=0.0)
        self.feature = feature
        self.alpha = alpha
        self.grace_period = grace_period
        self.min_std = min_std
        self.half = half
        self.direction = direction
        self.clip = clip
        self._stats = EWMeanVar(alpha)

    def z(self, x: dict[str, float]) -> float:
        s = self._stats
        z = (float(x[self.feature]) - s.mean) / max(s.std, self.min_std)
        if self.direction == "down":
            return -z
        if self.direction == "both":
            return abs(z)
        return z

    def score_one(self, x: dict[str, float]) -> float:
        if self._stats.n < self.grace_period:
            return 0.0
        return squash(self.z(x), self.half)

    def side(self, x: dict[str, float]) -> float:
        """1.0 if the value is above the mean, -1.0 if below, 0.0 on it."""
        return sign(float(x[self.feature]) - self._stats.mean)

    def learn_one(self, x: dict[str, float]) -> None:
        clip = self.clip if self._stats.n >= self.grace_period else None
        self._stats.update(float(x[self.feature]), clip, self.min_std)

    def state(self) -> list[float]:
        return self._stats.state()

    def load(self, state: list[float]) -> None:
        self._stats.load(state)

    def baseline(self) -> dict[str, float]:
        return {"mean": self._stats.mean, "std": self._stats.std, "windows": self._stats.n}
