"""The demo's reviewer: it judges each signal the demo opens by the simulator's labels
(what it really injected) and sends its verdict to ``governance.verdicts``, so the
feedback loop shows in the demo as it would with people reviewing: the worker counts
each verdict under its signal's type (``riskstream_verdicts_total``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from streams.contract import VERDICTS_TOPIC, verdict_record
from streams.simulate import explaining

log = logging.getLogger("riskstream.demo")

REVIEWER = "demo-reviewer"


def judge(signal: dict[str, Any], labels: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The verdict on a signal that has just opened, and its note; ``None`` for an
    update or a resolution (a signal is reviewed once, when it opens). A signal about
    an injected scenario, or one the scenario causes besides (its ``related``
    signals), is confirmed; any other is a false positive.

    >>> label = {"scenario": "report_spike", "entity_type": "stream", "entity_id": "st-9",
    ...          "related": {}}
    >>> judge({"status": "open", "signal_type": "report_spike", "entity_id": "st-9"}, [label])
    ('confirmed', 'the simulator injected report_spike on st-9')
    >>> judge({"status": "open", "signal_type": "report_spike", "entity_id": "st-8"}, [label])
    ('false_positive', 'no scenario the simulator injected explains it')
    >>> judge({"status": "update", "signal_type": "report_spike", "entity_id": "st-9"}, [label])
    """
    if signal["status"] != "open":
        return None
    found = explaining(labels, signal)
    if found is None:
        return "false_positive", "no scenario the simulator injected explains it"
    label, side_effect = found
    if side_effect:
        return "confirmed", f"a side effect of the {label['scenario']} the simulator " \
            f"injected on {label['entity_id']}"
    return "confirmed", f"the simulator injected {label['scenario']} on {label['entity_id']}"


class DemoReviewer:
    """Sends :func:`judge`'s verdict on each signal that opens, judged by the labels the
    simulator wrote to ``labels_path`` (read when a signal opens, and again whenever
    the file has changed since)."""

    def __init__(self, labels_path: Path, producer: AIOKafkaProducer) -> None:
        self.labels_path = labels_path
        self.producer = producer
        self._labels: list[dict[str, Any]] | None = None
        self._read_as: tuple[int, int] | None = None  # the file's (mtime, size) when read

    def _read_labels(self) -> list[dict[str, Any]] | None:
        try:
            stat = self.labels_path.stat()
        except FileNotFoundError:
            return self._labels
        if (stat.st_mtime_ns, stat.st_size) != self._read_as:
            self._read_as = (stat.st_mtime_ns, stat.st_size)
            self._labels = [orjson.loads(line) for line in
                            self.labels_path.read_bytes().splitlines() if line.strip()]
        return self._labels

    async def review(self, signal: dict[str, Any]) -> str | None:
        """Send the verdict on ``signal`` (queued: the producer sends it in the
        background) and return it, or ``None`` if it needs none or no labels exist."""
        labels = self._read_labels()
        decided = None if labels is None else judge(signal, labels)
        if decided is None:
            return None
        verdict, note = decided
        record = verdict_record(signal["signal_id"], verdict, int(time.time() * 1000),
                                reviewer=REVIEWER, note=note)
        try:
            sent = await self.producer.send(VERDICTS_TOPIC, orjson.dumps(record),
                                            key=signal["signal_id"].encode())
        except KafkaError as exc:  # no metadata for the topic in time: its broker is gone
            log.warning("a demo verdict was not sent: %r", exc)
            return None
        sent.add_done_callback(self._check_sent)
        return verdict

    @staticmethod
    def _check_sent(sent: Any) -> None:
        if not sent.cancelled() and sent.exception() is not None:
            log.warning("a demo verdict was not sent: %r", sent.exception())
