"""A worker in a child process on this machine, and reading its ``/metrics``.

Used by the integration tests and the benchmarks, which both need a real
worker process (its own interpreter, its own RSS and CPU time) next to the
project's local broker.

>>> text = 'riskstream_events_processed_total{topic="a"} 3.0\\n' \\
...        'riskstream_events_processed_total{topic="b"} 4.0\\n'
>>> samples = parse_metrics(text)
>>> metric_sum(samples, "riskstream_events_processed_total"), \\
...     metric_sum(samples, "riskstream_events_processed_total", topic="b")
(7.0, 4.0)
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

Sample = tuple[str, dict[str, str], float]


LOWEST_PORT = 10_000
_handed_out: set[int] = set()  # by this process: never twice, though not bound yet


def _outgoing_ports_start() -> int:
    """The first port the kernel gives outgoing connections as their own (32768 unless
    configured otherwise): a port below it is taken only by a process that binds it."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(n: int = 1) -> int:
    """The first of ``n`` consecutive ports free on 127.0.0.1, for a server started a
    moment later. They are drawn below the ports the kernel gives outgoing connections
    (a port drawn from those was once taken, between this check and the broker's
    bind, by some connection's own end, and the broker could not start), and none is
    handed out twice by this process.

    >>> port = free_ports(2)
    >>> LOWEST_PORT <= port < port + 1 < _outgoing_ports_start() and port + 1 in _handed_out
    True
    """
    top = _outgoing_ports_start() - n
    for _ in range(500):
        port = random.randrange(LOWEST_PORT, max(top, LOWEST_PORT + 1))
        ports = range(port, port + n)
        if _handed_out.isdisjoint(ports) and all(_bindable(p) for p in ports):
            _handed_out.update(ports)
            return port
    raise RuntimeError(f"no {n} consecutive free ports between {LOWEST_PORT} and {top + n}")


def free_port() -> int:
    """A port free on 127.0.0.1 (see :func:`free_ports`)."""
    return free_ports(1)


def free_port_pair() -> int:
    """A free port whose successor is free too (a broker and its controller)."""
    return free_ports(2)


def parse_metrics(text: str) -> list[Sample]:
    return [(s.name, s.labels, s.value)
            for family in text_string_to_metric_families(text) for s in family.samples]


def metric_sum(samples: list[Sample], name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(v for n, lab, v in samples if n == name and labels.items() <= lab.items())


def scrape(url: str, timeout_s: float = 5.0) -> list[Sample]:
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        return parse_metrics(resp.read().decode())


class WorkerProcess:
    """``riskstream worker`` as a child process with its own metrics port and log file."""

    def __init__(self, broker: str, workdir: Path, app_id: str,
                 env: dict[str, str] | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.metrics_url = f"http://127.0.0.1:{self.port}/metrics"
        self.log = workdir / f"worker-{app_id}-{self.port}.log"
        full_env = dict(os.environ, RISKSTREAM_BROKER=broker,
                        RISKSTREAM_METRICS_PORT=str(self.port),
                        RISKSTREAM_DATA_DIR=str(workdir / "data"), RISKSTREAM_APP_ID=app_id)
        full_env.update(env or {})
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"],
                                         env=full_env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_started(self, timeout_s: float = 180.0) -> None:
        """Wait until the ingest stage runs; raise with the log's tail if it never does."""
        deadline = time.monotonic() + timeout_s
        while b"ingest started" not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def samples(self) -> list[Sample]:
        return scrape(self.metrics_url)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels``."""
        return metric_sum(self.samples(), name, **labels)

    def stop(self, timeout_s: float = 30.0) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
