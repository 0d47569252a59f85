"""Latency of a live run at a fixed rate: record append to processed, window end to signal.

The input topics and ``risk.signals`` are created with
``message.timestamp.type=LogAppendTime``, so a record's timestamp is the
broker's append time. The simulator first writes ``warmup_s`` of history
unpaced (baselines for the detectors), then ``live_s`` seconds paced to the
wall clock at ``rate`` events/s with the scenarios of the enabled signal types
starting early in the live part. Figures:

* processing latency — the worker's ``riskstream_processing_latency_seconds``
  histogram (per partition batch, the oldest record's append time to the end of
  its batch: an upper bound for every record in the batch), counted over the
  live part only (the difference of two readings), quantiles interpolated as
  Prometheus's ``histogram_quantile`` does;
* signal delay — for each ``open`` signal on ``risk.signals`` of a window that
  ends in the live part: its append time minus the window's event-time end (the
  window's allowed lateness is part of it), over all signals and per signal type.
  Signals of history windows are counted apart: their windows ended before they
  were written.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from signals.engine import Engine
from signals.policy import load_policy
from streams.bench.figures import (
    bucket_diff,
    histogram_buckets,
    histogram_quantile,
    peak_rss_bytes,
    percentile,
)
from streams.contract import INPUT_TOPICS
from streams.localworker import WorkerProcess, metric_sum
from streams.producer import produce
from streams.simulate import SCENARIOS, SimConfig, Simulator, matches
from streams.topics import PUBLIC_TOPICS, SIGNALS_TOPIC, ensure_topics

HISTOGRAM = "riskstream_processing_latency_seconds"
SETTLE_S = 15  # live seconds before the latency reading starts


def run(broker: str, workdir: Path, rate: float, live_s: int, warmup_s: int, seed: int,
        partitions: int = 4) -> dict[str, Any]:
    append_time = {"message.timestamp.type": "LogAppendTime"}
    asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, partitions,
                              configs={t: append_time for t in (*INPUT_TOPICS, SIGNALS_TOPIC)}))
    engine = Engine(load_policy())
    kinds = tuple(k for k in SCENARIOS if k in engine.policy.signals
                  and engine.policy.signals[k].enabled)
    w = WorkerProcess(broker, workdir, "bench-live")
    try:
        w.wait_started()
        margin_s = warmup_s * rate / 20_000 + 20  # time to write and digest the history
        live_from = int((time.time() + margin_s) * 1000)
        sim = Simulator(SimConfig(
            seed=seed, rate=rate, duration_s=warmup_s + live_s,
            start_ts=live_from - warmup_s * 1000, scenarios=kinds,
            first_scenario_s=warmup_s + 5, scenario_gap_s=10, scenario_len_s=live_s))
        done = threading.Event()
        failure: list[BaseException] = []

        def producer() -> None:
            try:
                asyncio.run(produce(sim, broker, speed=1.0, pace_from_ts=live_from,
                                    partitions=partitions, clock_anchored=True))
            except BaseException as exc:  # reported by the main thread below
                failure.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=producer, daemon=True)
        thread.start()
        while time.time() < live_from / 1000 + SETTLE_S and not done.is_set():
            time.sleep(0.5)
        first = w.samples()
        lag_at_start = metric_sum(first, "riskstream_consumer_lag_records")
        max_lag = lag_at_start
        while not done.wait(1.0):
            max_lag = max(max_lag, w.metric("riskstream_consumer_lag_records"))
        if failure:
            raise failure[0]
        last = w.samples()
        peak_rss = peak_rss_bytes(w.pid)
    finally:
        w.stop()
    live = bucket_diff(histogram_buckets(last, HISTOGRAM), histogram_buckets(first, HISTOGRAM))
    signals = asyncio.run(all_signals(broker))
    opened = [s for s in signals if s["status"] == "open"]
    # a window of the unpaced history ended long before it was written: its signal's
    # "delay" would be the history's age, so only windows ending in the paced part count
    paced = [s for s in opened if s["window_end"] > live_from]
    history = [s for s in opened if s["window_end"] <= live_from]
    delays = [(s["_append_ts"] - s["window_end"]) / 1000.0 for s in paced]
    by_type: dict[str, list[float]] = {}
    for s, delay in zip(paced, delays, strict=True):
        by_type.setdefault(s["signal_type"], []).append(delay)
    labels = sim.labels()
    return {
        "rate": rate, "live_s": live_s, "batches": live[-1][1] if live else 0,
        "latency_p50_ms": histogram_quantile(0.5, live) * 1000,
        "latency_p99_ms": histogram_quantile(0.99, live) * 1000,
        "lag_at_start": lag_at_start, "max_lag": max_lag, "peak_rss": peak_rss,
        "signals_open": len(delays),
        "signals_open_in_history": len(history),
        "timed_signals": [  # type, entity, window start and end, append time (ms)
            (s["signal_type"], s["entity_id"], s["window_start"], s["window_end"],
             s["_append_ts"]) for s in paced],
        "history_signals": [  # type, entity, window end in s before the live part
            (s["signal_type"], s["entity_id"], (live_from - s["window_end"]) / 1000.0)
            for s in history],
        "signal_delay_p50_ms": percentile(delays, 50) * 1000,
        "signal_delay_p99_ms": percentile(delays, 99) * 1000,
        # per type, so one slow path (e.g. merged windows released by the settle
        # fallback rather than by watermarks) shows as that type's, not as noise
        "signal_delay_by_type_s": {t: sorted(d) for t, d in sorted(by_type.items())},
        "scenarios": len(labels),
        # a term's or a cluster's signal names it otherwise than its label: see matches
        "scenarios_found": sum(any(matches(lb, s) for s in opened) for lb in labels),
    }


async def all_signals(broker: str, quiet_s: float = 3.0) -> list[dict[str, Any]]:
    """Every signal on the topic, each with its append time as ``_append_ts``."""
    consumer = AIOKafkaConsumer(SIGNALS_TOPIC, bootstrap_servers=broker, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        while batch := await consumer.getmany(timeout_ms=int(quiet_s * 1000)):
            for records in batch.values():
                out.extend(orjson.loads(r.value) | {"_append_ts": r.timestamp} for r in records)
    finally:
        await consumer.stop()
    return out
