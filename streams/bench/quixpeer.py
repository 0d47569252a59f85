"""The peer a Python user would pick instead: the same job as a Quix Streams application.

Decode JSON, count per key in 60 s tumbling event-time windows (the event's own
``ts``, the same allowed lateness as riskstream's default policy), one output
record per closed window. Run by ``riskstream bench throughput`` in a process
of its own; prints one JSON line with its figures and exits once it has
processed ``--events`` records::

    python -m streams.bench.quixpeer --broker 127.0.0.1:9092 --events 200000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from typing import Any

import orjson
from quixstreams import Application

from streams.bench.figures import peak_rss_bytes
from streams.contract import INPUT_TOPICS


def _event_time(value: Any, headers: Any, timestamp: float, timestamp_type: Any) -> int:
    return int(value["ts"])


def run(broker: str, events: int, window_s: int, lateness_s: int) -> dict[str, float]:
    seen = {"n": 0, "t0": 0.0, "cpu0": 0.0, "t1": 0.0, "cpu1": 0.0}
    app = Application(
        broker_address=broker, consumer_group=f"quixpeer-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest", state_dir=tempfile.mkdtemp(prefix="quixpeer-"),
        loglevel="WARNING",
    )
    out = app.topic("quixpeer-windows", value_serializer="json")

    def count(value: Any) -> None:
        n = seen["n"] = seen["n"] + 1
        if n == 1:
            seen["t0"], seen["cpu0"] = time.perf_counter(), time.process_time()
        if n == events:
            seen["t1"], seen["cpu1"] = time.perf_counter(), time.process_time()
            app.stop()

    for name in INPUT_TOPICS:
        topic = app.topic(name, value_deserializer="json", timestamp_extractor=_event_time)
        sdf = app.dataframe(topic)
        sdf = sdf.update(count)
        windows = sdf.tumbling_window(duration_ms=window_s * 1000, grace_ms=lateness_s * 1000)
        windows.count().final().to_topic(out)
    app.run()
    elapsed = seen["t1"] - seen["t0"]
    return {
        "events": seen["n"], "seconds": elapsed, "eps": (events - 1) / elapsed if elapsed else 0,
        "cpu_s": seen["cpu1"] - seen["cpu0"], "peak_rss": peak_rss_bytes(os.getpid()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.quixpeer")
    p.add_argument("--broker", required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--window-s", type=int, default=60)
    p.add_argument("--lateness-s", type=int, default=10)
    args = p.parse_args(argv)
    result = run(args.broker, args.events, args.window_s, args.lateness_s)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
