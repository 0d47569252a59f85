"""A partition whose live events stop closes its windows by the wall clock, on a real broker.

One stream's live events (dated now) go to one partition, a recorded stream's
(dated an hour ago, sent now) to another, and then nothing more. The ingest
loop closes the live stream's window once its partition has been quiet for
``idle_close_ms`` and commits past its records; a record for that window sent
afterwards is dead-lettered as late. The recorded stream's window stays open
(its partition's next event decides), as does everything with the setting off.

Through a worker: four scenarios start in the last window of a simulated run
whose events stop a few seconds after that window's end, and every one of
them is reported (with ``RISKSTREAM_IDLE_CLOSE_S=0`` none is: the windows
that hold them never close). The events are dated now, so the simulator's
traffic (its diurnal curve) differs from run to run; the test first replays
them from memory and takes the first seed whose four scenarios the replay
reports, so that it checks the windows' closing, not how a detector fares
on that run's traffic (seed 3's bait price sat under the bar at one of 120
start minutes tried, as a replay shows).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry

from signals.aggregate import BATCH_KEY, decode_batch
from signals.metrics import build_metrics
from signals.policy import load_policy
from streams.bench.run import fresh_broker
from streams.ingest import IngestCore
from streams.ingest_loop import IngestLoop
from streams.localworker import WorkerProcess
from streams.replay import replay
from streams.simulate import SimConfig, Simulator, matches
from streams.topics import DLQ_TOPIC, PUBLIC_TOPICS, ensure_topics, key_partition
from tests.integration.conftest import read_all
from tests.streams.events import live

TOPIC = "livestream.events"
PARTITIONS = 4
WINDOWS = "idle-windows"


def _stream_on(partition: int, avoid: str = "") -> str:
    return next(s for i in range(1000) if (s := f"st-{i}") != avoid
                and key_partition(s.encode(), PARTITIONS) == partition)


async def _send(broker: str, events: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for ev in events:
            await producer.send_and_wait(TOPIC, orjson.dumps(ev), key=ev["stream_id"].encode())
    finally:
        await producer.stop()


def _windows(records: list[Any]) -> list[str]:
    return [w.entity_id for r in records if r.key == BATCH_KEY for w in decode_batch(r.value)]


async def _committed(broker: str, group: str) -> list[int | None]:
    probe = AIOKafkaConsumer(bootstrap_servers=broker, group_id=group)
    await probe.start()
    try:
        return [await probe.committed(TopicPartition(TOPIC, p)) for p in (0, 1)]
    finally:
        await probe.stop()


async def _scenario(broker: str, idle_close_ms: int, wait_s: float) -> dict[str, Any]:
    await ensure_topics(broker, (*PUBLIC_TOPICS, WINDOWS), PARTITIONS)
    live_stream, recorded = _stream_on(0), _stream_on(1)
    # the live stream's records (now - 2 s to now - 1 s) must share one 5 s window
    while not 200 <= (time.time() * 1000 - 2_000) % 5_000 <= 3_000:
        await asyncio.sleep(0.1)
    now = int(time.time() * 1000)
    events = [live("viewer_snapshot", event_id=f"{s}-v", stream_id=s, ts=ts, viewers=200)
              for s, ts in ((live_stream, now - 2_000), (recorded, now - 3_600_000))]
    events += [live("report", event_id=f"{s}-r{i}", stream_id=s, ts=ts + 100 * i,
                    user_id=f"u{i}") for s, ts in ((live_stream, now - 2_000),
                                                   (recorded, now - 3_600_000))
               for i in range(1, 4)]
    await _send(broker, events)
    registry = CollectorRegistry()
    metrics = build_metrics(registry)
    group = f"idle-{idle_close_ms}"
    loop = IngestLoop(IngestCore(window_ms=5_000, lateness_ms=2_000, young_days=7), metrics,
                      broker, group, WINDOWS, lambda agg: True, idle_close_ms=idle_close_ms)
    task = asyncio.create_task(loop.run())
    try:
        await read_all(broker, WINDOWS, lambda got: live_stream in _windows(got), wait_s)
        await asyncio.sleep(3)  # a commit, and any other window that would close
        closed = _windows(await read_all(broker, WINDOWS, lambda got: False, 3))
        committed = await _committed(broker, group)
        # a record for the window just closed, 15 s or more behind the clock: late
        await _send(broker, [live("report", event_id="after", stream_id=live_stream,
                                  ts=now - 1_000, user_id="u9")])
        dead = await read_all(broker, DLQ_TOPIC, lambda got: len(got) > 0, wait_s / 2)
        assert not task.done(), task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return {"live": live_stream, "recorded": recorded, "closed": closed,
            "dead": [orjson.loads(r.value) for r in dead], "committed": committed,
            "idle_closed": registry.get_sample_value("riskstream_windows_closed_idle_total",
                                                     {"topic": TOPIC})}


def test_a_quiet_partition_of_live_events_closes_its_windows(tmp_path: Path) -> None:
    with fresh_broker(tmp_path, "kafka") as broker:
        got = asyncio.run(_scenario(broker, idle_close_ms=3_000, wait_s=40))
    assert got["closed"].count(got["live"]) == 1, got
    assert got["recorded"] not in got["closed"], got
    assert got["idle_closed"] == 1
    # past the live stream's four records; the recorded one's open window holds its own
    assert got["committed"] == [4, 0], got
    [dead] = got["dead"]
    assert (dead["partition"], dead["offset"]) == (0, 4)
    assert dead["error"].startswith("late:"), dead


def test_with_the_setting_off_a_quiet_partition_holds_its_windows(tmp_path: Path) -> None:
    with fresh_broker(tmp_path, "kafka") as broker:
        got = asyncio.run(_scenario(broker, idle_close_ms=0, wait_s=15))
    assert got["closed"] == [] and got["idle_closed"] == 0, got
    assert got["committed"] == [0, 0], got
    assert got["dead"] == []


KINDS = "report_spike,purchase_anomaly,price_anomaly,viewer_inflation"


def _last_window_run(seed: int, end: int) -> SimConfig:
    """20 minutes of events, the last dated 5 s after ``end`` (a window's end), the
    scenarios starting in the window before it."""
    return SimConfig(seed=seed, rate=60.0, duration_s=1200, start_ts=end + 5_000 - 1_200_000,
                     scenarios=tuple(KINDS.split(",")), first_scenario_s=1135,
                     scenario_gap_s=1)


def _replay_reports_all(config: SimConfig) -> bool:
    """Whether a replay of the run's events reports every scenario of it."""
    sim = Simulator(config)
    records = ((topic, key, orjson.dumps(event)) for topic, key, event in sim.events())
    signals = [s.to_dict() for s in replay(records, load_policy(), flush=True).signals]
    return all(any(matches(lb, s) for s in signals) for lb in sim.labels())


def test_scenarios_in_the_last_window_before_the_events_stop_are_reported(
        tmp_path: Path) -> None:
    labels_file = tmp_path / "labels.jsonl"
    with fresh_broker(tmp_path, "kafka") as broker:
        worker = WorkerProcess(broker, tmp_path / "worker", "idle-e2e")
        try:
            worker.wait_started()
            end = 0
            while time.time() * 1000 >= end - 4_000:  # the replays took too long: later
                # the window the scenarios start in ends 20 s from now or more: time
                # for the replays (about 3 s each)
                end = -(-(int(time.time() * 1000) + 20_000) // 60_000) * 60_000
                seed = next((seed for seed in range(3, 13)
                             if _replay_reports_all(_last_window_run(seed, end))), None)
                assert seed is not None, "no seed of 3-12 whose replay reports all four"
            # produced at once, so that they are live when sent: that window holds the
            # scenarios, and no event ever moves event time 10 s (the allowed lateness)
            # past it. Sent from 4 s before that end, the last is live (written within
            # 10 s of its date) if the simulator has sent it 18 s after it starts
            # (2-3 s here)
            while time.time() * 1000 < end - 4_000:
                time.sleep(0.1)
            run = _last_window_run(seed, end)
            subprocess.run(
                [sys.executable, "-m", "streams.cli", "simulate", "--broker", broker,
                 "--seed", str(run.seed), "--rate", str(run.rate),
                 "--duration", str(run.duration_s), "--speed", "0",
                 "--start-ts", str(run.start_ts), "--scenarios", ",".join(run.scenarios),
                 "--first-scenario", str(run.first_scenario_s),
                 "--scenario-gap", str(run.scenario_gap_s),
                 "--labels", str(labels_file)], check=True, capture_output=True)
            labels = [orjson.loads(line) for line in labels_file.read_text().splitlines()]
            assert [lb["scenario"] for lb in labels] == KINDS.split(",")
            assert all(end - 60_000 <= lb["start_ts"] < end for lb in labels), labels

            def found(records: list[Any]) -> bool:
                sigs = [orjson.loads(r.value) for r in records]
                return all(any(matches(lb, s) for s in sigs) for lb in labels)

            records = asyncio.run(read_all(broker, "risk.signals", found, timeout_s=120))
            closed_idle = worker.metric("riskstream_windows_closed_idle_total")
        finally:
            worker.stop()
    signals = [orjson.loads(r.value) for r in records]
    missed = [lb["scenario"] for lb in labels if not any(matches(lb, s) for s in signals)]
    assert missed == [], f"missed {missed}; signals: {[s['signal_type'] for s in signals]}"
    assert closed_idle > 0
