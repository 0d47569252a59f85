"""``riskstream bench throughput``: every figure of the performance budget in one run.

Starts its own local broker (fresh, in a temporary directory), so nothing else
on the machine is touched and every run starts from the same empty topics::

    riskstream bench throughput --events 200000 --summary bench.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from signals.policy import load_policy
from streams.bench import latency, memory, throughput
from streams.bench.figures import percentile, show, top_frames
from streams.localkafka import LocalKafka, LocalKafkaError
from streams.localworker import free_port_pair

START_ATTEMPTS = 3  # a free port picked can be taken before the broker binds it


_LEVEL = re.compile(r"^\[[^\]]*\] ([A-Z]+) ")  # a log entry's first line, and its level
_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")  # a stack trace's frames
_ROUTINE = frozenset(("INFO", "DEBUG", "TRACE"))


def _tail(log: Path, lines: int = 15) -> str:
    """The last lines of a broker's log that say why it stopped: its entries of a
    routine level (a config dump's lines with them) and stack frames are left out, or,
    if that leaves none, the last lines of all. Nothing if the log is not there or
    empty.

    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "server.log"
    >>> _ = log.write_text("[t] INFO starting with\\n\\tport = 9092\\n"
    ...     "[t] ERROR bind failed (kafka.Kafka)\\n"
    ...     "Caused by: java.net.BindException: Address already in use\\n"
    ...     "\\tat sun.nio.ch.Net.bind0(Native Method)\\n\\t... 17 more\\n"
    ...     "[t] INFO still starting\\n")
    >>> print(_tail(log), end="")
    --- server.log:
    [t] ERROR bind failed (kafka.Kafka)
    Caused by: java.net.BindException: Address already in use
    """
    if not log.is_file():
        return ""
    every = log.read_text(errors="replace").splitlines()
    if not every:
        return ""
    kept, routine = [], False
    for line in every:
        entry = _LEVEL.match(line)
        if entry:
            routine = entry.group(1) in _ROUTINE
        if not routine and not _FRAME.match(line):
            kept.append(line)
    return f"--- {log.name}:\n" + "\n".join(kept[-lines:] or every[-lines:]) + "\n"


@contextlib.contextmanager
def fresh_broker(root: Path, name: str) -> Iterator[str]:
    """A local broker on free ports with an empty data directory under ``root``
    (a kept ``--workdir`` from an earlier run is emptied first: its old topics would
    mix old events with this run's)."""
    for attempt in range(1, START_ATTEMPTS + 1):
        shutil.rmtree(root / name, ignore_errors=True)
        kafka = LocalKafka(port=free_port_pair(), data_dir=root / name)
        try:
            kafka.start()
            break
        except LocalKafkaError as exc:
            # the run's workdir may be a temporary one, removed at its end: keep the
            # broker's own words with the error, not only the path of its log
            kafka.stop()
            failed = f"{exc}\n{_tail(kafka.log_file)}{_tail(root / name / 'server.log')}"
            if attempt == START_ATTEMPTS:
                raise LocalKafkaError(failed) from None
            print(f"riskstream: a fresh broker failed to start (attempt {attempt} of "
                  f"{START_ATTEMPTS}), trying again on other ports:\n{failed}",
                  file=sys.stderr)
    try:
        yield kafka.bootstrap
    finally:
        kafka.stop()


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def _memory(entities: int, churn_rounds: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "streams.bench.memory", "--entities", str(entities),
         "--churn-rounds", str(churn_rounds)],
        capture_output=True, text=True, timeout=7200, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"memory benchmark failed:\n{out.stderr[-3000:]}")
    figures: dict[str, Any] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return figures


def run_throughput(args: argparse.Namespace) -> int:
    policy = load_policy()
    after_ms = (policy.windows.size_s + policy.windows.allowed_lateness_s + 1) * 1000
    summary: dict[str, Any] = {"events": args.events}
    keep = args.workdir is not None
    root = Path(args.workdir) if keep else Path(tempfile.mkdtemp(prefix="riskstream-bench-"))
    for old in ("worker", "live"):  # a kept --workdir: no worker state of an earlier run
        shutil.rmtree(root / old, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    try:
        with fresh_broker(root, "kafka-throughput") as broker:
            events = throughput.simulated(args.events, args.rate, args.seed)
            pre = asyncio.run(throughput.preload(broker, events, args.partitions, after_ms))
            del events
            base = asyncio.run(throughput.baseline(broker, pre.events, args.partitions))
            profile = Path(args.profile) if args.profile else None
            rs = throughput.riskstream(broker, pre.events, root / "worker", profile)
            summary |= {"baseline_eps": base["eps"], "riskstream_eps": rs["eps"],
                        "riskstream_ingest_eps": rs["ingest_eps"],
                        "ratio": rs["eps"] / base["eps"], "riskstream_cpu_s": rs["cpu_s"],
                        "riskstream_peak_rss": rs["peak_rss"], "windows": rs["windows"]}
            rows = [
                ("preload", f"{pre.events:,} events",
                 f"{pre.keys:,} keys, busiest key {pre.top_key_share:.1%} of records, "
                 f"{args.partitions} partitions, produced at {pre.produce_eps:,.0f}/s"),
                ("baseline: aiokafka getmany + orjson.loads", f"{base['eps']:,.0f} ev/s",
                 f"CPU {base['cpu_s']:.1f} s"),
                ("riskstream worker, to last window evaluated", f"{rs['eps']:,.0f} ev/s",
                 f"{rs['seconds']:.1f} s, CPU {rs['cpu_s']:.1f} s "
                 f"({rs['cpu_s'] / rs['seconds']:.0%} of a core), peak RSS "
                 f"{_mb(rs['peak_rss'])}, {rs['windows']:,.0f} windows"),
                ("riskstream worker, to last window closed", f"{rs['ingest_eps']:,.0f} ev/s",
                 "ingest stage only"),
                ("ratio riskstream / baseline", f"{summary['ratio']:.2f}", "aim >= 0.5"),
            ]
            if not args.skip_quix:
                qx = throughput.quix(broker, pre.events)
                summary |= {"quix_eps": qx["eps"], "quix_cpu_s": qx["cpu_s"],
                            "quix_peak_rss": qx["peak_rss"]}
                rows += [
                    ("Quix Streams peer (window count, final)", f"{qx['eps']:,.0f} ev/s",
                     f"CPU {qx['cpu_s']:.1f} s, peak RSS {_mb(qx['peak_rss'])}"),
                    ("ratio riskstream / Quix", f"{rs['eps'] / qx['eps']:.2f}", "aim > 1"),
                ]
            show(f"throughput, {pre.events:,} preloaded events, one process each", rows)
            if profile is not None and profile.exists():
                show(f"worker profile (py-spy, self time; stacks in {profile})",
                     [(name, f"{share:.1%}", "") for name, share in
                      top_frames(profile.read_text())])
        if not args.skip_latency:
            with fresh_broker(root, "kafka-live") as broker:
                lat = latency.run(broker, root / "live", args.live_rate, args.live_seconds,
                                  args.warmup_seconds, args.seed, args.partitions)
            summary |= {k: lat[k] for k in ("latency_p50_ms", "latency_p99_ms",
                                            "signal_delay_p50_ms", "signal_delay_p99_ms")}
            summary["live"] = lat
            show(f"live run at {args.live_rate:,.0f} events/s for {args.live_seconds} s", [
                ("processing latency p50 / p99",
                 f"{lat['latency_p50_ms']:.1f} / {lat['latency_p99_ms']:.1f} ms",
                 f"{lat['batches']:,.0f} partition batches; aim p99 < 100 ms"),
                ("consumer lag at start / max", f"{lat['lag_at_start']:,.0f} / "
                 f"{lat['max_lag']:,.0f}", "records"),
                ("worker peak RSS", f"{lat['peak_rss'] / 2**20:,.0f} MB",
                 "warm-up history and live part"),
                ("window end -> signal p50 / p99",
                 f"{lat['signal_delay_p50_ms'] / 1000:.1f} / "
                 f"{lat['signal_delay_p99_ms'] / 1000:.1f} s",
                 f"{lat['signals_open']} open signals of live windows (and "
                 f"{lat['signals_open_in_history']} of history windows, not timed); "
                 f"includes the {policy.windows.allowed_lateness_s} s allowed lateness"),
                *[(f"  {kind}", f"{percentile(d, 50):.1f} / {max(d):.1f} s",
                   f"p50 / max of {len(d)}")
                  for kind, d in lat["signal_delay_by_type_s"].items()],
                ("scenarios found", f"{lat['scenarios_found']} / {lat['scenarios']}", ""),
            ])
        if not args.skip_memory:
            rows = []
            mem = []
            for i, n in enumerate(args.entities):
                m = _memory(n, args.churn_rounds if i == 0 else 0)
                mem.append(m)
                rows.append((f"state per entity, {m['entities']:,} entities",
                             f"{m['bytes_per_entity']:,.0f} B",
                             f"RSS {_mb(m['rss_before'])} -> {_mb(m['rss_after'])}; "
                             "aim <= 300 B"))
                for r in m["churn"]:
                    rows.append((f"  churn round {r['round']}", f"{r['tracked']:,} tracked",
                                 f"RSS {_mb(r['rss'])} after {n:,} new entities and the "
                                 "TTL sweep"))
            summary["bytes_per_entity"] = max(m["bytes_per_entity"] for m in mem)
            summary["memory"] = mem
            uses = memory.held_first_uses()
            rows.append((f"first use waiting for a merge, {uses['held']:,} held",
                         f"{uses['bytes_per_held_use']:,.0f} B",
                         f"{uses['wire_bytes_per_use']:.0f} B each on the wire; "
                         "detect stage, tracemalloc"))
            summary["bytes_per_held_first_use"] = uses["bytes_per_held_use"]
            show("detection state per tracked entity", rows)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.summary:
        Path(args.summary).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return 0
