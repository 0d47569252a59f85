"""``riskstream tail`` on a broker of its own: the signals sent since a time, of the
types and severities asked for, as an on-call reviewer looks up what paged them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.bench.run import fresh_broker
from streams.cli import main
from streams.topics import PUBLIC_TOPICS, SIGNALS_TOPIC, ensure_topics
from tests.integration.conftest import send

pytestmark = pytest.mark.integration


def _signals(signals: list[tuple[str, str, str]]) -> list[tuple[str, bytes, bytes | None]]:
    return [(SIGNALS_TOPIC, signal_id.encode(), orjson.dumps(
        {"signal_id": signal_id, "signal_type": kind, "severity": severity, "status": "open"}))
        for signal_id, kind, severity in signals]


# another producer's records on the topic, before riskstream tail read them as signals
# (and stopped on the first with a traceback)
NO_SIGNALS = [(SIGNALS_TOPIC, b"x", b"not json"), (SIGNALS_TOPIC, b"y", None),
              (SIGNALS_TOPIC, b"z", b'{"signal_id": "z", "signal_type": "report_spike"}')]


def _ids(capsys: Any) -> list[str]:
    return [orjson.loads(line)["signal_id"] for line in capsys.readouterr().out.splitlines()]


@pytest.mark.timeout(300)  # a tail that waited for a topic never made would hang
def test_signals_since_a_time_of_chosen_types_and_severities(tmp_path: Path, capsys: Any
                                                             ) -> None:
    with fresh_broker(tmp_path, "kafka") as broker:
        # no risk.signals yet: nothing, and back when asked (or, with no --for, after
        # waiting a while for the topic), where waiting for the topic would hang
        assert main(["tail", "--broker", broker, "--from-beginning", "--for", "2"]) == 0
        assert main(["tail", "--broker", broker, "--since", "1h"]) == 0
        assert _ids(capsys) == []
        asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, 4))
        asyncio.run(send(broker, _signals([("a", "report_spike", "low"),
                                   ("b", "report_spike", "critical"),
                                   ("c", "price_anomaly", "high")]) + NO_SIGNALS))
        time.sleep(1.5)
        cut = int(time.time() * 1000)
        time.sleep(1.5)
        asyncio.run(send(broker, _signals([("d", "report_spike", "high"),
                                   ("e", "listing_burst", "critical")])))

        said: list[str] = []

        def tail(*args: str) -> list[str]:
            assert main(["tail", "--broker", broker, *args]) == 0
            out = capsys.readouterr()
            said[:] = out.err.splitlines()
            return sorted(orjson.loads(line)["signal_id"] for line in out.out.splitlines())

        # with a start and no --for: up to the topic's end, then back
        assert tail("--since", str(cut)) == ["d", "e"]
        assert said == []
        assert tail("--since", "1h") == ["a", "b", "c", "d", "e"]
        # records on the topic that are no signals are passed over, each said once
        assert sorted(line.split(": ", 2)[2][:20] for line in said) == [
            "a tombstone (no valu", "its severity is None", "not JSON (invalid li"]
        assert all(line.startswith("riskstream tail: passed over risk.signals partition ")
                   for line in said)
        assert tail("--from-beginning", "--type", "report_spike",
                    "--min-severity", "high") == ["b", "d"]
        assert tail("--since", "10m", "--type", "price_anomaly,listing_burst") == ["c", "e"]
        assert tail("--since", str(cut), "--min-severity", "critical", "--for", "3") == ["e"]
        assert tail("--for", "3") == []  # from now on: nothing new


def test_an_unknown_type_and_two_starts_are_refused(capsys: Any) -> None:
    for args, said in ((["--type", "report_spikes"], "unknown signal type 'report_spikes'"),
                       (["--since", "1h", "--from-beginning"], "not allowed with argument"),
                       (["--min-severity", "severe"], "invalid choice: 'severe'"),
                       (["--since", "soon"], "not epoch ms nor an ISO 8601 time")):
        with pytest.raises(SystemExit):
            main(["tail", *args])
        assert said in capsys.readouterr().err
