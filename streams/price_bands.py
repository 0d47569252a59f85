"""What new listings usually cost, per (category, currency): the price bands.

A band summarises the log prices of new listings in one category and
currency. Its first :data:`YOUNG` prices are kept and summarised robustly
(their median, and their spread around it with each deviation capped at 2
robust std), so a few junk prices among them (a listing at 0 or 1 as a
placeholder, a burst of bait) do not set the band. While young, a band takes one
price per seller (the first; the seller is kept as a 24-bit hash): one shop's
bulk upload of premium items, or one bait seller's dozen listings, is one price
among its first, not the band. After that the band is an exponentially
weighted mean and variance (:class:`~detectors.ewma.EWMeanVar`) started from
that summary: a plain mean up to 500 listings, then a slow moving one, a price
beyond 3 std learned as if at that bound.

A young band's own spread is a noisy estimate, so the spread a band reports is
pooled: its own variance and the variance of all bands together (how far new
listings sit from their band's centre), weighted ``n`` to
:data:`PRIOR_LISTINGS`, and widened by ``1 + 1/n`` for the uncertainty of its
centre. A band is usable after a few listings instead of a few dozen.

:meth:`PriceBands.export` gives a band (or, for :data:`POOL_KEY`, the pooled
spread) as a few floats, :meth:`PriceBands.restore` takes them back, and
:meth:`PriceBands.take_changed` names what changed since it was last called:
the worker keeps them in its state topic, so a restarted worker judges prices
at once instead of waiting for every category's new listings again.

>>> import math, random
>>> bands, rng = PriceBands(), random.Random(1)
>>> for i in range(2000):  # a busy category, prices spread by a factor of e^0.5
...     bands.learn("fashion/bags|USD", 200.0 * math.exp(rng.gauss(0, 0.5)))
>>> for price in (40.0, 0.0, 30.0, 45.0, 35.0, 25.0):  # a new band, one placeholder price
...     bands.learn("toys/figures|JPY", price)
>>> mean, std, n = bands.snapshot("toys/figures|JPY")
>>> round(math.exp(mean)), n, 0.45 < std < 0.6  # the 0 moved neither centre nor spread
(32, 6, True)
>>> bands.snapshot("home/kitchen|EUR") is None
True
"""

from __future__ import annotations

import math
import statistics
import zlib
from array import array
from typing import TypeAlias

from detectors.ewma import EWMeanVar
from detectors.price import log_price
from streams.recent import Recent

CAPACITY = 10_000  # (category, currency) bands kept
YOUNG = 30  # a band's first prices, kept and summarised robustly
ALPHA = 0.002  # a band's weight of its newest listing price, once past 1/n
CLIP = 3.0  # a price beyond 3 std of its band is learned as if at that bound
MIN_STD = 0.1  # log-price spread the clip allows at least
PRIOR_LISTINGS = 30  # weight of the pooled spread in a band's, in listings
POOL_FROM = 5  # listings a band must have before its prices teach the pooled spread
MAD_TO_STD = 1.4826  # a normal distribution's std over its median absolute deviation
WINSOR = 2.0  # young prices beyond this many robust std of their median count as there
_WINSOR_VAR = 0.9205  # E[min(z^2, WINSOR^2)] for a standard normal z

POOL_KEY = "*"  # export/restore key of the pooled spread (band keys hold a "|")
# first float of an exported band: young (prices only, as versions before sellers
# were kept wrote it), grown, young with its sellers' hashes
_YOUNG_TAG, _GROWN_TAG, _YOUNG_SELLERS_TAG = 0.0, 1.0, 2.0
NO_SELLER = -1.0  # a price whose seller is unknown: it counts as a seller of its own


def seller_hash(seller: str | None) -> float:
    """A seller id as a float that survives the state topic's float32 (24 bits).

    >>> seller_hash("sl-1") == seller_hash("sl-1") != seller_hash("sl-2")
    True
    >>> seller_hash(None) == NO_SELLER, 0.0 <= seller_hash("sl-1") < 2 ** 24
    (True, True)
    """
    return NO_SELLER if seller is None else float(zlib.crc32(seller.encode()) & 0xFFFFFF)


class _Young:
    """A young band: its log prices so far, and the hash of each one's seller."""

    __slots__ = ("prices", "sellers")

    def __init__(self, prices: list[float] | None = None,
                 sellers: list[float] | None = None) -> None:
        self.prices = array("d", prices or ())
        self.sellers = array("d", sellers or [NO_SELLER] * len(self.prices))

    def has(self, seller: float) -> bool:
        return seller != NO_SELLER and seller in self.sellers


#: young: its prices and sellers so far; then a running summary
Band: TypeAlias = "_Young | EWMeanVar"


def _robust(prices: array[float]) -> tuple[float, float]:
    """A centre and variance of ``prices`` that a few outliers barely move: the
    median, and the mean squared deviation from it with each deviation capped at
    :data:`WINSOR` robust std (the median absolute deviation, scaled), made
    unbiased for normal prices. The MAD alone is as robust but noisier: with it,
    a bait price 5.6 std below a band of 20 log-normal listings scored under 4.37
    std one time in 50; with this, under 4.66.

    >>> centre, var = _robust(array("d", [1.0, 1.2, 0.8, 1.1, 0.9, -9.0]))
    >>> centre, round(var, 3)  # -9 counts as 2 robust std below the median
    (0.95, 0.056)
    """
    centre = statistics.median(prices)
    spread = max(MAD_TO_STD * statistics.median(abs(p - centre) for p in prices), MIN_STD)
    cap = (WINSOR * spread) ** 2
    return centre, statistics.fmean(min((p - centre) ** 2, cap) for p in prices) / _WINSOR_VAR


class PriceBands:
    """Per-key log-price bands plus the spread pooled over all of them."""

    __slots__ = ("_bands", "_changed", "_pool")

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._bands = Recent(capacity)
        self._pool = EWMeanVar(1.0)  # of squared deviations from their band's centre
        self._changed: set[str] = set()

    def learn(self, key: str, price: float, seller: str | None = None) -> None:
        """Learn a new listing's price in band ``key``: while the band is young, only
        the first of each seller's (``None``: a seller of its own).

        >>> bands = PriceBands()
        >>> for price in (900.0, 950.0, 880.0, 920.0):  # one shop's premium collection
        ...     bands.learn("fashion/bags|USD", price, seller="sl-shop")
        >>> bands.learn("fashion/bags|USD", 100.0, seller="sl-2")
        >>> bands.snapshot("fashion/bags|USD")[2]  # two sellers: two prices
        2
        """
        band: Band | None = self._bands.get(key)
        if band is None:
            band = _Young()
        self._bands[key] = band  # (again: keeps a busy band among the recent ones)
        x = log_price(price)
        if isinstance(band, _Young):
            who = seller_hash(seller)
            if band.has(who):  # it teaches neither the band nor the pooled spread: a
                return  # premium upload, all far from a young centre, would widen every band
            self._changed.add(key)
            if len(band.prices) >= POOL_FROM:
                self._learn_pool(x - _robust(band.prices)[0])
            band.prices.append(x)
            band.sellers.append(who)
            if len(band.prices) == YOUNG:  # grown up: a running summary from here on
                centre, var = _robust(band.prices)
                self._bands[key] = EWMeanVar(1.0 / (YOUNG + 1), centre, var, YOUNG)
            return
        self._changed.add(key)
        self._learn_pool(x - band.mean)
        band.alpha = max(ALPHA, 1.0 / (band.n + 1))
        band.update(x, clip=CLIP, min_std=max(MIN_STD, self._pool_std()))

    def _pool_std(self) -> float:
        return math.sqrt(self._pool.mean) if self._pool.n >= YOUNG else 0.0

    def _learn_pool(self, dev: float) -> None:
        pool = self._pool
        if pool.n >= YOUNG:  # winsorised, as a band is
            bound = CLIP * max(self._pool_std(), MIN_STD)
            dev = max(-bound, min(bound, dev))
        pool.alpha = max(ALPHA, 1.0 / (pool.n + 1))
        pool.update(dev * dev)
        self._changed.add(POOL_KEY)

    def take_changed(self) -> list[str]:
        """The keys (bands, and :data:`POOL_KEY`) learned since the previous call."""
        changed, self._changed = sorted(self._changed), set()
        return changed

    def export(self, key: str) -> list[float] | None:
        """Band ``key`` (or the pooled spread, for :data:`POOL_KEY`) as a few floats
        that :meth:`restore` takes back; None for a band never learned (or forgotten).

        >>> bands = PriceBands()
        >>> for price in (40.0, 30.0, 45.0, 35.0, 25.0, 50.0):
        ...     bands.learn("toys/figures|JPY", price)
        >>> again = PriceBands()
        >>> for key in bands.take_changed():
        ...     again.restore(key, bands.export(key))
        >>> again.snapshot("toys/figures|JPY") == bands.snapshot("toys/figures|JPY")
        True
        """
        if key == POOL_KEY:
            return self._pool.state()
        band: Band | None = self._bands.get(key)
        if band is None:
            return None
        if isinstance(band, _Young):
            return [_YOUNG_SELLERS_TAG, *band.prices, *band.sellers]
        return [_GROWN_TAG, *band.state()]

    def restore(self, key: str, values: list[float]) -> None:
        """Take back what :meth:`export` gave; raises ``ValueError`` for anything else."""
        if key == POOL_KEY:
            if len(values) != 3:
                raise ValueError(f"a pooled spread is 3 floats, not {len(values)}")
            self._pool.load(values)
            return
        tag, rest = (values[0], values[1:]) if values else (None, [])
        if tag == _YOUNG_TAG and 0 < len(rest) < YOUNG:  # sellers unknown
            self._bands[key] = _Young(rest)
        elif tag == _YOUNG_SELLERS_TAG and len(rest) % 2 == 0 and 0 < len(rest) < 2 * YOUNG:
            half = len(rest) // 2
            self._bands[key] = _Young(rest[:half], rest[half:])
        elif tag == _GROWN_TAG and len(rest) == 3:
            band = EWMeanVar(ALPHA)
            band.load(rest)
            self._bands[key] = band
        else:
            raise ValueError(f"not an exported price band: {len(values)} floats")

    def snapshot(self, key: str) -> tuple[float, float, int] | None:
        """Band ``key`` as ``(centre, std, n)`` of log price (the pooled, widened
        spread), or None before its first listing."""
        band: Band | None = self._bands.get(key)
        if band is None:
            return None
        if isinstance(band, _Young):
            n = len(band.prices)
            centre, var = _robust(band.prices)
        else:
            n, centre, var = band.n, band.mean, band.var
        if self._pool.n >= YOUNG:
            var = (n * var + PRIOR_LISTINGS * self._pool.mean) / (n + PRIOR_LISTINGS)
        return centre, math.sqrt(var * (1.0 + 1.0 / n)), n
