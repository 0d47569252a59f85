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

    def update(self, x: float) -> None:
        if self.n == 0:
            self.mean = x
            self.var = 0.0
        else:
            diff = x - self.mean
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
