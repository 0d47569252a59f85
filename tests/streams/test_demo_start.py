"""The demo's watch, when its broker goes before it has started reading signals."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from streams.demo import ChildStopped, _start, _Watched
from streams.errors import BrokerUnreachable
from streams.localworker import free_port
from streams.logs import plain_warnings


def _broker_gone(after_checks: int, log: Path) -> _Watched:
    """The demo's broker as it watches it: running for ``after_checks`` checks, then gone."""
    checks = iter(range(10**6))
    return _Watched("Kafka broker", log,
                    lambda: "its process is gone" if next(checks) >= after_checks else None)


async def _start_on_closed_port(watched: list[_Watched]) -> None:
    broker = f"127.0.0.1:{free_port()}"  # nothing listens there
    consumer = AIOKafkaConsumer("risk.signals", bootstrap_servers=broker, group_id=None,
                                request_timeout_ms=2_000)
    with plain_warnings(io.StringIO()):  # aiokafka's own lines: not this test's output
        await _start(consumer, broker, watched)


def test_a_broker_gone_while_the_watch_starts_is_reported_as_such(tmp_path: Path) -> None:
    """The broker died after the first check (as when the demo's test kills it at once):
    the start fails, and the demo says the broker stopped, not a Kafka error."""
    with pytest.raises(ChildStopped, match="the Kafka broker stopped by itself"):
        asyncio.run(_start_on_closed_port([_broker_gone(1, tmp_path / "kafka.log")]))


def test_a_start_that_fails_with_every_process_running_names_the_broker(
        tmp_path: Path) -> None:
    with pytest.raises(BrokerUnreachable, match=r"no Kafka broker answers at 127\.0\.0\.1:"):
        asyncio.run(_start_on_closed_port([_broker_gone(10**9, tmp_path / "kafka.log")]))


def test_plain_warnings_writes_to_stderr_as_it_is_at_each_line() -> None:
    """A live display puts its own stderr in place while it runs (Rich's ``Live``)."""
    log = logging.getLogger("test.demo.stderr")
    with plain_warnings():
        taken = io.StringIO()
        with contextlib.redirect_stderr(taken):
            log.warning("broker gone")
    assert taken.getvalue() == "WARNING test.demo.stderr: broker gone\n"
