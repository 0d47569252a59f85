"""``riskstream demo``: a local broker, a worker, the simulator, and a live signal table.

Starts (or reuses) the local Kafka broker, a worker process and a simulator
process, then shows signals as they arrive on ``risk.signals`` next to the
worker's own counters read from its ``/metrics``. Ctrl-C stops everything it
started, in reverse order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Group, RenderableType
from rich.live import Live
from rich.padding import Padding
from rich.text import Text

from streams.localkafka import LocalKafka, cache_dir
from streams.topics import PUBLIC_TOPICS, SIGNALS_TOPIC, ensure_topics

WARMUP_S = 600  # event-time history produced at full speed, so baselines exist at once
ROWS = 15
SEVERITY_STYLE = {"low": "cyan", "medium": "yellow", "high": "red", "critical": "bold white on red"}


def why(sig: dict[str, Any]) -> str:
    """One line on why a signal fired: what was observed against what was expected.

    >>> why({"observed": {"reports": 28, "reports_per_1k_viewers": 20.7},
    ...      "baseline": {"rate": 0.73, "expected_count": 0.99}})
    'reports=28 reports_per_1k_viewers=20.7 | expected: rate=0.73 expected_count=0.99'
    """
    observed = " ".join(f"{k}={v}" for k, v in list(sig.get("observed", {}).items())[:3])
    baseline = " ".join(f"{k}={v}" for k, v in sig.get("baseline", {}).items()
                        if k != "windows" and k != "prior_rate")
    return f"{observed} | expected: {baseline}" if baseline else observed


def _scrape(url: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            text = resp.read().decode()
    except OSError:
        return totals
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith(("_total", "_records", "_windows")):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


#: the fields of a signal's first line, and their widths; ``why`` goes under them
FIELDS = (("time", 8), ("signal_type", 20), ("status", 8), ("severity", 8), ("score", 5))
WHY_INDENT = 10


def _render(rows: deque[dict[str, Any]], totals: dict[str, float], started: float,
            metrics_url: str) -> Group:
    """The demo's screen: the worker's counters, then each signal newest first, a
    line of its fields and its entity, and under it, wrapped to the terminal's
    width, why it fired.

    >>> from rich.console import Console
    >>> sig = {"emitted_ts": 0, "signal_type": "report_spike", "status": "open",
    ...        "entity_type": "stream", "entity_id": "st-1-1", "severity": "high",
    ...        "score": 0.95, "observed": {"reports": 28}, "baseline": {"rate": 0.73}}
    >>> console = Console(width=80, color_system=None)
    >>> with console.capture() as out:
    ...     console.print(_render(deque([sig]), {}, time.monotonic(), "http://x/metrics"))
    >>> lines = out.get().splitlines()
    >>> lines[4][8:].rstrip()
    '  report_spike          open      high      0.95   st-1-1'
    >>> lines[5].rstrip()
    '          reports=28 | expected: rate=0.73'
    """
    head = Text(no_wrap=True, overflow="ellipsis", style="bold")
    for name, width in FIELDS:
        head.append(f"{name:<{width}}  ")
    head.append("entity")
    lines: list[RenderableType] = [head]
    for sig in rows:
        sev = sig["severity"]
        cells = (time.strftime("%H:%M:%S", time.localtime(sig["emitted_ts"] / 1000)),
                 sig["signal_type"], sig["status"], sev, f'{sig["score"]:.2f}')
        line = Text(no_wrap=True, overflow="ellipsis")
        for (name, width), cell in zip(FIELDS, cells, strict=True):
            style = SEVERITY_STYLE.get(sev, "") if name == "severity" else ""
            line.append(f"{cell:<{width}}", style=style)
            line.append("  ")
        line.append(sig["entity_id"], style="bold")
        lines += [line, Padding(Text(why(sig), style="dim"), (0, 0, 0, WHY_INDENT))]
    g = totals.get
    header = Text(
        f"up {time.monotonic() - started:,.0f}s | events processed "
        f"{g('riskstream_events_processed_total', 0):,.0f} | dead-lettered "
        f"{g('riskstream_events_dead_lettered_total', 0):,.0f} | windows closed "
        f"{g('riskstream_windows_closed_total', 0):,.0f} | signals "
        f"{g('riskstream_signals_emitted_total', 0):,.0f} | lag "
        f"{g('riskstream_consumer_lag_records', 0):,.0f} | metrics {metrics_url}"
    )
    return Group(header, Text("risk.signals, newest first", style="bold underline"),
                 *lines, Text(), Text("Ctrl-C stops the demo and everything it started."))


async def _watch(broker: str, metrics_url: str, run_for: float | None) -> None:
    consumer = AIOKafkaConsumer(SIGNALS_TOPIC, bootstrap_servers=broker,
                                auto_offset_reset="latest", group_id=None)
    await consumer.start()
    rows: deque[dict[str, Any]] = deque(maxlen=ROWS)
    started = time.monotonic()
    totals: dict[str, float] = {}
    last_scrape = 0.0
    try:
        with Live(_render(rows, totals, started, metrics_url), refresh_per_second=2) as live:
            while run_for is None or time.monotonic() - started < run_for:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for rec in records:
                        rows.appendleft(orjson.loads(rec.value))
                if time.monotonic() - last_scrape > 2:
                    totals = await asyncio.to_thread(_scrape, metrics_url)
                    last_scrape = time.monotonic()
                live.update(_render(rows, totals, started, metrics_url))
    finally:
        await consumer.stop()


def _stop(proc: subprocess.Popen[bytes], name: str, timeout_s: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop in {timeout_s:.0f}s; killing it", file=sys.stderr)
        proc.kill()
        proc.wait()


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the demo as Ctrl-C does: through the clean-up below."""
    raise KeyboardInterrupt


def run_demo(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    kafka = LocalKafka(port=args.port, data_dir=cache_dir() / "demo-kafka-data")
    started_kafka = kafka.pid() is None
    if started_kafka:  # a fresh, empty broker: an earlier demo's events would overlap in time
        shutil.rmtree(kafka.data_dir, ignore_errors=True)
    logs = Path(".riskstream") / "demo"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    with (logs / "worker.log").open("wb") as wlog, (logs / "simulator.log").open("wb") as slog:
        try:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C or SIGTERM: clean up below
                print(f"starting Kafka on {kafka.bootstrap} "
                      "(first run fetches the jars with Maven)...")
                kafka.start()
                env = dict(os.environ, RISKSTREAM_BROKER=kafka.bootstrap,
                           RISKSTREAM_METRICS_PORT=str(args.metrics_port))
                asyncio.run(ensure_topics(kafka.bootstrap, PUBLIC_TOPICS, 4))
                cli = [sys.executable, "-m", "streams.cli"]
                procs.append(("worker", subprocess.Popen(
                    [*cli, "worker"], env=env, stdout=wlog, stderr=subprocess.STDOUT)))
                procs.append(("simulator", subprocess.Popen(
                    [*cli, "simulate", "--seed", str(args.seed), "--rate", str(args.rate),
                     "--speed", str(args.speed), "--duration", str(24 * 3600),
                     "--warmup", str(WARMUP_S), "--first-scenario", str(WARMUP_S + 60),
                     "--scenario-gap", "90", "--scenarios", "all",
                     "--labels", str(logs / "labels.jsonl")],
                    env=env, stdout=slog, stderr=subprocess.STDOUT)))
                print(f"worker and simulator started; logs in {logs}/", flush=True)
                url = f"http://127.0.0.1:{args.metrics_port}/metrics"
                asyncio.run(_watch(kafka.bootstrap, url, args.run_for))
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut this short
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print("stopping...")
            for name, proc in reversed(procs):
                _stop(proc, name)
            if started_kafka:
                kafka.stop()
            print("stopped.", flush=True)
    return 0
