"""A listing's price against its own previous price and against its category's band."""

from __future__ import annotations

import math
from array import array

import pytest

from detectors import PriceShiftDetector
from detectors.price import log_price

BAND = {"band_log_mean": log_price(100.0), "band_log_std": 0.5, "band_n": 500.0,
        "new_listing": 1.0}


def _x(price: float, previous: float | None = None, **band: float) -> dict[str, float]:
    return {"log_price": log_price(price), "log_low": log_price(price),
            "log_reference": math.nan if previous is None else log_price(previous),
            **(BAND | band)}


def test_the_band_judges_only_the_low_side_and_only_once_learned() -> None:
    det = PriceShiftDetector()
    assert det.score_one(_x(4.0)) >= 0.6  # 1/25 of the category's usual price
    assert det.score_one(_x(40.0)) < 0.3  # a sale: well below any open_score
    assert det.score_one(_x(20_000.0)) == 0.0  # far above: a luxury item, not bait
    assert det.score_one(_x(4.0, band_n=9.0)) == 0.0  # too few listings learned


def test_only_a_new_listing_is_judged_against_the_band() -> None:
    # an older listing marked down step by step: each step is ordinary, and the band
    # does not judge it (it would flag the end of every long markdown as bait)
    assert PriceShiftDetector().score_one(_x(4.0, previous=4.4, new_listing=0.0)) < 0.3
    assert PriceShiftDetector().score_one(_x(4.0, previous=4.4)) >= 0.6


def test_the_larger_of_own_move_and_band_counts() -> None:
    det = PriceShiftDetector()
    hike = det.score_one(_x(900.0, previous=100.0))  # 9x its own price, high in the band
    assert hike >= 0.6
    assert det.score_one(_x(4.0, previous=4.2)) >= 0.6  # always at bait: the band says so


def test_a_narrow_category_keeps_a_floor_under_its_spread() -> None:
    det = PriceShiftDetector(band_min_std=0.4)
    # a category whose prices hardly vary: 30% off is not bait
    assert det.score_one(_x(70.0, band_log_std=0.01)) < 0.6


def test_an_established_sellers_new_listing_is_judged_by_its_own_bar() -> None:
    det = PriceShiftDetector(band_half=3.7, established_band_half=4.3)
    five_std = 100.0 * math.exp(-5 * 0.5)  # 8.21: 5 std below the band's mean
    assert det.score_one(_x(five_std)) >= 0.6
    assert det.score_one(_x(five_std, established=1.0)) < 0.6
    assert det.score_one(_x(4.0, established=1.0)) >= 0.6  # 6.4 std: bait from anyone
    # its own moves are judged alike, whoever the seller
    assert det.score_one(_x(6.0, previous=100.0, new_listing=0.0, established=1.0)) >= 0.6


@pytest.mark.parametrize("field", ["band_min_std"])
def test_bad_parameters_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        PriceShiftDetector(**{field: 0.0})


def test_an_established_bar_below_the_young_one_is_refused() -> None:
    with pytest.raises(ValueError, match="established_band_half"):
        PriceShiftDetector(band_half=3.7, established_band_half=3.0)


def test_a_price_at_the_top_of_the_float_range_comes_back_from_its_stored_log() -> None:
    """A detector's state is stored as float32 between windows (``signals.state``), and
    the log of the largest float rounds up there: ``math.exp`` of it raised
    OverflowError, so a listing priced there stopped its signal's baseline."""
    top = 1.7976931348623157e308
    det = PriceShiftDetector()
    det.learn_one(_x(top))
    det.load(array("f", det.state()).tolist())  # as the engine keeps it between windows
    assert det.baseline()["previous_price"] > 1e308
