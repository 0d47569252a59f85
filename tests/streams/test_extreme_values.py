"""Events that keep to the contract with values at its edges go through the whole core.

Each seed draws 90 minutes of every event type on a few streams, sellers and
listings, with whole numbers up to 2**63 - 1, amounts and prices from 0 and the
smallest float up to the largest, and awkward texts. Their windows cross the
windows topic's encoding, as in a worker, and are judged; every signal must be
written. Before, three purchases of 1e308 summed to infinity (null on the topic),
and prices of 0 and 1.8e308 overflowed ``math.exp``: each crashed the detect agent.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from signals.aggregate import decode_batch, encode_batch
from signals.engine import Engine
from signals.policy import load_policy
from streams.contract import LISTING_TOPIC, LIVESTREAM_TOPIC
from streams.ingest import IngestCore, Raw
from tests.streams.events import BASE_TS, listing, live

WHOLE = [0, 1, 3, 1000, 2**53 + 1, 2**63 - 1]  # the contract's largest
AMOUNTS = [0.0, 5e-324, 0.01, 9.99, 1e9, 1e300, 1.7976931348623157e308]
TEXTS = ["hi", "", "x" * 2000, "😀" * 500, "w h a t s a p p", "t.me/abc",
         "\uff57\uff48\uff41\uff54\uff53\uff41\uff50\uff50",  # full-width letters
         "\u202e\u0000", "スーパーコピー " * 50, "0 eight 1 2 three 4567"]
LIVE = {
    "stream_start": lambda r: {"title": r.choice(TEXTS)[:500],
                               "category": r.choice(["beauty/skincare", "x" * 200])},
    "stream_end": lambda r: {},
    "viewer_snapshot": lambda r: {"viewers": r.choice(WHOLE)},
    "comment": lambda r: {"text": r.choice(TEXTS)},
    "like": lambda r: {"count": r.choice(WHOLE[1:])},
    "share": lambda r: {},
    "gift": lambda r: {"value": r.choice(AMOUNTS), "currency": "USD"},
    "follow": lambda r: {},
    "product_pin": lambda r: {"listing_id": f"li-{r.randint(0, 5)}",
                              "price": r.choice(AMOUNTS), "currency": "USD"},
    "purchase": lambda r: {"order_id": f"o{r.random()}", "listing_id": f"li-{r.randint(0, 5)}",
                           "amount": r.choice(AMOUNTS), "currency": "USD"},
    "report": lambda r: {"reason": r.choice(["fraud", "counterfeit", "other"])},
}
LISTING = {
    "listing_created": lambda r: {"title": r.choice(TEXTS)[:500],
                                  "price": r.choice(AMOUNTS), "currency": "USD"},
    "price_changed": lambda r: {"price": r.choice(AMOUNTS),
                                "previous_price": r.choice(AMOUNTS), "currency": "USD"},
    "listing_reported": lambda r: {"user_id": f"u{r.randint(0, 50)}", "reason": "fraud"},
}


def _event(r: random.Random, n: int, ts: int) -> tuple[str, bytes, dict[str, Any]]:
    if r.random() < 0.75:
        kind = r.choice(list(LIVE))
        ev = live(kind, event_id=f"e{n}", ts=ts, stream_id=f"st-{r.randint(0, 5)}",
                  seller_id=f"sl-{r.randint(0, 3)}", region=r.choice(["US", "DE", "JP"]),
                  user_id=f"u{r.randint(0, 50)}", account_age_days=r.choice(WHOLE),
                  **LIVE[kind](r))
        if kind in ("viewer_snapshot", "stream_start", "stream_end", "product_pin"):
            del ev["user_id"]
        return LIVESTREAM_TOPIC, ev["stream_id"].encode(), ev
    kind = r.choice(list(LISTING))
    ev = listing(kind, event_id=f"l{n}", ts=ts, listing_id=f"li-{r.randint(0, 5)}",
                 seller_id=f"sl-{r.randint(0, 3)}", region=r.choice(["US", "DE"]),
                 seller_account_age_days=r.choice(WHOLE), **LISTING[kind](r))
    return LISTING_TOPIC, ev["listing_id"].encode(), ev


@pytest.mark.parametrize("seed", [1, 4, 6])
def test_events_at_the_contracts_edges_are_judged_and_their_signals_written(
        seed: int) -> None:
    r = random.Random(seed)
    core = IngestCore(window_ms=60_000, lateness_ms=10_000, young_days=7, terms=True,
                      clusters=True, segments=True)
    engine, states, offsets = Engine(load_policy()), {}, {LIVESTREAM_TOPIC: 0, LISTING_TOPIC: 0}
    judged, written, dead = 0, 0, 0

    def judge(closed: list) -> None:
        nonlocal judged, written
        for agg in decode_batch(encode_batch(closed)):  # as the windows topic carries them
            if not engine.wants(agg):
                continue
            result = engine.process(agg, states.get(agg.key), emitted_ts=agg.window_end)
            judged += 1
            if not result.stale:
                states[agg.key] = result.state
            for signal in result.signals:
                assert 0.0 <= orjson.loads(signal.to_json())["score"] <= 1.0
                written += 1

    n = 0
    for minute in range(90):
        batches: dict[str, list[tuple[bytes, dict[str, Any]]]] = {}
        for _ in range(r.randint(5, 120)):
            n += 1
            topic, key, ev = _event(r, n, BASE_TS + minute * 60_000 + r.randint(0, 59_999))
            batches.setdefault(topic, []).append((key, ev))
        for topic, records in batches.items():
            records.sort(key=lambda kv: kv[1]["ts"])
            raws = [Raw(offsets[topic] + i, key, orjson.dumps(ev))
                    for i, (key, ev) in enumerate(records)]
            offsets[topic] += len(raws)
            out = core.process(topic, 0, raws)
            dead += len(out.dead)
            judge(out.closed)
    for topic in offsets:
        judge(core.advance(topic, 0, BASE_TS + 200 * 60_000).closed)
    assert dead == 0  # every event kept to the contract
    assert judged > 500 and written > 0, (judged, written)
