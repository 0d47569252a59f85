"""The detect stage's sweep: TTL expiry, and the cap on term states."""

from __future__ import annotations

import asyncio

from signals.aggregate import WindowAggregate
from signals.engine import Engine
from signals.pins import Pin
from signals.policy import Policy, load_policy
from signals.record import signal_id
from signals.state import encode_state
from signals.verdicts import Mute
from streams.statestore import StateMap
from streams.sweep import Swept, finish, sweep, sweep_in_slices, sweeping
from streams.topics import key_partition
from tests.streams.events import without_param

MIN = 60_000


def _term(i: int, term: str, texts: float, accounts: float | None = None) -> WindowAggregate:
    n = texts if accounts is None else accounts
    return WindowAggregate(
        entity_type="term", entity_id=term, region="US", window_start=i * MIN,
        window_end=(i + 1) * MIN,
        features={"n_use": texts, "distinct_texts": texts, "distinct_accounts": n,
                  "distinct_streams": n, "first_ts": float(i * MIN)})


def _judge(engine: Engine, states: StateMap, agg: WindowAggregate) -> list[str]:
    key = agg.key.encode()
    result = engine.process(agg, states.get(key), emitted_ts=0)
    states.set(key, result.state)
    return [s.status for s in result.signals]


def _flooded() -> tuple[Engine, StateMap, int]:
    """Common words learned over 20 windows, a code word with its signal open, and
    then 300 junk words used once each; returns the last window's index."""
    engine, states = Engine(load_policy()), StateMap()
    for i in range(20):
        for w in range(10):
            _judge(engine, states, _term(i, f"common{w}|US", 40.0))
    assert _judge(engine, states, _term(20, "code|US", 4.0, accounts=3.0)) == ["open"]
    for j in range(300):
        _judge(engine, states, _term(21 + j // 100, f"junk{j}|US", 1.0))
    return engine, states, 23


def test_beyond_the_cap_the_junk_is_forgotten_first() -> None:
    engine, states, last = _flooded()
    swept = sweep(states, engine, now_ts=last * MIN, emitted_ts=0, max_term_states=111)
    assert swept.terms_forgotten == 200 and swept.tracked == 111
    forgotten = {k.decode() for k in swept.forget}
    assert all(k.startswith("term:junk") for k in forgotten)
    # of words expected equally, the least recently seen go first
    assert forgotten == {f"term:junk{j}|US" for j in range(200)}
    assert swept.signals == []


def test_a_term_with_its_signal_open_is_never_forgotten() -> None:
    engine, states, last = _flooded()
    swept = sweep(states, engine, now_ts=last * MIN, emitted_ts=0, max_term_states=1)
    forgotten = {k.decode() for k in swept.forget}
    assert "term:code|US" not in forgotten
    assert swept.tracked == 1 and swept.terms_forgotten == 310


def test_common_words_are_forgotten_after_every_junk_word() -> None:
    engine, states, last = _flooded()
    swept = sweep(states, engine, now_ts=last * MIN, emitted_ts=0, max_term_states=11)
    assert {k.decode() for k in swept.forget} == {f"term:junk{j}|US" for j in range(300)}


def test_below_the_cap_only_the_ttl_forgets() -> None:
    engine, states, last = _flooded()
    ttl_min = engine.policy.entity_ttl_s // 60
    swept = sweep(states, engine, now_ts=(last + ttl_min + 1) * MIN, emitted_ts=0,
                  max_term_states=1_000)
    # every term went quiet past the TTL but the junk of the last window; the common
    # words are cut down to their remembered peak (emerging_term's memory_min)
    assert swept.terms_forgotten == 0 and swept.tracked == 100 + 10
    assert {k for k, _ in swept.keep} == {f"term:common{w}|US".encode() for w in range(10)}
    assert all(state.cut for _, state in swept.keep)
    assert [s.status for s in swept.signals] == ["resolved"]  # the code word's
    assert b"term:code|US" in swept.forget


def test_a_sweep_in_slices_finds_what_one_in_a_go_finds() -> None:
    engine, states, last = _flooded()
    steps = sweeping(states, engine, now_ts=last * MIN, emitted_ts=0, max_term_states=111,
                     slice_size=50)
    pauses = 0
    while True:
        try:
            next(steps)
            pauses += 1
        except StopIteration as done:
            sliced = done.value
            break
    # 6 in the pass over the 311 states, 3 while taking the 200 lowest ranked
    assert len(states) == 311 and pauses == 6 + 3
    assert sliced == sweep(states, engine, now_ts=last * MIN, emitted_ts=0,
                           max_term_states=111)


def test_a_state_set_while_the_sweep_paused_is_kept() -> None:
    # the code word's signal is open and every term went quiet past the TTL; once the
    # sweep has seen them, the code word and one junk word come back with a window each
    engine, states, last = _flooded()
    now = (last + engine.policy.entity_ttl_s // 60 + 1) * MIN
    steps = sweeping(states, engine, now_ts=now, emitted_ts=0, max_term_states=1_000,
                     slice_size=7)
    for _ in range(40):  # 280 states seen: the code word is the 11th, junk250 the 262nd
        next(steps)
    _judge(engine, states, _term(now // MIN - 1, "code|US", 4.0, accounts=3.0))
    _judge(engine, states, _term(now // MIN - 1, "junk250|US", 1.0))
    swept = finish(steps)
    assert b"term:code|US" not in swept.forget and b"term:junk250|US" not in swept.forget
    assert swept.signals == []  # the code word's episode was not resolved
    assert b"term:junk0|US" in swept.forget
    assert b"term:common0|US" in {k for k, _ in swept.keep}
    # a sweep that did not pause resolves it
    assert [s.status for s in sweep(states, engine, now_ts=now + 61 * MIN, emitted_ts=0,
                                    max_term_states=1_000).signals] == ["resolved"]


def test_a_term_set_while_the_sweep_paused_is_not_forgotten_for_the_cap() -> None:
    engine, states, last = _flooded()
    steps = sweeping(states, engine, now_ts=last * MIN, emitted_ts=0, max_term_states=111,
                     slice_size=7)
    for _ in range(40):  # 280 states seen, junk0 (the 12th, ranked lowest) among them
        next(steps)
    _judge(engine, states, _term(last, "junk0|US", 1.0))  # used again
    swept = finish(steps)
    assert b"term:junk0|US" not in swept.forget
    assert swept.terms_forgotten == 199 and swept.tracked == 112


def test_the_worker_sweep_lets_the_event_loop_run_between_slices() -> None:
    engine, states, last = _flooded()
    turns = []

    async def other_agent() -> None:
        while True:
            turns.append(len(turns))
            await asyncio.sleep(0)

    async def main() -> Swept:
        agent = asyncio.create_task(other_agent())
        await asyncio.sleep(0)
        before = len(turns)
        swept = await sweep_in_slices(states, engine, last * MIN, 0, 111, slice_size=50)
        agent.cancel()
        assert len(turns) - before >= 6  # a turn for each pause at least
        return swept

    swept = asyncio.run(main())
    assert swept == sweep(states, engine, now_ts=last * MIN, emitted_ts=0, max_term_states=111)


def _owner(n: int, of: int):
    """Owns the keys Kafka's partitioner gives partition ``n`` of ``of``."""
    return lambda key: key_partition(key, of) == n


def test_each_worker_forgets_and_resolves_only_the_entities_it_owns() -> None:
    # two workers, each holding every state: between them, each expired key is
    # forgotten once and the code word's episode resolved once
    engine, states, last = _flooded()
    now = (last + engine.policy.entity_ttl_s // 60 + 1) * MIN
    whole = sweep(states, engine, now_ts=now, emitted_ts=0, max_term_states=1_000)
    parts = [finish(sweeping(states, engine, now, 0, 1_000, owns=_owner(n, 2)))
             for n in range(2)]
    assert all(p.forget for p in parts)  # the keys are spread over both
    assert sorted(parts[0].forget + parts[1].forget) == sorted(whole.forget)
    assert not set(parts[0].forget) & set(parts[1].forget)
    assert [s.status for p in parts for s in p.signals] == ["resolved"]
    assert parts[0].expired + parts[1].expired == whole.expired == len(whole.forget) > 0
    owner = key_partition(b"term:code|US", 2)
    assert parts[owner].signals == whole.signals and parts[1 - owner].signals == []


def test_owners_cut_the_term_states_past_the_cap_as_one_sweep_would() -> None:
    engine, states, last = _flooded()
    whole = sweep(states, engine, now_ts=last * MIN, emitted_ts=0, max_term_states=111)
    parts = [finish(sweeping(states, engine, last * MIN, 0, 111, owns=_owner(n, 3)))
             for n in range(3)]
    assert sorted(k for p in parts for k in p.forget) == sorted(whole.forget)
    assert sum(p.terms_forgotten for p in parts) == whole.terms_forgotten == 200


def _listings(i: int, seller: str, n: float) -> WindowAggregate:
    return WindowAggregate(
        entity_type="seller", entity_id=seller, region="US", window_start=i * MIN,
        window_end=(i + 1) * MIN, context={"category": "home/kitchen"},
        features={"n_listing_created": n, "aged_actor_events": n})


def _warm(engine: Engine, states: StateMap, before: int) -> None:
    """Ordinary sellers in the 11 windows before window ``before``: the region is warm
    (a region silent for an hour warms up again for 10 minutes, listing_burst's
    ``warmup_s``), and nothing opens."""
    for i in range(before - 11, before):
        assert _judge(engine, states, _listings(i, f"sl-{i}", 2.0)) == []


def _shop_opened() -> tuple[Engine, StateMap, bytes]:
    """A region warmed up by ordinary sellers, then a shop's upload of 20 that opens."""
    engine, states = Engine(load_policy()), StateMap()
    _warm(engine, states, 11)
    shop = _listings(11, "sl-shop", 20.0)
    assert _judge(engine, states, shop) == ["open"]
    return engine, states, shop.key.encode()


def test_a_shops_state_past_the_ttl_is_cut_down_to_its_upload_habit() -> None:
    engine, states, key = _shop_opened()
    code = 5  # listing_burst's catalogue code
    ttl = engine.policy.entity_ttl_s * 1000
    swept = sweep(states, engine, now_ts=12 * MIN + ttl + MIN, emitted_ts=0,
                  max_term_states=1_000)
    assert [(s.entity_id, s.status) for s in swept.signals] == [("sl-shop", "resolved")]
    assert key not in swept.forget and len(swept.forget) == 11  # the ordinary sellers
    [(kept_key, kept)] = swept.keep
    assert kept_key == key and kept.cut and not kept.life and not kept.ctx
    assert kept.detector(code) == [0.0, 0.0, -20.0] and kept.last_ws == 11 * MIN
    swept.apply_to(states)
    again = sweep(states, engine, now_ts=12 * MIN + ttl + 2 * MIN, emitted_ts=0,
                  max_term_states=1_000)
    assert (again.keep, again.forget, again.signals, again.tracked) == ([], [], [], 1)
    # a week's half-life: 20 fades below half of habit_min (10) a little after 2 weeks
    weeks = 14 * 86_400_000
    assert sweep(states, engine, now_ts=11 * MIN + weeks - MIN, emitted_ts=0,
                 max_term_states=1_000).forget == []
    assert sweep(states, engine, now_ts=11 * MIN + weeks + 2 * MIN, emitted_ts=0,
                 max_term_states=1_000).forget == [key]


def test_the_shop_back_the_next_day_is_judged_by_its_habit() -> None:
    engine, states, key = _shop_opened()
    day = 1440
    sweep(states, engine, now_ts=(11 + 120) * MIN, emitted_ts=0,
          max_term_states=1_000).apply_to(states)
    _warm(engine, states, 11 + day)
    assert _judge(engine, states, _listings(11 + day, "sl-shop", 22.0)) == []
    assert not states.get(key).cut  # a judged window makes it a whole state again
    # a shop with no habit opens on the same upload
    assert _judge(engine, states, _listings(11 + day, "sl-other-shop", 22.0)) == ["open"]
    _warm(engine, states, 11 + 2 * day)
    assert _judge(engine, states, _listings(11 + 2 * day, "sl-shop", 50.0)) == ["open"]


def test_a_cut_state_wins_over_the_whole_copy_of_its_window() -> None:
    engine, states, key = _shop_opened()
    whole = states.raw(key)
    [(_, cut)] = [kv for kv in sweep(states, engine, now_ts=(11 + 120) * MIN, emitted_ts=0,
                                     max_term_states=1_000).keep if kv[0] == key]
    restarted = StateMap()  # a worker reading the state topic from its start
    restarted.apply(key, whole)
    restarted.apply(key, encode_state(cut))
    assert restarted.get(key) == cut
    states.set(key, cut)  # a live worker reading back its own older write
    states.apply(key, whole)
    assert states.get(key) == cut


def _chatty_region(engine: Engine, states: StateMap, windows: int,
                   word: dict[int, WindowAggregate]) -> tuple[list[str], list[bytes]]:
    """A region whose chat goes on (three common words every window) for ``windows``
    windows, with a word's windows (``word``, by window index), swept every 10
    windows. Returns the statuses the word raised (judged or swept) and what the
    sweeps forgot."""
    raised: list[str] = []
    forgot: list[bytes] = []
    word_ids = {agg.entity_id for agg in word.values()}
    for i in range(windows):
        for w in range(3):
            _judge(engine, states, _term(i, f"common{w}|US", 20.0))
        if i in word:
            raised += _judge(engine, states, word[i])
        if i % 10 == 0:
            swept = sweep(states, engine, now_ts=i * MIN, emitted_ts=0, max_term_states=1_000)
            swept.apply_to(states)
            raised += [x.status for x in swept.signals if x.entity_id in word_ids]
            forgot += swept.forget
    return raised, forgot


def _quiet_word_swept(policy: Policy) -> tuple[Engine, StateMap, list[bytes]]:
    """A word the chatty region uses once every four windows from window 0 to 36; it is
    then silent for 80 windows (past the TTL, swept). Returns the engine, the states
    and what the sweep forgot."""
    engine, states = Engine(policy), StateMap()
    _, forgot = _chatty_region(engine, states, 120,
                               {i: _term(i, "size|US", 1.0) for i in range(0, 40, 4)})
    return engine, states, forgot


def _quiet_word_back(policy: Policy) -> tuple[list[str], list[str], list[bytes]]:
    """The quiet word of :func:`_quiet_word_swept` used by three accounts in one window:
    what that window and the same window of a word never seen raise, and what the
    sweep forgot."""
    engine, states, forgot = _quiet_word_swept(policy)
    return (_judge(engine, states, _term(120, "size|US", 3.0)),
            _judge(engine, states, _term(120, "never|US", 3.0)), forgot)


def test_a_quiet_regions_common_word_is_not_new_after_the_ttl() -> None:
    back, never_seen, forgot = _quiet_word_back(load_policy())
    assert b"term:size|US" not in forgot
    assert back == [] and never_seen == ["open"]
    # without the memory, the sweep forgets it and it is judged as never seen
    without = without_param(load_policy(), "emerging_term", "memory_min")
    back, never_seen, forgot = _quiet_word_back(without)
    assert b"term:size|US" in forgot
    assert back == ["open"] and never_seen == ["open"]


def test_a_cut_word_that_surges_is_shown_first_seen_at_its_first_use() -> None:
    engine, states, _ = _quiet_word_swept(load_policy())
    assert states.get(b"term:size|US").cut
    surge = _term(120, "size|US", 40.0)
    [signal] = engine.process(surge, states.get(surge.key.encode()), emitted_ts=0).signals
    # its first use two hours before (window 0), not the surge's window
    assert signal.evidence["first_seen_ts"] == 0
    assert signal.evidence["first_seen_in_window_ts"] == 120 * MIN


def test_a_campaigns_code_word_back_after_the_ttl_opens_again() -> None:
    """Its flagged windows were not learned, so the sweep does not keep it as a common
    word: the campaign's return, 95 minutes after its last use (half an hour after
    the sweep resolved its episode), is a new episode."""
    engine, states = Engine(load_policy()), StateMap()
    raised, _ = _chatty_region(engine, states, 120,
                               {i: _term(i, "mirrorgrade|US", 15.0) for i in range(20, 25)})
    assert raised == ["open", "resolved"]  # resolved by the sweep, silent past the TTL
    assert states.get(b"term:mirrorgrade|US") is None
    assert _judge(engine, states, _term(120, "mirrorgrade|US", 15.0)) == ["open"]


def _stream(i: int, reports: float) -> WindowAggregate:
    return WindowAggregate(
        entity_type="stream", entity_id="s1", region="BR", window_start=i * MIN,
        window_end=(i + 1) * MIN,
        features={"viewers_mean": 1000.0, "n_viewer_snapshot": 6.0, "n_report": reports,
                  "n_comment": 50.0})


def test_a_reviewers_mute_outlives_the_ttl_and_the_state_goes_when_it_ends() -> None:
    engine, states = Engine(load_policy()), StateMap()  # TTL 1 h, report_spike mute_s 6 h
    assert [st for i, r in enumerate([0, 0, 30]) for st in _judge(engine, states,
                                                                   _stream(i, r))] == ["open"]
    opened = signal_id("report_spike", "stream", "s1", 2 * MIN)
    state = states.get(b"stream:s1")
    assert state is not None
    engine.mute(Mute(entity_key="stream:s1", signal_type="report_spike", signal_id=opened,
                     verdict="false_positive", ts=3 * MIN), state, emitted_ts=0)
    states.set(b"stream:s1", state)
    # silent for two hours: past the TTL, cut down to its mute, not forgotten
    swept = sweep(states, engine, now_ts=120 * MIN, emitted_ts=0, max_term_states=10)
    assert swept.forget == [] and [k for k, _ in swept.keep] == [b"stream:s1"]
    swept.apply_to(states)
    assert _judge(engine, states, _stream(121, 30)) == []  # back, spiking: still muted
    # silent again until the mute has ended (6 h after the verdict): forgotten, and judged
    # afresh when it comes back
    assert sweep(states, engine, now_ts=364 * MIN, emitted_ts=0,
                 max_term_states=10).forget == [b"stream:s1"]
    states.discard(b"stream:s1")
    assert _judge(engine, states, _stream(365, 30)) == ["open"]


def test_a_pin_held_for_a_listing_with_no_window_is_kept_until_it_can_raise_nothing() -> None:
    engine, states = Engine(load_policy()), StateMap()  # pinned.for_s 900
    day = 1_767_225_600_000  # a real time: a state with no window is past the TTL at once
    pin = Pin(listing_id="li-1", stream_id="st-1", ts=day + 2 * MIN, price=9.0,
              currency="USD", event_id="ev-pin")
    states.set(b"listing:li-1", engine.pin(pin, None, emitted_ts=0).state)
    raw = states.raw(b"listing:li-1")
    for minute in (3, 10, 17):  # within 15 minutes and a window of the pin
        out = sweep(states, engine, now_ts=day + minute * MIN, emitted_ts=0, max_term_states=1_000)
        assert (out.forget, out.keep, out.tracked) == ([], [], 1)  # left as it is: no write
        assert states.raw(b"listing:li-1") is raw
    out = sweep(states, engine, now_ts=day + 18 * MIN, emitted_ts=0, max_term_states=1_000)
    assert (out.forget, out.signals, out.expired) == ([b"listing:li-1"], [], 1)
