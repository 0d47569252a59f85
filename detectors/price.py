"""A detector for a listing's price: bait drops, hikes, and bait prices for its category.

A listing's price is judged against its own previous price (the event's
``previous_price`` when given, else the last price this detector learned):
the score is ``|log(price / reference)|`` over ``scale``, squashed to
``[0, 1)`` with ``half`` as its midpoint. Ordinary repricing (a 10-20% move)
scores near 0, a bait-level drop to a twentieth of the price near 1.

A new listing (``new_listing`` set: the window holds its creation) has no
price of its own before it; at a bait price from the start, it is judged
against its category's price band when ``x`` carries one (log price mean and
std of new listings in the category and currency, ``band_n`` of them learned,
from the ingest stage): how many standard deviations (at least
``band_min_std``) its lowest price sits below the band's mean, squashed with
``band_half``, or with ``established_band_half`` when ``x["established"]`` is set
(every event that gave the seller's account age gave one past the young age): a
days-old account listing far below a category's usual is the common bait, and an
established shop's cheap listing is mostly an accessory or a clearance, so it
must sit further below. The ingest stage pools a young band's spread with that of all
bands (:mod:`streams.price_bands`), so ``band_min_n`` can be small. Only the
low side: a price far above a category's usual is mostly a luxury item. Only
new listings: an older listing's price is judged by its own moves, so a
listing marked down step by step over weeks is not bait.
The score is the larger of the two. State: one float (the last log price).

Examples
--------
>>> det = PriceShiftDetector()
>>> det.learn_one({"log_price": math.log(100.0), "log_reference": math.nan})
>>> det.score_one({"log_price": math.log(90.0), "log_reference": math.nan}) < 0.05
True
>>> det.score_one({"log_price": math.log(6.0), "log_reference": math.log(100.0)}) > 0.8
True
>>> band = {"band_log_mean": math.log(100.0), "band_log_std": 0.3, "band_n": 500.0,
...         "new_listing": 1.0}
>>> new = PriceShiftDetector()  # a new listing: no price of its own before
>>> nan = math.nan
>>> round(new.score_one({"log_price": math.log(6.0), "log_reference": nan,
...                      "log_low": math.log(6.0), **band}), 2)  # 7 std (of >= 0.4) below
0.76
>>> new.score_one({"log_price": math.log(70.0), "log_reference": nan,
...                "log_low": math.log(70.0), **band}) < 0.1
True
>>> cheap = {"log_price": math.log(12.0), "log_reference": nan, "log_low": math.log(12.0)}
>>> young, shop = (round(new.score_one({**cheap, **band, "established": e}), 2)
...                for e in (0.0, 1.0))  # 5.3 std below: a young seller's opens, a shop's not
>>> young, shop
(0.64, 0.53)
"""

from __future__ import annotations

import math
import sys

from detectors.base import Detector, require, squash, unsquash

#: new listings a category's band must have learned before it judges a price
BAND_MIN_N = 10

#: prices are compared as logs; a price below this (0: free) counts as this, so a
#: listing given away or priced at a token amount sits far below any usual price
MIN_PRICE = 0.01


def log_price(price: float) -> float:
    """The log of ``price`` (at least :data:`MIN_PRICE`): equal ratios, equal steps, in
    every currency (``log1p`` would squeeze the cheap end: 1.5 against 25 is the
    same bait as 90 against 1,500).

    >>> round(log_price(25.0) - log_price(1.5), 3) == round(log_price(1500.0) - log_price(90.0), 3)
    True
    >>> log_price(0.0) == log_price(MIN_PRICE)
    True
    """
    return math.log(max(price, MIN_PRICE))


#: the log of the largest float: a price near it comes back from its log a hair over
_LOG_MAX = math.log(sys.float_info.max)


def price_from_log(value: float) -> float:
    """The price (or ratio of prices) whose log is ``value``: :func:`log_price`'s
    inverse, at most the largest float, where ``math.exp`` would raise.

    >>> round(price_from_log(log_price(25.0)), 6)
    25.0
    >>> price_from_log(log_price(sys.float_info.max)) <= sys.float_info.max
    True
    >>> price_from_log(log_price(1e308) - log_price(0.0)) > 1e308  # no OverflowError
    True
    """
    return math.exp(min(value, _LOG_MAX))


class PriceShiftDetector(Detector):
    """Scores ``{"log_price", "log_reference"}`` (NaN reference: use the learned price)."""

    version = "3"  # 3: an established seller's new listing has a bar of its own

    def __init__(self, scale: float = 1.0, half: float = 1.2, band_half: float = 4.0,
                 band_min_std: float = 0.4, band_min_n: int = BAND_MIN_N,
                 established_band_half: float = 5.0) -> None:
        require("scale", scale, above=0.0)
        require("half", half, above=0.0)
        require("band_half", band_half, above=0.0)
        require("band_min_std", band_min_std, above=0.0)
        require("band_min_n", band_min_n, at_least=1.0, whole=True)
        if established_band_half < band_half:
            raise ValueError("established_band_half must be at least band_half")
        self.scale = scale
        self.half = half
        self.band_half = band_half
        self.established_band_half = established_band_half
        self.band_min_std = band_min_std
        self.band_min_n = band_min_n
        self._last = math.nan

    def _reference(self, x: dict[str, float]) -> float:
        ref = float(x.get("log_reference", math.nan))
        return self._last if math.isnan(ref) else ref

    def _band(self, x: dict[str, float]) -> tuple[float, float] | None:
        """The band judging a new listing, as its log mean and spread (at least
        ``band_min_std``); None for an older listing, or a band of under ``band_min_n``."""
        if x.get("new_listing", 0.0) <= 0.0 or x.get("band_n", 0.0) < self.band_min_n:
            return None
        return float(x["band_log_mean"]), max(float(x["band_log_std"]), self.band_min_std)

    def _band_half(self, x: dict[str, float]) -> float:
        """The band's midpoint for this listing's seller: an established one's is higher."""
        return self.established_band_half if x.get("established", 0.0) > 0 else self.band_half

    def band_z(self, x: dict[str, float]) -> float:
        """How far a new listing's lowest price sits below its category's band, in std
        (0 for an older listing, or without a band of at least ``band_min_n`` listings)."""
        band = self._band(x)
        if band is None:
            return 0.0
        mean, spread = band
        return (mean - float(x["log_low"])) / spread

    def band_bar(self, score: float) -> float:
        """How many std below its band a new listing must sit for its band to score
        ``score`` (a young seller's, the lower bar): ``band_half`` at 0.5.

        >>> round(PriceShiftDetector(band_half=3.7).band_bar(0.6), 2)
        4.53
        """
        return unsquash(score, self.band_half)

    def band_opens_below(self, x: dict[str, float], score: float) -> float:
        """The price under which this new listing's band scores ``score`` (the signal's
        bar to open), by the bar of its seller's kind; NaN when no band judges it.

        >>> band = {"band_log_mean": math.log(100.0), "band_log_std": 0.3,
        ...         "band_n": 500.0, "new_listing": 1.0}
        >>> det = PriceShiftDetector(band_half=3.7)
        >>> young, shop = (round(det.band_opens_below({**band, "established": e}, 0.6), 2)
        ...                for e in (0.0, 1.0))  # 4.53 and 6.12 std (of >= 0.4) below
        >>> young, shop
        (16.32, 8.63)
        >>> def score(price):
        ...     return det.score_one({**band, "log_price": math.log(price),
        ...                           "log_reference": math.nan, "log_low": math.log(price)})
        >>> score(16.3) >= 0.6 > score(16.4)
        True
        >>> math.isnan(det.band_opens_below({**band, "new_listing": 0.0}, 0.6))
        True
        """
        band = self._band(x)
        if band is None:
            return math.nan
        mean, spread = band
        return price_from_log(mean - unsquash(score, self._band_half(x)) * spread)

    def score_one(self, x: dict[str, float]) -> float:
        ref = self._reference(x)
        own = 0.0 if math.isnan(ref) else squash(
            abs(float(x["log_price"]) - ref) / self.scale, self.half)
        return max(own, squash(self.band_z(x), self._band_half(x)))

    def learn_one(self, x: dict[str, float]) -> None:
        self._last = float(x["log_price"])

    def state(self) -> list[float]:
        return [self._last]

    def load(self, state: list[float]) -> None:
        self._last = float(state[0])

    def baseline(self) -> dict[str, float]:
        return {} if math.isnan(self._last) else {
            "previous_price": round(price_from_log(self._last), 2)}
