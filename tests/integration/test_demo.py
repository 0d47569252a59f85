"""``riskstream demo`` cleans up after itself, whether stopped by Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from streams.localkafka import LocalKafka, fetch_jars
from streams.localworker import free_port, free_port_pair


def _wait_for(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not in {path} after {timeout_s}s:\n{path.read_text()}")


def _running_in(directory: Path) -> list[int]:
    """Processes whose working directory is ``directory`` (the demo's children)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "cwd").resolve() == directory.resolve():
                    pids.append(int(proc.name))
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return pids


def test_sigterm_stops_the_demos_worker_simulator_and_broker(tmp_path: Path) -> None:
    # a cache of its own (sharing the jars), so a demo running on this machine is not touched
    cache = tmp_path / "cache"
    cache.mkdir()
    jars = fetch_jars().parent
    (cache / jars.name).symlink_to(jars)
    port, metrics_port = free_port_pair(), free_port()
    out = tmp_path / "demo.out"
    with out.open("wb") as fh:
        demo = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "demo", "--port", str(port),
             "--metrics-port", str(metrics_port), "--rate", "50"],
            cwd=tmp_path, stdout=fh, stderr=subprocess.STDOUT,
            env=dict(os.environ, RISKSTREAM_CACHE=str(cache)))
        try:
            _wait_for(out, "worker and simulator started", 180)
            broker = LocalKafka(port=port, data_dir=cache / "demo-kafka-data")
            assert broker.pid() is not None
            assert len(_running_in(tmp_path)) >= 3  # the demo, its worker and its simulator
            demo.send_signal(signal.SIGTERM)
            assert demo.wait(120) == 0
        finally:
            if demo.poll() is None:
                demo.kill()
    text = out.read_text(errors="replace")
    assert "stopping..." in text and "stopped." in text
    assert broker.pid() is None  # the broker it started is gone, not left running
    assert _running_in(tmp_path) == []  # and so are the worker and the simulator
