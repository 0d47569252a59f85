"""The ingest core: time rules, duplicates, dead letters, windows and safe offsets."""

from __future__ import annotations

import base64
import sys

import orjson

from signals.aggregate import decode_batch, encode_batch
from signals.pins import Pin
from streams.ingest import IngestCore, Raw
from tests.streams.events import BASE_TS, live, raw

TOPIC = "livestream.events"
HOUR = 3_600_000


def _core(**kw) -> IngestCore:
    return IngestCore(window_ms=60_000, lateness_ms=5_000, young_days=7, **kw)


def _recs(*events: dict, start: int = 0) -> list[Raw]:
    return [Raw(start + i, b"s1", raw(e)) for i, e in enumerate(events)]


def test_timestamps_too_far_from_newest_are_dead_lettered() -> None:
    core = _core()
    out = core.process(TOPIC, 0, _recs(
        live(event_id="a"),
        live(event_id="b", ts=BASE_TS + 2 * HOUR),  # > 1 h in the future
        live(event_id="c", ts=BASE_TS - 8 * 24 * HOUR),  # > 7 days in the past
        live(event_id="d", ts=BASE_TS + HOUR // 2),
    ))
    assert out.processed == 2
    assert out.dead_by_kind == {"ts_future": 1, "ts_past": 1}
    assert "`$.ts`" in out.dead[0].error


def test_limits_are_configurable() -> None:
    core = _core(max_future_ms=1000)
    out = core.process(TOPIC, 0, _recs(live(event_id="a"), live(event_id="b", ts=BASE_TS + 5000)))
    assert out.dead_by_kind == {"ts_future": 1}


def test_resent_event_ids_are_counted_once() -> None:
    core = _core()
    out = core.process(TOPIC, 0, _recs(live(event_id="a"), live(event_id="a"),
                                       live(event_id="b")))
    assert (out.processed, out.duplicates, out.dead) == (2, 1, [])


def test_late_record_goes_to_dlq_with_reason() -> None:
    core = _core()
    core.process(TOPIC, 0, _recs(live(event_id="a"), live(event_id="b", ts=BASE_TS + 70_000)))
    out = core.process(TOPIC, 0, _recs(live(event_id="c", ts=BASE_TS + 1000), start=2))
    assert out.dead_by_kind == {"late": 1}
    assert "closed" in out.dead[0].error


def test_dead_letter_matches_contract_and_keeps_raw_bytes() -> None:
    core = _core()
    out = core.process(TOPIC, 3, [Raw(17, b"k\xff", b"\xff\x00binary"), Raw(18, None, None)])
    first, second = (d.to_dict() for d in out.dead)
    assert set(first) == {"source_topic", "partition", "offset", "key", "error", "raw"}
    assert (first["source_topic"], first["partition"], first["offset"]) == (TOPIC, 3, 17)
    assert base64.b64decode(first["raw"]) == b"\xff\x00binary"
    assert base64.b64decode(first["key"]) == b"k\xff"
    assert second["raw"] is None and "tombstone" in second["error"]
    assert orjson.loads(out.dead[0].to_json()) == first


def test_every_record_is_accounted_for() -> None:
    core = _core()
    records = _recs(live(event_id="a"), live(event_id="a"), live(viewers=-5, event_id="z"),
                    live("report", event_id="r"))
    records.append(Raw(99, b"s1", b"{"))
    out = core.process(TOPIC, 0, records)
    assert out.processed + out.duplicates + len(out.dead) == len(records)


def test_windows_close_on_event_time_and_offsets_wait_for_them() -> None:
    core = _core()
    out = core.process(TOPIC, 0, _recs(
        live(event_id="a", viewers=100), live("report", event_id="b", ts=BASE_TS + 10),
        live(event_id="c", viewers=300, ts=BASE_TS + 20_000)))
    assert out.closed == []
    assert core.commit_offset(TOPIC, 0, next_offset=3) == 0
    out = core.process(TOPIC, 0, _recs(live(event_id="d", ts=BASE_TS + 66_000), start=3))
    [agg] = out.closed
    assert agg.entity_id == "s1" and agg.window_start == BASE_TS
    assert agg.features["viewers_mean"] == 200.0
    assert agg.features["n_report"] == 1.0
    assert agg.samples["report"] == ["b"]
    assert core.commit_offset(TOPIC, 0, next_offset=4) == 3


def test_a_window_of_the_largest_amounts_crosses_the_windows_topic() -> None:
    """Three purchases of 1e308 once summed to infinity, which JSON writes as null: the
    detect stage could not read the record back, and its agent crashed on it."""
    core = _core()
    core.process(TOPIC, 0, _recs(*(
        live("purchase", event_id=f"p{i}", order_id=f"o{i}", amount=1e308, ts=BASE_TS + i)
        for i in range(3))))
    [agg] = core.process(TOPIC, 0, _recs(live(event_id="x", ts=BASE_TS + 66_000),
                                         start=3)).closed
    [back] = decode_batch(encode_batch([agg]))
    assert back.features["purchase_amount_sum"] == sys.float_info.max
    assert back.features["purchase_top_amount_share"] == 1.0


def test_young_accounts_counted_with_policy_threshold() -> None:
    core = _core()
    core.process(TOPIC, 0, _recs(
        live("comment", event_id="a", account_age_days=2),
        live("comment", event_id="b", account_age_days=7),
        live("comment", event_id="c", account_age_days=8, user_id="u2"),
    ))
    [agg] = core.close_all()
    assert agg.features["young_actor_events"] == 2.0
    assert agg.features["aged_actor_events"] == 1.0
    assert agg.features["distinct_actors"] == 2.0


def test_a_sellers_window_counts_its_listings_by_account_age() -> None:
    from tests.streams.events import listing

    core = _core()
    core.process("listing.events", 0, [
        Raw(0, b"l1", raw(listing(event_id="a", seller_account_age_days=400))),
        Raw(1, b"l2", raw(listing(event_id="b", listing_id="l2", seller_account_age_days=7))),
        Raw(2, b"l3", raw(listing(event_id="c", listing_id="l3"))),  # no age given
    ])
    [seller] = [a for a in core.close_all() if a.entity_type == "seller"]
    assert seller.features["aged_actor_events"] == 1.0
    assert seller.features["young_actor_events"] == 1.0  # 7 days is still young


def test_dropped_partition_forgets_its_windows() -> None:
    core = _core()
    core.process(TOPIC, 1, _recs(live(event_id="a")))
    assert core.open_windows == 1
    core.drop(TOPIC, 1)
    assert core.open_windows == 0
    assert core.commit_offset(TOPIC, 1, next_offset=5) == 5


def test_every_dead_letter_kind_has_a_metric_label() -> None:
    from signals.metrics import ERROR_KINDS

    core = _core(max_future_ms=1000)
    out = core.process(TOPIC, 0, [
        Raw(0, b"s1", b"{"), Raw(1, b"s1", b"[]"), Raw(2, b"s1", raw(live(viewers="x"))),
        Raw(3, b"s1", raw(live(event_id="a"))),
        Raw(4, b"s1", raw(live(event_id="b", ts=BASE_TS + 5000))),
    ])
    assert set(out.dead_by_kind) <= set(ERROR_KINDS)
    assert len(out.dead) == 4


def test_live_worker_resumes_after_a_quiet_spell() -> None:
    later = BASE_TS + 3 * HOUR
    replayed = _core()
    replayed.process(TOPIC, 0, _recs(live(event_id="a")))
    out = replayed.process(TOPIC, 0, _recs(live(event_id="b", ts=later), start=1))
    assert out.dead_by_kind == {"ts_future": 1}  # a file replay applies the contract as written
    live_core = _core()
    live_core.process(TOPIC, 0, _recs(live(event_id="a")), now_ms=later)
    out = live_core.process(TOPIC, 0, _recs(live(event_id="b", ts=later), start=1), now_ms=later)
    assert out.processed == 1 and out.dead == []
    ahead = live_core.process(TOPIC, 0, _recs(live(event_id="c", ts=later + 2 * HOUR), start=2),
                              now_ms=later)
    assert ahead.dead_by_kind == {"ts_future": 1}


def test_cross_entity_windows_listing_prices_and_segments() -> None:
    from tests.streams.events import listing

    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    live_recs = [
        Raw(0, b"k", raw(live("stream_start", event_id="a"))),
        Raw(1, b"k", raw(live("report", event_id="b", ts=BASE_TS + 1000))),
        Raw(2, b"k", raw(live("report", event_id="c", stream_id="unseen",
                              ts=BASE_TS + 2000))),
        Raw(3, b"k", raw(live(event_id="v1", ts=BASE_TS + 3000, viewers=300))),
        Raw(4, b"k", raw(live(event_id="v2", ts=BASE_TS + 13_000, viewers=500))),
        Raw(5, b"k", raw(live(event_id="v3", stream_id="unseen", ts=BASE_TS + 4000))),
        Raw(6, b"k", raw(live(event_id="d", ts=BASE_TS + 61_000))),
    ]
    closed = core.process("livestream.events", 0, live_recs).closed
    [segment] = [a for a in closed if a.entity_type == "segment"]
    # only the stream whose start (and so category) this partition saw is counted, for
    # its reports and for its mean audience (in thousands): the segment's exposure
    assert segment.entity_id == "beauty/skincare|US" and segment.features["n_report"] == 1.0
    assert segment.features["viewers"] == 400.0
    assert segment.breakdown["stream_reports"] == {"s1": 1}
    assert core.closed_until("livestream.events", 0) == BASE_TS + 61_000

    listing_recs = [
        Raw(0, b"k", raw(listing(event_id="l1"))),
        Raw(1, b"k", raw(listing("price_changed", event_id="l2", price=6.0, previous_price=100.0,
                       ts=BASE_TS + 5000))),
        Raw(2, b"k", raw(listing(event_id="l3", listing_id="l9", ts=BASE_TS + 61_000))),
    ]
    closed = core.process("listing.events", 1, listing_recs).closed
    [price] = [a for a in closed if a.entity_type == "listing"]
    assert (price.features["price_min"], price.features["price_reference"]) == (6.0, 100.0)
    [seller] = [a for a in closed if a.entity_type == "seller"]
    assert seller.features["n_listing_created"] == 1.0


def test_a_segment_merged_from_partitions_is_the_same_in_any_order() -> None:
    import itertools

    from signals.catalogue import CATALOGUE
    from signals.merge import merge

    parts = []
    for partition, viewers in enumerate((100, 200, 300)):  # 0.1 + 0.2 + 0.3 in thousands
        stream = f"s{partition}"
        core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
        closed = core.process(TOPIC, partition, [
            Raw(0, b"k", raw(live("stream_start", event_id=f"a{stream}", stream_id=stream))),
            Raw(1, b"k", raw(live(event_id=f"v{stream}", stream_id=stream, viewers=viewers,
                                  ts=BASE_TS + 1000))),
            Raw(2, b"k", raw(live("report", event_id=f"r{stream}", stream_id=stream,
                                  ts=BASE_TS + 2000))),
            Raw(3, b"k", raw(live(event_id=f"w{stream}", stream_id=stream, ts=BASE_TS + 61_000))),
        ]).closed
        parts += [a for a in closed if a.entity_type == "segment"]
    features = CATALOGUE["segment_report_surge"].features
    seen = set()
    for order in itertools.permutations(parts):
        merged = order[0]
        for part in order[1:]:
            merged = merge(merged, part)
        seen.add(tuple(sorted(features(merged).items())))
    # exactly one result: with the audience in thousands as floats, (0.1 + 0.2) + 0.3
    # and (0.3 + 0.2) + 0.1 differ in their last digit, and a restart could change a score
    assert seen == {(("count", 3.0), ("exposure", 0.6))}


def test_a_stream_started_before_the_resume_point_finds_its_category_in_its_state() -> None:
    from signals.state import EntityState
    from streams.statestore import StateMap

    states = StateMap()
    stored = EntityState(region="US")
    stored.add_context({"category": "fashion/bags"})
    states.set(b"stream:s1", stored)  # as the detect stage kept it before the restart
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7,
                      category_of=states.stream_category)
    recs = [Raw(0, b"k", raw(live(event_id="v", viewers=200))),  # no stream_start seen
            Raw(1, b"k", raw(live("report", event_id="r", ts=BASE_TS + 1000))),
            Raw(2, b"k", raw(live(event_id="w", ts=BASE_TS + 61_000)))]
    closed = core.process("livestream.events", 0, recs).closed
    [segment] = [a for a in closed if a.entity_type == "segment"]
    assert segment.entity_id == "fashion/bags|US" and segment.features["n_report"] == 1.0
    assert segment.features["viewers"] == 200.0
    # without the lookup the report counts for no segment
    blind = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    assert not [a for a in blind.process("livestream.events", 0, recs).closed
                if a.entity_type == "segment"]


def test_until_ts_stops_before_a_later_event_and_takes_it_up_next_time() -> None:
    core = _core()
    recs = [
        Raw(0, b"s1", raw(live(event_id="a"))), Raw(1, b"s1", b"not json"),
        Raw(2, b"s1", raw(live(event_id="b", ts=BASE_TS + 30_000))),
        Raw(3, b"s1", raw(live(event_id="c", ts=BASE_TS + 40_000)))]
    out = core.process(TOPIC, 0, recs, until_ts=BASE_TS + 20_000)
    # the bad record is dead-lettered on the way; "b" is decoded but neither folded nor
    # remembered as seen, so the next call folds it and does not count it a duplicate
    assert (out.consumed, out.head_ts, out.processed, len(out.dead)) == (2, BASE_TS + 30_000, 1, 1)
    assert core.reached(TOPIC, 0) == BASE_TS
    out = core.process(TOPIC, 0, recs[2:], until_ts=BASE_TS + 30_000)
    assert (out.consumed, out.head_ts, out.processed, out.duplicates) == (1, BASE_TS + 40_000, 1, 0)
    out = core.process(TOPIC, 0, recs[3:])
    assert (out.consumed, out.head_ts, out.processed) == (1, None, 1)
    assert core.reached(TOPIC, 0) == BASE_TS + 40_000


def test_a_pin_is_handed_on_for_its_listing_once_and_a_bad_one_is_dead_lettered() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    pin = live("product_pin", event_id="p1", stream_id="st-9", listing_id="li-4", price=8.0,
               currency="EUR", ts=BASE_TS + 500)
    bad = live("product_pin", event_id="p2", listing_id="li-5", price=-1.0)
    out = core.process("livestream.events", 0, [
        Raw(0, b"st-9", raw(pin)), Raw(1, b"st-9", raw(pin)), Raw(2, b"s1", raw(bad))])
    assert out.pins == [Pin(listing_id="li-4", stream_id="st-9", ts=BASE_TS + 500, price=8.0,
                            currency="EUR", event_id="p1")]  # the re-sent copy: counted once
    assert out.pins[0].entity_key == "listing:li-4"
    [dead] = out.dead
    assert "`$.price`" in dead.error
    assert core.process("livestream.events", 0, [Raw(3, b"s1", raw(live()))]).pins == []
