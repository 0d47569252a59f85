"""One real local Kafka broker and one worker process, shared by the integration tests.

The broker is the project's own (``streams.localkafka``), started on a free port
in a temporary directory and stopped at the end of the session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.localkafka import LocalKafka


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_pair() -> int:
    """A port whose successor is free too (broker + controller)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port
    raise RuntimeError("no free port pair")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kafka = LocalKafka(port=_free_pair(), data_dir=tmp_path_factory.mktemp("kafka"))
    kafka.start()
    try:
        yield kafka.bootstrap
    finally:
        kafka.stop()


class Worker:
    def __init__(self, proc: subprocess.Popen, metrics_url: str, log: Path) -> None:
        self.proc = proc
        self.metrics_url = metrics_url
        self.log = log

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels``."""
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            text = resp.read().decode()
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    total += sample.value
        return total


@pytest.fixture(scope="session")
def worker(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    workdir = tmp_path_factory.mktemp("worker")
    port = free_port()
    env = dict(os.environ, RISKSTREAM_BROKER=broker, RISKSTREAM_METRICS_PORT=str(port),
               RISKSTREAM_DATA_DIR=str(workdir / "data"), RISKSTREAM_APP_ID="rs-it")
    log = workdir / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    w = Worker(proc, f"http://127.0.0.1:{port}/metrics", log)
    deadline = time.monotonic() + 120
    while b"ingest started" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        yield w
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
