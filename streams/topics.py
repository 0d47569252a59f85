"""Topic names, and creating them on the broker before anything subscribes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterator

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from aiokafka.partitioner import murmur2

from streams.contract import LISTING_TOPIC, LIVESTREAM_TOPIC, VERDICTS_TOPIC
from streams.errors import BrokerUnreachable
from streams.logs import RepeatFilter, filtered, without_lines

log = logging.getLogger("riskstream.topics")

SIGNALS_TOPIC = "risk.signals"
DLQ_TOPIC = "riskstream.dlq"
PUBLIC_TOPICS = (LIVESTREAM_TOPIC, LISTING_TOPIC, VERDICTS_TOPIC, SIGNALS_TOPIC, DLQ_TOPIC)


def key_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (Java's and aiokafka's) gives ``key``.

    >>> key_partition(b"st-1", 4) == key_partition(b"st-1", 4) < 4
    True
    """
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


async def behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether ``consumer`` has yet to read up to any of the offsets ``ends``."""
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False


async def start_consumer(consumer: AIOKafkaConsumer, broker: str) -> None:
    """Start a client's consumer, or raise :class:`~streams.errors.BrokerUnreachable`
    (which says so in one line) when no broker answers, the client's own "Unable
    connect" lines dropped meanwhile."""
    try:
        with without_lines(logging.getLogger("aiokafka"), "Unable connect"):
            await consumer.start()
    except KafkaConnectionError:
        await consumer.stop()
        raise BrokerUnreachable(broker) from None


async def assign_all(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """Assign ``consumer`` (of no group) every partition of ``topics``, for good, and
    return them. A group-less subscription takes them all, but it is reassigned, and
    its positions reset, whenever the client's metadata lacks a topic for a moment;
    so it is taken once, then made an assignment."""
    consumer.subscribe(topics)
    while not consumer.assignment():
        await asyncio.sleep(0.1)
    tps = sorted(consumer.assignment())
    consumer.unsubscribe()
    consumer.assign(tps)
    return tps


async def ensure_topics(
    broker: str, names: tuple[str, ...], partitions: int, timeout_s: float = 60.0,
    compacted: tuple[str, ...] = (), configs: dict[str, dict[str, str]] | None = None,
) -> None:
    """Create the topics that do not exist yet (waits up to ``timeout_s`` for the broker
    to answer, then raises :class:`~streams.errors.BrokerUnreachable`);
    those named in ``compacted`` get ``cleanup.policy=compact``, those in
    ``configs`` the topic settings given there."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    with _each_line_once(logging.getLogger("aiokafka")):
        admin = await _admin_when_up(broker, timeout_s, deadline)
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            # another process may create one first: the goal holds all the same
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([
                    NewTopic(n, num_partitions=partitions, replication_factor=1,
                             topic_configs=_configs(n, compacted, configs or {}) or None)
                    for n in missing])
    finally:
        await admin.close()
    if missing:
        await asyncio.wait_for(_until_served(broker, missing, partitions),
                               max(deadline - asyncio.get_running_loop().time(), 1.0))


async def _admin_when_up(broker: str, timeout_s: float, deadline: float) -> AIOKafkaAdminClient:
    """An admin client connected to ``broker``, trying once a second until ``deadline``;
    the wait is announced once, on the first refusal."""
    first = True
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker, request_timeout_ms=10_000)
        try:
            await admin.start()
            return admin
        except KafkaConnectionError:
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise BrokerUnreachable(broker, timeout_s) from None
            if first:
                log.warning("no Kafka broker answers at %s yet: trying again each second "
                            "for up to %.0f s", broker, timeout_s)
                first = False
            await asyncio.sleep(1.0)


@contextlib.contextmanager
def _each_line_once(logger: logging.Logger) -> Iterator[None]:
    """While inside, ``logger`` lets each distinct warning or error through once: a client
    retrying a broker that is down logs the same "Unable connect" line on every try.

    >>> seen = []
    >>> class Keep(logging.Handler):
    ...     def emit(self, record): seen.append(record.getMessage())
    >>> lg = logging.getLogger("doctest.once"); lg.propagate = False; lg.addHandler(Keep())
    >>> with _each_line_once(lg):
    ...     for reason in ("refused", "refused", "timed out", "refused"):
    ...         lg.error("Unable connect: %s", reason)
    >>> lg.error("Unable connect: %s", "refused")  # outside: as before
    >>> seen
    ['Unable connect: refused', 'Unable connect: timed out', 'Unable connect: refused']
    """
    with filtered(logger, RepeatFilter(every_s=math.inf)):
        yield


async def _until_served(broker: str, names: list[str], partitions: int) -> None:
    """Wait until the broker serves every partition of the topics it has just
    created: for a moment after creation it names a leader that still refuses
    writes, and a producer then warns once per partition before its retry. Asking
    for the end offsets retries quietly until each partition answers."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.end_offsets([TopicPartition(n, p) for n in names
                                    for p in range(partitions)])
    finally:
        await consumer.stop()


def _configs(
    name: str, compacted: tuple[str, ...], configs: dict[str, dict[str, str]]
) -> dict[str, str]:
    """
    >>> _configs("t", ("t",), {"t": {"retention.ms": "1"}})
    {'cleanup.policy': 'compact', 'retention.ms': '1'}
    """
    out = {"cleanup.policy": "compact"} if name in compacted else {}
    return out | configs.get(name, {})
