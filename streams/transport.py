"""Faust's aiokafka transport: a fetch wait short enough for the windows topic, and
offset commits that never pass a record still being processed.

faust-streaming creates its consumer with ``fetch_max_wait_ms=1500`` and no
setting to change it. With aiokafka's fetcher that wait is also the worst-case
delay before newly written records of a partition are fetched (a fetch already
in flight for the other partitions must return first), so closed windows sat up
to 1.5 s on the windows topic before the detection agent saw them: measured by
``riskstream bench throughput``, the last windows of a catch-up run arrived
1.2-1.6 s late and the end-to-end rate was half the ingest rate. 100 ms bounds
that delay at the cost of a few more idle fetch requests per second.

faust-streaming 0.15.3 can also commit past a record it delivered and that was
not acknowledged yet (faust-streaming issue #606): when the oldest unacknowledged
record sits exactly at the committed offset and the next one was acknowledged,
``Consumer._new_offset`` takes the acknowledged run that follows as committable.
The detect stage holds windows records that carry partial windows
unacknowledged until their windows are merged (:mod:`streams.held`), and the
watermark records between them are acknowledged at once, so Faust committed past
the held ones, and a worker that crashed lost them for good: its replacement
judged a seller's window from the parts of some input partitions only. Here
Faust's search for the offset to commit sees only the acknowledged offsets below
the oldest record still in flight (:func:`committable_below`).

>>> Transport.Consumer is Consumer
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ack_lock

FETCH_MAX_WAIT_MS = 100


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its fetcher; Faust passed 1500
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


def committable_below(acked: list[int], in_flight: Iterable[int]) -> tuple[list[int], list[int]]:
    """Split a partition's acknowledged offsets into those Faust may commit up to
    now (below the oldest offset still in flight) and those that must wait.

    >>> committable_below([795, 797, 799], [794, 796, 798])  # 794 is held: nothing yet
    ([], [795, 797, 799])
    >>> committable_below([794, 795, 797], [796])
    ([794, 795], [797])
    >>> committable_below([3, 4], [])
    ([3, 4], [])
    """
    head = min(in_flight, default=None)
    if head is None:
        return list(acked), []
    return [o for o in acked if o < head], sorted(o for o in acked if o >= head)


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _in_flight(self, tp: TP) -> list[int]:
        """Offsets of ``tp`` delivered to a stream in this generation and not
        acknowledged yet (Faust's own record of them; a stream adds to it directly)."""
        generation, committed = self.app.consumer_generation_id, self._committed_offset[tp]
        return [m.offset for m in list(self._unacked_messages)
                if m.tp == tp and not m.acked and m.generation_id == generation
                and (committed is None or m.offset >= committed)]

    def _new_offset(self, tp: TP) -> int | None:
        """Faust's next offset to commit for ``tp``, never past a record in flight."""
        with ack_lock:
            acked = self._acked[tp]
            now, later = committable_below(acked, self._in_flight(tp))
            if not later:
                return super()._new_offset(tp)
            if not now:
                return None
            acked[:] = now
            try:
                return super()._new_offset(tp)
            finally:
                acked.extend(later)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer
