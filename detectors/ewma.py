"""Exponentially weighted mean and variance in a few numbers."""

from __future__ import annotations

import math


class EWMeanVar:
    """Exponentially weighted mean and variance (West's incremental form).

    ``alpha`` is the weight of the newest value. The state is three floats.

    >>> s = EWMeanVar(alpha=0.5)
    >>> for x in [1.0, 3.0, 3.0]:
    ...     s.update(x)
    >>> round(s.mean, 3), round(s.var, 3), s.n
    (2.5, 0.75, 3)
    """

    __slots__ = ("alpha", "mean", "n", "var")

    def __init__(self, alpha: float, mean: float = 0.0, var: float = 0.0, n: int = 0) -> None:
        self.alpha = alpha
        self.mean = mean
        self.var = var
        self.n = n

    def update(self, x: float, clip: float | None = None, min_std: float = 0.0) -> None:
        """Learn ``x``. With ``clip``, a value more than ``clip`` standard deviations
        (at least ``min_std``) from the mean is learned as if it sat at that bound
        (winsorised), so one odd window cannot drag the baseline after it.

        >>> s = EWMeanVar(alpha=0.5, mean=10.0, var=1.0, n=5)
        >>> s.update(100.0, clip=3.0)
        >>> s.mean
        11.5
        """
        if self.n == 0:
            self.mean = x
            self.var = 0.0
        else:
            diff = x - self.mean
            if clip is not None:
                bound = clip * max(math.sqrt(self.var), min_std)
                diff = max(-bound, min(bound, diff))
            incr = self.alpha * diff
            self.mean += incr
            self.var = (1.0 - self.alpha) * (self.var + diff * incr)
        self.n += 1

    @property
    def std(self) -> float:
        return math.sqrt(self.var)

    def state(self) -> list[float]:
        return [self.mean, self.var, float(self.n)]

    def load(self, state: list[float]) -> None:
        self.mean, self.var, n = state
        self.n = int(n)
