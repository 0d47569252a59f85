"""The Faust application: the detection stage, its state table, and the worker entry point.

The worker runs two stages in one process:

1. the batched ingest stage (:mod:`streams.ingest_loop`), a Faust task that folds
   raw input records into per-entity windows and sends the closed windows to the
   internal ``<app_id>-windows`` topic, batched per partition (an entity's windows
   always go to the partition its key hashes to);
2. the ``detect`` agent, which reads those windows, runs the policy's detectors
   with per-entity state (:mod:`streams.statestore`, mirrored to a compacted
   topic, so a replacement worker restores baselines), and writes signals to
   ``risk.signals``. A windows record that carries partial windows is
   acknowledged only once they were merged and judged (:mod:`streams.held`),
   so a worker that dies while they wait loses none of them.

The categories' price bands the ingest stage learns are kept in the same
topic (:mod:`streams.band_store`): the ingest stage starts once they are back.

Partition assignment and rebalancing of the windows topic are Faust's; the
maths is in ``detectors`` and ``signals``; this module only wires them.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import gc
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import faust
from prometheus_client import (
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    start_http_server,
)

from signals.aggregate import SOURCE_HEADER, FirstUse, Watermark, WindowAggregate
from signals.engine import Engine
from signals.merge import (
    SETTLE_MS,
    SPREAD_ENTITY_TYPES,
    SPREAD_SOURCES,
    Mergers,
    held_since,
    sweep_time,
)
from signals.metrics import Metrics, build_metrics
from signals.pins import PIN_KEY, Pin, pin_action
from signals.policy import Policy
from signals.record import Signal
from signals.verdicts import MUTE_HEADER, MUTE_KEY, MUTE_VALUE, Mute, action_of, encode_mute
from streams.band_store import SAVE_INTERVAL_S, changed_states, restore_bands
from streams.config import Settings
from streams.contract import VERDICTS_TOPIC
from streams.errors import BadRecord, ConfigError
from streams.held import HeldRecords, hold_parts
from streams.ingest import DeadLetter, IngestCore
from streams.ingest_loop import IngestLoop
from streams.logs import logging_config
from streams.statestore import EntityStateStore, category_record
from streams.sweep import SWEEP_INTERVAL_S, sweep_in_slices
from streams.topics import DLQ_TOPIC, SIGNALS_TOPIC, key_partition
from streams.transport import Transport
from streams.verdicts import SignalFollower, judge_verdict
from streams.windows import StreamStart
from streams.windows_records import read_windows_record

log = logging.getLogger("riskstream.detect")

MERGE_INTERVAL_S = 0.5
GC_THRESHOLDS = (50_000, 20, 100)
# how long the detect group waits for a silent member before it hands its partitions
# on: a worker that died is replaced after this, not after Faust's default 60 s. Faust
# heartbeats from its consumer thread (every 3 s), so a busy event loop does not
# starve them; the ingest group's aiokafka consumer has the same 10 s by default
SESSION_TIMEOUT_S = 10.0


def _now_ms() -> int:
    return int(time.time() * 1000)


def _source(headers: Iterable[tuple[str, bytes]] | None) -> str:
    """The input partition a windows record's windows were closed in (``""`` if
    the record does not say).

    >>> _source([("source", b"listing.events:2")]), _source(None)
    ('listing.events:2', '')
    """
    for name, value in headers or ():
        if name == SOURCE_HEADER:
            return value.decode()
    return ""


class App(faust.App):
    """A Faust app on :mod:`streams.transport` (a short consumer fetch wait) that counts
    its agents' crashes in ``crashes``."""

    crashes: Counter | None = None

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)

    async def _on_agent_error(self, agent: Any, exc: BaseException) -> None:
        """Faust's hook for an agent's crash (its "agent-errors" guide): counted, then
        Faust's own handling (it commits what was acknowledged), then Faust restarts the
        agent. The log has the traceback."""
        if self.crashes is not None:
            self.crashes.labels(agent=agent.name).inc()
        await super()._on_agent_error(agent, exc)


def create_app(settings: Settings, policy: Policy, metrics: Metrics) -> faust.App:
    """Build the Faust app for ``settings`` and ``policy`` (nothing starts yet)."""
    app = App(
        settings.app_id,
        broker=f"kafka://{settings.broker}",
        store="memory://",
        datadir=settings.data_dir,
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        # windows records held for a merge are acknowledged later (see ``detect``): a
        # rebalance or a shutdown must not wait for them, they are read again
        stream_wait_empty=False,
        producer_linger=0.005,
        broker_session_timeout=SESSION_TIMEOUT_S,
        logging_config=logging_config(settings.log_level),
    )
    app.crashes = metrics.agent_crashes
    windows = app.topic(settings.windows_topic, key_serializer="raw", value_serializer="raw",
                        partitions=settings.partitions, internal=True)
    signals_out = app.topic(SIGNALS_TOPIC, key_serializer="raw", value_serializer="raw")
    verdicts_in = app.topic(VERDICTS_TOPIC, key_serializer="raw", value_serializer="raw")
    dlq_out = app.topic(DLQ_TOPIC, key_serializer="raw", value_serializer="raw")
    follower = SignalFollower(settings.broker)
    states = EntityStateStore(settings.broker, settings.state_topic, settings.partitions)
    engine = Engine(policy)
    newest = {"window_end": -1}

    async def emit(signal: Signal) -> None:
        await signals_out.send(key=signal.entity_id.encode(), value=signal.to_json())
        metrics.signals_emitted.labels(signal_type=signal.signal_type, severity=signal.severity,
                                       status=signal.status).inc()
        metrics.signal_delay.labels(signal_type=signal.signal_type).observe(
            max(signal.emitted_ts - signal.window_end, 0) / 1000.0)
        log.info("signal", extra={"signal_id": signal.signal_id, "signal_type": signal.signal_type,
                                  "status": signal.status, "severity": signal.severity})

    # one merger per windows partition: a partial window and the watermarks that release
    # it must travel the same partition, where Kafka keeps them in the order sent; and
    # the records whose partials wait in it, unacknowledged
    mergers: dict[int, tuple[Mergers, HeldRecords]] = {}

    def merger_of(partition: int) -> tuple[Mergers, HeldRecords]:
        pair = mergers.get(partition)
        if pair is None:
            pair = mergers[partition] = (Mergers(settle_ms=SETTLE_MS), HeldRecords())
        return pair

    def gauge_merges() -> None:
        metrics.windows_pending_merge.set(sum(len(m) for m, _ in mergers.values()))
        metrics.windows_records_held.set(sum(len(h) for _, h in mergers.values()))

    def gauge_held_age() -> None:
        since = [t for _, h in mergers.values() if (t := h.held_since()) is not None]
        metrics.windows_held_seconds.set(
            max(_now_ms() / 1000.0 - min(since), 0.0) if since else 0.0)

    async def evaluate(key: bytes, agg: WindowAggregate) -> None:
        result = engine.process(agg, states.get(key), emitted_ts=_now_ms())
        if result.stale:
            metrics.windows_stale.labels(entity_type=agg.entity_type).inc()
            return
        await states.put(key, result.state)
        metrics.windows_evaluated.labels(entity_type=agg.entity_type).inc()
        newest["window_end"] = max(newest["window_end"], agg.window_end)
        for signal in result.signals:
            await emit(signal)

    async def evaluate_merged(aggs: list[WindowAggregate], merger: Mergers,
                              held: HeldRecords) -> None:
        """Judge merged windows, then acknowledge the records that held their parts."""
        skipped: dict[str, int] = {}
        for agg in aggs:
            if engine.wants(agg):
                await evaluate(agg.key.encode(), agg)
            else:  # e.g. one account's text, on two partitions
                skipped[agg.entity_type] = skipped.get(agg.entity_type, 0) + 1
            for ack in held.release((agg.key, agg.window_start)):
                await ack()
        lone = merger.take_lone()  # texts one account used, on no other partition
        for key in lone:
            for ack in held.release(key):
                await ack()
        if lone:
            skipped[FirstUse.entity_type] = skipped.get(FirstUse.entity_type, 0) + len(lone)
        for entity_type, n in skipped.items():
            metrics.windows_skipped.labels(entity_type=entity_type).inc(n)

    async def apply_mute(mute: Mute) -> None:
        """Resolve the signal a reviewer ended, and mute its entity (``Engine.mute``);
        the entity's windows arrive on this partition, so no window is judged between
        reading its state and putting it back."""
        key = mute.entity_key.encode()
        state = states.get(key)
        if state is None:  # not tracked (silent past the TTL): nothing to resolve or keep
            metrics.verdict_actions.labels(signal_type=mute.signal_type,
                                           action="untracked").inc()
            return
        resolved = engine.mute(mute, state, emitted_ts=_now_ms())
        await states.put(key, state)
        metrics.verdict_actions.labels(signal_type=mute.signal_type,
                                       action=action_of(mute.verdict, bool(resolved))).inc()
        for signal in resolved:
            await emit(signal)

    async def apply_pin(pin: Pin) -> None:
        """Note a listing pinned in a live stream (``Engine.pin``), raising its open
        signal if the policy says so; its windows arrive on this partition."""
        key = pin.entity_key.encode()
        state = states.get(key)
        noted = engine.pin(pin, state, emitted_ts=_now_ms())
        if not noted.stale:  # a listing with no state yet has one made for the pin
            await states.put(key, noted.state)
        metrics.pins.labels(action=pin_action(not noted.stale, state is not None,
                                              bool(noted.signals))).inc()
        for signal in noted.signals:
            await emit(signal)

    async def send_mute(mute: Mute) -> None:
        """Send ``mute`` to the windows partition of its entity (``key_partition``, as
        the ingest stage sends the entity's windows), in a header: the record's value
        is an empty batch, so a worker of an earlier version, during a rolling
        upgrade, passes over it."""
        await windows.send(key=MUTE_KEY, value=MUTE_VALUE,
                           headers=[(MUTE_HEADER, encode_mute(mute))],
                           partition=key_partition(mute.entity_key.encode(),
                                                   settings.partitions))

    async def dead_letter_window_record(message: Any, exc: BadRecord) -> None:
        """A windows-topic record this worker cannot read (``read_windows_record``): to
        the dead-letter topic with its reason before it is acknowledged, and counted
        under its topic; the stage reads on."""
        dead = DeadLetter(message.topic, message.partition, message.offset, message.key,
                          message.value, exc.kind, str(exc))
        sent = await dlq_out.send(key=message.key, value=dead.to_json())
        await sent
        metrics.events_dead_lettered.labels(topic=message.topic, kind=exc.kind).inc()
        log.warning("dead-lettered a windows record", extra={
            "partition": message.partition, "offset": message.offset,
            "error": str(exc)[:200]})

    @app.agent(windows, name="detect")
    async def detect(stream: Any) -> None:
        await states.ready.wait()
        async for event in stream.noack().events():
            message = event.message
            ack = functools.partial(stream.ack, event)
            merger, held = merger_of(message.partition)
            try:
                record = read_windows_record(message.key, message.value, message.headers)
            except BadRecord as exc:
                await dead_letter_window_record(message, exc)
                await ack()
                continue
            if message.key == MUTE_KEY:  # a reviewer's verdict that ends a signal
                for mute in cast(list[Mute], record):
                    await apply_mute(mute)
                await ack()
                continue
            if message.key == PIN_KEY:  # a listing pinned in a live stream
                for pin in cast(list[Pin], record):
                    await apply_pin(pin)
                await ack()
                continue
            if isinstance(record, Watermark):
                await evaluate_merged(merger.watermark(
                    record.topic, record.partition, record.partitions, record.closed_until),
                    merger, held)
                await ack()
                gauge_merges()
                continue
            # partial windows: other partitions' parts follow
            parts: list[WindowAggregate | FirstUse] = []
            for part in cast(list[WindowAggregate | FirstUse], record):
                if isinstance(part, FirstUse) or part.entity_type in SPREAD_ENTITY_TYPES:
                    parts.append(part)
                else:
                    await evaluate(part.key.encode(), part)
            # no await from the first part added to the hold: the release timer must
            # not judge a window before the record waits for it (it would wait forever)
            counted, is_held = hold_parts(parts, merger, held, ack, _source(message.headers),
                                          _now_ms())
            for (new_part, entity_type), n in counted.items():
                counter = metrics.windows_merged if new_part else metrics.windows_repeated
                counter.labels(entity_type=entity_type).inc(n)
            if not is_held:
                await ack()
            gauge_merges()

    # Faust passes the revoked set positionally, which its signal's type does not say
    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        """Commit what was judged, and drop the partials of windows partitions that go:
        their records were not acknowledged, so the next owner reads and merges them."""
        await app.consumer.commit()
        for tp in revoked:
            if tp.topic == settings.windows_topic:
                mergers.pop(tp.partition, None)

    @app.timer(interval=MERGE_INTERVAL_S)
    async def release_merged() -> None:
        """Evaluate spread entities' windows once all their partials had time to arrive."""
        for merger, held in list(mergers.values()):
            await evaluate_merged(merger.ready(_now_ms()), merger, held)
        gauge_merges()
        gauge_held_age()

    @app.timer(interval=float(SWEEP_INTERVAL_S))
    async def expire() -> None:
        """Forget entities silent past the policy's TTL (event time), resolving their
        signals, and term states beyond the cap (``streams.sweep``); no later than the
        earliest window still held for merging."""
        if newest["window_end"] < 0:
            return
        now = sweep_time(newest["window_end"],
                         held_since(m.oldest_start() for m, _ in mergers.values()))
        started = time.monotonic()
        # the entities whose windows this worker judges: each is swept by its owner only
        owned = {tp.partition for tp in app.consumer.assignment()
                 if tp.topic == settings.windows_topic}
        swept = await sweep_in_slices(
            states, engine, now, _now_ms(), settings.max_term_states,
            owns=lambda key: key_partition(key, settings.partitions) in owned)
        # forgotten, or cut down to what outlives the TTL (a seller's upload habit),
        # before anything else runs
        await states.delete_many(swept.forget, replace=swept.keep)
        metrics.sweep_seconds.observe(time.monotonic() - started)
        for signal in swept.signals:
            await emit(signal)
        metrics.tracked_entities.set(swept.tracked)
        metrics.term_states_forgotten.inc(swept.terms_forgotten)
        metrics.states_expired.inc(swept.expired)

    @app.task
    async def run_state_store() -> None:
        await states.run()

    @app.task
    async def run_signal_follower() -> None:
        await follower.run()

    @app.agent(verdicts_in, name="verdicts")
    async def count_verdicts(stream: Any) -> None:
        """Count each verdict under its signal's type (``streams.verdicts``); a bad
        record goes to the dead-letter topic, and is acknowledged once it is there."""
        async for event in stream.events():
            message = event.message
            dead = await judge_verdict(message.value, message.key, message.partition,
                                       message.offset, follower.ref_of, metrics, send_mute)
            if dead is not None:
                sent = await dlq_out.send(key=message.key, value=dead.to_json())
                await sent

    async def remember_categories(started: list[StreamStart]) -> list[asyncio.Future[Any]]:
        """Store the categories of streams that started, for a restarted ingest stage
        that resumes after their ``stream_start`` (see ``StateMap.stream_category``)."""
        window_ms = policy.windows.size_s * 1000
        return [await states.put(*category_record(s, window_ms)) for s in started]

    core = IngestCore(
        window_ms=policy.windows.size_s * 1000,
        lateness_ms=policy.windows.allowed_lateness_s * 1000,
        young_days=policy.young_account_days,
        max_future_ms=settings.max_future_s * 1000,
        max_past_ms=settings.max_past_s * 1000,
        dedup_capacity=settings.dedup_capacity,
        terms=engine.watches("term"),
        clusters=engine.watches("account_cluster"),
        segments=engine.watches("segment"),
        category_of=states.stream_category,
    )
    ingest = IngestLoop(core, metrics, settings.broker, f"{settings.app_id}-ingest",
                        settings.windows_topic, engine.wants, settings.batch_max_records,
                        read_skew_ms=settings.read_skew_s * 1000,
                        idle_close_ms=settings.idle_close_s * 1000,
                        windows_partitions=settings.partitions,
                        spread_topics=tuple(sorted({
                            topic for t, topics in SPREAD_SOURCES.items() if engine.watches(t)
                            for topic in topics})),
                        remember=remember_categories, on_assigned=states.caught_up)

    bands_back = {"done": False}

    @app.timer(interval=SAVE_INTERVAL_S)
    async def save_price_bands() -> None:
        """Write the price bands learned since the last call to the state topic."""
        if bands_back["done"] and core.newest_ts >= 0:
            for key, state in changed_states(core.price_bands, core.newest_ts, states):
                await states.put(key, state)

    @app.task
    async def run_ingest() -> None:
        await states.ready.wait()  # the price bands first: the ingest stage learns more
        restored = restore_bands(core.price_bands, states)
        bands_back["done"] = True
        log.info("price bands restored", extra={"records": restored})

        async def ready() -> None:
            # everything built at start-up lives as long as the worker: keep it out of
            # the collector's scans, which otherwise cost a third of the ingest loop
            gc.collect()
            gc.freeze()
            log.info("ingest started", extra={"broker": settings.broker})
        await ingest.run(on_ready=ready)

    return app


def serve_metrics(settings: Settings) -> Metrics:
    """What a worker needs of its host, taken before it waits for a broker: its data
    directory, and ``/metrics`` served; a :class:`ConfigError` names the setting."""
    try:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"RISKSTREAM_DATA_DIR={settings.data_dir!r}: cannot create it: "
                          f"{exc.strerror}") from None
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    metrics = build_metrics(registry)
    try:
        start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    except OSError as exc:
        hint = ("another worker may hold the port; choose another with --metrics-port or "
                "RISKSTREAM_METRICS_PORT" if exc.errno == errno.EADDRINUSE else
                "RISKSTREAM_METRICS_HOST must be a name or address of this machine")
        raise ConfigError(
            f"metrics on {settings.metrics_host}:{settings.metrics_port}: cannot serve them "
            f"there ({exc.strerror}): {hint}") from None
    return metrics


def run_worker(settings: Settings, policy: Policy, metrics: Metrics) -> None:
    """Run the worker until SIGINT or SIGTERM, counting into ``metrics`` (see
    :func:`serve_metrics`)."""
    # the ingest loop allocates a few objects per event and frees them at window close:
    # collect the young generation every 50k allocations instead of every 700
    gc.set_threshold(*GC_THRESHOLDS)
    app = create_app(settings, policy, metrics)
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True,
                          logging_config=logging_config(settings.log_level))
    worker.execute_from_commandline()
