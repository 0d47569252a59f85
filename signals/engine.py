"""The deciding stage: one closed window of one entity in, signals out.

Pure and deterministic: the entity's state is an :class:`~signals.state.EntityState`
kept by the caller (the worker holds it encoded, see :mod:`signals.state`), the
emission time is passed in. The same windows in the same order give the same
signals.

>>> from signals.policy import load_policy
>>> engine = Engine(load_policy())
>>> def window(i, reports):
...     return WindowAggregate(entity_type="stream", entity_id="s1", region="US",
...         window_start=i * 60_000, window_end=(i + 1) * 60_000,
...         features={"viewers_mean": 800.0, "n_viewer_snapshot": 6.0, "n_report": reports,
...                   "n_comment": 40.0})
>>> state, out = None, []
>>> for i, reports in enumerate([0, 1, 0, 0, 30, 28, 0, 0, 0]):
...     result = engine.process(window(i, reports), state, emitted_ts=0)
...     state = result.state
...     out += [(s.signal_type, s.status, s.window_start) for s in result.signals]
>>> out
[('report_spike', 'open', 240000), ('report_spike', 'resolved', 420000)]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import msgspec

from detectors import CountSurgeDetector
from detectors.base import Detector
from signals.aggregate import WindowAggregate
from signals.catalogue import BY_CODE, CATALOGUE, CatalogueEntry
from signals.lifecycle import Lifecycle
from signals.pins import Pin, pin_of
from signals.policy import Pinned, Policy, SignalPolicy, off_side
from signals.record import Signal, signal_id
from signals.state import EntityState, StateHead
from signals.verdicts import Mute


@dataclass
class Result:
    state: EntityState
    signals: list[Signal] = field(default_factory=list)
    # the window was at or before one already processed, or a pin no newer than the
    # one kept: ignored, the state is unchanged (nothing to store)
    stale: bool = False


class Engine:
    """Runs the policy's detectors over closed windows and decides signals."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.window_ms = policy.windows.size_s * 1000
        self._by_entity: dict[str, list[tuple[str, SignalPolicy]]] = {}
        # (signal type, region) -> start of its warm-up (very low once restored history
        # shows it warm), and the latest window start seen there, of any entity type;
        # (signal type, region, "live") -> the same for its windows of live text
        self._first_ws: dict[tuple[str, ...], int] = {}
        self._last_ws: dict[tuple[str, ...], int] = {}
        self._seen_from: dict[str, int] = {}  # region -> first window start this engine saw
        self._warmups: list[tuple[str, SignalPolicy, CatalogueEntry]] = []
        # per entity type, the signals whose detectors keep something past the TTL, each
        # with one detector, reloaded for each state the sweep asks about
        self._remembering: dict[str, list[tuple[int, Detector]]] = {}
        for name, sp in policy.signals.items():
            if sp.enabled:
                entity_type = CATALOGUE[name].entity_type
                self._by_entity.setdefault(entity_type, []).append((name, sp))
                kept = CATALOGUE[name].detectors[sp.detector](**sp.params)
                if kept.remembers:
                    self._remembering.setdefault(entity_type, []).append(
                        (CATALOGUE[name].code, kept))
                if sp.warmup_s:
                    self._warmups.append((name, sp, CATALOGUE[name]))
        # a type another one stops learning while it is open is judged first, so that
        # its episode is known in the window it opens (signals still come in policy order)
        first = {other for runs in self._by_entity.values() for name, _ in runs
                 for other in CATALOGUE[name].unlearned_while}
        self._order: dict[str, list[int]] = {
            entity_type: [i for i, (name, _) in enumerate(runs) if name in first]
            + [i for i, (name, _) in enumerate(runs) if name not in first]
            for entity_type, runs in self._by_entity.items()}
        # one emerging_term detector, reloaded for each state term_rank reads
        term_sp = policy.signals.get("emerging_term")
        det = None if term_sp is None else CATALOGUE["emerging_term"].detectors[
            term_sp.detector](**term_sp.params)
        self._term_det = det if isinstance(det, CountSurgeDetector) else None
        self._term_code = CATALOGUE["emerging_term"].code
        # the signals a pin raises (``pinned`` in the policy), and how long a pin lasts
        self._pinned: dict[str, Pinned] = {
            name: sp.pinned for name, sp in policy.signals.items()
            if sp.enabled and sp.pinned is not None}
        self._pin_ms = max((p.for_s for p in self._pinned.values()), default=0) * 1000

    def watches(self, entity_type: str) -> bool:
        """True when some enabled signal reads windows of this entity type."""
        return entity_type in self._by_entity

    def wants(self, agg: WindowAggregate) -> bool:
        """True when some enabled signal could judge this window: a listing window
        without a price change, or a seller window without a new listing, cannot."""
        for name, sp in self._by_entity.get(agg.entity_type, ()):
            relevant = CATALOGUE[name].relevant
            if relevant is None or relevant(agg, sp):
                return True
        return False

    def process(
        self, agg: WindowAggregate, state: EntityState | None, emitted_ts: int
    ) -> Result:
        idle, before = 0, -1
        if state is None:
            state = EntityState(region=agg.region)
        elif agg.window_start <= state.last_ws:
            return Result(state, stale=True)
        elif state.last_ws >= 0:
            idle = (agg.window_start - state.last_ws) // self.window_ms - 1
        else:  # a state made for a pin before the listing's first window (see :meth:`pin`)
            state.region = agg.region
        before = state.last_ws
        state.last_ws = agg.window_start
        state.cut = False
        state.rev = 0
        if agg.context:
            state.add_context(agg.context)
        first = agg.features.get("first_ts")
        if first is not None and "first_seen_ts" not in state.context():  # first seen, kept
            state.add_context({"first_seen_ts": str(int(first))})
        ctx = state.context()
        if ctx != agg.context:
            agg = _with_context(agg, ctx)
        # every window of the region, whatever its type, moves the warm-ups on
        seen = self._seen_from.get(agg.region)
        if seen is None or agg.window_start < seen:
            self._seen_from[agg.region] = agg.window_start
        warming = {name: self._warmups_of(sp, entry, agg, state, before)
                   for name, sp, entry in self._warmups}
        runs = self._by_entity.get(agg.entity_type, [])
        emitted: dict[int, Signal] = {}
        for i in self._order.get(agg.entity_type, ()):
            name, sp = runs[i]
            signal = self._run(name, sp, agg, state, emitted_ts, idle, warming.get(name, False))
            if signal is not None:
                emitted[i] = signal
        return Result(state, [emitted[i] for i in sorted(emitted)])

    @staticmethod
    def _open_of(state: EntityState, names: tuple[str, ...]) -> str | None:
        """The first of these signal types with an episode open on the entity."""
        for name in names:
            life = state.life.get(CATALOGUE[name].code)
            if life is not None and Lifecycle(life).is_open:
                return name
        return None

    @staticmethod
    def _saved(entry: CatalogueEntry, sp: SignalPolicy, state: EntityState) -> Detector | None:
        """The signal's detector as the entity's state left it; None if it holds none,
        or one left by another detector (a changed policy)."""
        saved = state.detector(entry.code)
        if saved is None:
            return None
        detector = entry.detectors[sp.detector](**sp.params)
        try:
            detector.load(saved)
        except ValueError:
            return None
        return detector

    def _baseline_of(self, name: str, state: EntityState) -> dict[str, float]:
        """The baseline of signal type ``name``'s detector on the entity ({} if none)."""
        sp = self.policy.signals.get(name)
        detector = None if sp is None else self._saved(CATALOGUE[name], sp, state)
        return {} if detector is None else detector.baseline()

    def _run(
        self, name: str, sp: SignalPolicy, agg: WindowAggregate, state: EntityState,
        emitted_ts: int, idle: int, warming: bool,
    ) -> Signal | None:
        entry = CATALOGUE[name]
        # none saved, or one left by another detector (a changed policy): learn afresh
        detector = self._saved(entry, sp, state)
        if detector is None:
            detector = entry.detectors[sp.detector](**sp.params)
        life = Lifecycle(state.life.get(entry.code))
        x = entry.features(agg)
        held = self._open_of(state, entry.unlearned_while)
        if x is not None and held is not None and entry.judged_while is not None:
            x = entry.judged_while(agg, x, self._baseline_of(held, state))
        if x is not None:
            x["idle_windows"] = float(idle)  # windows since the entity's previous one
        score = 0.0 if x is None else detector.score_one(x)
        if x is not None and score > 0.0 and off_side(sp.direction, detector.side(x)):
            score = 0.0  # a deviation the signal does not watch (e.g. a drop, for `up`)
        if warming:
            score = 0.0  # still warming up: learn, never open
            if x is not None:
                x["warmup"] = 1.0
        pin = self._pin_for(name, agg)
        status = life.step_as(sp, score, agg.window_start, agg.window_end, ended=agg.ended,
                              least=None if pin is None else self._pinned[name].severity)
        baseline = detector.baseline()
        # learn only clearly normal windows: not flagged ones, and not the grey zone
        # between resolve_score and open_score either, where the first minute of an
        # attack often lands and would otherwise teach the baseline to expect it;
        # unless that has lasted adopt_after_windows: then it is the new normal
        if x is not None and life.learn and held is None:
            detector.learn_one(x)
        if x is not None:
            detector.remember_one(x)  # e.g. a seller's habit: from flagged windows too
        state.set_detector(entry.code, detector.state())
        if life.idle(agg.window_start):
            state.life.pop(entry.code, None)
        else:
            state.life[entry.code] = life.state()
        if status is None:
            return None
        return Signal(
            signal_id=signal_id(name, agg.entity_type, agg.entity_id, life.episode_start),
            signal_type=name,
            status=status,
            entity_type=agg.entity_type,
            entity_id=agg.entity_id,
            region=agg.region,
            severity=life.severity,
            score=round(min(max(score, 0.0), 1.0), 4),
            detector=sp.detector,
            detector_version=detector.version,
            window_start=agg.window_start,
            window_end=agg.window_end,
            observed={} if x is None else entry.observed(agg, x),
            baseline=_rounded(baseline) | _expected(baseline, x)
            | (entry.baseline_view(baseline) if entry.baseline_view else {})
            | (entry.input_baseline(x, detector, sp)  # from x and the parameters only
               if x is not None and entry.input_baseline else {}),
            evidence=entry.evidence(agg) | _resolved_because(status, agg, life, sp)
            | ({} if pin is None else {"pinned": pin.evidence()}),
            first_seen_ts=life.episode_start,
            emitted_ts=emitted_ts,
        )

    def _pin_for(self, name: str, agg: WindowAggregate) -> Pin | None:
        """The pin that raises signal ``name`` in this window: its listing's newest,
        if the policy raises ``name`` for pins and it is at most ``pinned.for_s`` older
        than the window's end."""
        pinned = self._pinned.get(name)
        if pinned is None:
            return None
        pin = pin_of(agg.context, agg.entity_id)
        if pin is None or pin.ts < agg.window_end - pinned.for_s * 1000:
            return None
        return pin

    def pin(self, pin: Pin, state: EntityState | None, emitted_ts: int) -> Result:
        """Note that ``pin``'s listing is pinned in a live stream, on its ``state``
        (changed in place): its signals the policy raises for pins (``pinned``) open
        at least at ``pinned.severity`` for ``pinned.for_s`` after it, and an episode
        already open is raised to it at once (an ``update``). A listing with no state
        yet (its price window is still open, or its price was never judged) gets a
        state holding only the pin, kept as a silent entity's state is cut down
        (:meth:`remembered`) until ``pinned.for_s`` and a window have passed: like any
        state, it survives a restart and moves with its partition in a rebalance.

        >>> from signals.policy import load_policy
        >>> engine = Engine(load_policy())
        >>> def window(listing, price):  # a drop from 100 to a bait price
        ...     return WindowAggregate(entity_type="listing", entity_id=listing, region="US",
        ...         window_start=0, window_end=60_000, features={"price_min": price,
        ...             "price_last": price, "price_reference": 100.0, "n_price_changed": 1.0})
        >>> def pinned(listing):
        ...     return Pin(listing_id=listing, stream_id="st-1", ts=50_000, price=10.0,
        ...                currency="USD", event_id="ev-1")
        >>> result = engine.process(window("li-1", 10.0), None, emitted_ts=0)
        >>> [(s.status, s.severity) for s in result.signals]
        [('open', 'medium')]
        >>> [(s.status, s.severity, s.evidence["raised_because"])
        ...  for s in engine.pin(pinned("li-1"), result.state, emitted_ts=0).signals]
        [('update', 'high', 'pinned in live stream st-1 at 1970-01-01 00:00Z')]
        >>> held = engine.pin(pinned("li-2"), None, emitted_ts=0)  # no state yet: one for the pin
        >>> held.signals, held.state.last_ws, held.state.cut
        ([], -1, True)
        >>> [(s.status, s.severity, s.evidence["pinned"]["stream_id"])
        ...  for s in engine.process(window("li-2", 10.0), held.state, emitted_ts=0).signals]
        [('open', 'high', 'st-1')]
        """
        if not self._pinned:
            return Result(state or EntityState(region=""), stale=True)
        if state is None:  # cut down already: no window yet, only what outlasts one
            state = EntityState(region="", cut=True)
        if not _note_pin(state, pin):
            return Result(state, stale=True)  # a newer pin is kept already
        state.rev += 1
        out = []
        entity_type, _, entity_id = pin.entity_key.partition(":")
        for name, pinned in self._pinned.items():
            entry, sp = CATALOGUE[name], self.policy.signals[name]
            saved = state.life.get(entry.code)
            life = Lifecycle(saved)
            if saved is None or not life.raise_to(pinned.severity):
                continue
            state.life[entry.code] = life.state()
            out.append(Signal(
                signal_id=signal_id(name, entity_type, entity_id, life.episode_start),
                signal_type=name, status="update", entity_type=entity_type,
                entity_id=entity_id, region=state.region, severity=life.severity,
                score=round(min(max(life.peak, 0.0), 1.0), 4), detector=sp.detector,
                detector_version=entry.detectors[sp.detector].version,
                window_start=state.last_ws, window_end=state.last_ws + self.window_ms,
                observed={"pinned_price": pin.price},
                evidence={"pinned": pin.evidence(), "raised_because": (
                    f"pinned in live stream {pin.stream_id} at {_minute(pin.ts)}")},
                first_seen_ts=life.episode_start, emitted_ts=emitted_ts,
            ))
        return Result(state, out)

    def _warmups_of(self, sp: SignalPolicy, entry: CatalogueEntry, agg: WindowAggregate,
                    state: EntityState, before: int) -> bool:
        """Whether the signal of ``entry`` still warms up for this window: in its region (see
        :meth:`_warming`), or, for a window of the signal's own entity type that
        holds live text (``CatalogueEntry.live_text``), on the region's clock of live
        text, which only such windows move and which keeps its start in the state
        under the negated code. A region whose chat starts long after its listings
        (a small market's first stream) has its chat's words learned before they are
        judged, as a region's first words are at start. That clock starts again only
        after the region's live text was silent for the entity TTL (or
        ``rewarm_after_s``, if longer): a shorter silence is what a term's remembered
        peak covers, and the chat that comes back is judged at once."""
        name, code = entry.signal_type, entry.code
        warming = self._warming((name, agg.region), code, agg, state, before, sp.warmup_s,
                                sp.rewarm_after_s)
        if (entry.live_text is not None and agg.entity_type == entry.entity_type
                and entry.live_text(agg)):
            quiet = max(sp.rewarm_after_s or sp.warmup_s, self.policy.entity_ttl_s)
            live = self._warming((name, agg.region, "live"), -code, agg, state, before,
                                 sp.warmup_s, quiet, seen_from=self._seen_from[agg.region])
            warming = warming or live
        return warming

    def _warming(self, key: tuple[str, ...], code: int, agg: WindowAggregate,
                 state: EntityState, before: int, warmup_s: int,
                 rewarm_after_s: int | None = None, seen_from: int | None = None) -> bool:
        """Whether warm-up ``key`` (a signal and the window's region) is still within
        ``warmup_s`` of its start, kept in the state under ``code`` while it is. A
        region warms up from the first window this engine sees of
        it, of any entity type, and again after a silence of more than
        ``rewarm_after_s`` (default ``warmup_s``): by then the usual counts of its
        entities have faded (or expired), and every common word would look new. Any
        type, since a rare one (a comment cluster at a low rate) has its first window
        when a campaign starts, long after the worker did.

        An entity restored with history (its previous window no more than
        ``warmup_s`` before this one) shows the region was not silent. If the
        engine that saved it was still warming up, the state carries that warm-up's
        start, and this engine warms up from the earlier of the two starts: a
        worker that takes over partitions during a deployment's first minutes goes
        on warming exactly as long as the one that gave them up. If the state
        carries no start and its history is older than this engine's (than
        ``seen_from``, if given: the clock of live text starts after the region's
        first windows), the saving engine was warm: so is this one, at once."""
        ws, span = agg.window_start, warmup_s * 1000
        last = self._last_ws.get(key)
        quiet = span if rewarm_after_s is None else rewarm_after_s * 1000
        silent = last is None or ws - last > quiet  # new to this engine, or back
        first = ws if silent else min(self._first_ws[key], ws)
        if before >= 0 and ws - before <= span:
            saved = state.warm.get(code)
            if saved is not None:
                first = min(first, saved * 1000)
            elif before < (first if seen_from is None else seen_from):
                # history this engine did not see, saved warm
                first = -(2**62)
        self._first_ws[key] = first
        self._last_ws[key] = ws if last is None else max(last, ws)
        warming = ws < first + span
        if warming:
            state.warm[code] = first // 1000
        else:
            state.warm.pop(code, None)
        return warming

    def expire(self, key: str, state: EntityState, now_ts: int, emitted_ts: int
               ) -> list[Signal]:
        """Resolve the open signals of entity ``key`` (``type:id``) whose state is
        about to expire."""
        entity_type, _, entity_id = key.partition(":")
        out = []
        for code, saved in state.life.items():
            life = Lifecycle(saved)
            name = BY_CODE[code].signal_type
            sp = self.policy.signals.get(name)
            if sp is None or not life.close(now_ts, sp.cooldown_s * 1000):
                continue
            out.append(Signal(
                signal_id=signal_id(name, entity_type, entity_id, life.episode_start),
                signal_type=name, status="resolved", entity_type=entity_type,
                entity_id=entity_id, region=state.region, severity=life.severity,
                score=0.0, detector=sp.detector,
                detector_version=CATALOGUE[name].detectors[sp.detector].version,
                window_start=state.last_ws, window_end=state.last_ws + self.window_ms,
                evidence={"resolved_because": "entity went quiet"},
                first_seen_ts=life.episode_start, emitted_ts=emitted_ts,
            ))
        return out

    def mute(self, mute: Mute, state: EntityState, emitted_ts: int) -> list[Signal]:
        """Act on a reviewer's verdict that ends a signal (``false_positive`` or
        ``duplicate``) on the entity's ``state``, changed in place: the signal resolves
        if its episode is still the one open, and after a ``false_positive`` the entity
        opens no signal of that type until the policy's ``mute_s`` after the verdict
        (the lifecycle's cooldown, kept as long as the entity's state).

        >>> from signals.aggregate import WindowAggregate
        >>> from signals.policy import load_policy
        >>> engine = Engine(load_policy())
        >>> def spike(i, reports):
        ...     return WindowAggregate(entity_type="stream", entity_id="s1", region="US",
        ...         window_start=i * 60_000, window_end=(i + 1) * 60_000,
        ...         features={"viewers_mean": 800.0, "n_viewer_snapshot": 6.0,
        ...                   "n_report": reports, "n_comment": 40.0})
        >>> state = None
        >>> for i, reports in enumerate([0, 1, 0, 0, 30]):
        ...     result = engine.process(spike(i, reports), state, emitted_ts=0)
        ...     state = result.state
        >>> opened = result.signals[0]
        >>> verdict = Mute(entity_key="stream:s1", signal_type="report_spike",
        ...                signal_id=opened.signal_id, verdict="false_positive", ts=300_000)
        >>> [(s.status, s.evidence["resolved_because"]) for s in
        ...  engine.mute(verdict, state, emitted_ts=0)]  # doctest: +NORMALIZE_WHITESPACE
        [('resolved', "a reviewer's verdict: false_positive; no report_spike opens on this
          stream until 1970-01-01 06:05Z")]
        >>> engine.process(spike(5, 30), state, emitted_ts=0).signals  # muted: no new open
        []
        >>> engine.mute(verdict, state, emitted_ts=0)  # resolved already: nothing to send
        []
        """
        sp = self.policy.signals.get(mute.signal_type)
        entry = CATALOGUE.get(mute.signal_type)
        if sp is None or entry is None:
            return []
        entity_type, _, entity_id = mute.entity_key.partition(":")
        life = Lifecycle(state.life.get(entry.code))
        now = state.last_ws + self.window_ms  # the end of the entity's newest window
        out = []
        muted_until = mute.ts + sp.mute_s * 1000 if mute.verdict == "false_positive" else 0
        this = signal_id(mute.signal_type, entity_type, entity_id, life.episode_start)
        ends = life.is_open and this == mute.signal_id
        if ends:
            life.close(now, sp.cooldown_s * 1000)
        life.cooldown_until = max(life.cooldown_until, muted_until)
        if ends:
            by = f" by {mute.reviewer}" if mute.reviewer else ""
            out.append(Signal(
                signal_id=this, signal_type=mute.signal_type, status="resolved",
                entity_type=entity_type, entity_id=entity_id, region=state.region,
                severity=life.severity, score=0.0, detector=sp.detector,
                detector_version=entry.detectors[sp.detector].version,
                window_start=state.last_ws, window_end=now,
                evidence={"resolved_because": (
                    f"a reviewer's verdict{by}: {mute.verdict}; no {mute.signal_type} opens "
                    f"on this {entity_type} until {_minute(life.cooldown_until)}")},
                first_seen_ts=life.episode_start, emitted_ts=emitted_ts,
            ))
        if life.idle(now):
            state.life.pop(entry.code, None)
        else:
            state.life[entry.code] = life.state()
        state.rev += 1  # the copy to keep, of those of its last window (``last_window``)
        return out

    def term_rank(self, state: EntityState, now_ts: int) -> tuple[float, int] | None:
        """How readily a term's state may be forgotten, lowest first: the count it
        expects in a window at ``now_ts``, then its last window's start; ``None`` if
        it has a signal open or cooling down (kept).

        A junk word used once, or a rare word long quiet, expects about what a word
        never seen does, so forgetting it changes little; a common word that went
        quiet keeps its remembered level. If ``emerging_term`` is not in the policy,
        every term ranks by its last window alone.

        >>> from signals.policy import load_policy
        >>> engine = Engine(load_policy())
        >>> engine.term_rank(EntityState(region="US", last_s=60), now_ts=600_000)
        (0.0, 60000)
        """
        if state.life:
            return None
        usual = 0.0
        saved = state.detector(self._term_code)
        detector = self._term_det
        if saved is not None and detector is not None:
            detector.load(saved)
            usual = detector.expected(max((now_ts - state.last_ws) // self.window_ms - 1, 0))
        return usual, state.last_ws

    def remembers(self, key: str) -> bool:
        """Whether entity ``key``'s type (``type:id``) has detectors that may keep
        something past the TTL (any type keeps a reviewer's mute, see
        :meth:`remembered`).

        >>> from signals.policy import load_policy
        >>> engine = Engine(load_policy())
        >>> engine.remembers("seller:sl-1"), engine.remembers("stream:st-1")
        (True, False)
        """
        return key.partition(":")[0] in self._remembering

    def remembered(self, key: str, state: EntityState, now_ts: int) -> EntityState | None:
        """What to keep of entity ``key`` (``type:id``) once it is silent past the TTL:
        a state holding only what its detectors keep that long (a seller's upload habit,
        see ``PoissonRateDetector.memory``; a common word's peak usual count,
        ``CountSurgeDetector.memory``), the cooldowns still running (a reviewer's mute,
        :meth:`mute`), a listing's pin while it may still raise a window to be judged
        (:meth:`pin`) and when the entity was first seen
        (``EntityState.lasting_context``), or None to forget it. Cut down further, a
        copy has one more ``rev`` than the cut one it replaces.

        >>> from signals.policy import load_policy
        >>> engine = Engine(load_policy())
        >>> shop = EntityState(region="US", last_s=0)
        >>> shop.set_detector(CATALOGUE["listing_burst"].code, [0.5, 3.0, -20.0])
        >>> kept = engine.remembered("seller:sl-1", shop, now_ts=2 * 86_400_000)
        >>> kept.detector(CATALOGUE["listing_burst"].code), kept.last_s
        ([0.0, 0.0, -20.0], 0)
        >>> engine.remembered("seller:sl-1", shop, now_ts=30 * 86_400_000) is None
        True
        >>> muted = EntityState(region="US", last_s=0)  # a stream muted for 6 hours
        >>> muted.life[CATALOGUE["report_spike"].code] = [0, 0, 0, -1, 21_600_000, 0, 0, 0]
        >>> engine.remembered("stream:st-1", muted, now_ts=7_200_000).life
        {1: [0, 0, 0, -1, 21600000, 0.0, 0, 0]}
        >>> engine.remembered("stream:st-1", muted, now_ts=21_600_000) is None
        True
        >>> pin = Pin(listing_id="li-1", stream_id="st-1", ts=60_000, price=9.0,
        ...           currency="USD", event_id="ev-1")
        >>> pinned = engine.pin(pin, None, emitted_ts=0).state  # a listing with no window yet
        >>> engine.remembered("listing:li-1", pinned, now_ts=600_000) == pinned  # as it is
        True
        >>> engine.remembered("listing:li-1", pinned, now_ts=1_020_000) is None  # 15 min on
        True
        """
        entity_type = key.partition(":")[0]
        windows = max(now_ts - state.last_ws, 0) // self.window_ms
        kept: dict[int, list[float]] = {}
        for code, detector in self._remembering.get(entity_type, ()):
            saved = state.detector(code)
            if saved is None:
                continue
            try:
                detector.load(saved)
            except ValueError:  # left by another detector (a changed policy)
                continue
            memory = detector.memory(windows)
            if memory is not None:
                kept[code] = memory
        cooling: dict[int, list[int | float]] = {}
        for code, saved in state.life.items():
            life = Lifecycle(saved)
            if not life.is_open and life.cooldown_until > now_ts:
                left = Lifecycle()  # the cooldown alone
                left.cooldown_until = life.cooldown_until
                cooling[code] = left.state()
        pin = pin_of(state.context(), key.partition(":")[2]) if self._pin_ms else None
        if pin is not None and pin.ts + self._pin_ms <= now_ts - self.window_ms:
            pin = None  # it raises no window still to be judged
        if not kept and not cooling and pin is None:
            return None
        out = EntityState(region=state.region, last_s=state.last_s,
                          ctx=state.lasting_context(), life=cooling, cut=True, rev=state.rev)
        for code, values in kept.items():
            out.set_detector(code, values)
        if pin is not None:
            out.add_context(pin.context())
        if state.cut and out != state:  # cut down further: the copy to keep
            out.rev += 1
        return out

    def expired(self, state: EntityState | StateHead, now_ts: int) -> bool:
        """True when the entity has been silent longer than the policy's TTL."""
        return now_ts - (state.last_ws + self.window_ms) > self.policy.entity_ttl_s * 1000


def _note_pin(state: EntityState, pin: Pin) -> bool:
    """Keep ``pin`` in its listing's state, unless a newer one is kept; True if kept."""
    kept = pin_of(state.context(), pin.listing_id)
    if kept is not None and kept.ts >= pin.ts:
        return False
    state.add_context(pin.context())
    return True


def _resolved_because(status: str, agg: WindowAggregate, life: Lifecycle,
                      sp: SignalPolicy) -> dict[str, str]:
    """Why a resolved episode ended, when it was not simply a return to normal."""
    if status != "resolved":
        return {}
    if agg.ended:
        return {"resolved_because": f"{agg.entity_type} ended"}
    if life.adopted:
        return {"resolved_because": f"over {sp.adopt_after_windows} windows in a row scored "
                                    f"{sp.resolve_score} or more: the level was learned as "
                                    "the new normal"}
    return {}


def _minute(ts_ms: int) -> str:
    """
    >>> _minute(1_767_225_610_000)
    '2026-01-01 00:00Z'
    """
    return time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(ts_ms / 1000))


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 4) for k, v in values.items()}


def _expected(baseline: dict[str, float], x: dict[str, float] | None) -> dict[str, float]:
    """The expected count for rate detectors, so a reviewer sees observed vs expected."""
    if x is None or "rate" not in baseline or "exposure" not in x:
        return {}
    expected = max(baseline["rate"] * x["exposure"], baseline.get("habit", 0.0))
    return {"expected_count": round(expected, 3)}


def _with_context(agg: WindowAggregate, ctx: dict[str, str]) -> WindowAggregate:
    return msgspec.structs.replace(agg, context=dict(ctx))
