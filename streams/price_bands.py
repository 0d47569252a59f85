"""What new listings usually cost, per (category, currency): the price bands.

Each band is an exponentially weighted mean and variance of log price
(:class:`~detectors.ewma.EWMeanVar`; a plain mean over its first 500 listings,
then a slow moving one), learned from new listings only. A young band's own
spread is a noisy estimate, so the spread a band reports is pooled: its own
variance and the variance of all bands together (how far new listings sit
from their band's mean), weighted ``n`` to :data:`PRIOR_LISTINGS`, and widened
by ``1 + 1/n`` for the uncertainty of its mean. A band is usable after a few
listings instead of a few dozen, without its first few prices setting how
far below them counts as far.

>>> import math, random
>>> bands, rng = PriceBands(), random.Random(1)
>>> for i in range(2000):  # a busy category, prices spread by a factor of e^0.5
...     bands.learn("fashion/bags|USD", 200.0 * math.exp(rng.gauss(0, 0.5)))
>>> for price in (40.0, 25.0, 30.0, 45.0, 35.0):  # a new band: five listings so far
...     bands.learn("toys/figures|JPY", price)
>>> mean, std, n = bands.snapshot("toys/figures|JPY")
>>> round(math.exp(mean)), n, 0.45 < std < 0.6  # the spread is mostly the pooled one
(34, 5, True)
>>> bands.snapshot("home/kitchen|EUR") is None
True
"""

from __future__ import annotations

import math

from detectors.ewma import EWMeanVar
from detectors.price import log_price
from streams.recent import Recent

CAPACITY = 10_000  # (category, currency) bands kept
ALPHA = 0.002  # a band's weight of its newest listing price, once past 1/n
CLIP = 3.0  # a price beyond 3 std of its band is learned as if at that bound
CLIP_AFTER = 30  # listings a band learns unclipped first
MIN_STD = 0.1  # log-price spread the clip allows at least
PRIOR_LISTINGS = 30  # weight of the pooled spread in a band's, in listings
POOL_FROM = 5  # listings a band must have before its prices teach the pooled spread


class PriceBands:
    """Per-key log-price bands plus the spread pooled over all of them."""

    __slots__ = ("_bands", "_pool")

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._bands = Recent(capacity)
        self._pool = EWMeanVar(1.0)  # of squared deviations from their band's mean

    def learn(self, key: str, price: float) -> None:
        """Learn a new listing's price in band ``key``."""
        band = self._bands.get(key)
        if band is None:
            band = EWMeanVar(1.0)
        self._bands[key] = band  # (again: keeps a busy band among the recent ones)
        x = log_price(price)
        if band.n >= POOL_FROM:
            dev = x - band.mean
            pool = self._pool
            if pool.n >= CLIP_AFTER:  # winsorised, as a band is
                bound = CLIP * math.sqrt(max(pool.mean, MIN_STD * MIN_STD))
                dev = max(-bound, min(bound, dev))
            pool.alpha = max(ALPHA, 1.0 / (pool.n + 1))
            pool.update(dev * dev)
        band.alpha = max(ALPHA, 1.0 / (band.n + 1))
        band.update(x, clip=CLIP if band.n >= CLIP_AFTER else None, min_std=MIN_STD)

    def snapshot(self, key: str) -> tuple[float, float, int] | None:
        """Band ``key`` as ``(mean, std, n)`` of log price (the pooled, widened spread),
        or None before its first listing."""
        band = self._bands.get(key)
        if band is None:
            return None
        n = band.n
        var = band.var
        if self._pool.n >= CLIP_AFTER:
            var = (n * var + PRIOR_LISTINGS * self._pool.mean) / (n + PRIOR_LISTINGS)
        return band.mean, math.sqrt(var * (1.0 + 1.0 / n)), n
