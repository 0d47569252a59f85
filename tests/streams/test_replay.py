"""The file shell over the same core: detection quality at a small scale, no broker."""

from __future__ import annotations

import zlib

import orjson
import pytest

from signals.policy import load_policy
from streams.contract import LIVESTREAM_TOPIC
from streams.replay import read_jsonl, replay
from streams.simulate import SimConfig, Simulator, explained, matches
from tests.streams.events import BASE_TS, live, raw

SIGNAL_TYPES = (
    "report_spike", "viewer_inflation", "purchase_anomaly", "price_anomaly", "listing_burst",
    "coordinated_comments", "emerging_term", "segment_report_surge",
)


def _replay(seed: int, scenarios: tuple[str, ...]):
    sim = Simulator(SimConfig(seed=seed, rate=120, duration_s=2400, scenarios=scenarios))
    records = [(t, k, orjson.dumps(e)) for t, k, e in sim.events()]
    return sim.labels(), replay(records, load_policy())


@pytest.mark.parametrize("seed", [101, 102, 103])
def test_injected_scenarios_are_found_and_nothing_else(seed: int) -> None:
    labels, result = _replay(seed, SIGNAL_TYPES)
    opened = [s.to_dict() for s in result.signals if s.status == "open"]
    assert [s for s in opened if not explained(labels, s)] == []
    for label in labels:
        first = min(s["window_end"] for s in opened if matches(label, s))
        # within two windows; more for the slow starters: a burst seller lists about six
        # times a minute, and a code word ramps up from two uses a minute (by a few
        # heavy commenters: the count allows two texts per account), and a segment surge,
        # a few extra reported streams a minute, whose evidence is summed over windows
        # until it clears a false-alarm bar of a few per 10,000 windows
        limit = {"listing_burst": 4, "emerging_term": 6,
                 "segment_report_surge": 12}.get(label["scenario"], 2)
        assert first - label["start_ts"] <= limit * 60_000, label


def test_clean_traffic_gives_no_signal() -> None:
    _, result = _replay(104, ())
    assert result.signals == []
    assert result.processed > 100_000 and result.dead == []


def test_file_replay_matches_in_memory(tmp_path) -> None:
    sim = Simulator(SimConfig(seed=9, rate=80, duration_s=1800, scenarios=("report_spike",)))
    path = tmp_path / "events.jsonl"
    records = []
    with path.open("wb") as fh:
        for topic, key, event in sim.events():
            line = orjson.dumps(event)
            fh.write(line + b"\n")
            records.append((topic, key, line))
    from_file = replay(read_jsonl(str(path)), load_policy())
    in_memory = replay(records, load_policy())
    assert [s.to_dict() for s in from_file.signals] == [s.to_dict() for s in in_memory.signals]
    assert from_file.signals


def test_flush_judges_the_last_windows_of_spread_entities() -> None:
    # one window of a comment cluster, closed only by the flush at the end
    text = "dm me on whatsapp for the real deal at half price"
    records = [(LIVESTREAM_TOPIC, f"st-{n % 3}".encode(), raw(live(
        "comment", event_id=f"c{n}", stream_id=f"st-{n % 3}", ts=BASE_TS + 1_000 * n,
        user_id=f"bot-{n}", account_age_days=1, text=text))) for n in range(12)]
    result = replay(records, load_policy(), partitions=1, flush=True)
    assert [s.signal_type for s in result.signals] == ["coordinated_comments"]


def test_a_campaign_spread_one_account_per_partition_is_one_cluster() -> None:
    # twelve accounts each post the campaign text once, each in a stream of its own
    # input partition: no partition sees two of them, the merged window sees twelve
    partitions, streams = 16, {}
    for i in range(10_000):
        p = zlib.crc32(f"st-{i}".encode()) % partitions
        streams.setdefault(p, f"st-{i}")
        if len(streams) == 12:
            break
    text = "dm me on whatsapp for the real deal at half price"
    records = []
    for n, stream in enumerate(streams.values()):
        ev = live("comment", event_id=f"c{n}", stream_id=stream, ts=BASE_TS + 1_000 * n,
                  user_id=f"bot-{n}", account_age_days=1, text=text)
        records.append((LIVESTREAM_TOPIC, stream.encode(), raw(ev)))
    result = replay(records, load_policy(), partitions=partitions, flush=True)
    [signal] = [s for s in result.signals if s.signal_type == "coordinated_comments"]
    assert (signal.observed["accounts"], signal.observed["streams"]) == (12, 12)
    assert sorted(signal.evidence["sample_accounts"]) == sorted(f"bot-{n}" for n in range(12))
