"""The deciding stage: ids, evidence, stale windows, expiry, learning filter."""

from __future__ import annotations

import msgspec

from signals.aggregate import WindowAggregate
from signals.catalogue import CATALOGUE
from signals.engine import Engine
from signals.pins import Pin, pin_of
from signals.policy import load_policy
from signals.record import signal_id
from signals.state import decode_state, encode_state, last_window
from signals.verdicts import Mute

MIN = 60_000


def _window(i: int, reports: float, entity: str = "s1", ended: bool = False) -> WindowAggregate:
    return WindowAggregate(
        entity_type="stream", entity_id=entity, region="BR", window_start=i * MIN,
        window_end=(i + 1) * MIN,
        features={"viewers_mean": 1000.0, "n_viewer_snapshot": 6.0, "n_report": reports,
                  "n_comment": 50.0, "distinct_reporters": reports},
        context={"seller_id": "x9", "category": "fashion/bags"} if i == 0 else {"seller_id": "x9"},
        samples={"report": [f"r{i}-{j}" for j in range(int(min(reports, 30)))]},
        breakdown={"report_reasons": {"counterfeit": int(reports)}} if reports else {},
        ended=ended,
    )


def _run(windows: list[WindowAggregate], engine: Engine | None = None):
    engine = engine or Engine(load_policy())
    state, signals = None, []
    for w in windows:
        result = engine.process(w, state, emitted_ts=123)
        state = result.state
        signals += result.signals
    return state, signals


def test_signal_carries_what_a_reviewer_needs() -> None:
    _, signals = _run([_window(i, r) for i, r in enumerate([0, 1, 0, 25])])
    [sig] = signals
    d = sig.to_dict()
    assert d["status"] == "open" and d["entity_id"] == "s1" and d["region"] == "BR"
    assert d["observed"]["reports"] == 25
    assert d["baseline"]["expected_count"] < 2
    assert len(d["evidence"]["sample_event_ids"]) == 20
    assert d["evidence"]["report_reasons"] == {"counterfeit": 25}
    assert d["evidence"]["category"] == "fashion/bags"  # kept from the stream's first window
    assert d["first_seen_ts"] == 3 * MIN and d["emitted_ts"] == 123
    assert d["signal_id"] == signal_id("report_spike", "stream", "s1", 3 * MIN)
    assert d["detector"] == "poisson_rate" and d["detector_version"]


def test_same_windows_same_signal_ids() -> None:
    windows = [_window(i, r) for i, r in enumerate([0, 0, 30, 30, 0, 0, 0])]
    ids_a = [(s.signal_id, s.status) for s in _run(windows)[1]]
    ids_b = [(s.signal_id, s.status) for s in _run(windows)[1]]
    assert ids_a == ids_b and [st for _, st in ids_a] == ["open", "resolved"]
    assert len({i for i, _ in ids_a}) == 1  # one episode, one id


def test_replayed_windows_are_stale_and_change_nothing() -> None:
    engine = Engine(load_policy())
    state, _ = _run([_window(i, 0) for i in range(3)], engine)
    before = repr(state)
    result = engine.process(_window(1, 40), state, emitted_ts=0)
    assert result.stale and result.signals == [] and repr(result.state) == before


def test_flagged_windows_are_not_learned() -> None:
    engine = Engine(load_policy())
    state, _ = _run([_window(i, 0) for i in range(3)], engine)
    code = CATALOGUE["report_spike"].code
    learned = state.detector(code)
    state = engine.process(_window(3, 40), state, emitted_ts=0).state
    assert state.detector(code) == learned


def test_stream_end_resolves_with_reason() -> None:
    windows = [_window(0, 0), _window(1, 0), _window(2, 30), _window(3, 30, ended=True)]
    _, signals = _run(windows)
    assert [s.status for s in signals] == ["open", "resolved"]
    assert signals[-1].evidence["resolved_because"] == "stream ended"


def test_expiry_resolves_open_signals() -> None:
    engine = Engine(load_policy())
    state, _ = _run([_window(0, 0), _window(1, 40)], engine)
    later = 2 * MIN + engine.policy.entity_ttl_s * 1000 + 1
    assert engine.expired(state, later)
    [sig] = engine.expire("stream:s1", state, later, emitted_ts=5)
    assert sig.status == "resolved" and sig.signal_id == signal_id(
        "report_spike", "stream", "s1", MIN)
    assert not engine.expired(state, 3 * MIN)


def _verdict(sig_id: str, verdict: str, ts: int, signal_type: str = "report_spike") -> Mute:
    return Mute(entity_key="stream:s1", signal_type=signal_type, signal_id=sig_id,
                verdict=verdict, ts=ts, reviewer="ana")


def test_a_false_positive_verdict_resolves_its_signal_and_mutes_the_entity() -> None:
    engine = Engine(load_policy())  # report_spike: mute_s 21,600, cooldown_s 600
    state, [opened] = _run([_window(i, r) for i, r in enumerate([0, 0, 30])], engine)
    [resolved] = engine.mute(_verdict(opened.signal_id, "false_positive", 3 * MIN), state, 7)
    assert (resolved.signal_id, resolved.status, resolved.emitted_ts) == (
        opened.signal_id, "resolved", 7)
    assert resolved.evidence["resolved_because"] == (
        "a reviewer's verdict by ana: false_positive; no report_spike opens on this stream "
        "until 1970-01-01 06:03Z")  # the verdict's time plus mute_s
    assert (resolved.window_start, resolved.window_end) == (2 * MIN, 3 * MIN)
    state = decode_state(encode_state(state))  # the mute is kept as the state is saved
    # spikes go on: muted for mute_s from the verdict, then judged again
    windows = [_window(i, 30) for i in (3, 4, 200, 362, 363)]
    [(reopened, _)] = [(s, s.status) for w in windows
                       for s in engine.process(w, state, emitted_ts=0).signals]
    assert (reopened.status, reopened.window_start) == ("open", 363 * MIN)


def test_a_duplicate_verdict_resolves_without_muting_and_a_verdict_on_an_old_episode_only_mutes(
        ) -> None:
    engine = Engine(load_policy())
    state, [opened] = _run([_window(i, r) for i, r in enumerate([0, 0, 30])], engine)
    [resolved] = engine.mute(_verdict(opened.signal_id, "duplicate", 3 * MIN), state, 0)
    assert "until 1970-01-01 00:13Z" in resolved.evidence["resolved_because"]  # cooldown
    again = [s.status for i in range(3, 16) for s in
             engine.process(_window(i, 30), state, emitted_ts=0).signals]
    assert again == ["open"]  # after the usual cooldown of 10 minutes
    # a false positive on the first episode: the one open now goes on, later ones wait
    assert engine.mute(_verdict(opened.signal_id, "false_positive", 16 * MIN), state, 0) == []
    code = CATALOGUE["report_spike"].code
    assert state.life[code][4] == 16 * MIN + 21_600_000  # cooldown_until
    # a verdict on a type the policy does not run, or one the entity never had, is kept
    # apart from it
    assert engine.mute(_verdict("sig_x", "false_positive", 0, "made_up"), state, 0) == []


def test_unwatched_entity_types() -> None:
    policy = load_policy()
    segment = msgspec.structs.replace(policy.signals["segment_report_surge"], enabled=False)
    engine = Engine(msgspec.structs.replace(
        policy, signals=policy.signals | {"segment_report_surge": segment}))
    assert engine.watches("stream") and not engine.watches("segment")  # disabled


def test_state_survives_its_encoding_and_stays_small() -> None:
    engine = Engine(load_policy())
    state, signals = _run([_window(0, 0), _window(1, 0), _window(2, 40)], engine)
    assert [s.status for s in signals] == ["open"]
    raw = encode_state(state)
    assert decode_state(raw) == state
    assert len(raw) < 200  # an open signal included
    # the next window behaves the same from the decoded copy as from the original
    a = engine.process(_window(3, 0), decode_state(raw), emitted_ts=0)
    b = engine.process(_window(3, 0), state, emitted_ts=0)
    assert a.state == b.state and a.signals == b.signals


def test_idle_lifecycles_are_not_kept() -> None:
    engine = Engine(load_policy())
    state, _ = _run([_window(i, 0) for i in range(3)], engine)
    assert state.life == {}


def _term(i: int, texts: float, term: str = "dmaprice|US") -> WindowAggregate:
    return WindowAggregate(
        entity_type="term", entity_id=term, region=term.rpartition("|")[2],
        window_start=i * MIN,
        window_end=(i + 1) * MIN,
        features={"n_use": texts, "distinct_texts": texts, "distinct_accounts": texts,
                  "distinct_streams": texts, "first_ts": float(i * MIN)})


def test_warmup_learns_without_opening_and_a_restart_with_history_is_warm() -> None:
    policy = load_policy()
    warm_windows = policy.signals["emerging_term"].warmup_s // 60
    engine = Engine(policy)
    state, early = None, []
    for i in range(warm_windows):  # a surge of a new term while the stage warms up
        result = engine.process(_term(i, 0.0 if i < warm_windows - 1 else 30.0, "new|US"),
                                None, emitted_ts=0)
        early += result.signals
    for i in range(warm_windows + 5):  # a term with a history
        state = engine.process(_term(i, 1.0), state, emitted_ts=0).state
    assert early == []  # learned, never opened
    # a restarted worker: a new engine, this entity's state restored from the state topic
    restarted = Engine(policy)
    saved = decode_state(encode_state(state))
    surge = restarted.process(_term(warm_windows + 6, 30.0), saved, emitted_ts=0)
    assert [s.status for s in surge.signals] == ["open"]
    # while a fresh engine would still be warming up on the same window
    assert Engine(policy).process(_term(warm_windows + 6, 30.0), None, emitted_ts=0).signals == []


def test_a_worker_taking_over_during_warm_up_goes_on_warming() -> None:
    policy = load_policy()
    warm = policy.signals["emerging_term"].warmup_s // 60
    first = Engine(policy)  # deployed with the region's first window
    states = {}
    for i in range(3):  # common words, learned while warming up
        for word in ("great", "restock"):
            states[word] = first.process(_term(i, 1.0, f"{word}|DE"), states.get(word),
                                         emitted_ts=0).state
    # a second worker joins; a rebalance hands it these words' partition: it saw the
    # region first at window 4 and restores states whose history it did not see
    second = Engine(policy)
    second.process(_term(4, 1.0, "other|DE"), None, emitted_ts=0)
    restored = {w: decode_state(encode_state(s)) for w, s in states.items()}
    early = second.process(_term(5, 30.0, "great|DE"), restored["great"], emitted_ts=0)
    assert early.signals == []  # the region's warm-up began at window 0, not over yet
    assert second.process(_term(warm - 1, 1.0, "x|DE"), None, emitted_ts=0).signals == []
    # once the first worker's warm-up would have ended, the second is warm as well
    late = second.process(_term(warm, 30.0, "restock|DE"), restored["restock"], emitted_ts=0)
    assert [s.status for s in late.signals] == ["open"]
    assert late.state.warm == {}  # saved warm: a later restore is warm at once


def test_a_region_warms_up_when_first_seen_and_after_a_silence() -> None:
    policy = load_policy()
    warm = policy.signals["emerging_term"].warmup_s // 60
    engine = Engine(policy)
    for i in range(warm + 30):  # the US is busy from the start
        engine.process(_term(i, 1.0, f"w{i}|US"), None, emitted_ts=0)
    # Japan's chat starts after the US has warmed up: its common words are all new
    # to this engine, so Japan warms up first, and its code word after that is seen
    first_jp = [engine.process(_term(warm + 1 + i, 30.0, f"word{i}|JP"), None,
                               emitted_ts=0).signals for i in range(warm)]
    assert first_jp == [[]] * warm
    after = engine.process(_term(2 * warm + 2, 30.0, "code|JP"), None, emitted_ts=0)
    assert [s.status for s in after.signals] == ["open"]
    # Japan silent for longer than the warm-up: its words have faded, it warms again
    back = 3 * warm + 5
    assert engine.process(_term(back, 30.0, "again|JP"), None, emitted_ts=0).signals == []
    # while the US, never silent, opens at once on a new term
    us = engine.process(_term(back, 30.0, "code|US"), None, emitted_ts=0)
    assert [s.status for s in us.signals] == ["open"]


def _titled(i: int, texts: float, term: str) -> WindowAggregate:
    """A term's window of listing titles only: no chat, no stream title."""
    agg = _term(i, texts, term)
    return msgspec.structs.replace(
        agg, features=agg.features | {"distinct_streams": 0.0, "distinct_listings": texts})


def test_a_regions_first_chat_after_its_warm_up_warms_up_on_its_own() -> None:
    policy = load_policy()
    warm = policy.signals["emerging_term"].warmup_s // 60
    engine = Engine(policy)
    for i in range(warm + 2):  # Japan has listings from the start, no stream yet
        engine.process(_titled(i, 1.0, f"item{i}|JP"), None, emitted_ts=0)
    size = engine.process(_titled(warm + 1, 1.0, "size|JP"), None, emitted_ts=0).state
    # a term of titles alone is judged: the region has warmed up on its listings
    titled = engine.process(_titled(warm + 2, 30.0, "code|JP"), None, emitted_ts=0)
    assert [s.status for s in titled.signals] == ["open"]
    # Japan's first stream goes live: the words of its chat are all new to the region,
    # so they are learned for a warm-up of their own before any is judged
    first_chat = [engine.process(_term(warm + 3 + i, 30.0, f"word{i}|JP"), None,
                                 emitted_ts=0).signals for i in range(warm)]
    assert first_chat == [[]] * warm
    # a word of the titles too: its history is this engine's own, not a sign of a
    # warm worker before it
    chatted = engine.process(_term(warm + 4, 30.0, "size|JP"), size, emitted_ts=0)
    assert chatted.signals == [] and chatted.state.warm == {-8: (warm + 3) * 60}
    after = engine.process(_term(2 * warm + 3, 30.0, "chatcode|JP"), None, emitted_ts=0)
    assert [s.status for s in after.signals] == ["open"]


def test_a_regions_chat_warms_up_again_only_after_a_silence_of_the_ttl() -> None:
    policy = load_policy()
    warm = policy.signals["emerging_term"].warmup_s // 60
    ttl = policy.entity_ttl_s // 60
    engine = Engine(policy)
    for i in range(warm + 1):  # Japan's listings and chat, from the start
        engine.process(_titled(i, 1.0, f"item{i}|JP"), None, emitted_ts=0)
        engine.process(_term(i, 1.0, f"word{i}|JP"), None, emitted_ts=0)
    # its chat falls silent for twice the warm-up while its listings go on: the words
    # that come back are what the remembered peak is for, and a new one is judged
    back = 3 * warm + 1
    for i in range(warm + 1, back):
        engine.process(_titled(i, 1.0, f"item{i}|JP"), None, emitted_ts=0)
    chat = engine.process(_term(back, 30.0, "code|JP"), None, emitted_ts=0)
    assert [s.status for s in chat.signals] == ["open"]
    # silent for longer than the TTL: every word of its chat has expired, warm up again
    later = back + ttl + 1
    for i in range(back + 1, later):
        engine.process(_titled(i, 1.0, f"item{i}|JP"), None, emitted_ts=0)
    assert engine.process(_term(later, 30.0, "again|JP"), None, emitted_ts=0).signals == []


def test_a_worker_taking_over_during_a_chat_warm_up_goes_on_warming() -> None:
    policy = load_policy()
    warm = policy.signals["emerging_term"].warmup_s // 60
    first, state = Engine(policy), None
    for i in range(warm + 2):  # Japan has listings from the start
        first.process(_titled(i, 1.0, f"item{i}|JP"), None, emitted_ts=0)
    for i in range(warm + 2, warm + 5):  # its first chat: a warm-up of its own
        state = first.process(_term(i, 1.0, "great|JP"), state, emitted_ts=0).state
    assert state is not None and state.warm == {-8: (warm + 2) * 60}
    # a rebalance hands the word to a second worker, whose first window it is
    second = Engine(policy)
    restored = decode_state(encode_state(state))
    early = second.process(_term(warm + 5, 30.0, "great|JP"), restored, emitted_ts=0)
    assert early.signals == []  # the chat's warm-up began at warm + 2: not over yet
    late = second.process(_term(2 * warm + 2, 90.0, "great|JP"), early.state, emitted_ts=0)
    assert [s.status for s in late.signals] == ["open"]


def test_a_restart_is_warm_at_once_for_chat_with_history() -> None:
    policy = load_policy()
    warm = policy.signals["emerging_term"].warmup_s // 60
    engine, state = Engine(policy), None
    for i in range(warm + 3):  # a word of the region's chat, seen since the start
        state = engine.process(_term(i, 1.0, "show|JP"), state, emitted_ts=0).state
    assert state is not None and state.warm == {}
    restarted = Engine(policy)  # its first window: this word, its state restored
    surge = restarted.process(_term(warm + 4, 30.0, "show|JP"),
                              decode_state(encode_state(state)), emitted_ts=0)
    assert [s.status for s in surge.signals] == ["open"]


def _cluster(i: int, fingerprint: str, accounts: float) -> WindowAggregate:
    return WindowAggregate(
        entity_type="account_cluster", entity_id=fingerprint, region="BR",
        window_start=i * MIN, window_end=(i + 1) * MIN,
        features={"distinct_accounts": accounts, "distinct_streams": accounts})


def test_a_warm_up_runs_from_the_regions_first_window_of_any_type() -> None:
    policy = load_policy()
    warm = policy.signals["coordinated_comments"].warmup_s // 60
    assert warm >= 2
    # a fresh worker: every text is new to it, and 8 accounts sharing a common phrase
    # in its first minutes are no campaign
    fresh = Engine(policy)
    fresh.process(_window(0, 0.0), None, emitted_ts=0)
    assert fresh.process(_cluster(1, "fp-phrase", 8.0), None, emitted_ts=0).signals == []
    # comment clusters are rare in a quiet region: its first is a campaign's, long after
    # the worker started on the region's streams, and is judged at once
    engine, state = Engine(policy), None
    for i in range(warm + 1):
        state = engine.process(_window(i, 0.0), state, emitted_ts=0).state
    campaign = engine.process(_cluster(warm + 1, "fp-campaign", 8.0), None, emitted_ts=0)
    assert [(s.signal_type, s.status) for s in campaign.signals] == [
        ("coordinated_comments", "open")]


def _seller(i: int, seller: str, listings: float) -> WindowAggregate:
    return WindowAggregate(
        entity_type="seller", entity_id=seller, region="US", window_start=i * MIN,
        window_end=(i + 1) * MIN, features={"n_listing_created": listings})


def test_a_fresh_worker_learns_its_sellers_before_judging_them() -> None:
    policy = load_policy()
    warm = policy.signals["listing_burst"].warmup_s // 60
    assert warm >= 5
    engine = Engine(policy)
    for i in range(warm):  # every seller is new at start: a busy one is no burst yet
        assert engine.process(_seller(i, f"sl-{i}", 8.0), None, emitted_ts=0).signals == []
    burst = engine.process(_seller(warm + 1, "sl-new", 8.0), None, emitted_ts=0)
    assert [s.status for s in burst.signals] == ["open"]


def test_an_established_seller_listing_a_handful_is_no_burst() -> None:
    # a seller with years behind it and no state (quiet for over the TTL) lists six new
    # items in a minute: ordinary restocking, not the young account's burst it would be
    policy = load_policy()
    engine = Engine(policy)
    warm = policy.signals["listing_burst"].warmup_s // 60
    for i in range(warm + 1):
        engine.process(_seller(i, f"sl-{i % 3}", 1.0), None, emitted_ts=0)

    def judged(seller: str, listings: float, **age: float) -> list[str]:
        w = _seller(warm + 2, seller, listings)
        w.features.update(age)
        return [s.status for s in engine.process(w, None, emitted_ts=0).signals]

    assert judged("sl-old", 6.0, aged_actor_events=6.0) == []
    assert judged("sl-young", 6.0, young_actor_events=6.0) == ["open"]
    assert judged("sl-unknown", 6.0) == ["open"]  # no age given: judged as young
    [sig] = engine.process(_seller(warm + 3, "sl-big", 14.0), None, emitted_ts=0).signals
    assert sig.status == "open"
    w = _seller(warm + 3, "sl-big-old", 14.0)
    w.features["aged_actor_events"] = 14.0
    [sig] = engine.process(w, None, emitted_ts=0).signals  # a dozen and more: still a burst
    assert sig.observed["established_account"] is True
    assert sig.baseline["prior_rate"] == 1.0


def test_a_region_quiet_for_less_than_the_ttl_judges_a_burst_at_once() -> None:
    # sellers keep their states (and the region its warmth) through a quiet spell
    # shorter than the entity TTL: a burst at its end is not hidden by a new warm-up
    policy = load_policy()
    sp = policy.signals["listing_burst"]
    assert sp.warmup_s < sp.rewarm_after_s == policy.entity_ttl_s
    warm, quiet = sp.warmup_s // 60, sp.rewarm_after_s // 60
    engine = Engine(policy)
    for i in range(warm + 1):
        engine.process(_seller(i, f"sl-{i % 3}", 1.0), None, emitted_ts=0)
    back = warm + 1 + 2 * warm  # silent for twice the warm-up
    burst = engine.process(_seller(back, "sl-new", 8.0), None, emitted_ts=0)
    assert [s.status for s in burst.signals] == ["open"]
    # silent for longer than the TTL: every seller's state is gone, it warms up again
    later = back + quiet + 2
    assert engine.process(_seller(later, "sl-other", 8.0), None, emitted_ts=0).signals == []


def _sales(i: int, young: float, snapshots: float = 6.0) -> WindowAggregate:
    return WindowAggregate(
        entity_type="stream", entity_id="shop", region="US", window_start=i * MIN,
        window_end=(i + 1) * MIN,
        features={"viewers_mean": 3000.0, "n_viewer_snapshot": snapshots,
                  "young_purchases": young, "n_purchase": young * 3},
    )


def test_one_young_purchase_in_a_streams_last_seconds_is_no_brushing() -> None:
    quiet = [_sales(i, 0.0) for i in range(30)]
    _, last = _run([*quiet, _sales(30, 1.0, snapshots=1.0)])  # live 10 s: not six a minute
    assert [s for s in last if s.signal_type == "purchase_anomaly"] == []
    _, half = _run([*quiet, _sales(30, 3.0, snapshots=3.0)])  # live half of it: judged
    assert [s.status for s in half if s.signal_type == "purchase_anomaly"] == ["open"]


def _audience(i: int, viewers: float, engagement: float, snapshots: float = 6.0
              ) -> WindowAggregate:
    return WindowAggregate(
        entity_type="stream", entity_id="live-1", region="US", window_start=i * MIN,
        window_end=(i + 1) * MIN,
        features={"viewers_mean": viewers, "n_viewer_snapshot": snapshots,
                  "n_comment": engagement / 2, "n_like": engagement / 2},
    )


def test_a_streams_first_seconds_do_not_start_its_engagement_baseline() -> None:
    # the demo's viewer_inflation stream: live 1-2 s of its first window (one snapshot,
    # read as 10 s), then about 1,600 engagement events a minute on 1,000 viewers
    first = _audience(0, 1062.0, 37.0, snapshots=1.0)
    usual = [_audience(i, 1000.0 + 40.0 * (i % 3), 1600.0 + 60.0 * (i % 2)) for i in range(1, 7)]
    bought = _audience(7, 10_300.0, 1610.0)  # ten times the viewers, the same engagement
    _, signals = _run([first, *usual, bought])
    opened = [s for s in signals if s.signal_type == "viewer_inflation"]
    assert [s.status for s in opened] == ["open"]
    assert opened[0].window_start == 7 * MIN
    _, quiet = _run([first, *usual])
    assert [s for s in quiet if s.signal_type == "viewer_inflation"] == []


def test_purchase_anomaly_opens_on_a_rise_not_when_a_busy_sale_ends() -> None:
    busy = [_sales(i, 20.0 + (i % 3)) for i in range(30)]
    _, after_sale = _run(busy + [_sales(30 + i, 0.0) for i in range(5)])
    assert [s for s in after_sale if s.signal_type == "purchase_anomaly"] == []
    _, brushing = _run(busy + [_sales(30 + i, 90.0) for i in range(3)])
    assert [s.status for s in brushing if s.signal_type == "purchase_anomaly"] == ["open"]
    # what the stream usually shows, in young-account purchases a minute, beside the 90
    baseline = next(s for s in brushing if s.signal_type == "purchase_anomaly").baseline
    assert 20.0 < baseline["usual_young_purchases"] < 22.0
    assert 21.5 < baseline["highest_young_purchases"] <= 22.0
    # the signal's `direction: up` is what keeps the sale's end quiet
    both = load_policy()
    signals = dict(both.signals)
    signals["purchase_anomaly"] = msgspec.structs.replace(both.signals["purchase_anomaly"],
                                                          direction="both")
    both = msgspec.structs.replace(both, signals=signals)
    _, either_side = _run(busy + [_sales(30 + i, 0.0) for i in range(5)], Engine(both))
    assert [s.status for s in either_side if s.signal_type == "purchase_anomaly"] == ["open"]


def test_a_state_left_by_another_detector_is_learned_afresh() -> None:
    level = load_policy()
    signals = dict(level.signals)
    signals["purchase_anomaly"] = msgspec.structs.replace(
        level.signals["purchase_anomaly"], detector="level",
        params={"alpha": 0.001, "grace": 5, "half": 4.0, "min_std": 1.0})
    level = msgspec.structs.replace(level, signals=signals)
    busy = [_sales(i, 20.0 + (i % 3)) for i in range(30)]
    state, _ = _run(busy, Engine(level))
    code = CATALOGUE["purchase_anomaly"].code
    assert len(state.detector(code)) == 3  # the level detector's state
    # the bundled policy's detector keeps another state: it starts afresh, not crashes
    result = Engine(load_policy()).process(_sales(30, 21.0), state, emitted_ts=0)
    assert result.state.detector(code)[-1] == 1.0  # `record`: one window learned


def test_a_term_that_stays_common_resolves_once_its_level_is_learned() -> None:
    policy = load_policy()
    sp = policy.signals["emerging_term"]
    assert sp.adopt_after_windows > 0
    warm = sp.warmup_s // 60
    history = [_term(i, 1.0 if i % 3 == 0 else 0.0) for i in range(warm + 10)]
    common = [_term(warm + 10 + i, 20.0) for i in range(sp.adopt_after_windows + 60)]
    _, signals = _run(history + common, Engine(policy))
    assert [s.status for s in signals if s.status != "update"] == ["open", "resolved"]
    assert "learned as the new normal" in signals[-1].evidence["resolved_because"]
    # without adoption the episode stays open as long as the term stays common
    never = msgspec.structs.replace(
        policy, signals=policy.signals | {"emerging_term": msgspec.structs.replace(
            sp, adopt_after_windows=0)})
    _, kept_open = _run(history + common, Engine(never))
    assert [s.status for s in kept_open if s.status != "update"] == ["open"]


def test_a_new_term_opens_on_three_texts_from_two_accounts_in_two_streams() -> None:
    policy = load_policy()
    warm = policy.signals["emerging_term"].warmup_s // 60
    engine = Engine(policy)
    for i in range(warm + 1):  # the region's chat, warmed up
        engine.process(_term(i, 1.0, f"w{i}|US"), None, emitted_ts=0)

    def texts(term: str, n: float, accounts: float, streams: float) -> list[str]:
        agg = _term(warm + 2, n, term)
        agg.features.update(distinct_accounts=accounts, distinct_streams=streams)
        return [s.status for s in engine.process(agg, None, emitted_ts=0).signals]

    assert texts("two|US", 2.0, 2.0, 2.0) == []
    assert texts("onestream|US", 3.0, 2.0, 1.0) == []  # one chat's in-joke
    assert texts("oneaccount|US", 3.0, 1.0, 3.0) == []  # one account repeating itself
    assert texts("code|US", 3.0, 2.0, 2.0) == ["open"]


def _shown(i: int, viewers: float, reports: float) -> WindowAggregate:
    """A stream's window: about one engagement event a real viewer (1,100), reports."""
    engagement = 1100.0 + 30.0 * (i % 3)
    return WindowAggregate(
        entity_type="stream", entity_id="live-2", region="US", window_start=i * MIN,
        window_end=(i + 1) * MIN,
        features={"viewers_mean": viewers, "n_viewer_snapshot": 6.0,
                  "n_comment": engagement / 2, "n_like": engagement / 2,
                  "n_report": reports, "distinct_reporters": reports},
        context={"seller_id": "x9", "category": "fashion/bags"})


def test_fake_viewers_do_not_teach_a_stream_its_report_rate() -> None:
    # a bench stream (seed 7001 at 60 events/s): 1,100 viewers shown as 7,000 for ten
    # minutes drew its usual report every few minutes; back to its real audience, a
    # few more reports than usual must not read as a spike
    usual = [_shown(i, 1100.0, float(i % 4 == 1)) for i in range(6)]
    bought = [_shown(6 + i, 7000.0, float(i % 4 == 1)) for i in range(10)]
    _, signals = _run([*usual, *bought, _shown(16, 1106.0, 5.0)])
    assert [s.status for s in signals if s.signal_type == "viewer_inflation"] == ["open"]
    assert [s for s in signals if s.signal_type == "report_spike"] == []
    # as if its real audience had been shown all along
    honest = [_shown(6 + i, 1100.0, float(i % 4 == 1)) for i in range(10)]
    _, quiet = _run([*usual, *honest, _shown(16, 1106.0, 5.0)])
    assert [s for s in quiet if s.signal_type == "report_spike"] == []
    # a real spike after the inflation still opens; and in one window the signals
    # come in policy order, though viewer_inflation is judged first
    _, spiked = _run([*usual, *bought, _shown(16, 1106.0, 8.0)])
    assert [s.status for s in spiked if s.signal_type == "report_spike"] == ["open"]
    _, both = _run([*usual, _shown(6, 7000.0, 40.0)])
    assert [s.signal_type for s in both] == ["report_spike", "viewer_inflation"]


def test_fake_viewers_do_not_hide_a_real_report_spike() -> None:
    # 1,100 real viewers shown as 7,000 would expect about six times the reports: a
    # spike of 8 reports must open as it does on the real audience, from the window
    # the inflation opens in, and the signal says which audience it was judged on
    usual = [_shown(i, 1100.0, float(i % 4 == 1)) for i in range(6)]
    for at in (6, 9):
        bought = [_shown(i, 7000.0, 8.0 if i == at else float(i % 4 == 1))
                  for i in range(6, 10)]
        _, signals = _run([*usual, *bought])
        spike = next(s for s in signals if s.signal_type == "report_spike")
        assert spike.status == "open" and spike.window_start == at * MIN
        assert spike.observed["viewers_mean"] == 7000.0
        assert 1000.0 <= spike.observed["viewers_judged"] <= 1200.0
        honest = [_shown(i, 1100.0, 8.0 if i == at else float(i % 4 == 1))
                  for i in range(6, 10)]
        _, real = _run([*usual, *honest])
        same = next(s for s in real if s.signal_type == "report_spike")
        assert abs(spike.score - same.score) < 0.05 and "viewers_judged" not in same.observed
    # a few reports, usual for the real audience, still do not open
    bought = [_shown(i, 7000.0, 2.0) for i in range(6, 10)]
    _, quiet = _run([*usual, *bought])
    assert [s.signal_type for s in quiet] == ["viewer_inflation"]


def _price_drop(listing: str, i: int = 2, price: float = 10.0) -> WindowAggregate:
    """A listing's price dropping from 100 to ``price`` in window ``i``."""
    return WindowAggregate(
        entity_type="listing", entity_id=listing, region="US", window_start=i * MIN,
        window_end=(i + 1) * MIN, context={"seller_id": "sl-1", "category": "fashion/bags"},
        features={"price_min": price, "price_last": price, "price_reference": 100.0,
                  "n_price_changed": 1.0})


def _pin(listing: str, ts: int, stream: str = "st-1") -> Pin:
    return Pin(listing_id=listing, stream_id=stream, ts=ts, price=10.0, currency="USD",
               event_id=f"pin-{listing}-{ts}")


def test_a_pin_before_its_listings_first_window_opens_it_at_the_pinned_severity() -> None:
    engine = Engine(load_policy())
    held = engine.pin(_pin("li-1", 2 * MIN + 500), None, emitted_ts=0)
    assert held.signals == [] and not held.stale  # a state made for the pin, to be stored
    state = decode_state(encode_state(held.state))  # through the state topic
    result = engine.process(_price_drop("li-1"), state, emitted_ts=0)
    [pinned] = result.signals
    [plain] = engine.process(_price_drop("li-2"), None, emitted_ts=0).signals
    assert (pinned.status, pinned.severity, plain.severity) == ("open", "high", "medium")
    assert pinned.score == plain.score  # the pin raises the severity, not the score
    assert pinned.region == result.state.region == "US"  # the window's, not the pin's blank
    assert pinned.evidence["pinned"] == {"stream_id": "st-1", "pinned_ts": 2 * MIN + 500,
                                         "price": 10.0, "currency": "USD",
                                         "event_id": f"pin-li-1-{2 * MIN + 500}"}
    assert "pinned" not in plain.evidence
    assert not result.state.cut and result.state.last_ws == 2 * MIN


def test_a_pin_on_an_open_signal_raises_it_once_and_is_kept_in_the_state() -> None:
    engine = Engine(load_policy())
    result = engine.process(_price_drop("li-1"), None, emitted_ts=0)
    state = result.state
    [raised] = engine.pin(_pin("li-1", 5 * MIN), state, emitted_ts=7).signals
    assert (raised.status, raised.severity, raised.signal_id) == (
        "update", "high", result.signals[0].signal_id)
    assert raised.evidence["raised_because"] == "pinned in live stream st-1 at 1970-01-01 00:05Z"
    assert engine.pin(_pin("li-1", 6 * MIN, "st-2"), state, emitted_ts=7).signals == []  # high
    older = engine.pin(_pin("li-1", 4 * MIN, "st-3"), state, emitted_ts=7)
    assert older.stale and older.signals == []  # nothing to store
    state = decode_state(encode_state(state))  # through the state topic
    assert pin_of(state.context(), "li-1") == _pin("li-1", 6 * MIN, "st-2")  # the newest
    [resolved] = engine.process(_price_drop("li-1", 7, 100.0), state, emitted_ts=0).signals
    assert resolved.status == "resolved"  # back to its price; cools down until minute 68
    [old_pin] = engine.process(_price_drop("li-1", 70), state, emitted_ts=0).signals
    assert old_pin.severity == "medium"  # pinned 64 minutes before: past for_s
    engine.process(_price_drop("li-1", 71, 100.0), state, emitted_ts=0)
    assert engine.pin(_pin("li-1", 140 * MIN, "st-4"), state, emitted_ts=0).signals == []  # kept
    [opened] = engine.process(_price_drop("li-1", 140), state, emitted_ts=0).signals
    assert (opened.severity, opened.evidence["pinned"]["stream_id"]) == ("high", "st-4")


def test_a_pin_older_than_for_s_or_in_a_policy_without_pinned_raises_nothing() -> None:
    engine = Engine(load_policy())
    held = engine.pin(_pin("li-1", 2 * MIN - 900_000 - 1), None, emitted_ts=0)  # 15 min before
    [old] = engine.process(_price_drop("li-1"), held.state, emitted_ts=0).signals
    assert old.severity == "medium" and "pinned" not in old.evidence
    policy = load_policy()
    unpinned = msgspec.structs.replace(policy, signals=policy.signals | {
        "price_anomaly": msgspec.structs.replace(policy.signals["price_anomaly"], pinned=None)})
    engine = Engine(unpinned)
    assert engine.pin(_pin("li-1", 2 * MIN + 500), None, emitted_ts=0).stale  # no state made
    result = engine.process(_price_drop("li-1"), None, emitted_ts=0)
    assert [s.severity for s in result.signals] == ["medium"]
    assert "pinned" not in result.signals[0].evidence
    assert engine.pin(_pin("li-1", 3 * MIN), result.state, emitted_ts=0).signals == []  # open


def test_a_pinned_listing_silent_past_the_ttl_keeps_its_pin_while_it_can_raise() -> None:
    engine = Engine(load_policy())  # entity_ttl_s 3600, pinned.for_s 900
    state = engine.process(_price_drop("li-1", 2, 100.0), None, emitted_ts=0).state
    assert not engine.pin(_pin("li-1", 70 * MIN), state, emitted_ts=0).stale
    kept = engine.remembered("listing:li-1", state, now_ts=75 * MIN)  # silent 72 minutes
    assert kept is not None and kept.cut and kept.rev == state.rev
    assert pin_of(kept.context(), "li-1") == _pin("li-1", 70 * MIN)
    [opened] = engine.process(_price_drop("li-1", 78), kept, emitted_ts=0).signals
    assert (opened.severity, opened.evidence["pinned"]["pinned_ts"]) == ("high", 70 * MIN)
    assert engine.remembered("listing:li-1", state, now_ts=86 * MIN) is None  # 16 min on


def test_a_verdict_or_a_pin_since_the_last_window_orders_after_that_windows_copy() -> None:
    """The state topic keeps every copy until it is compacted: a restore must take the
    copy a verdict or a pin left over the one its window left (``last_window``)."""
    engine = Engine(load_policy())
    state = engine.process(_price_drop("li-1"), None, emitted_ts=0).state
    copies = [encode_state(state)]
    engine.pin(_pin("li-1", 2 * MIN + 30_000), state, emitted_ts=0)
    copies.append(encode_state(state))
    [opened] = engine.process(_price_drop("li-1"), None, emitted_ts=0).signals
    engine.mute(Mute(entity_key="listing:li-1", signal_type="price_anomaly",
                     signal_id=opened.signal_id, verdict="false_positive", ts=2 * MIN + 40_000),
                state, emitted_ts=0)
    copies.append(encode_state(state))
    order = [last_window(raw) for raw in copies]
    assert order == sorted(set(order))  # each later than the one before: a restore keeps the last
    later = engine.process(_price_drop("li-1", 3), state, emitted_ts=0).state
    assert last_window(encode_state(later)) > last_window(copies[-1])
