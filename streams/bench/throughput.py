"""Throughput on preloaded topics: the raw client, one riskstream worker, the Quix peer.

All three read the same ``N`` simulator events (every scenario injected, the
simulator's skewed audiences) from the start of the input topics of one local
broker, one after the other, in the same run:

* **baseline** — a plain aiokafka consumer: ``getmany`` + ``orjson.loads`` of
  every value, nothing else;
* **riskstream** — ``riskstream worker`` (a child process, default policy) from
  its first record until every record is folded, every window it can close is
  closed *and* run through the detectors (read from its ``/metrics``);
* **quix** — :mod:`streams.bench.quixpeer` in a child process.

The preload ends with one event per input partition a window and the lateness
after the last simulated event, so that every simulated window closes.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from signals.engine import Engine
from signals.merge import SPREAD_ENTITY_TYPES
from signals.metrics import ENTITY_TYPES
from signals.policy import load_policy
from streams.bench.figures import cpu_seconds, peak_rss_bytes
from streams.contract import INPUT_TOPICS
from streams.localworker import WorkerProcess, metric_sum
from streams.simulate import SimConfig, Simulator
from streams.topics import PUBLIC_TOPICS, ensure_topics

Event = tuple[str, bytes, dict[str, Any]]
POLL_S = 0.1  # /metrics polls: each costs the worker ~1 ms of CPU


@dataclass(frozen=True)
class Preload:
    events: int  # records written, the closing events included
    keys: int  # distinct record keys
    top_key_share: float  # share of the records on the busiest key
    produce_eps: float


def simulated(n: int, rate: float, seed: int) -> list[Event]:
    """The first ``n`` events of a simulation at ``rate`` events/s with every scenario."""
    duration = math.ceil(n / rate * 1.2) + 60
    sim = Simulator(SimConfig(seed=seed, rate=rate, duration_s=duration))
    out = []
    for event in sim.events():
        out.append(event)
        if len(out) == n:
            break
    return out


def closing_events(events: list[Event], partitions: int, after_ms: int) -> list[tuple[int, Event]]:
    """One copy of each topic's last event per partition, ``after_ms`` later in event time."""
    last: dict[str, Event] = {}
    for event in events:
        last[event[0]] = event
    out = []
    for topic, (_, key, value) in sorted(last.items()):
        for p in range(partitions):
            copy = dict(value, event_id=f"bench-close-{topic}-{p}", ts=value["ts"] + after_ms)
            out.append((p, (topic, key, copy)))
    return out


async def preload(broker: str, events: list[Event], partitions: int, after_ms: int) -> Preload:
    await ensure_topics(broker, PUBLIC_TOPICS, partitions)
    producer = AIOKafkaProducer(bootstrap_servers=broker, linger_ms=10,
                                max_batch_size=512 * 1024)
    await producer.start()
    t0 = time.perf_counter()
    try:
        pending = [await producer.send(topic, orjson.dumps(value), key=key)
                   for topic, key, value in events]
        for p, (topic, key, value) in closing_events(events, partitions, after_ms):
            pending.append(await producer.send(topic, orjson.dumps(value), key=key, partition=p))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    elapsed = time.perf_counter() - t0
    counts: dict[bytes, int] = {}
    for _, key, _ in events:
        counts[key] = counts.get(key, 0) + 1
    return Preload(events=len(pending), keys=len(counts),
                   top_key_share=max(counts.values()) / len(events),
                   produce_eps=len(pending) / elapsed)


async def baseline(broker: str, total: int, partitions: int) -> dict[str, float]:
    """The raw client: read every record from the start and ``orjson.loads`` it."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker, group_id=None, enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_bytes=16 * 1024 * 1024)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in INPUT_TOPICS for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        n = 0
        t0 = cpu0 = 0.0
        loads = orjson.loads
        while n < total:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                if n == 0 and records:
                    t0, cpu0 = time.perf_counter(), time.process_time()
                for rec in records:
                    loads(rec.value)
                n += len(records)
        elapsed = time.perf_counter() - t0
        return {"eps": n / elapsed, "seconds": elapsed, "cpu_s": time.process_time() - cpu0}
    finally:
        await consumer.stop()


def window_progress(w: WorkerProcess, watched: tuple[str, ...]) -> tuple[float, float, float]:
    """(records handled, windows closed of watched entity types, windows handled by the
    detect stage: evaluated, stale or, for spread entities, merged and released)."""
    s = w.samples()
    handled = (metric_sum(s, "riskstream_events_processed_total")
               + metric_sum(s, "riskstream_events_duplicate_total")
               + metric_sum(s, "riskstream_events_dead_lettered_total"))
    closed = sum(metric_sum(s, "riskstream_windows_closed_total", entity_type=t)
                 for t in watched)
    done = (metric_sum(s, "riskstream_windows_stale_total")
            + sum(metric_sum(s, "riskstream_windows_skipped_total", entity_type=t)
                  for t in watched))
    for t in watched:
        if t in SPREAD_ENTITY_TYPES:
            done += metric_sum(s, "riskstream_windows_merged_total", entity_type=t)
        else:
            done += metric_sum(s, "riskstream_windows_evaluated_total", entity_type=t)
    if metric_sum(s, "riskstream_windows_pending_merge") > 0:
        done = min(done, closed - 1)  # merged windows still wait for a partition
    return handled, closed, done


def py_spy() -> str | None:
    """The py-spy executable: on the PATH, or beside this Python (a virtual
    environment's, when it is not activated)."""
    beside = Path(sys.executable).with_name("py-spy")
    return shutil.which("py-spy") or (str(beside) if beside.is_file() else None)


def riskstream(broker: str, total: int, workdir: Path, profile: Path | None = None,
               timeout_s: float = 1800.0) -> dict[str, float]:
    """One worker from the first record to the last window closed and evaluated;
    with ``profile``, py-spy samples it meanwhile (raw collapsed stacks to that file)."""
    engine = Engine(load_policy())
    watched = tuple(t for t in ENTITY_TYPES if engine.watches(t))
    w = WorkerProcess(broker, workdir, "bench-throughput")
    spy: subprocess.Popen[bytes] | None = None
    try:
        w.wait_started()
        if profile is not None:
            spy = subprocess.Popen(
                [py_spy() or "py-spy", "record", "--pid", str(w.pid), "--format", "raw",
                 "--rate", "250", "--nonblocking", "--output", str(profile)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        t_first = c_first = cpu_first = 0.0
        t_ingest = 0.0
        while time.monotonic() < deadline:
            if w.proc.poll() is not None:
                raise RuntimeError(f"worker exited; log {w.log}:\n{w.log.read_text()[-3000:]}")
            try:
                handled, closed, evaluated = window_progress(w, watched)
            except OSError:  # a scrape can fail while the worker is busy: ask again
                time.sleep(POLL_S)
                continue
            now = time.perf_counter()
            if not t_first and handled > 0:
                t_first, c_first, cpu_first = now, handled, cpu_seconds(w.pid)
            if not t_ingest and handled >= total:
                t_ingest = now
            if t_ingest and evaluated >= closed:
                if c_first >= total:
                    raise RuntimeError(
                        f"the worker handled all {total:,} events before the first "
                        f"{POLL_S:.1f} s poll saw any: too few to time, use more --events")
                cpu = cpu_seconds(w.pid) - cpu_first
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
                return {
                    "eps": (total - c_first) / (now - t_first),
                    "ingest_eps": (total - c_first) / max(t_ingest - t_first, POLL_S),
                    "seconds": now - t_first, "cpu_s": cpu, "peak_rss": peak_rss_bytes(w.pid),
                    "windows": closed,
                }
            time.sleep(POLL_S)
        raise RuntimeError(f"worker did not finish in {timeout_s}s; log: {w.log}")
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        w.stop()


def quix(broker: str, total: int) -> dict[str, float]:
    """The Quix Streams peer in its own process."""
    out = subprocess.run(
        [sys.executable, "-m", "streams.bench.quixpeer", "--broker", broker,
         "--events", str(total)], capture_output=True, text=True, timeout=3600, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"Quix Streams peer failed:\n{out.stderr[-3000:]}")
    figures: dict[str, float] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return figures
