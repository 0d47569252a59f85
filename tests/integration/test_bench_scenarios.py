"""``riskstream bench scenarios`` end to end: its own broker, a worker on the given
policy, the chosen types injected and scored."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import orjson
import pytest
import yaml

from streams.cli import main


def test_bench_scenarios_scores_the_chosen_types_with_the_given_policy(
        tmp_path: Path, capsys) -> None:
    doc = yaml.safe_load(resources.files("signals").joinpath("default_policy.yaml").read_text())
    doc["signals"]["viewer_inflation"]["open_score"] = 0.9999  # a bar nothing clears
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    summary = tmp_path / "summary.json"
    assert main(["bench", "scenarios", "--seeds", "11", "--minutes", "20", "--rate", "60",
                 "--types", "report_spike,viewer_inflation", "--policy", str(policy),
                 "--summary", str(summary), "--workdir", str(tmp_path / "work"),
                 "--replay"]) == 0
    figures = orjson.loads(summary.read_bytes())
    assert set(figures) == {"report_spike", "viewer_inflation"}
    assert figures["report_spike"]["recall"] == 1.0  # both injected spikes found
    assert figures["report_spike"]["precision"] == 1.0
    assert figures["viewer_inflation"]["recall"] == 0.0  # the worker ran the given policy
    out = capsys.readouterr().out
    for kind in ("coordinated_comments", "segment_report_surge"):  # other enabled types
        assert re.search(rf"│ {kind} +│ +│ +│ not injected │ +│ +\d+ \(\d+\.\d\d/h\)", out)
    missed = out[out.index("scenarios missed"):]  # listed, so they can be looked into
    assert missed.count("seed 11 viewer_inflation") == 2 and "report_spike" not in missed
    # a backtest of the same events (on the same policy) opens the same signals
    spikes = figures["report_spike"]
    assert spikes["replay_same"] >= 2, spikes
    assert spikes["replay_only_live"] == spikes["replay_only_replay"] == 0, spikes
    # and sends the same records for them: updates, resolutions, scores and windows
    assert spikes["replay_same_records"] == spikes["replay_same"], spikes
    assert "live worker against a replay" in out


def _processes_of(root: Path, besides: int) -> list[int]:
    """Processes other than ``besides`` whose command line or environment names ``root``:
    the bench's broker (its config files are there) and workers (their data directory)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in (os.getpid(), besides):
            continue
        try:
            seen = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if str(root).encode() in seen:
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize(("stop", "when"), [
    (signal.SIGTERM, "while its broker starts"), (signal.SIGTERM, "while its worker runs"),
    (signal.SIGINT, "while its broker starts")])
def test_a_stopped_bench_stops_its_broker_and_worker(tmp_path: Path, stop: int,
                                                     when: str) -> None:
    """A SIGTERM (``timeout``, a cancelled CI job) ended the bench at once: its broker, in
    a session of its own, and its worker lived on, the broker holding its ports and
    768 MB of heap. A Ctrl-C while the broker started left the broker running too."""
    bench = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "bench", "scenarios", "--seeds", "7001",
         "--minutes", "2", "--workdir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pid_file = tmp_path / "kafka-7001" / "kafka.pid"
    worker_logs = tmp_path / "worker-7001"
    deadline = time.monotonic() + 180
    while not (pid_file.exists() and pid_file.read_text().strip()) or (
            when == "while its worker runs" and not list(worker_logs.glob("*.log"))):
        assert bench.poll() is None and time.monotonic() < deadline, bench.stderr.read()
        time.sleep(0.05)
    assert len(_processes_of(tmp_path, bench.pid)) == (
        2 if when == "while its worker runs" else 1)
    bench.send_signal(stop)
    assert bench.wait(timeout=90) == 130
    assert _processes_of(tmp_path, bench.pid) == [], f"outlived the bench stopped {when}"
    assert not pid_file.exists()
