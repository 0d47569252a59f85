"""A worker rides out its broker's restart: it keeps running, reads on once the broker
is back, and its log stays short while the broker is down (every Kafka client in it
logs the same few lines on each retry, thousands a minute, unless they are held back);
so does the log of the simulator feeding it.

It has a broker of its own, since it stops it. No record of the outage is dead-lettered
as late: the simulator's producer sends what it made meanwhile once the broker is back.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from streams.config import Settings
from streams.localkafka import LocalKafka
from streams.localworker import WorkerProcess, free_port_pair

PROCESSED = "riskstream_events_processed_total"
IDLE_CLOSE_S = Settings().idle_close_s
DOWN_S = 20.0


def _until(what: str, test: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(0.5)


def _loud_lines(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines()
            if '"level":"ERROR"' in line or '"level":"WARNING"' in line]


def test_a_worker_reads_on_after_its_broker_restarts_and_logs_the_outage_briefly(
        tmp_path: Path) -> None:
    kafka = LocalKafka(port=free_port_pair(), data_dir=tmp_path / "kafka")
    kafka.start()
    worker = WorkerProcess(kafka.bootstrap, tmp_path, "broker-restart")
    with (tmp_path / "simulator.log").open("wb") as slog:
        simulator = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "simulate", "--broker", kafka.bootstrap,
             "--rate", "50", "--duration", "900", "--seed", "5"],
            stdout=slog, stderr=subprocess.STDOUT)
    try:
        worker.wait_started()
        _until("the worker reads events", lambda: worker.metric(PROCESSED) > 0, 120)
        quiet_before = len(_loud_lines(worker.log))
        sim_before = len((tmp_path / "simulator.log").read_text().splitlines())

        kafka.stop()
        time.sleep(DOWN_S)
        assert worker.proc.poll() is None  # still running, without its broker
        kafka.start()

        back = worker.metric(PROCESSED)
        _until("the worker reads on", lambda: worker.metric(PROCESSED) > back + 200, 120)
        assert worker.proc.poll() is None and simulator.poll() is None
        # the producer's retries of what it made during the outage come after the
        # worker is back: its quiet partitions (streams.idle) must wait for them
        time.sleep(IDLE_CLOSE_S + 2)
        assert worker.metric("riskstream_events_dead_lettered_total", kind="late") == 0
        outage = _loud_lines(worker.log)[quiet_before:]
        # each client's retries log a line every 100 ms or so: about 5,000 lines in 20 s
        # when each goes out; held back to one per distinct line per 30 s, a few dozen
        assert len(outage) < 100, f"{len(outage)} lines, e.g. {outage[-3:]}"
        assert any("Unable connect" in line for line in outage)  # the outage is still told
        # the simulator's producer: about 900 lines in 20 s when each goes out
        sim_outage = (tmp_path / "simulator.log").read_text().splitlines()[sim_before:]
        assert len(sim_outage) < 30, f"{len(sim_outage)} lines, e.g. {sim_outage[-3:]}"
        assert any("Unable connect" in line for line in sim_outage)
    finally:
        simulator.terminate()
        simulator.wait(30)
        worker.stop()
        kafka.stop()
