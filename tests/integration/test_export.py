"""``riskstream export``: what the input topics hold, over a span of time, as a file
``riskstream replay`` reads: every record once, in event-time order, each partition's in
its own order, bad ones included, on a broker of its own."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from signals.policy import load_policy
from streams.bench.run import fresh_broker
from streams.cli import main
from streams.producer import produce
from streams.replay import read_jsonl, replay
from streams.simulate import SimConfig, Simulator
from tests.integration.conftest import send

pytestmark = pytest.mark.integration

PRETTY = b'{\n  "schema_version": 1,\n  "event_type": "follow"\n}'  # valid JSON, bad event


def _signals(path: Path) -> set[tuple[str, str, str]]:
    result = replay(read_jsonl(str(path)), load_policy(None), flush=True)
    return {(s.signal_id, s.signal_type, s.status) for s in result.signals}


def test_an_export_replays_as_the_events_sent_and_keeps_to_its_span(
        tmp_path: Path, capsys: Any) -> None:
    sim = Simulator(SimConfig(seed=9, rate=60, duration_s=1500,
                              scenarios=("report_spike", "price_anomaly")))
    events = list(sim.events())
    half = len(events) // 2
    sent = tmp_path / "sent.jsonl"  # what was sent, as the simulator writes it
    sent.write_bytes(b"".join(orjson.dumps(e) + b"\n" for _, _, e in events))
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(produce(iter(events[:half]), broker, speed=0, pace_from_ts=0))
        verdict = orjson.dumps({"schema_version": 1, "signal_id": "sig_x", "verdict":
                                "false_positive", "ts": events[half - 1][2]["ts"] + 1})
        asyncio.run(send(broker, [("livestream.events", b"st-x", b"not\njson"),
                                   ("livestream.events", b"st-x", PRETTY),
                                   ("listing.events", b"li-x", None),
                                   ("governance.verdicts", b"sig_x", verdict)]))
        time.sleep(1.5)
        cut = int(time.time() * 1000)  # between the halves, by the records' timestamps
        time.sleep(1.5)
        asyncio.run(produce(iter(events[half:]), broker, speed=0, pace_from_ts=0))

        everything, before, after = (tmp_path / f"{n}.jsonl" for n in ("all", "before", "after"))
        assert main(["export", "--broker", broker, "--out", str(everything)]) == 0
        err = capsys.readouterr().err
        assert f"exported {len(events) + 3} records, event time " in err
        assert "1 records with no value (tombstones) left out" in err
        assert main(["export", "--broker", broker, "--out", str(before),
                     "--until", str(cut)]) == 0
        assert main(["export", "--broker", broker, "--out", str(after),
                     "--since", str(cut)]) == 0

    lines = everything.read_bytes().splitlines()
    assert b"not json" in lines and b'{"schema_version":1,"event_type":"follow"}' in lines
    # a reviewer's verdict, in its place by time, for the replay to act on as the worker did
    assert lines.index(verdict) > lines.index(orjson.dumps(events[half - 1][2]))
    assert replay(read_jsonl(str(everything)), load_policy()).verdicts == {"unknown": 1}
    exported = [orjson.loads(line) for line in lines if line.startswith(b'{"schema_version')
                and b'"event_id"' in line]
    assert sorted(e["event_id"] for e in exported) == sorted(e["event_id"] for _, _, e in events)
    stamps = [e["ts"] for e in exported]
    assert stamps == sorted(stamps)  # merged by event time
    by_stream: dict[str, list[str]] = {}
    for e in exported:
        by_stream.setdefault(e.get("stream_id") or e["listing_id"], []).append(e["event_id"])
    sent_by_stream: dict[str, list[str]] = {}
    for _, _, e in events:
        sent_by_stream.setdefault(e.get("stream_id") or e["listing_id"], []).append(
            e["event_id"])
    assert by_stream == sent_by_stream  # each key's records in the order sent

    # a backtest of the export finds what a backtest of the events sent finds
    assert _signals(everything) == _signals(sent)
    assert {kind for _, kind, _ in _signals(everything)} >= {"report_spike", "price_anomaly"}

    ids = {e["event_id"] for _, _, e in events}
    first = {orjson.loads(x)["event_id"] for x in before.read_bytes().splitlines()
             if b'"event_id"' in x}
    second = {orjson.loads(x)["event_id"] for x in after.read_bytes().splitlines()
              if b'"event_id"' in x}
    assert first == {e["event_id"] for _, _, e in events[:half]}
    assert second == ids - first
    assert b"not json" in before.read_bytes() and b"not json" not in after.read_bytes()
    assert verdict in before.read_bytes() and verdict not in after.read_bytes()


def test_a_span_that_ends_before_it_starts_and_a_bad_time_are_refused(
        tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "x.jsonl"
    assert main(["export", "--out", str(out), "--since", "2026-12-04T10:00Z",
                 "--until", "2026-12-04T09:00Z"]) == 2
    assert capsys.readouterr().err.startswith("riskstream: --since (1796378400000) is after "
                                              "--until (1796374800000)")
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(["export", "--out", str(out), "--since", "yesterday"])
    assert "argument --since: not epoch ms nor an ISO 8601 time" in capsys.readouterr().err


def test_no_broker_is_said_in_one_line(tmp_path: Path, capsys: Any) -> None:
    assert main(["export", "--broker", "127.0.0.1:1", "--out", str(tmp_path / "x.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("riskstream export: ") and err.count("\n") == 1
