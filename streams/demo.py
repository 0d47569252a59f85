"""``riskstream demo``: a local broker, a worker, the simulator, and a live signal table.

Starts (or reuses) the local Kafka broker, a worker process and a simulator
process, then shows signals as they arrive on ``risk.signals`` next to the
worker's own counters read from its ``/metrics``. Ctrl-C (or SIGTERM) stops
everything it started, in reverse order; so does the worker, the simulator or
the broker it started stopping by itself, which the demo then reports with the
end of that one's log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Group, RenderableType
from rich.live import Live
from rich.padding import Padding
from rich.text import Text

from signals.policy import load_policy
from streams.config import Settings
from streams.demo_reviewer import DemoReviewer
from streams.errors import BrokerUnreachable, ConfigError, RiskstreamError
from streams.localkafka import LocalKafka, cache_dir, sigterm_as_ctrl_c
from streams.logs import plain_warnings
from streams.tail import signal_of
from streams.topics import PUBLIC_TOPICS, SIGNALS_TOPIC, ensure_topics

log = logging.getLogger("riskstream.demo")
WARMUP_S = 600  # event-time history produced at full speed, so baselines exist at once
ROWS = 15
SEVERITY_STYLE = {"low": "cyan", "medium": "yellow", "high": "red", "critical": "bold white on red"}
LOG_TAIL_LINES = 5  # of a child's log, shown when it stops by itself


class ChildStopped(RiskstreamError):
    """A process the demo started (the broker, the worker or the simulator) stopped by
    itself.

    >>> print(ChildStopped("worker", "exit code 1", Path("w.log"), ["OSError: in use"]))
    the worker stopped by itself (exit code 1); the end of w.log:
      OSError: in use
    >>> print(ChildStopped("simulator", "killed by SIGKILL", Path("s.log"), []))
    the simulator stopped by itself (killed by SIGKILL); its log, s.log, is empty
    """

    def __init__(self, name: str, how: str, log: Path, tail: list[str]) -> None:
        said = "".join(f"\n  {line}" for line in tail)
        where = f"the end of {log}:{said}" if tail else f"its log, {log}, is empty"
        super().__init__(f"the {name} stopped by itself ({how}); {where}")


class _Watched:
    """A process the demo started, the log it writes to, and how to tell it stopped:
    ``stopped()`` is None while it runs, else how it ended."""

    def __init__(self, name: str, log: Path, stopped: Callable[[], str | None]) -> None:
        self.name, self.log, self.stopped = name, log, stopped

    @classmethod
    def child(cls, name: str, proc: subprocess.Popen[bytes], log: Path) -> _Watched:
        def stopped() -> str | None:
            code = proc.poll()
            if code is None:
                return None
            return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        return cls(name, log, stopped)

    def check(self) -> None:
        """Raise :class:`ChildStopped` if it has stopped."""
        how = self.stopped()
        if how is not None:
            try:
                text = self.log.read_text(errors="replace").splitlines()
            except FileNotFoundError:
                text = []
            raise ChildStopped(self.name, how, self.log,
                               [line for line in text if line.strip()][-LOG_TAIL_LINES:])


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
            if sample.name == "riskstream_verdicts_total":  # and by verdict
                name = f"{sample.name}:{sample.labels['verdict']}"
                totals[name] = totals.get(name, 0.0) + sample.value
    return totals


#: the fields of a signal's first line, and their widths; ``why`` goes under them
FIELDS = (("time", 8), ("signal_type", 20), ("status", 8), ("severity", 8), ("score", 5))
WHY_INDENT = 10


def _render(rows: deque[dict[str, Any]], totals: dict[str, float], started: float,
            metrics_url: str, verdicts: dict[str, str] | None = None) -> Group:
    """The demo's screen: the worker's counters, then each signal newest first, a
    line of its fields and its entity, and under it, wrapped to the terminal's width,
    the demo reviewer's verdict on it and why it fired.

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
    >>> with console.capture() as out:
    ...     console.print(_render(deque([sig | {"signal_id": "sig_1"}]), {}, time.monotonic(),
    ...                           "http://x/metrics", {"sig_1": "confirmed"}))
    >>> out.get().splitlines()[5].rstrip()
    '          confirmed: reports=28 | expected: rate=0.73'
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
        under = Text()
        verdict = (verdicts or {}).get(sig.get("signal_id", ""))
        if verdict is not None:
            under.append(f"{verdict}: ", style="green" if verdict == "confirmed" else "red")
        under.append(why(sig), style="dim")
        lines += [line, Padding(under, (0, 0, 0, WHY_INDENT))]
    g = totals.get
    header = Text(
        f"up {time.monotonic() - started:,.0f}s | events processed "
        f"{g('riskstream_events_processed_total', 0):,.0f} | dead-lettered "
        f"{g('riskstream_events_dead_lettered_total', 0):,.0f} | windows closed "
        f"{g('riskstream_windows_closed_total', 0):,.0f} | signals "
        f"{g('riskstream_signals_emitted_total', 0):,.0f} | lag "
        f"{g('riskstream_consumer_lag_records', 0):,.0f} | verdicts counted "
        f"{g('riskstream_verdicts_total', 0):,.0f} (false positive "
        f"{g('riskstream_verdicts_total:false_positive', 0):,.0f}) | metrics {metrics_url}"
    )
    return Group(header, Text("risk.signals, newest first", style="bold underline"),
                 *lines, Text(), Text("Ctrl-C stops the demo and everything it started."))


async def _start(consumer: AIOKafkaConsumer, broker: str, watched: list[_Watched]) -> None:
    """Start the consumer of signals, checking on the processes meanwhile: a broker that
    dies now leaves the consumer asking for metadata for up to 40 s, then raising."""
    starting = asyncio.ensure_future(consumer.start())
    try:
        while not starting.done():
            for proc in watched:
                proc.check()
            await asyncio.wait([starting], timeout=0.5)
        try:
            starting.result()
        except KafkaError as exc:
            for proc in watched:  # one that stopped since is what to report
                proc.check()
            raise BrokerUnreachable(broker) from exc
    except BaseException:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, KafkaError):
            await consumer.stop()
        raise


async def _watch(broker: str, metrics_url: str, run_for: float | None,
                 watched: list[_Watched], labels: Path) -> None:
    consumer = AIOKafkaConsumer(SIGNALS_TOPIC, bootstrap_servers=broker,
                                auto_offset_reset="latest", group_id=None)
    await _start(consumer, broker, watched)
    # the reviewer's verdicts wait at most 5 s for a broker that is gone (the default
    # 40 s would hold up the demo's clean-up)
    producer = AIOKafkaProducer(bootstrap_servers=broker, request_timeout_ms=5000)
    try:
        try:
            await producer.start()
        except KafkaError as exc:  # its broker went away since the consumer started
            for proc in watched:  # one that stopped since is what to report
                proc.check()
            raise BrokerUnreachable(broker) from exc
        await _show(consumer, DemoReviewer(labels, producer), metrics_url, run_for, watched)
    finally:
        # with its broker gone, aiokafka's stop re-raises the cancellation of its own
        # fetch task; whatever ended the watch (Ctrl-C, a process that stopped) goes on
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await producer.stop()


async def _show(consumer: AIOKafkaConsumer, reviewer: DemoReviewer, metrics_url: str,
                run_for: float | None, watched: list[_Watched]) -> None:
    """The live screen, until ``run_for`` has passed or a watched process stops; each
    signal that opens is reviewed by ``reviewer`` as it arrives."""
    rows: deque[dict[str, Any]] = deque(maxlen=ROWS)
    verdicts: dict[str, str] = {}
    started = time.monotonic()
    totals: dict[str, float] = {}
    last_scrape = 0.0
    live = Live(_render(rows, totals, started, metrics_url), refresh_per_second=2)
    try:
        with live:
            while run_for is None or time.monotonic() - started < run_for:
                for proc in watched:
                    proc.check()
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for rec in records:
                        try:
                            sig = signal_of(rec.value)
                        except ValueError as exc:  # another producer's record
                            log.warning("passed over a risk.signals record: %s", exc)
                            continue
                        rows.appendleft(sig)
                        verdict = await reviewer.review(sig)
                        if verdict is not None:
                            verdicts[sig["signal_id"]] = verdict
                if time.monotonic() - last_scrape > 2:
                    totals = await asyncio.to_thread(_scrape, metrics_url)
                    last_scrape = time.monotonic()
                shown = {sig["signal_id"] for sig in rows}
                verdicts = {k: v for k, v in verdicts.items() if k in shown}
                live.update(_render(rows, totals, started, metrics_url, verdicts))
    finally:
        if not live.console.is_terminal:  # piped, the last table ends without a line break
            live.console.line()


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


def _check_port_free(port: int) -> None:
    """Refuse a metrics port something listens on already (another worker or demo):
    the demo's worker would stop at once, unable to serve its metrics there."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the worker's server
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(f"--metrics-port {port}: in use ({exc.strerror}): another "
                              "worker or demo may be running; stop it or give another port"
                              ) from None


def run_demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env(metrics_port=args.metrics_port)  # what the worker will read
    load_policy(settings.policy)
    _check_port_free(args.metrics_port)
    sigterm_as_ctrl_c()  # the watch is cancelled, then the clean-up below
    kafka = LocalKafka(port=args.port, data_dir=cache_dir() / "demo-kafka-data")
    started_kafka = kafka.pid() is None
    if started_kafka:  # a fresh, empty broker: an earlier demo's events would overlap in time
        shutil.rmtree(kafka.data_dir, ignore_errors=True)
    logs = Path(".riskstream") / "demo"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopped: ChildStopped | None = None
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
                watched = [_Watched.child(name, proc, Path(log.name))
                           for (name, proc), log in zip(procs, (wlog, slog), strict=True)]
                if started_kafka:
                    watched.append(_Watched(
                        "Kafka broker", kafka.log_file,
                        lambda: None if kafka.pid() is not None else "its process is gone"))
                url = f"http://127.0.0.1:{args.metrics_port}/metrics"
                try:
                    with plain_warnings():  # the Kafka client's retries, once per 30 s
                        asyncio.run(_watch(kafka.bootstrap, url, args.run_for, watched,
                                           logs / "labels.jsonl"))
                except ChildStopped as exc:
                    stopped = exc
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut this short
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print("stopping...")
            for name, proc in reversed(procs):
                _stop(proc, name)
            if started_kafka:
                kafka.stop()
            print("stopped.", flush=True)
    if stopped is not None:
        print(f"riskstream demo: {stopped}", file=sys.stderr)
        return 1
    return 0
