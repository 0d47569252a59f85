"""Faust's aiokafka transport, with a fetch wait short enough for the windows topic.

faust-streaming creates its consumer with ``fetch_max_wait_ms=1500`` and no
setting to change it. With aiokafka's fetcher that wait is also the worst-case
delay before newly written records of a partition are fetched (a fetch already
in flight for the other partitions must return first), so closed windows sat up
to 1.5 s on the windows topic before the detection agent saw them: measured by
``riskstream bench throughput``, the last windows of a catch-up run arrived
1.2-1.6 s late and the end-to-end rate was half the ingest rate. 100 ms bounds
that delay at the cost of a few more idle fetch requests per second.

>>> Transport.Consumer is Consumer
True
"""

from __future__ import annotations

from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 100


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its fetcher; Faust passed 1500
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer
