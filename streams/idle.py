"""Event time for an input partition that went quiet: the wall clock, less a margin.

A window closes when its partition's event time passes its end plus the
allowed lateness, and a partition's event time moves only with its events. A
partition whose events stop (a quiet night in a small region, the end of a
run) would hold its last windows open until its next event, and every merged
window of a spread entity would wait the merge's settle time for its
watermark. :class:`IdleClocks` gives such a partition an event time of
``now - idle_ms`` when all of these hold:

* its events are live: the last record folded was written (its Kafka
  timestamp) within ``idle_ms`` of its event time. Recorded events sent again
  (written now, dated then) are never moved on, so a replay into Kafka that
  pauses loses nothing;
* it is caught up: nothing fetched waits to be folded and the broker holds no
  more;
* the broker has answered its fetches without a break for ``idle_ms`` (a
  worker cut off from its broker knows nothing of what producers sent
  meanwhile, and their retries come once it is back);
* it has delivered nothing for ``idle_ms``.

A record that then arrives for a window so closed is late (dead-lettered as
such), as it would be on a busy partition: it is over ``idle_ms`` plus the
allowed lateness behind the wall clock. No Kafka in here: a partition is any
hashable key.

>>> clocks = IdleClocks(idle_ms=10_000)
>>> clocks.delivered("p0", now_ms=1_000, created_ms=1_000, event_ts=990)
>>> clocks.clock("p0", now_ms=1_200, polled_ms=1_150, caught_up=True) is None  # not quiet yet
True
>>> clocks.clock("p0", now_ms=12_000, polled_ms=11_950, caught_up=True)
2000
>>> clocks.clock("p0", now_ms=13_000, polled_ms=9_000, caught_up=True) is None  # no answer
True
>>> clocks.clock("p0", now_ms=14_000, polled_ms=13_950, caught_up=True) is None  # again since
True
>>> clocks.delivered("p1", now_ms=1_000, created_ms=1_000, event_ts=-3_600_000)  # recorded
>>> clocks.clock("p1", now_ms=60_000, polled_ms=59_950, caught_up=True) is None
True
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

FRESH_MS = 2_000  # a fetch answered this recently: the broker is answering


class _Quiet:
    __slots__ = ("answered_since", "delivered_at", "live")

    def __init__(self, now_ms: int, live: bool) -> None:
        self.delivered_at = now_ms
        self.live = live
        self.answered_since: int | None = None


class IdleClocks(Generic[K]):
    """When to move a quiet input partition's event time on, and to what.

    ``idle_ms`` 0 turns it off: a partition's event time then moves only with
    its events."""

    def __init__(self, idle_ms: int) -> None:
        self.idle_ms = idle_ms
        self._parts: dict[K, _Quiet] = {}

    def delivered(self, part: K, now_ms: int, created_ms: int, event_ts: int) -> None:
        """``part`` folded records at ``now_ms``; the last was written at ``created_ms``
        (its Kafka timestamp) and dated ``event_ts``."""
        self._parts[part] = _Quiet(now_ms, abs(created_ms - event_ts) <= self.idle_ms)

    def clock(self, part: K, now_ms: int, polled_ms: int | None, caught_up: bool
              ) -> int | None:
        """The event time to move ``part`` on to, or None to leave it. ``polled_ms``:
        when the broker last answered a fetch of it (None: never); ``caught_up``:
        nothing of it is buffered and the broker holds no more. Called every turn of
        the loop, so that a break in the broker's answers is seen."""
        state = self._parts.get(part)
        if state is None or not self.idle_ms:
            return None
        if polled_ms is None or now_ms - polled_ms > FRESH_MS:
            state.answered_since = None
            return None
        if state.answered_since is None:
            state.answered_since = now_ms
        quiet_since = max(state.delivered_at, state.answered_since)
        if not (state.live and caught_up and now_ms - quiet_since >= self.idle_ms):
            return None
        return now_ms - self.idle_ms

    def forget(self, part: K) -> None:
        """``part`` was revoked: its next owner starts afresh."""
        self._parts.pop(part, None)
