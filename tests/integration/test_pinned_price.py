"""A bait price on a listing pinned in a live stream is raised to the policy's
``pinned.severity``, on a real broker.

Three listings drop from 100 to 10 USD in the same minute. One is pinned in a live
stream half a second later: its ``product_pin`` is read by the worker of the
stream's partition and reaches the listing's owner before the listing's window
closes, so its ``price_anomaly`` opens at ``high``, naming the stream. One is never
pinned: it opens at ``medium``, as before. One is pinned three minutes after its
signal opened: the signal is raised to ``high`` by an ``update``. A replay of the
same events gives the same records.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from signals.policy import load_policy
from streams.bench.run import fresh_broker
from streams.contract import LISTING_TOPIC, LIVESTREAM_TOPIC
from streams.localworker import WorkerProcess
from streams.replay import replay
from streams.topics import PUBLIC_TOPICS, SIGNALS_TOPIC, ensure_topics, key_partition
from tests.integration.conftest import committed_past, read_all, send

pytestmark = pytest.mark.integration

MIN = 60_000
DAY = 86_400_000
START = (int(time.time() * 1000) // DAY - 1) * DAY  # yesterday 00:00Z, as the worker's limits like
STREAM = "st-pin"
PINNED, PLAIN, LATE = "li-pinned", "li-plain", "li-late"
PARTITIONS = 4


def _fillers() -> list[str]:
    """A listing on each input partition, whose reports move its partition's event time."""
    by_partition: dict[int, str] = {}
    for i in range(100):
        by_partition.setdefault(key_partition(f"li-fill-{i}".encode(), PARTITIONS), f"li-fill-{i}")
    return sorted(by_partition.values())


def _events() -> list[tuple[str, bytes, bytes]]:
    listing = {"schema_version": 1, "seller_id": "sl-p", "region": "US",
               "category": "fashion/bags", "currency": "USD"}
    live = {"schema_version": 1, "stream_id": STREAM, "seller_id": "sl-p", "region": "US"}
    events: list[tuple[str, dict[str, Any]]] = [(LIVESTREAM_TOPIC, live | {
        "event_id": "start", "event_type": "stream_start", "ts": START, "title": "bags live",
        "category": "fashion/bags"})]
    for i in range(9 * 6):  # the stream's audience, every 10 s for 9 minutes
        events.append((LIVESTREAM_TOPIC, live | {
            "event_id": f"v{i}", "event_type": "viewer_snapshot", "ts": START + 5_000 + i * 10_000,
            "viewers": 800}))
    for n, li in enumerate((PINNED, PLAIN, LATE)):
        events.append((LISTING_TOPIC, listing | {
            "event_id": f"new-{li}", "event_type": "listing_created", "listing_id": li,
            "ts": START + 1_000 + n, "title": "leather bag", "price": 100.0}))
        events.append((LISTING_TOPIC, listing | {
            "event_id": f"drop-{li}", "event_type": "price_changed", "listing_id": li,
            "ts": START + 2 * MIN + 5_000 + n, "price": 10.0, "previous_price": 100.0}))
    for li, at in ((PINNED, 2 * MIN + 5_500), (LATE, 5 * MIN)):
        events.append((LIVESTREAM_TOPIC, live | {
            "event_id": f"pin-{li}", "event_type": "product_pin", "ts": START + at,
            "listing_id": li, "price": 10.0, "currency": "USD"}))
    for li in _fillers():
        for i in range(9 * 3):
            events.append((LISTING_TOPIC, listing | {
                "event_id": f"{li}-r{i}", "event_type": "listing_reported", "listing_id": li,
                "ts": START + 10_000 + i * 20_000, "user_id": f"u{i}", "reason": "other"}))
    events.sort(key=lambda te: te[1]["ts"])
    return [(topic, str(e.get("listing_id") if topic == LISTING_TOPIC else e["stream_id"]).encode(),
             orjson.dumps(e)) for topic, e in events]


def _prices(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in signals if s["signal_type"] == "price_anomaly"]


def test_a_pinned_bait_price_opens_at_the_pinned_severity_and_a_later_pin_raises_it(
        tmp_path: Path) -> None:
    events = _events()
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, PARTITIONS))
        worker = WorkerProcess(broker, tmp_path / "worker", "pins")
        try:
            worker.wait_started()
            asyncio.run(send(broker, events))
            records = asyncio.run(read_all(
                broker, SIGNALS_TOPIC,
                lambda rs: len(_prices([orjson.loads(r.value) for r in rs])) >= 4, timeout_s=90))
            time.sleep(2)  # nothing more comes
            records = asyncio.run(read_all(broker, SIGNALS_TOPIC, lambda rs: False, timeout_s=3))
            pins = {action: worker.metric("riskstream_pins_total", action=action)
                    for action in ("held", "kept", "raised", "ignored")}
        finally:
            worker.stop()
    live = _prices([orjson.loads(r.value) for r in records])
    by = {(s["entity_id"], s["status"]): s for s in live}
    assert sorted(by) == [(LATE, "open"), (LATE, "update"), (PINNED, "open"), (PLAIN, "open")]
    pinned = by[(PINNED, "open")]
    assert pinned["severity"] == "high"
    assert pinned["evidence"]["pinned"] == {
        "stream_id": STREAM, "pinned_ts": START + 2 * MIN + 5_500, "price": 10.0,
        "currency": "USD", "event_id": f"pin-{PINNED}"}
    plain = by[(PLAIN, "open")]
    assert plain["severity"] == "medium" and "pinned" not in plain["evidence"]
    assert plain["score"] == pinned["score"]  # the same drop: only the pin differs
    opened, raised = by[(LATE, "open")], by[(LATE, "update")]
    assert (opened["severity"], raised["severity"]) == ("medium", "high")
    assert raised["signal_id"] == opened["signal_id"]
    assert raised["evidence"]["raised_because"].startswith(f"pinned in live stream {STREAM} at ")
    assert pins == {"held": 1, "kept": 0, "raised": 1, "ignored": 0}
    # a backtest of the same events gives the same records
    backtest = replay(events, load_policy(), partitions=PARTITIONS, flush=True)
    replayed = [s.to_dict() for s in backtest.signals if s.signal_type == "price_anomaly"]
    def seen(signals: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((s["entity_id"], s["status"], s["signal_id"], s["severity"],
                       orjson.dumps(s["evidence"], option=orjson.OPT_SORT_KEYS)) for s in signals)
    assert seen(replayed) == seen(live)
    assert backtest.pins == {"held": 1, "raised": 1}


HELD = "li-held"


def _held_pin_events() -> list[tuple[str, bytes, bytes, int]]:
    """A listing pinned at 0:30 with no price judged yet, its bait drop at 4:05, and a
    stream and reports that move every input partition's event time to 12:00."""
    listing = {"schema_version": 1, "seller_id": "sl-h", "region": "US",
               "category": "fashion/bags", "currency": "USD", "listing_id": HELD}
    live = {"schema_version": 1, "stream_id": STREAM, "seller_id": "sl-h", "region": "US"}
    events: list[tuple[str, dict[str, Any]]] = [
        (LIVESTREAM_TOPIC, live | {"event_id": "start", "event_type": "stream_start",
                                   "ts": START, "title": "bags live", "category": "fashion/bags"}),
        (LISTING_TOPIC, listing | {"event_id": "new", "event_type": "listing_created",
                                   "ts": START + 1_000, "title": "leather bag", "price": 100.0}),
        (LIVESTREAM_TOPIC, live | {"event_id": "pin", "event_type": "product_pin",
                                   "ts": START + 30_000, "listing_id": HELD, "price": 100.0,
                                   "currency": "USD"}),
        (LISTING_TOPIC, listing | {"event_id": "drop", "event_type": "price_changed",
                                   "ts": START + 4 * MIN + 5_000, "price": 10.0,
                                   "previous_price": 100.0})]
    for i in range(12 * 6):
        events.append((LIVESTREAM_TOPIC, live | {
            "event_id": f"v{i}", "event_type": "viewer_snapshot", "ts": START + 5_000 + i * 10_000,
            "viewers": 800}))
    for li in _fillers():
        for i in range(12 * 3):
            events.append((LISTING_TOPIC, {**listing, "listing_id": li} | {
                "event_id": f"{li}-r{i}", "event_type": "listing_reported",
                "ts": START + 10_000 + i * 20_000, "user_id": f"u{i}", "reason": "other"}))
    events.sort(key=lambda te: te[1]["ts"])
    return [(topic, str(e["listing_id"] if topic == LISTING_TOPIC else e["stream_id"]).encode(),
             orjson.dumps(e), e["ts"]) for topic, e in events]


def test_a_held_pin_survives_a_crash_after_its_input_was_committed(tmp_path: Path) -> None:
    timed = _held_pin_events()
    before = [(t, k, v) for t, k, v, ts in timed if ts < START + 3 * MIN]
    after = [(t, k, v) for t, k, v, ts in timed if ts >= START + 3 * MIN]
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, PARTITIONS))
        first = WorkerProcess(broker, tmp_path / "first", "held")
        try:
            first.wait_started()
            asyncio.run(send(broker, before))
            [pin] = [r for r in asyncio.run(read_all(broker, LIVESTREAM_TOPIC, lambda rs: False,
                                                     timeout_s=3))
                     if orjson.loads(r.value)["event_type"] == "product_pin"]
            deadline = time.monotonic() + 60
            # the pin is held, and the worker's input is committed past it: a restarted
            # worker will not read it again
            while (first.metric("riskstream_pins_total", action="held") < 1
                   or not asyncio.run(committed_past(broker, "held-ingest", [pin]))):
                assert time.monotonic() < deadline, "the pin was not held and committed past"
                time.sleep(0.5)
            time.sleep(2)  # the state write's (5 ms linger) acknowledgement, with room
        finally:
            first.kill()  # SIGKILL: nothing flushed on the way out
        second = WorkerProcess(broker, tmp_path / "second", "held")
        try:
            second.wait_started()
            asyncio.run(send(broker, after))
            records = asyncio.run(read_all(broker, SIGNALS_TOPIC, lambda rs: bool(
                _prices([orjson.loads(r.value) for r in rs])), timeout_s=90))
            pins_read = second.metric("riskstream_pins_total")
        finally:
            second.stop()
    [opened] = _prices([orjson.loads(r.value) for r in records])
    assert (opened["entity_id"], opened["status"], opened["severity"]) == (HELD, "open", "high")
    assert opened["evidence"]["pinned"]["pinned_ts"] == START + 30_000
    assert pins_read == 0  # the restarted worker did not read the pin again: it kept it
