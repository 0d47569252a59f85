"""A worker that crashes and restarts keeps its baselines and creates no phantom signals.

Runs after test_pipeline.py on the same broker: the input topics already hold
that module's events. A second deployment (its own app id) reads them, is
killed with SIGKILL half-way, and restarts. Signal ids are deterministic, so
every signal its workers send (as their logs show) must be one the first
deployment sent too: a lost baseline, a re-opened episode or a window judged
differently would add a new id. A third deployment is restarted after it
learned its categories' price bands, and must judge a new listing's price
against them at once. A fourth is killed while a seller's partial windows wait
for the last input partition's part, and must still judge the whole window.
Another runs two workers that share the partitions out after a rebalance:
neither may send a signal the first deployment did not. Another runs two workers
with a TTL of a minute: each forgets the entities it judges, and every quiet one
is forgotten.
"""

from __future__ import annotations

import asyncio
import math
import re
import signal
import time
from importlib import resources

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from signals.lifecycle import Lifecycle
from signals.merge import SPREAD_ENTITY_TYPES
from signals.state import decode_state
from streams.band_store import KEY_PREFIX, SAVE_INTERVAL_S
from streams.localworker import WorkerProcess
from streams.price_bands import POOL_KEY, PriceBands
from streams.producer import produce
from streams.simulate import CURRENCY
from streams.sweep import SWEEP_INTERVAL_S
from streams.topics import key_partition
from tests.integration.conftest import read_all, start_worker, stop_worker

pytestmark = pytest.mark.integration


def _signals(broker: str) -> dict[tuple[str, str], str]:
    """Every (signal id, status) on ``risk.signals``, with its entity type."""
    records = asyncio.run(read_all(broker, "risk.signals", lambda r: False, timeout_s=4))
    return {(s["signal_id"], s["status"]): s["entity_type"]
            for s in (orjson.loads(r.value) for r in records)}


def _logged(w: WorkerProcess) -> set[tuple[str, str]]:
    """(signal id, status) of each signal worker ``w`` logged as it sent it."""
    out = set()
    for line in w.log.read_bytes().splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # the last line of a worker killed while writing it
        if rec.get("msg") == "signal":
            out.add((rec["signal_id"], rec["status"]))
    return out


def _caught_up(w, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while w.metric("riskstream_events_processed_total") == 0 or (
            w.metric("riskstream_consumer_lag_records") > 0):
        assert time.monotonic() < deadline, "worker did not catch up"
        time.sleep(1)


def test_crash_and_restart_creates_no_phantom_signals(broker, worker, run, tmp_path) -> None:
    before = _signals(broker)  # the first deployment's, which ran uninterrupted
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
        # its input read, the detect stage may still be judging what the ingest
        # stage closed (on a slow machine, more than 5 s of it)
        _settled(second, "riskstream_windows_evaluated_total")
    finally:
        stop_worker(second)
    emitted = _logged(first) | _logged(second)
    assert emitted, "the restarted deployment emitted nothing to compare"
    # every signal of the crashed and restarted deployment is one the uninterrupted
    # one sent too, with the same id and status: entities spread over partitions
    # (sellers, segments, clusters, terms) included
    assert emitted <= set(before), sorted(emitted - set(before))
    assert {before[k] for k in emitted} & SPREAD_ENTITY_TYPES


def test_two_workers_sharing_a_deployment_create_no_phantom_signals(broker, worker, run,
                                                                    tmp_path) -> None:
    """Scale-out: a second worker of a deployment starts as the first begins to read.
    Joining the consumer groups, it makes the first give up partitions it has begun
    to read (uncommitted input, partial windows waiting for a merge), and the two
    then share the input and windows partitions. Every signal either sends must be one
    the single-worker deployment sent, with the same id and status."""
    before = _signals(broker)
    first = WorkerProcess(broker, tmp_path / "a", "rs-scale")
    try:
        # the second starts once the first holds input partitions: started at the same
        # instant, both can join the group's first generation, and no partition that
        # one had begun to read is taken from it
        deadline = time.monotonic() + 180
        while not re.search(rb"Setting newly assigned partitions \{TopicPartition[^}]*\} "
                            rb"for group rs-scale-ingest", first.log.read_bytes()):
            assert time.monotonic() < deadline and first.proc.poll() is None, \
                first.log.read_text()[-3000:]
            time.sleep(0.05)
    except BaseException:
        stop_worker(first)
        raise
    second = WorkerProcess(broker, tmp_path / "b", "rs-scale")
    pair = (first, second)
    try:
        for w in pair:
            w.wait_started()
        for w in pair:
            _caught_up(w)
        judged = [_settled(w, "riskstream_windows_evaluated_total") for w in pair]
    finally:
        for w in pair:
            stop_worker(w)
    assert all(judged), f"each worker judged windows of its own: {judged}"
    # a rebalance took partitions from a worker that had them (aiokafka logs it)
    assert any(b"Revoking previously assigned partitions frozenset({TopicPartition"
               in w.log.read_bytes() for w in pair)
    emitted = _logged(first) | _logged(second)
    assert emitted <= set(before), sorted(emitted - set(before))
    assert {before[k] for k in emitted} & SPREAD_ENTITY_TYPES


def test_two_workers_each_sweep_the_entities_they_judge(broker, run, tmp_path) -> None:
    """Every worker holds every state, but forgets (and resolves) past the TTL only
    the entities whose windows it judges. Between them, every entity that went
    quiet is forgotten, and no signal is resolved by both."""
    app_id, ttl_s = "rs-owners", 60
    policy = yaml.safe_load(resources.files("signals").joinpath("default_policy.yaml")
                            .read_text())
    policy["entity_ttl_s"] = ttl_s  # so most of the run's 40 minutes go quiet
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    env = {"RISKSTREAM_POLICY": str(tmp_path / "policy.yaml")}
    pair = (WorkerProcess(broker, tmp_path / "a", app_id, env),
            WorkerProcess(broker, tmp_path / "b", app_id, env))
    try:
        for w in pair:
            w.wait_started()
        for w in pair:
            _caught_up(w)
        for w in pair:
            _settled(w, "riskstream_windows_evaluated_total")
        # two sweeps each after the last window was judged
        swept = [w.metric("riskstream_sweep_seconds_count") for w in pair]
        deadline = time.monotonic() + 4 * SWEEP_INTERVAL_S
        while any(w.metric("riskstream_sweep_seconds_count") < n + 2
                  for w, n in zip(pair, swept, strict=True)):
            assert time.monotonic() < deadline, "the workers did not sweep twice"
            time.sleep(1)
        expired = [w.metric("riskstream_states_expired_total") for w in pair]
    finally:
        for w in pair:
            stop_worker(w)
    assert all(expired), f"each worker forgets its own share: {expired}"
    records = asyncio.run(read_all(broker, f"{app_id}-entity-state", lambda r: False,
                                   timeout_s=4))
    latest = {r.key: r.value for r in records}  # in order: the last record per key
    states = {k: decode_state(v) for k, v in latest.items()
              if v is not None and not k.startswith(KEY_PREFIX)}  # not a price band
    held = {k: s.last_s for k, s in states.items()}
    assert held and len(held) < len(latest)
    # both workers' newest windows are near the run's end; a state whose window is
    # minutes before that went quiet past the TTL, and its owner forgot it, or cut it
    # down to what outlives the TTL: what its detector keeps longer (a common word's
    # peak: only terms here), or a cooldown still running (the bundled cooldowns, 10
    # to 60 minutes, outlast this test's TTL)
    newest = max(held.values())
    quiet = sorted(k for k, last in held.items() if last + 60 + ttl_s + 300 < newest)
    cut = [k for k in quiet if states[k].cut]
    cooling = [states[k] for k in cut if not k.startswith(b"term:")]
    assert all(not state.det and state.life for state in cooling), cooling[:3]
    assert not [life for state in cooling for life in state.life.values()
                if Lifecycle(life).is_open]  # a cooldown: its signal resolved
    assert not [k for k in quiet if not states[k].cut], quiet[:10]
    a, b = (_logged(w) for w in pair)
    assert not [s for s in a & b if s[1] == "resolved"]


def _settled(w: WorkerProcess, name: str, timeout_s: float = 120) -> float:
    """Metric ``name`` of worker ``w`` once it has not moved for 3 s."""
    deadline = time.monotonic() + timeout_s
    last, since = w.metric(name), time.monotonic()
    while time.monotonic() - since < 3:
        assert time.monotonic() < deadline, f"{name} did not settle"
        time.sleep(0.5)
        now = w.metric(name)
        if now != last:
            last, since = now, time.monotonic()
    return last


def _own_signal(broker: str, w: WorkerProcess, key: bytes) -> dict:
    """The first signal on ``key``, once worker ``w`` has emitted it itself: the first
    deployment of the tests reads the same input and may emit it too."""
    records = asyncio.run(read_all(broker, "risk.signals",
                                   lambda rs: any(r.key == key for r in rs), timeout_s=120))
    got = [orjson.loads(r.value) for r in records if r.key == key]
    assert got, f"no signal on {key!r}"
    deadline = time.monotonic() + 30
    while got[0]["signal_id"].encode() not in w.log.read_bytes():
        assert time.monotonic() < deadline, f"the restarted worker did not signal {key!r}"
        time.sleep(0.5)
    return got[0]


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
        bait = _own_signal(broker, second, b"li-band-bait")
        assert bait["signal_type"] == "price_anomaly"
        time.sleep(SAVE_INTERVAL_S + 3)  # a save of the band with the bait price learned
    finally:
        stop_worker(second)
    after = _saved_bands(broker, app_id)
    # the band went on from what it held: one relearned since the restart holds only
    # the listings read again after it
    assert after[key][2] > last_ws and after[key][0] > n


def _listing(listing_id: str, event_type: str, ts: int) -> dict:
    return {"schema_version": 1, "event_id": f"merge-{listing_id}-{event_type}",
            "event_type": event_type, "ts": ts, "region": "US", "listing_id": listing_id,
            "seller_id": "sl-merge-burst", "category": "toys/figures"} | (
        {"price": 35.0, "currency": "USD", "title": "figure"}
        if event_type == "listing_created" else {})


async def _send_listings(broker: str, events: list[tuple[int, dict]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for partition, ev in events:
            await producer.send_and_wait("listing.events", orjson.dumps(ev),
                                         key=ev["listing_id"].encode(), partition=partition)
    finally:
        await producer.stop()


def test_a_sellers_partial_windows_survive_a_crash_while_they_wait_to_be_merged(
        broker, run, tmp_path) -> None:
    app_id = "rs-merge"
    records = asyncio.run(read_all(broker, "listing.events", lambda r: False, timeout_s=4))
    window_ms = 60_000
    start = (max(orjson.loads(r.value)["ts"] for r in records) // window_ms + 1) * window_ms
    partitions = max(r.partition for r in records) + 1
    ids: dict[int, list[str]] = {p: [] for p in range(partitions)}
    n = 0
    while any(len(v) < 3 for v in ids.values()):  # 3 listings hashed to every partition
        n += 1
        lid = f"li-merge-{n}"
        part = ids[key_partition(lid.encode(), partitions)]
        if len(part) < 3:
            part.append(lid)
    burst = [(p, _listing(lid, "listing_created", start + 5_000 + i * 1_000))
             for p, lids in ids.items() for i, lid in enumerate(lids)]
    last = partitions - 1
    # every partition but the last moves on past the window: their parts go to the
    # detect stage, where they wait for the last partition's part
    closers = [(p, _listing(ids[p][0], "listing_removed", start + 150_000))
               for p in range(partitions)]

    # no warm-up: a restarted engine would otherwise take a new seller whose region it
    # has seen no known entity of since the restart for a cold start, and not judge it
    policy = yaml.safe_load(resources.files("signals").joinpath("default_policy.yaml")
                            .read_text())
    policy["signals"]["listing_burst"]["warmup_s"] = 0
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    env = {"RISKSTREAM_POLICY": str(tmp_path / "policy.yaml")}

    def start() -> WorkerProcess:
        w = WorkerProcess(broker, tmp_path, app_id, env)
        w.wait_started()
        return w

    first = start()
    try:
        _caught_up(first)
        # the detect stage too: the partials counted next must be the seller's
        _settled(first, "riskstream_windows_merged_total")
        merged = first.metric("riskstream_windows_merged_total", entity_type="seller")
        asyncio.run(_send_listings(broker, burst + closers[:last]))
        deadline = time.monotonic() + 60
        while first.metric("riskstream_windows_merged_total", entity_type="seller") < (
                merged + last):
            assert time.monotonic() < deadline, "the partial windows did not arrive"
            time.sleep(0.5)
        assert first.metric("riskstream_windows_pending_merge") > 0
        assert first.metric("riskstream_windows_records_held") > 0  # so not committed
        time.sleep(5)  # past the detect stage's offset commits (every 2.8 s)
        assert first.metric("riskstream_windows_held_seconds") >= 4  # theirs, at least
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
    finally:
        first.kill()
    second = start()
    try:
        asyncio.run(_send_listings(broker, closers[last:]))
        # it cannot open on the last partition's 3 listings alone (min_count 4)
        got = _own_signal(broker, second, b"sl-merge-burst")
        time.sleep(2)  # its record is on the topic well before this
    finally:
        stop_worker(second)
    assert got["signal_type"] == "listing_burst"
    # the first deployment of the tests, which read the same listings without a crash,
    # may have sent the same signal first: every record on the key must hold them all
    records = asyncio.run(read_all(broker, "risk.signals", lambda r: False, timeout_s=4))
    seen = [orjson.loads(r.value)["observed"]["listings_created"] for r in records
            if r.key == b"sl-merge-burst"]
    assert seen and set(seen) == {3 * partitions}, seen
