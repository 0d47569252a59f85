"""``riskstream tail``: print signals from ``risk.signals`` (from now on, from the start,
or since a time; of chosen types and severities); with labels, score them.

With ``--labels`` (the file ``riskstream simulate --labels`` writes), it prints
for each injected scenario whether a signal of its type opened on its entity,
and the delay from the scenario's start (event time) to the signal's emission
(wall clock): in a run at ``--speed 1`` the two clocks agree, so this is the
time a reviewer waits for the signal.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from signals.record import SEVERITIES
from streams.simulate import matches
from streams.topics import SIGNALS_TOPIC, assign_all, behind, start_consumer

TOPIC_WAIT_S = 10.0  # for risk.signals to exist, when reading up to its end


async def read_signals(broker: str, seconds: float | None, start: str | int = "latest",
                       keep: Callable[[dict[str, Any]], bool] | None = None
                       ) -> list[dict[str, Any]]:
    """Print the signals of ``risk.signals`` (those ``keep`` accepts) as JSON lines, from
    ``start`` (``latest``: what comes next; ``earliest``; or an epoch-ms time: the
    first record appended then or later), for ``seconds``, or with ``None`` up to
    the topic's end as it was when reading began; return them."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, group_id=None,
                                enable_auto_commit=False)
    await start_consumer(consumer, broker)
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + (TOPIC_WAIT_S if seconds is None else seconds)
    try:
        try:  # no topic yet (no worker ever ran): nothing to print
            tps = await asyncio.wait_for(assign_all(consumer, [SIGNALS_TOPIC]),
                                         deadline - time.monotonic())
        except TimeoutError:
            return out
        ends = await consumer.end_offsets(tps)
        if start == "earliest":
            await consumer.seek_to_beginning(*tps)
        elif start == "latest":
            await consumer.seek_to_end(*tps)
        else:
            found = await consumer.offsets_for_times({tp: int(start) for tp in tps})
            for tp, at in found.items():
                if at is None:  # nothing appended that recently
                    await consumer.seek_to_end(tp)
                else:
                    consumer.seek(tp, at.offset)
        while (time.monotonic() < deadline if seconds is not None
               else await behind(consumer, ends)):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for rec in records:
                    try:
                        sig = signal_of(rec.value)
                    except ValueError as exc:  # another producer's record: said, not printed
                        print(f"riskstream tail: passed over {SIGNALS_TOPIC} partition "
                              f"{rec.partition} offset {rec.offset}: {exc}", file=sys.stderr)
                        continue
                    if keep is None or keep(sig):
                        out.append(sig)
                        sys.stdout.buffer.write(rec.value + b"\n")
            sys.stdout.flush()
    finally:
        await consumer.stop()
    return out


def signal_of(raw: bytes | None) -> dict[str, Any]:
    """A ``risk.signals`` record as ``tail`` and the demo read it: a JSON object with a
    ``signal_type`` and a ``severity``; a :class:`ValueError` says what it lacks (a
    record another producer wrote there, or a tombstone).

    >>> signal_of(b'{"signal_type": "report_spike", "severity": "high"}')["severity"]
    'high'
    >>> signal_of(b'{"signal_type": "report_spike", "severity": "urgent"}')
    Traceback (most recent call last):
    ...
    ValueError: its severity is 'urgent', not one of low, medium, high, critical
    """
    if raw is None:
        raise ValueError("a tombstone (no value), not a signal")
    try:
        sig = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(sig, dict):
        raise ValueError(f"JSON, but not an object: {raw[:60]!r}")
    if not isinstance(sig.get("signal_type"), str):
        raise ValueError("no signal_type")
    if sig.get("severity") not in SEVERITIES:
        raise ValueError(f"its severity is {sig.get('severity')!r}, not one of "
                         f"{', '.join(SEVERITIES)}")
    return sig


def chosen(types: tuple[str, ...] | None, min_severity: str | None
           ) -> Callable[[dict[str, Any]], bool]:
    """Whether a signal is of one of ``types`` (any, if ``None``) and at least
    ``min_severity`` (any, if ``None``).

    >>> keep = chosen(("report_spike",), "high")
    >>> keep({"signal_type": "report_spike", "severity": "critical"})
    True
    >>> keep({"signal_type": "report_spike", "severity": "medium"}), keep(
    ...     {"signal_type": "price_anomaly", "severity": "critical"})
    (False, False)
    """
    floor = 0 if min_severity is None else SEVERITIES.index(min_severity)
    return lambda sig: ((types is None or sig["signal_type"] in types)
                        and SEVERITIES.index(sig["severity"]) >= floor)


def score_labels(signals: list[dict[str, Any]], labels: list[dict[str, Any]],
                 until_ms: int | None = None) -> list[str]:
    """One line per label: found or missed, and the delay from scenario start to signal.
    With ``until_ms``, when reading stopped (the wall clock, which a run at
    ``--speed 1`` keeps with event time), a scenario not found says how long it
    had run by then, or that it had not started (the labels file lists every
    scenario planned, from the simulator's start).

    A signal is about a scenario as ``bench scenarios`` decides it
    (:func:`streams.simulate.matches`): a code word by the spelling the detector
    reads, a comment campaign by its accounts; the line then names the signal's
    entity too.

    >>> label = {"scenario": "report_spike", "entity_type": "stream", "entity_id": "s1",
    ...          "start_ts": 1000}
    >>> sig = {"signal_type": "report_spike", "entity_id": "s1", "status": "open",
    ...        "emitted_ts": 91000, "window_end": 61000}
    >>> score_labels([sig], [label])
    ['report_spike s1: found, 90.0 s after the scenario started (window end + 30.0 s)']
    >>> word = {"scenario": "emerging_term", "entity_type": "term", "entity_id": "1to1copy",
    ...         "region": "US", "start_ts": 1000}
    >>> score_labels([dict(sig, signal_type="emerging_term", entity_id="itoicopy|US")], [word])
    ['emerging_term 1to1copy: found as itoicopy|US, 90.0 s after the scenario started \
(window end + 30.0 s)']
    >>> score_labels([], [label, dict(label, start_ts=50_000)], until_ms=41_000)
    ['report_spike s1: missed (reading stopped 40.0 s after it started)', \
'report_spike s1: not started when reading stopped']
    """
    lines = []
    for lb in labels:
        hits = [s for s in signals if s["status"] == "open" and matches(lb, s)]
        name = f"{lb['scenario']} {lb['entity_id']}"
        if not hits:
            if until_ms is None:
                lines.append(f"{name}: missed")
            elif until_ms < lb["start_ts"]:
                lines.append(f"{name}: not started when reading stopped")
            else:
                lines.append(f"{name}: missed (reading stopped "
                             f"{(until_ms - lb['start_ts']) / 1000:.1f} s after it started)")
            continue
        first = min(hits, key=lambda s: s["emitted_ts"])
        delay = (first["emitted_ts"] - lb["start_ts"]) / 1000
        after_window = (first["emitted_ts"] - first["window_end"]) / 1000
        seen_as = "" if first["entity_id"] == lb["entity_id"] else f" as {first['entity_id']}"
        lines.append(f"{name}: found{seen_as}, {delay:.1f} s after "
                     f"the scenario started (window end + {after_window:.1f} s)")
    return lines
