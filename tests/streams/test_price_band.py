"""A category's price band: learned at ingest from every partition, judged at detection."""

from __future__ import annotations

import math
import random
from importlib import resources

import pytest
import yaml

from signals.aggregate import WindowAggregate
from signals.engine import Engine
from signals.policy import Policy, PolicyError, load_policy, parse_policy
from signals.state import EntityState, encode_state
from streams.band_store import changed_states, restore_bands
from streams.ingest import IngestCore, Raw
from streams.price_bands import POOL_KEY, PriceBands
from streams.statestore import StateMap
from tests.streams.events import BASE_TS, listing, raw

LISTINGS = "listing.events"


def _ordinary(n: int, seed: int = 1, currency: str = "USD") -> list[dict]:
    rng = random.Random(seed)
    return [listing(event_id=f"o{seed}-{i}", listing_id=f"li-{seed}-{i}", ts=BASE_TS + i * 100,
                    seller_id=f"sl-{seed}-{i}", currency=currency,
                    price=round(100.0 * math.exp(rng.gauss(0, 0.5)), 2))
            for i in range(n)]


def _run(core: IngestCore, parts: list[list[dict]]) -> list:
    closed = []
    for partition, events in enumerate(parts):
        recs = [Raw(i, e["listing_id"].encode(), raw(e)) for i, e in enumerate(events)]
        closed += core.process(LISTINGS, partition, recs).closed
    return closed


def _opened(*aggs, policy: Policy | None = None) -> list[str]:
    """The listings, of ``aggs``, on which ``policy`` (the default one) opens
    ``price_anomaly``, of the windows it sends to detection."""
    engine = Engine(policy or load_policy())
    return [s.entity_id for agg in aggs if engine.wants(agg)
            for s in engine.process(agg, None, 0).signals
            if s.signal_type == "price_anomaly" and s.status == "open"]


def _closing(ts: int, event_id: str) -> dict:  # moves event time on, to close the windows
    return listing(event_id=event_id, listing_id=f"late-{event_id}", ts=ts, price=100.0)


def test_a_new_listing_at_a_bait_price_is_judged_against_its_category() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000
    new = [listing(event_id="bait", listing_id="li-bait", ts=later, price=6.0),
           listing(event_id="fair", listing_id="li-fair", ts=later + 10, price=80.0),
           _closing(later + 61_000, "end")]
    # the band learned in partitions 0 and 1 judges the new listings in partition 2
    closed = _run(core, [_ordinary(200, seed=1), _ordinary(200, seed=2), new])
    windows = {a.entity_id: a for a in closed if a.entity_type == "listing"}
    bait = windows["li-bait"].features
    assert bait["band_n"] >= 400 and abs(math.exp(bait["band_log_mean"]) - 100.0) < 15.0
    assert _opened(windows["li-bait"], windows["li-fair"]) == ["li-bait"]


def test_an_established_sellers_cheap_new_listing_must_sit_further_below() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000

    def new(tag: str, price: float, age: int) -> dict:
        return listing(event_id=tag, listing_id=f"li-{tag}", seller_id=f"sl-{tag}", ts=later,
                       price=price, seller_account_age_days=age)

    # 8.20 is 5 std (of log price) below a usual 100: past a days-old account's bar
    # (4.5 std) and short of a years-old shop's (5.3); 4.00 (6.4 std) is past both
    new_listings = [new("young", 8.2, 3), new("shop", 8.2, 400), new("young-4", 4.0, 3),
                    new("shop-4", 4.0, 400), _closing(later + 61_000, "end")]
    closed = _run(core, [_ordinary(200, seed=1), _ordinary(200, seed=2), new_listings])
    windows = {a.entity_id: a for a in closed if a.entity_type == "listing"}
    assert sorted(_opened(*windows.values())) == ["li-shop-4", "li-young", "li-young-4"]
    result = Engine(load_policy()).process(windows["li-shop-4"], None, 0)
    [shop] = [s for s in result.signals if s.status == "open"]
    assert shop.observed["established_seller"] is True
    assert shop.evidence["seller_account_age_days"] == 400
    assert "seller_account_age_days" not in result.state.context()  # the window shows it


def _jpy_listing(band: int, price: float) -> WindowAggregate:
    """The window of a new JPY listing at ``price``, after ``band`` ordinary JPY
    listings and 200 USD ones."""
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000
    new = [listing(event_id="jp", listing_id="li-jp", ts=later, price=price, currency="JPY"),
           _closing(later + 61_000, "end")]
    closed = _run(core, [_ordinary(200, seed=1), _ordinary(band, seed=3, currency="JPY") + new])
    [jp] = [a for a in closed if a.entity_id == "li-jp"]
    return jp


def test_a_band_is_per_currency_and_needs_enough_listings() -> None:
    jp = _jpy_listing(5, 6.0)
    assert jp.features["band_n"] == 5.0  # the USD listings taught the JPY band nothing
    signals = Engine(load_policy()).process(jp, None, 0).signals
    assert [s for s in signals if s.signal_type == "price_anomaly"] == []  # too few yet
    assert load_policy().signals["price_anomaly"].params["band_min_n"] == 6


def _bundled_price_policy() -> tuple[dict, dict]:
    """The bundled policy as YAML data, and its ``price_anomaly`` entry, to edit."""
    doc = yaml.safe_load(resources.files("signals").joinpath("default_policy.yaml").read_text())
    return doc, doc["signals"]["price_anomaly"]


def test_the_policy_sets_how_young_a_band_may_judge() -> None:
    jp = _jpy_listing(8, 4.0)
    assert jp.features["band_n"] == 8.0
    assert _opened(jp) == ["li-jp"]  # the bundled policy judges a band of 6 or more
    doc, price = _bundled_price_policy()
    price["params"]["band_min_n"] = 10
    assert _opened(jp, policy=parse_policy(yaml.safe_dump(doc))) == []  # one that waits
    price["params"]["band_min_n"] = 0
    with pytest.raises(PolicyError, match="band_min_n must be a whole number at least 1"):
        parse_policy(yaml.safe_dump(doc))


def test_a_policy_whose_bar_sits_nearer_the_band_is_not_cut_short() -> None:
    # 38.67 sits 1.9 std (0.5 in log price) below a usual 100: short of the bundled bar
    # (4.53 std), past one of 1.84 std set by band_half 1.5, or by open_score 0.2
    near = WindowAggregate(entity_type="listing", entity_id="li-near", region="US",
                           window_start=BASE_TS, window_end=BASE_TS + 60_000, features={
                               "price_min": 38.67, "price_last": 38.67, "n_listing_created": 1.0,
                               "band_log_mean": math.log(100.0), "band_log_std": 0.5,
                               "band_n": 500.0})
    assert _opened(near) == []
    doc, price = _bundled_price_policy()
    price["params"]["band_half"] = 1.5
    assert _opened(near, policy=parse_policy(yaml.safe_dump(doc))) == ["li-near"]
    doc, price = _bundled_price_policy()
    price.update(open_score=0.2, resolve_score=0.1)
    price["severity"]["low"] = 0.2
    assert _opened(near, policy=parse_policy(yaml.safe_dump(doc))) == ["li-near"]


def _young_jpy_band(listed: list[tuple[str, float]]) -> dict[str, WindowAggregate]:
    """The windows of new JPY listings, each ``(seller, price)`` in turn, after 200
    ordinary USD ones (for the pooled spread), by listing id ``li-jp-<i>``."""
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000
    new = [listing(event_id=f"jp{i}", listing_id=f"li-jp-{i}", seller_id=seller, ts=later + i,
                   price=price, currency="JPY", seller_account_age_days=3)
           for i, (seller, price) in enumerate(listed)]
    closed = _run(core, [_ordinary(200, seed=1), [*new, _closing(later + 61_000, "end")]])
    return {a.entity_id: a for a in closed if a.entity_id.startswith("li-jp-")}


def test_one_shops_bulk_upload_is_one_price_of_a_young_band() -> None:
    for others, band_n in ((2, 3.0), (5, 6.0)):
        rng = random.Random(6)
        premium = [("sl-shop", round(2_000.0 * math.exp(rng.gauss(0, 0.2)), 2))
                   for _ in range(8)]
        ordinary = [(f"sl-{i}", round(100.0 * math.exp(rng.gauss(0, 0.5)), 2))
                    for i in range(others)]
        windows = _young_jpy_band(premium + ordinary + [("sl-new", 95.0)])
        last = windows[f"li-jp-{len(premium) + others}"]
        # the shop's first price and the other sellers': with two, too young to judge
        # (counting every listing, a band of 10 centred on the shop's 1,850 flags it)
        assert last.features["band_n"] == band_n
        assert _opened(last) == []
    assert abs(math.exp(last.features["band_log_mean"]) - 100.0) < 40.0


def test_one_bait_sellers_listings_do_not_become_a_young_band() -> None:
    rng = random.Random(7)
    ordinary = [(f"sl-{i}", round(100.0 * math.exp(rng.gauss(0, 0.5)), 2)) for i in range(6)]
    windows = _young_jpy_band(ordinary + [("sl-bait", 4.0)] * 10)
    first, tenth = windows["li-jp-6"], windows["li-jp-15"]
    assert first.features["band_n"] == 6.0 and tenth.features["band_n"] == 7.0
    assert _opened(first, tenth) == ["li-jp-6", "li-jp-15"]  # the tenth as the first


def test_bait_prices_barely_move_the_band() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000
    baits = [listing(event_id=f"b{i}", listing_id=f"li-b{i}", ts=later + i, price=3.0)
             for i in range(30)]
    last = [listing(event_id="last", listing_id="li-last", ts=later + 100, price=3.0),
            _closing(later + 61_000, "end")]
    closed = _run(core, [_ordinary(300) + baits + last])
    [after] = [a for a in closed if a.entity_id == "li-last"]
    assert abs(math.exp(after.features["band_log_mean"]) - 100.0) < 20.0


def test_only_new_listings_teach_the_band() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000
    # many markdowns of older listings: what new listings cost is unchanged
    markdowns = [listing("price_changed", event_id=f"m{i}", listing_id=f"li-m{i}",
                         ts=later + i, price=3.0, previous_price=3.3) for i in range(200)]
    last = [listing(event_id="last", listing_id="li-last", ts=later + 300, price=90.0),
            _closing(later + 61_000, "end")]
    closed = _run(core, [_ordinary(100) + markdowns + last])
    [after] = [a for a in closed if a.entity_id == "li-last"]
    assert after.features["band_n"] == 100.0
    assert abs(math.exp(after.features["band_log_mean"]) - 100.0) < 20.0


def test_a_young_band_borrows_the_spread_of_all_bands() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000
    new = [listing(event_id="bait", listing_id="li-bait", ts=later, price=6.0, currency="JPY"),
           listing(event_id="fair", listing_id="li-fair", ts=later + 10, price=60.0,
                   currency="JPY"),
           _closing(later + 61_000, "end")]
    # twelve JPY listings, and the spread of 300 USD ones: enough to judge a bait price
    closed = _run(core, [_ordinary(300, seed=1), _ordinary(12, seed=4, currency="JPY") + new])
    windows = {a.entity_id: a for a in closed if a.entity_type == "listing"}
    assert windows["li-bait"].features["band_n"] == 12.0
    assert 0.4 < windows["li-bait"].features["band_log_std"] < 0.7
    assert _opened(windows["li-bait"], windows["li-fair"]) == ["li-bait"]


def test_placeholder_prices_among_a_bands_first_listings_do_not_blind_it() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    later = BASE_TS + 120_000
    young = _ordinary(12, seed=5, currency="JPY")
    for i in (3, 8):  # listed at 0 until the seller sets a price
        young[i]["price"] = 0.0
    new = [listing(event_id="bait", listing_id="li-bait", ts=later, price=4.0, currency="JPY"),
           _closing(later + 61_000, "end")]
    closed = _run(core, [_ordinary(300, seed=1), young + new])
    [bait] = [a for a in closed if a.entity_id == "li-bait"]
    assert abs(math.exp(bait.features["band_log_mean"]) - 100.0) < 30.0
    assert bait.features["band_log_std"] < 0.7
    assert _opened(bait) == ["li-bait"]


def _through_the_state_topic(core: IngestCore) -> IngestCore:
    """A new ingest core with the bands ``core`` saved, as a restarted worker has them:
    through the state encoding (float32) and a fresh state map."""
    saved = StateMap()
    for key, state in changed_states(core.price_bands, BASE_TS, saved):
        saved.apply(key, encode_state(state))
    again = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    restore_bands(again.price_bands, saved)
    return again


def test_a_restarted_worker_judges_a_bait_price_with_the_bands_it_saved() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    _run(core, [_ordinary(200, seed=1), _ordinary(20, seed=3, currency="JPY")])
    again = _through_the_state_topic(core)
    for key in ("fashion/sneakers|USD", "fashion/sneakers|JPY"):  # grown, and still young
        was, now = core.price_bands.snapshot(key), again.price_bands.snapshot(key)
        assert now[2] == was[2] and now[0] == pytest.approx(was[0], abs=1e-5)
        assert now[1] == pytest.approx(was[1], abs=1e-5)  # the pooled spread came back too
    later = BASE_TS + 120_000
    new = [listing(event_id="bait", listing_id="li-bait", ts=later, price=6.0),
           _closing(later + 61_000, "end")]
    [bait] = [a for a in _run(again, [new]) if a.entity_id == "li-bait"]
    assert bait.features["band_n"] >= 200
    assert _opened(bait) == ["li-bait"]
    # without the saved bands the restarted worker has no band to judge it by
    fresh = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    [unjudged] = [a for a in _run(fresh, [new]) if a.entity_id == "li-bait"]
    assert _opened(unjudged) == []


def test_a_young_bands_sellers_come_back_with_it() -> None:
    bands, saved = PriceBands(), StateMap()
    for i in range(5):
        bands.learn("toys/figures|JPY", 30.0 + i, seller=f"sl-{i}")
    for key, state in changed_states(bands, BASE_TS, saved):
        saved.apply(key, encode_state(state))  # as the state topic holds it (float32)
    again = PriceBands()
    restore_bands(again, saved)
    again.learn("toys/figures|JPY", 900.0, seller="sl-0")  # a seller it has a price of
    assert again.snapshot("toys/figures|JPY")[2] == 5
    again.learn("toys/figures|JPY", 33.0, seller="sl-9")
    assert again.snapshot("toys/figures|JPY")[2] == 6
    # a young band as a version that kept no sellers saved it: each price its own seller
    older = PriceBands()
    older.restore("toys/figures|JPY", [0.0, *(math.log(30.0 + i) for i in range(5))])
    older.learn("toys/figures|JPY", 31.0, seller="sl-0")
    assert older.snapshot("toys/figures|JPY")[2] == 6


def test_only_bands_learned_since_the_last_save_are_written_again() -> None:
    bands = PriceBands()
    for price in (40.0, 30.0, 45.0, 35.0, 25.0, 50.0):
        bands.learn("toys/figures|JPY", price)
    bands.learn("fashion/bags|USD", 100.0)
    assert bands.take_changed() == [POOL_KEY, "fashion/bags|USD", "toys/figures|JPY"]
    assert bands.take_changed() == []
    bands.learn("fashion/bags|USD", 90.0)  # a band of 2: the pooled spread learns nothing
    assert [k for k, _ in changed_states(bands, BASE_TS, StateMap())] == [
        b"price-band:fashion/bags|USD"]


def test_a_restore_keeps_the_later_of_two_saves_in_the_same_second() -> None:
    # saves come every 10 s of wall clock; event time stands still when the listings
    # read in between are older than the newest one (another partition's, or late)
    bands, worker, topic = PriceBands(), StateMap(), []
    for price in (40.0, 30.0, 45.0, 35.0, 25.0, 50.0):
        bands.learn("toys/figures|JPY", price)
    for ts in (BASE_TS + 5_200, BASE_TS + 5_900):
        for key, state in changed_states(bands, ts, worker):
            topic.append((key, worker.set(key, state)))
        bands.learn("toys/figures|JPY", 20.0)
        bands.learn("toys/figures|JPY", 22.0)
    restored = StateMap()  # a restarted worker reads the topic, not compacted yet
    for key, record in topic:
        restored.apply(key, record)
    again = PriceBands()
    restore_bands(again, restored)
    assert again.snapshot("toys/figures|JPY")[2] == 8


def test_a_saved_record_that_is_not_a_band_is_skipped_and_logged(caplog) -> None:
    saved = StateMap()
    for key, floats in ((b"price-band:toys/figures|JPY", [7.0, 1.0]),
                        (b"price-band:*", [1.0]),
                        (b"price-band:fashion/bags|USD", [1.0, 4.6, 0.25, 40.0])):
        state = EntityState(region="")
        state.set_detector(0, floats)
        saved.set(key, state)
    bands = PriceBands()
    assert restore_bands(bands, saved) == 1
    assert bands.snapshot("toys/figures|JPY") is None
    assert bands.snapshot("fashion/bags|USD")[2] == 40
    assert [r.key for r in caplog.records
            if r.getMessage() == "price band record not understood, skipped"] == [
        "price-band:toys/figures|JPY", "price-band:*"]
