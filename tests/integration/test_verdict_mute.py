"""A reviewer's ``false_positive`` verdict ends its signal and mutes its entity, on a
real broker.

One stream's reports spike twice, 20 minutes apart. A file replay of its events
(no verdicts) opens a ``report_spike`` on each spike. Through a worker, the first
opens, a reviewer marks it ``false_positive``, and the worker resolves it at once,
saying why; the second spike, past the usual cooldown but within the policy's
``mute_s`` of the verdict, opens nothing. A replay of the events with the verdict
among them (as ``riskstream export`` writes them) does the same.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from signals.policy import load_policy
from signals.verdicts import MUTE_KEY
from streams.bench.run import fresh_broker
from streams.contract import VERDICTS_TOPIC
from streams.localworker import WorkerProcess
from streams.replay import replay
from streams.topics import PUBLIC_TOPICS, SIGNALS_TOPIC, ensure_topics, key_partition
from tests.integration.conftest import committed_past, read_all, send

pytestmark = pytest.mark.integration

MIN = 60_000
DAY = 86_400_000
START = (int(time.time() * 1000) // DAY - 1) * DAY  # yesterday 00:00Z, as the worker's limits like
STREAM = "st-muted"
FIRST_SPIKE, SECOND_SPIKE = range(10, 15), range(30, 33)


def _minute(m: int) -> list[dict[str, Any]]:
    """Minute ``m`` of the stream: viewers every 10 s, chat, and 30 reports in a spike."""
    base = {"schema_version": 1, "stream_id": STREAM, "seller_id": "sl-m", "region": "US"}
    t0 = START + m * MIN
    out = [base | {"event_id": f"v{m}-{i}", "event_type": "viewer_snapshot",
                   "ts": t0 + i * 10_000, "viewers": 1000} for i in range(6)]
    out += [base | {"event_id": f"c{m}-{i}", "event_type": "comment", "ts": t0 + 500 + i * 1_000,
                    "user_id": f"u{i}", "text": f"nice item number {i}"} for i in range(50)]
    if m in FIRST_SPIKE or m in SECOND_SPIKE:
        out += [base | {"event_id": f"r{m}-{i}", "event_type": "report", "ts": t0 + 700 + i * 1_500,
                        "user_id": f"rep{m}-{i}", "reason": "counterfeit"} for i in range(30)]
    return sorted(out, key=lambda e: e["ts"])


def _events(minutes: range) -> list[tuple[str, bytes, bytes]]:
    start = [{"schema_version": 1, "stream_id": STREAM, "seller_id": "sl-m", "region": "US",
              "event_id": "start", "event_type": "stream_start", "ts": START,
              "title": "bags live", "category": "fashion/bags"}] if minutes.start == 0 else []
    return [("livestream.events", STREAM.encode(), orjson.dumps(e))
            for e in start + [e for m in minutes for e in _minute(m)]]


def _spikes(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in signals if s["signal_type"] == "report_spike"
            and s["entity_id"] == STREAM]


def _first_spike(broker: str) -> dict[str, Any]:
    """The stream's first ``report_spike`` record, once the worker has sent it."""
    [opened] = _spikes([orjson.loads(r.value) for r in asyncio.run(read_all(
        broker, SIGNALS_TOPIC, lambda rs: _spikes([orjson.loads(r.value) for r in rs]),
        timeout_s=60))])
    return opened


def test_a_false_positive_verdict_resolves_its_signal_and_mutes_the_stream(
        tmp_path: Path) -> None:
    before, after = _events(range(0, 13)), _events(range(13, 36))
    # without a verdict, each spike opens a signal of its own
    backtest = replay(before + after, load_policy(), partitions=4, flush=True)
    control = [(s.status, s.window_start) for s in backtest.signals
               if s.signal_type == "report_spike" and s.entity_id == STREAM]
    assert [ws for st, ws in control if st == "open"] == [
        START + FIRST_SPIKE.start * MIN, START + SECOND_SPIKE.start * MIN], control
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, 4))
        worker = WorkerProcess(broker, tmp_path / "worker", "mute")
        try:
            worker.wait_started()
            asyncio.run(send(broker, before))
            opened = _first_spike(broker)
            assert opened["status"] == "open"
            verdict = {"schema_version": 1, "signal_id": opened["signal_id"],
                       "verdict": "false_positive", "ts": opened["window_end"] + 30_000,
                       "reviewer": "rev-1"}
            asyncio.run(send(broker, [(VERDICTS_TOPIC, opened["signal_id"].encode(),
                                       orjson.dumps(verdict))]))
            records = asyncio.run(read_all(
                broker, SIGNALS_TOPIC, lambda rs: len(_spikes([orjson.loads(r.value)
                                                               for r in rs])) >= 2,
                timeout_s=60))
            [_, resolved] = _spikes([orjson.loads(r.value) for r in records])
            asyncio.run(send(broker, after))  # the rest: the spike goes on, and a second
            deadline = time.monotonic() + 60  # the stream's windows 0-34 judged (35 open)
            while (worker.metric("riskstream_windows_evaluated_total", entity_type="stream")
                   < 35 and time.monotonic() < deadline):
                time.sleep(0.5)
            judged = worker.metric("riskstream_windows_evaluated_total", entity_type="stream")
            actions = worker.metric("riskstream_verdict_actions_total",
                                    signal_type="report_spike", action="resolved")
        finally:
            worker.stop()
        final = _spikes([orjson.loads(r.value) for r in asyncio.run(read_all(
            broker, SIGNALS_TOPIC, lambda rs: False, timeout_s=5))])  # all there is
    assert (resolved["signal_id"], resolved["status"]) == (opened["signal_id"], "resolved")
    until = time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(verdict["ts"] / 1000 + 6 * 3600))
    assert resolved["evidence"]["resolved_because"] == (  # mute_s after the verdict
        f"a reviewer's verdict by rev-1: false_positive; no report_spike opens on this stream "
        f"until {until}")
    assert resolved["window_end"] <= START + 13 * MIN  # at once, not when the spike ended
    assert actions == 1 and judged >= 35  # the second spike was judged
    assert [s["status"] for s in final] == ["open", "resolved"]  # the second spike: muted
    # the backtest of what the worker read, the verdict in its place by time
    line = ("governance.verdicts", opened["signal_id"].encode(), orjson.dumps(verdict))
    backtest = replay([*before, line, *after], load_policy(), partitions=4, flush=True)
    replayed = [s.to_dict() for s in backtest.signals
                if s.signal_type == "report_spike" and s.entity_id == STREAM]
    assert [(s["signal_id"], s["status"]) for s in replayed] == [
        (s["signal_id"], s["status"]) for s in final]
    assert replayed[1]["evidence"] == resolved["evidence"]
    assert backtest.verdicts == {"resolved": 1}


def test_a_replay_counts_the_verdicts_it_cannot_act_on_and_dead_letters_bad_ones() -> None:
    events = _events(range(0, 13))
    plain = replay(events, load_policy(), flush=True).signals
    [opened] = [s for s in plain if s.signal_type == "report_spike" and s.status == "open"]

    def line(sig_id: str, verdict: str) -> tuple[str, bytes, bytes]:
        return ("governance.verdicts", sig_id.encode(), orjson.dumps({
            "schema_version": 1, "signal_id": sig_id, "verdict": verdict,
            "ts": START + 11 * MIN}))
    verdicts = [line(opened.signal_id, "confirmed"),
                line("sig_of_another_policy", "false_positive"), line(opened.signal_id, "spam")]
    backtest = replay([*events, *verdicts], load_policy(), flush=True)
    assert backtest.verdicts == {"counted": 1, "unknown": 1}
    [dead] = backtest.dead
    assert (dead.source_topic, dead.kind) == ("governance.verdicts", "out_of_range")
    assert "`$.verdict`" in dead.error
    assert backtest.signals == plain  # nothing ended: the same signals as without them


def _fillers(minutes: range) -> list[tuple[str, bytes, bytes, int]]:
    """An event every 20 s on each input partition the stream's is not, so that every
    partition reports its windows closed and the detect stage merges (and commits)
    without waiting out ``SETTLE_MS``."""
    out = []
    for topic, entity in (("livestream.events", "stream_id"), ("listing.events", "listing_id")):
        keys: dict[int, str] = {key_partition(STREAM.encode(), 4): STREAM} if (
            entity == "stream_id") else {}
        for i in range(100):
            keys.setdefault(key_partition(f"fill-{i}".encode(), 4), f"fill-{i}")
        for key in sorted(set(keys.values()) - {STREAM}):
            for t in range(minutes.start * 3, minutes.stop * 3):
                ev = {"schema_version": 1, "event_id": f"{key}-{topic}-{t}",
                      "ts": START + t * 20_000, "region": "US", "seller_id": "sl-f", entity: key}
                ev |= ({"event_type": "viewer_snapshot", "viewers": 10} if entity == "stream_id"
                       else {"event_type": "listing_reported", "user_id": "u-f", "reason": "other"})
                out.append((topic, key.encode(), orjson.dumps(ev), ev["ts"]))
    return out


def _with_fillers(minutes: range) -> list[tuple[str, bytes, bytes]]:
    timed = [(t, k, v, orjson.loads(v)["ts"]) for t, k, v in _events(minutes)]
    return [(t, k, v) for t, k, v, _ in sorted([*timed, *_fillers(minutes)],
                                               key=lambda r: r[3])]


def test_a_mute_survives_a_crash_after_its_verdict_was_committed(tmp_path: Path) -> None:
    """The state topic then holds two copies of the stream's last window, the one
    its window left and the one the verdict left: a restarted worker must restore
    the verdict's (before compaction, both are read, in that order)."""
    before, after = _with_fillers(range(0, 13)), _with_fillers(range(13, 36))
    app_id = "mute-crash"
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, 4))
        first = WorkerProcess(broker, tmp_path / "first", app_id)
        try:
            first.wait_started()
            asyncio.run(send(broker, before))
            opened = _first_spike(broker)
            verdict = {"schema_version": 1, "signal_id": opened["signal_id"],
                       "verdict": "false_positive", "ts": opened["window_end"] + 30_000}
            asyncio.run(send(broker, [(VERDICTS_TOPIC, opened["signal_id"].encode(),
                                       orjson.dumps(verdict))]))
            asyncio.run(read_all(broker, SIGNALS_TOPIC, lambda rs: len(_spikes(
                [orjson.loads(r.value) for r in rs])) >= 2, timeout_s=60))
            # the verdict, and the mute it sent to the stream's windows partition, are
            # committed: the restarted worker reads neither again
            sent = [r for topic in (VERDICTS_TOPIC, f"{app_id}-windows") for r in asyncio.run(
                read_all(broker, topic, lambda rs: False, timeout_s=3))
                if topic == VERDICTS_TOPIC or r.key == MUTE_KEY]
            assert len(sent) == 2
            deadline = time.monotonic() + 60
            while not asyncio.run(committed_past(broker, app_id, sent)):
                assert time.monotonic() < deadline, "the verdict was not committed"
                time.sleep(0.5)
        finally:
            first.kill()  # SIGKILL: nothing flushed on the way out
        second = WorkerProcess(broker, tmp_path / "second", app_id)
        try:
            second.wait_started()
            asyncio.run(send(broker, after))  # the first spike goes on, and a second comes
            deadline = time.monotonic() + 60  # windows 13-34 judged
            while second.metric("riskstream_windows_evaluated_total", entity_type="stream") < 22:
                assert time.monotonic() < deadline, "the restarted worker judged too little"
                time.sleep(0.5)
            time.sleep(2)
            actions = second.metric("riskstream_verdict_actions_total")
        finally:
            second.stop()
        final = _spikes([orjson.loads(r.value) for r in asyncio.run(read_all(
            broker, SIGNALS_TOPIC, lambda rs: False, timeout_s=5))])
    assert actions == 0  # the verdict acted once, before the crash
    assert [s["status"] for s in final] == ["open", "resolved"]  # resolved once; muted since
