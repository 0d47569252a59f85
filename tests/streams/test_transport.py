"""The detect stage's consumer never commits past a windows record still held.

Faust's own offset search (faust-streaming issue #606) commits over an
unacknowledged record that sits at the committed offset when the next one was
acknowledged: a held record of partial windows followed by a watermark record.
These tests run Faust's search through our consumer on the bookkeeping alone.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from weakref import WeakSet

from faust.types import TP
from faust.types.tuples import Message

from streams.transport import Consumer

TP0 = TP("rs-windows", 0)


def _consumer(committed: int) -> Consumer:
    c = Consumer.__new__(Consumer)  # only the offset bookkeeping, no broker
    c.app = SimpleNamespace(consumer_generation_id=3)
    c._acked, c._acked_index = defaultdict(list), defaultdict(set)
    c._gap = defaultdict(list)  # no gaps: the windows topic is not compacted
    c._committed_offset = defaultdict(lambda: None, {TP0: committed})
    c._unacked_messages = WeakSet()
    return c


def _delivered(c: Consumer, offset: int, generation: int = 3) -> Message:
    m = Message(TP0.topic, TP0.partition, offset, 0.0, 0, None, None, b"", b"",
                generation_id=generation)
    c._unacked_messages.add(m)
    return m


def _ack(c: Consumer, m: Message) -> None:
    m.acked = True
    c._unacked_messages.discard(m)
    c._acked[TP0].append(m.offset)
    c._acked_index[TP0].add(m.offset)


def test_a_held_record_at_the_committed_offset_is_not_committed_over() -> None:
    c = _consumer(committed=794)
    held = _delivered(c, 794)  # partial windows, waiting for a merge
    watermark = _delivered(c, 795)
    _ack(c, watermark)
    assert c._new_offset(TP0) is None  # Faust alone returns 796 here
    _ack(c, held)  # merged and judged
    assert c._new_offset(TP0) == 796


def test_commits_go_on_up_to_the_oldest_record_in_flight() -> None:
    c = _consumer(committed=10)
    msgs = {o: _delivered(c, o) for o in range(10, 16)}
    for o in (10, 11, 13, 14):
        _ack(c, msgs[o])
    assert c._new_offset(TP0) == 12  # 12 is in flight: 13 and 14 wait
    c._committed_offset[TP0] = 12
    _ack(c, msgs[12])
    assert c._new_offset(TP0) == 15


def test_a_record_of_an_earlier_generation_holds_nothing_back() -> None:
    c = _consumer(committed=20)
    old = _delivered(c, 20, generation=2)  # read before a rebalance, never acknowledged
    _ack(c, _delivered(c, 20))  # the same record, read again in this generation
    _ack(c, _delivered(c, 21))
    assert c._new_offset(TP0) == 22
    assert not old.acked and old in c._unacked_messages  # still there, holding nothing
