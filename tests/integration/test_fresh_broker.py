"""The benches' throwaway broker: a port taken between its pick and the broker's
start costs a retry on other ports, not a 20-minute run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import streams.bench.run as bench_run
from streams.bench.run import fresh_broker
from streams.localworker import free_port_pair


def test_a_taken_port_is_retried_on_other_ports(tmp_path: Path, monkeypatch,
                                                capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        picks = iter([taken])
        monkeypatch.setattr(bench_run, "free_port_pair", lambda: next(picks, None)
                            or free_port_pair())
        with fresh_broker(tmp_path, "kafka") as bootstrap:
            assert not bootstrap.endswith(f":{taken}")
    err = capsys.readouterr().err
    assert "attempt 1 of 3" in err and f"port {taken} is taken" in err
