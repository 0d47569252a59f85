"""Comment windows: text fingerprints and terms, folded per partition, merged by key."""

from __future__ import annotations

import orjson

from signals.aggregate import WindowAggregate
from signals.engine import Engine
from signals.merge import Merger
from signals.policy import load_policy
from streams import windows
from streams.contract import LISTING_TOPIC, LIVESTREAM_TOPIC, decode
from streams.ingest import IngestCore, Raw
from streams.windows import PartitionWindows
from tests.streams.events import listing, raw

TEXT = "dm me on whatsapp for the real deal at half price"


def _comment(i: int, stream: str, user: str, text: str, ts: int = 1_000):
    return decode(LIVESTREAM_TOPIC, orjson.dumps({
        "schema_version": 1, "event_id": f"e{i}", "event_type": "comment", "ts": ts,
        "stream_id": stream, "seller_id": "x", "region": "US", "user_id": user,
        "account_age_days": 1, "text": text}))


def _closed(events) -> dict:
    pw = PartitionWindows(size_ms=60_000, lateness_ms=0, young_days=7)
    for offset, ev in enumerate(events):
        pw.fold(ev, offset)
    return {(a.entity_type, a.entity_id): a for a in pw.close_all()}


def test_a_text_one_account_repeats_is_a_first_use() -> None:
    # no cluster here; its first use is sent, to merge with other partitions' parts
    pw = PartitionWindows(size_ms=60_000, lateness_ms=0, young_days=7)
    for i in range(5):
        pw.fold(_comment(i, "s1", "bot", TEXT, ts=1_000 + i), i)
    assert [a for a in pw.close_all() if a.entity_type == "account_cluster"] == []
    [use] = pw.first_uses
    assert (use.event_id, use.ts, use.account, use.stream, use.window_start) == (
        "e0", 1_000, "bot", "s1", 0)
    alone = use.as_window()  # merged with nothing: a window no signal judges
    assert alone.features["distinct_accounts"] == 1.0
    assert not Engine(load_policy()).wants(alone)


def test_first_uses_merge_into_the_window_the_ingest_stage_builds() -> None:
    # a cluster of three accounts in one partition, and the same three posting one
    # each in three partitions: the detect stage sees the same window
    events = [_comment(1, "s1", "b1", TEXT, ts=5_000), _comment(2, "s2", "b2", TEXT + "!!"),
              _comment(3, "s3", "b3", TEXT + " 🔥", ts=3_000)]
    [whole] = [a for a in _closed(events).values() if a.entity_type == "account_cluster"]
    merger = Merger(settle_ms=0)
    for ev in events:
        pw = PartitionWindows(size_ms=60_000, lateness_ms=0, young_days=7)
        pw.fold(ev, 0)
        pw.close_all()
        merger.add(pw.first_uses[0], now_ms=0)
    [merged] = merger.drain()
    assert merged.features == whole.features and merged.breakdown == whole.breakdown
    assert {k: sorted(v) for k, v in merged.samples.items()} == {
        k: sorted(v) for k, v in whole.samples.items()}


def test_cluster_partials_merge_into_distinct_accounts_and_streams() -> None:
    # partition A: streams s1, s2; partition B: s3; account b1 posts in both partitions
    a = _closed([_comment(1, "s1", "b1", TEXT, ts=5_000), _comment(2, "s2", "b2", TEXT + "!!")])
    b = _closed([_comment(3, "s3", "b1", TEXT + " 🔥"), _comment(4, "s3", "b3", TEXT)])
    [ka] = [k for k in a if k[0] == "account_cluster"]
    assert ka in b  # the same fingerprint key in both partitions
    merger = Merger(settle_ms=0)
    merger.add(a[ka], now_ms=0)
    merger.add(b[ka], now_ms=0)
    [merged] = merger.drain()
    f = merged.features
    assert (f["n_use"], f["distinct_accounts"], f["distinct_streams"]) == (4.0, 3.0, 3.0)
    assert f["first_ts"] == 1_000.0
    assert merged.samples["event"] == ["e1", "e2", "e3", "e4"]


def test_terms_are_counted_per_region_with_distinct_texts() -> None:
    out = _closed([_comment(1, "s1", "u1", "sup3rcl0n3 here"),
                   _comment(2, "s2", "u2", "s u p e r c l o n e wow"),
                   _comment(3, "s2", "u2", "s u p e r c l o n e wow")])
    term = out[("term", "superclone|US")]
    assert term.features["n_use"] == 3.0
    assert term.features["distinct_texts"] == 2.0 and term.features["distinct_accounts"] == 2.0


def test_a_code_word_drawn_out_counts_for_the_spelling_its_partition_wrote() -> None:
    # "mirrrrorgrade" alone reads "mirorgrade"; after "mirrorgrade" in the same
    # partition (even a window before), it counts for "mirrorgrade"
    before = _closed([_comment(1, "s1", "u1", "mirrrrorgrade here")])
    assert ("term", "mirorgrade|US") in before
    pw = PartitionWindows(size_ms=60_000, lateness_ms=0, young_days=7)
    pw.fold(_comment(1, "s1", "u1", "mirrorgrade here"), 0)
    pw.fold(_comment(2, "s2", "u2", "get mirrrrorgrade now", ts=61_000), 1)
    pw.fold(_comment(3, "s3", "u3", "the miiirrorgradeee ones", ts=62_000), 2)
    out = {(a.entity_type, a.entity_id, a.window_start): a for a in pw.close_all()}
    assert out[("term", "mirrorgrade|US", 60_000)].features["n_use"] == 2.0
    assert not any(k[1].startswith("mirorgrade") for k in out)


def test_a_bots_varied_copies_of_one_text_are_one_text_to_its_terms() -> None:
    copies = [TEXT, "dm me on whats app for the real deal at half price",
              "dm meee on whatsapp for the real deal at half 🔥 price"]
    out = _closed([_comment(i, f"s{i}", f"bot{i}", text) for i, text in enumerate(copies)]
                  + [_comment(9, "s9", "u9", "whatsapp me for the price of this one")])
    term = out[("term", "whatsapp|US")]
    assert term.features["n_use"] == 3.0  # the split copy has "whats" and "app"
    assert term.features["distinct_texts"] == 2.0  # the copies, and the other text


def test_text_work_is_skipped_for_disabled_signals() -> None:
    pw = PartitionWindows(size_ms=60_000, lateness_ms=0, young_days=7, terms=False,
                          clusters=False)
    for i, user in enumerate(("a", "b", "c")):
        pw.fold(_comment(i, f"s{i}", user, TEXT), i)
    assert {a.entity_type for a in pw.close_all()} == {"stream"}


def test_terms_beyond_the_cap_are_counted_as_dropped(monkeypatch) -> None:
    monkeypatch.setattr(windows, "MAX_TERMS", 2)
    core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
    raw = orjson.dumps({"schema_version": 1, "event_id": "e1", "event_type": "comment",
                        "ts": 1_000, "stream_id": "s1", "seller_id": "x", "region": "US",
                        "user_id": "u", "text": "alpha beta gamma delta"})
    core.process(LIVESTREAM_TOPIC, 0, [Raw(0, b"s1", raw)])
    assert core.take_terms_dropped() == 2 and core.take_terms_dropped() == 0


def test_a_flood_of_one_off_words_does_not_keep_a_code_word_from_being_counted(
        monkeypatch) -> None:
    # junk comments fill the window's term counters before the code word comes; the
    # code word then takes one-use junk counters, losing only its first use
    monkeypatch.setattr(windows, "MAX_TERMS", 40)
    junk = [_comment(i, f"s{i % 7}", f"spam{i}", " ".join(f"zq{i}x{j}" for j in range(8)))
            for i in range(30)]
    code = [_comment(100 + i, f"s{i}", f"u{i}", f"ask for sup3rcl0n3 {i}") for i in range(5)]
    pw = PartitionWindows(size_ms=60_000, lateness_ms=0, young_days=7)
    for offset, ev in enumerate(junk + code):
        pw.fold(ev, offset)
    out = {a.entity_id: a for a in pw.close_all() if a.entity_type == "term"}
    assert len(out) == 40
    f = out["superclone|US"].features
    assert (f["n_use"], f["distinct_accounts"], f["distinct_streams"]) == (4.0, 4.0, 4.0)
    assert pw.terms_dropped > 30 * 8 - 40


def test_a_titles_own_category_words_are_no_emerging_term() -> None:
    titles = ["cards lot tomica", "pokemon cards tomica", "rare Cards tomica bundle"]
    events = [decode(LISTING_TOPIC, raw(listing(
        event_id=f"l{i}", listing_id=f"li-{i}", seller_id=f"sl-{i}", region="ID",
        category="collectibles/cards", currency="IDR", title=title)))
        for i, title in enumerate(titles)]
    out = _closed(events)
    assert ("term", "cards|ID") not in out  # the category says it already
    assert out[("term", "tomica|ID")].features["n_use"] == 3.0  # other words count
    # a comment is no title: there the word counts
    assert ("term", "cards|US") in _closed([_comment(1, "s1", "u1", "cards here")])


def test_a_shops_bulk_upload_counts_its_seller_once_for_a_term() -> None:
    # a shop lists four items titled with "show" in one minute, two of them on another
    # partition, and another seller one: the word's window counts two sellers' titles
    # (every common word of a bulk upload would be an emerging term otherwise); a
    # third seller using it makes it three, enough for a word the region never used
    warm = load_policy().signals["emerging_term"].warmup_s // 60
    ts = (warm + 2) * 60_000 + 1_000

    def title(i: int, seller: str, text: str):
        return decode(LISTING_TOPIC, raw(listing(
            event_id=f"l{i}", listing_id=f"li-{i}", seller_id=seller, region="DE",
            currency="EUR", ts=ts + i, title=text)))

    shop = [title(i, "shop", f"show {word} size") for i, word in
            enumerate(("red", "blue", "green", "black"))]
    other = [title(9, "sl-2", "show again does much")]
    third = [title(10, "sl-3", "show me this one")]

    def judged(parts: list[list]) -> tuple[dict[str, float], list[str]]:
        engine = Engine(load_policy())
        for i in range(warm + 1):  # the region's words, warmed up
            engine.process(WindowAggregate(
                entity_type="term", entity_id=f"w{i}|DE", region="DE",
                window_start=i * 60_000, window_end=(i + 1) * 60_000,
                features={"n_use": 1.0, "distinct_texts": 1.0, "distinct_accounts": 1.0,
                          "distinct_streams": 1.0}), None, emitted_ts=0)
        merger = Merger(settle_ms=0)
        for part in parts:
            pw = PartitionWindows(size_ms=60_000, lateness_ms=0, young_days=7)
            for offset, ev in enumerate(part):
                pw.fold(ev, offset)
            for agg in pw.close_all():
                if agg.entity_id == "show|DE":
                    merger.add(agg, now_ms=0)
        [merged] = merger.drain()
        result = engine.process(merged, None, emitted_ts=0)
        return merged.features, [s.status for s in result.signals]

    features, opened = judged([shop[:2] + other, shop[2:]])
    assert (features["distinct_listings"], features["distinct_sellers"]) == (5.0, 2.0)
    assert opened == []
    features, opened = judged([shop[:2] + other, shop[2:] + third])
    assert features["distinct_sellers"] == 3.0
    assert opened == ["open"]
