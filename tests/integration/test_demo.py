"""``riskstream demo`` cleans up after itself, whether stopped by Ctrl-C or SIGTERM, or
by its worker stopping."""

from __future__ import annotations

import contextlib
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


def _kill_left(demo: subprocess.Popen[bytes], directory: Path) -> None:
    """A demo that did not stop, and whatever it started: so a failing test leaves none."""
    if demo.poll() is None:
        demo.kill()
        demo.wait()
    for pid in _running_in(directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _start_demo(tmp_path: Path, out: Path) -> tuple[subprocess.Popen[bytes], LocalKafka]:
    """A demo in ``tmp_path`` on free ports, once it has started its worker and simulator;
    a cache of its own (sharing the jars), so a demo running on this machine is not touched."""
    cache = tmp_path / "cache"
    cache.mkdir()
    jars = fetch_jars().parent
    (cache / jars.name).symlink_to(jars)
    port, metrics_port = free_port_pair(), free_port()
    with out.open("wb") as fh:  # the demo writes to its own copy of the descriptor
        demo = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "demo", "--port", str(port),
             "--metrics-port", str(metrics_port), "--rate", "50"],
            cwd=tmp_path, stdout=fh, stderr=subprocess.STDOUT,
            env=dict(os.environ, RISKSTREAM_CACHE=str(cache)))
    try:
        _wait_for(out, "worker and simulator started", 180)
    except BaseException:
        _kill_left(demo, tmp_path)
        raise
    broker = LocalKafka(port=port, data_dir=cache / "demo-kafka-data")
    assert broker.pid() is not None
    return demo, broker


def test_sigterm_stops_the_demos_worker_simulator_and_broker(tmp_path: Path) -> None:
    out = tmp_path / "demo.out"
    demo, broker = _start_demo(tmp_path, out)
    try:
        assert len(_running_in(tmp_path)) >= 3  # the demo, its worker and its simulator
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(120) == 0
    finally:
        _kill_left(demo, tmp_path)
    text = out.read_text(errors="replace")
    lines = text.splitlines()
    assert "stopping..." in lines and "stopped." in lines  # each on a line of its own
    assert "Traceback" not in text  # stopped as Ctrl-C stops it, not mid-loop
    assert broker.pid() is None  # the broker it started is gone, not left running
    assert _running_in(tmp_path) == []  # and so are the worker and the simulator


def _pid_running(directory: Path, *argv: bytes) -> int:
    """The process in ``directory`` whose command line holds each of ``argv``."""
    return next(pid for pid in _running_in(directory)
                if set(argv) <= set(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")))


def test_a_worker_that_dies_stops_the_demo_which_says_so(tmp_path: Path) -> None:
    out = tmp_path / "demo.out"
    demo, broker = _start_demo(tmp_path, out)
    try:
        os.kill(_pid_running(tmp_path, b"streams.cli", b"worker"), signal.SIGKILL)  # as OOM
        assert demo.wait(90) == 1
    finally:
        _kill_left(demo, tmp_path)
    text = out.read_text(errors="replace")
    assert "riskstream demo: the worker stopped by itself (killed by SIGKILL); " in text
    assert ".riskstream/demo/worker.log" in text  # its log named (empty if killed at once)
    assert "stopped." in text
    assert broker.pid() is None
    assert _running_in(tmp_path) == []


def test_a_broker_that_dies_stops_the_demo_which_says_so(tmp_path: Path) -> None:
    out = tmp_path / "demo.out"
    demo, broker = _start_demo(tmp_path, out)
    try:
        os.kill(_pid_running(tmp_path, b"kafka.Kafka"), signal.SIGKILL)
        assert demo.wait(90) == 1
    finally:
        _kill_left(demo, tmp_path)
    text = out.read_text(errors="replace")
    assert "riskstream demo: the Kafka broker stopped by itself (its process is gone); " \
        f"its log, {broker.log_file}, is empty" in text  # SIGKILL leaves it no last words
    assert _running_in(tmp_path) == []  # its worker and simulator stopped too
