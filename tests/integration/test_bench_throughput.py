"""``riskstream bench throughput`` end to end at a small scale: its own broker, the
baseline consumer and one worker, figures written (the figures themselves are not
judged here: they are measurements, not pass/fail)."""

from __future__ import annotations

from pathlib import Path

import orjson

from streams.bench.throughput import py_spy
from streams.cli import main


def test_bench_throughput_runs_and_writes_its_figures(tmp_path: Path, capsys) -> None:
    summary = tmp_path / "bench.json"
    # enough events that the worker is still at them when the bench first polls it
    assert main(["bench", "throughput", "--events", "30000", "--skip-quix", "--skip-latency",
                 "--skip-memory", "--summary", str(summary),
                 "--workdir", str(tmp_path / "work")]) == 0
    figures = orjson.loads(summary.read_bytes())
    assert figures["baseline_eps"] > 0 and figures["riskstream_eps"] > 0
    assert figures["windows"] > 0  # the worker closed and evaluated windows
    assert "riskstream worker, to last window evaluated" in capsys.readouterr().out


def test_py_spy_is_found_without_an_activated_environment() -> None:
    # the bench extra installs it beside this Python; `--profile` runs it from there
    found = py_spy()
    assert found is not None and Path(found).is_file()
