"""Signal lifecycle: open, update, resolve; with hysteresis and a cooldown.

A signal opens when a window scores at least ``open_score`` (and the entity is
not cooling down after a resolved episode); it sends an ``update`` only when its
severity rises above anything already sent; it resolves after
``resolve_after_windows`` windows in a row below ``resolve_score``, or when the
entity ends. Between the two thresholds nothing changes, so a metric hovering
near the line does not flap.

After each step, ``learn`` says whether the detector should learn the window:
only a clearly normal one (below ``resolve_score``), so an attack never becomes
the baseline; or, with ``adopt_after``, any window after more than that many in
a row at or above ``resolve_score``, so a lasting change (flagged, or in the
grey zone below ``open_score``) becomes the entity's normal and an episode
can resolve.

>>> life = Lifecycle()
>>> scores = [.1, .7, .5, .2, .1, .9]
>>> [life.step(s, "low" if s >= .6 else None, ws, ws + 60, open_score=.6, resolve_score=.3,
...            resolve_after=2, cooldown_ms=600_000) for ws, s in enumerate(scores)]
[None, 'open', None, None, 'resolved', None]
>>> life = Lifecycle()
>>> [(life.step(s, "low", ws, ws + 60, open_score=.6, resolve_score=.3, resolve_after=2,
...            cooldown_ms=0, adopt_after=2), life.learn) for ws, s in enumerate([.9] * 4)]
[('open', False), (None, False), (None, True), (None, True)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signals.record import SEVERITIES

if TYPE_CHECKING:
    from signals.policy import SignalPolicy

_RANK = {name: i for i, name in enumerate(SEVERITIES)}


class Lifecycle:
    """The lifecycle of one signal type on one entity, in eight numbers."""

    __slots__ = ("above", "adopted", "below", "cooldown_until", "episode_start", "is_open",
                 "learn", "peak", "rank")

    def __init__(self, state: list[float] | None = None) -> None:
        if state is None:
            state = [0, 0, 0, -1, 0, 0.0, 0, 0]
        if len(state) == 6:  # saved before runs above resolve_score were counted
            state = [*state, 0, 0]
        is_open, episode_start, below, rank, cooldown_until, peak, above, adopted = state
        self.is_open = bool(is_open)
        self.episode_start = int(episode_start)
        self.below = int(below)
        self.rank = int(rank)
        self.cooldown_until = int(cooldown_until)
        self.peak = float(peak)
        self.above = int(above)  # windows in a row at or above resolve_score
        self.adopted = bool(adopted)  # this episode's level was learned as the normal
        self.learn = False

    def state(self) -> list[float]:
        return [int(self.is_open), self.episode_start, self.below, self.rank,
                self.cooldown_until, self.peak, self.above, int(self.adopted)]

    def idle(self, now: int) -> bool:
        """True when nothing needs remembering: no open signal, no cooldown running,
        no run of windows at or above resolve_score."""
        return not self.is_open and self.cooldown_until <= now and self.above == 0

    @property
    def severity(self) -> str:
        return SEVERITIES[max(self.rank, 0)]

    def step(
        self,
        score: float,
        severity: str | None,
        window_start: int,
        window_end: int,
        *,
        open_score: float,
        resolve_score: float,
        resolve_after: int,
        cooldown_ms: int,
        ended: bool = False,
        adopt_after: int = 0,
    ) -> str | None:
        """Feed one window's score; return the status to emit, or None."""
        # a run is counted only where it can be adopted: no state kept for nothing
        self.above = self.above + 1 if adopt_after and score >= resolve_score else 0
        adopt = 0 < adopt_after < self.above
        self.learn = score < resolve_score or adopt
        if self.is_open and adopt:
            self.adopted = True
        if not self.is_open:
            if score >= open_score and severity is not None and window_start >= self.cooldown_until:
                self.is_open = True
                self.episode_start = window_start
                self.below = 0
                self.rank = _RANK[severity]
                self.peak = score
                self.adopted = adopt
                return "open"
            return None
        self.peak = max(self.peak, score)
        if score >= resolve_score and not ended:
            self.below = 0
            if severity is not None and _RANK[severity] > self.rank:
                self.rank = _RANK[severity]
                return "update"
            return None
        self.below += 1
        if self.below >= resolve_after or ended:
            self.is_open = False
            self.cooldown_until = window_end + cooldown_ms
            return "resolved"
        return None

    def step_as(self, sp: SignalPolicy, score: float, window_start: int, window_end: int,
                ended: bool = False, least: str | None = None) -> str | None:
        """:meth:`step` with a signal's policy: its thresholds, severities, cooldown
        and adoption; a score's severity is at least ``least``, if given.

        >>> from signals.policy import SignalPolicy
        >>> sp = SignalPolicy(detector="price_shift")
        >>> life = Lifecycle()
        >>> life.step_as(sp, 0.7, 0, 60_000, least="high"), life.severity
        ('open', 'high')
        """
        severity = sp.severity.of(score)
        if severity is not None and least is not None and _RANK[least] > _RANK[severity]:
            severity = least
        return self.step(score, severity, window_start, window_end,
                         open_score=sp.open_score, resolve_score=sp.resolve_score,
                         resolve_after=sp.resolve_after_windows,
                         cooldown_ms=sp.cooldown_s * 1000, ended=ended,
                         adopt_after=sp.adopt_after_windows)

    def raise_to(self, severity: str) -> bool:
        """Raise an open episode's severity to ``severity``; True if that is above
        anything it sent (the caller sends an ``update``).

        >>> life = Lifecycle([1, 0, 0, 1, 0, 0.7, 0, 0])  # open, medium
        >>> life.raise_to("high"), life.severity, life.raise_to("medium")
        (True, 'high', False)
        """
        if not self.is_open or _RANK[severity] <= self.rank:
            return False
        self.rank = _RANK[severity]
        return True

    def close(self, now: int, cooldown_ms: int) -> bool:
        """Resolve an open signal whose entity went quiet; True if it was open."""
        if not self.is_open:
            return False
        self.is_open = False
        self.cooldown_until = now + cooldown_ms
        return True
