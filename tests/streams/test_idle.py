"""A quiet input partition's event time: when it follows the wall clock, and what closes."""

from __future__ import annotations

from streams.idle import FRESH_MS, IdleClocks
from streams.ingest import IngestCore, Raw
from tests.streams.events import BASE_TS, live, raw

TOPIC = "livestream.events"
IDLE = 10_000


def _quiet(clocks: IdleClocks[str], part: str, start_ms: int, for_ms: int,
           caught_up: bool = True) -> int | None:
    """Turns of the loop every 200 ms with the broker answering; the last clock."""
    clock = None
    for now in range(start_ms, start_ms + for_ms + 1, 200):
        clock = clocks.clock(part, now, now - 100, caught_up)
    return clock


def test_a_live_caught_up_partition_follows_the_wall_clock_after_a_quiet_spell() -> None:
    clocks: IdleClocks[str] = IdleClocks(IDLE)
    clocks.delivered("p", now_ms=BASE_TS, created_ms=BASE_TS - 50, event_ts=BASE_TS - 300)
    assert _quiet(clocks, "p", BASE_TS, IDLE - 200) is None
    assert _quiet(clocks, "p", BASE_TS + IDLE, 0) == BASE_TS


def test_recorded_events_sent_again_are_never_moved_on() -> None:
    clocks: IdleClocks[str] = IdleClocks(IDLE)
    # written now, dated an hour ago: a replay into Kafka, which may pause
    clocks.delivered("p", now_ms=BASE_TS, created_ms=BASE_TS, event_ts=BASE_TS - 3_600_000)
    assert _quiet(clocks, "p", BASE_TS, 10 * IDLE) is None
    # and dated ahead of the clock, as a simulation at full speed writes them
    clocks.delivered("p", now_ms=BASE_TS, created_ms=BASE_TS, event_ts=BASE_TS + 600_000)
    assert _quiet(clocks, "p", BASE_TS, 10 * IDLE) is None


def test_a_partition_with_more_to_read_is_not_quiet() -> None:
    clocks: IdleClocks[str] = IdleClocks(IDLE)
    clocks.delivered("p", now_ms=BASE_TS, created_ms=BASE_TS, event_ts=BASE_TS)
    assert _quiet(clocks, "p", BASE_TS, 3 * IDLE, caught_up=False) is None


def test_after_a_break_in_the_brokers_answers_it_waits_again() -> None:
    """A worker cut off from its broker: the producers' retries come once it is back."""
    clocks: IdleClocks[str] = IdleClocks(IDLE)
    clocks.delivered("p", now_ms=BASE_TS, created_ms=BASE_TS, event_ts=BASE_TS)
    down = BASE_TS + 20_000  # the last answer; the broker is away for 30 s
    assert _quiet(clocks, "p", BASE_TS, 20_000) is not None
    for now in range(down + FRESH_MS + 1, down + 30_000, 200):
        assert clocks.clock("p", now, down, caught_up=True) is None
    back = down + 30_000
    assert _quiet(clocks, "p", back, IDLE - 200) is None
    assert _quiet(clocks, "p", back + IDLE, 0) == back
    assert clocks.clock("p", back + IDLE + 200, back + IDLE + 200 - FRESH_MS - 1, True) is None


def test_off_and_forgotten_partitions_are_left() -> None:
    off: IdleClocks[str] = IdleClocks(0)
    off.delivered("p", now_ms=BASE_TS, created_ms=BASE_TS, event_ts=BASE_TS)
    assert _quiet(off, "p", BASE_TS, 3 * IDLE) is None
    clocks: IdleClocks[str] = IdleClocks(IDLE)
    assert _quiet(clocks, "never-delivered", BASE_TS, 3 * IDLE) is None
    clocks.delivered("p", now_ms=BASE_TS, created_ms=BASE_TS, event_ts=BASE_TS)
    clocks.forget("p")
    assert _quiet(clocks, "p", BASE_TS, 3 * IDLE) is None


def test_moving_a_partition_on_closes_its_windows_and_makes_later_records_late() -> None:
    core = IngestCore(window_ms=60_000, lateness_ms=5_000, young_days=7)
    out = core.process(TOPIC, 0, [Raw(0, b"s1", raw(live(event_id="a", viewers=100))),
                                  Raw(1, b"s1", raw(live("report", event_id="b", ts=BASE_TS + 9)))])
    assert out.closed == [] and out.last_ts == BASE_TS + 9
    assert core.advance(TOPIC, 0, BASE_TS + 64_999).closed == []
    assert core.commit_offset(TOPIC, 0, next_offset=2) == 0  # the window still holds them
    [agg] = core.advance(TOPIC, 0, BASE_TS + 65_000).closed
    assert (agg.entity_id, agg.window_start, agg.features["n_report"]) == ("s1", BASE_TS, 1.0)
    assert core.commit_offset(TOPIC, 0, next_offset=2) == 2
    assert core.advance(TOPIC, 0, BASE_TS).closed == []  # never moved back
    assert core.reached(TOPIC, 0) == BASE_TS + 65_000
    late = core.process(TOPIC, 0, [Raw(2, b"s1", raw(live(event_id="c", ts=BASE_TS + 30_000)))])
    assert late.dead_by_kind == {"late": 1}
    on_time = core.process(TOPIC, 0, [Raw(3, b"s1", raw(live(event_id="d", ts=BASE_TS + 61_000)))])
    assert on_time.processed == 1 and on_time.dead == []
    assert core.advance(TOPIC, 1, BASE_TS + 10**9).closed == []  # a partition never read
