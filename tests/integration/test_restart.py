"""A worker that crashes and restarts keeps its baselines and creates no phantom signals.

Runs after test_pipeline.py on the same broker: the input topics already hold
that module's events. A second deployment (its own app id) reads them, is
killed with SIGKILL half-way, and restarts. Signal ids are deterministic, so the
distinct signal ids on ``risk.signals`` must not grow: a lost baseline or a
re-opened episode would add a new id. A third deployment is restarted after it
learned its categories' price bands, and must judge a new listing's price
against them at once.
"""

from __future__ import annotations

import asyncio
import math
import signal
import time

import orjson
import pytest

from signals.merge import SPREAD_ENTITY_TYPES
from signals.state import decode_state
from streams.band_store import KEY_PREFIX, SAVE_INTERVAL_S
from streams.price_bands import POOL_KEY, PriceBands
from streams.producer import produce
from streams.simulate import CURRENCY
from tests.integration.conftest import read_all, start_worker, stop_worker

pytestmark = pytest.mark.integration


def _signal_ids(broker: str) -> list[tuple[str, str]]:
    """Signal ids and statuses, but for entities spread over partitions: partial windows
    waiting to be merged when a worker dies are not kept (a known limitation, in the
    README), so a restart may judge such a window on part of its events."""
    records = asyncio.run(read_all(broker, "risk.signals", lambda r: False, timeout_s=4))
    return [(s["signal_id"], s["status"]) for s in (orjson.loads(r.value) for r in records)
            if s["entity_type"] not in SPREAD_ENTITY_TYPES]


def _caught_up(w, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while w.metric("riskstream_events_processed_total") == 0 or (
            w.metric("riskstream_consumer_lag_records") > 0):
        assert time.monotonic() < deadline, "worker did not catch up"
        time.sleep(1)


def test_crash_and_restart_creates_no_phantom_signals(broker, worker, run, tmp_path) -> None:
    before = _signal_ids(broker)
    assert before, "the pipeline run produced signals"
    total = worker.metric("riskstream_events_processed_total")
    first = start_worker(broker, tmp_path, "rs-restart")
    deadline = time.monotonic() + 120
    while first.metric("riskstream_events_processed_total") < total / 2:
        assert time.monotonic() < deadline, "restart worker made no progress"
        time.sleep(0.2)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    second = start_worker(broker, tmp_path, "rs-restart")
    try:
        _caught_up(second)
        time.sleep(5)  # let the last closed windows through detection
        after = _signal_ids(broker)
    finally:
        stop_worker(second)
    assert len(after) > len(before), "the restarted deployment emitted nothing to compare"
    assert {sid for sid, _ in after} == {sid for sid, _ in before}
    assert {(sid, st) for sid, st in after} == {(sid, st) for sid, st in before}


def _saved_bands(broker: str, app_id: str) -> dict[str, tuple[int, float, int]]:
    """Price bands in the deployment's state topic: key -> (listings, log centre, last_ws)."""
    records = asyncio.run(read_all(broker, f"{app_id}-entity-state", lambda r: False,
                                   timeout_s=4))
    out = {}
    for r in records:
        name = r.key[len(KEY_PREFIX):].decode()
        if r.key.startswith(KEY_PREFIX) and name != POOL_KEY and r.value:
            state, bands = decode_state(r.value), PriceBands()
            bands.restore(name, state.detector(0))
            centre, _, n = bands.snapshot(name)
            out[name] = (n, centre, state.last_ws)
    return out


def test_a_restarted_worker_judges_prices_against_the_bands_it_had(broker, run, tmp_path
                                                                  ) -> None:
    app_id = "rs-bands"
    first = start_worker(broker, tmp_path, app_id)
    try:
        _caught_up(first)
        time.sleep(SAVE_INTERVAL_S + 3)  # a save of the bands it learned
    finally:
        stop_worker(first)
    before = _saved_bands(broker, app_id)
    key, (n, centre, last_ws) = max(before.items(), key=lambda kv: kv[1][0])
    assert n >= 30, f"the busiest band holds {n} listings"
    category, currency = key.split("|")
    region = next(r for r, c in CURRENCY.items() if c == currency)
    base = {"schema_version": 1, "region": region, "listing_id": "li-band-bait",
            "seller_id": "sl-band-bait", "category": category}
    events = [  # a bait price after the restart; a later event closes its window
        ("listing.events", b"li-band-bait", base | {
            "event_id": "band-bait-1", "event_type": "listing_created", "ts": last_ws + 60_000,
            "title": "brand new", "price": round(math.exp(centre) * 0.02, 2),
            "currency": currency}),
        ("listing.events", b"li-band-bait", base | {
            "event_id": "band-bait-2", "event_type": "listing_removed",
            "ts": last_ws + 240_000}),
    ]
    asyncio.run(produce(iter(events), broker, speed=0, pace_from_ts=0))
    second = start_worker(broker, tmp_path, app_id)
    try:
        assert b"price bands restored" in second.log.read_bytes()
        records = asyncio.run(read_all(
            broker, "risk.signals", lambda rs: any(r.key == b"li-band-bait" for r in rs),
            timeout_s=120))
        bait = [orjson.loads(r.value) for r in records if r.key == b"li-band-bait"]
        assert bait and bait[0]["signal_type"] == "price_anomaly", "no signal on the bait"
        # the restarted worker itself opened it (the first deployment of the tests runs too)
        deadline = time.monotonic() + 30
        while bait[0]["signal_id"].encode() not in second.log.read_bytes():
            assert time.monotonic() < deadline, "the restarted worker did not signal the bait"
            time.sleep(0.5)
        time.sleep(SAVE_INTERVAL_S + 3)  # a save of the band with the bait price learned
    finally:
        stop_worker(second)
    after = _saved_bands(broker, app_id)
    # the band went on from what it held: one relearned since the restart holds only
    # the listings read again after it
    assert after[key][2] > last_ws and after[key][0] > n
