"""A count-surge detector for entities that come and go: terms, text fingerprints."""

from __future__ import annotations

import math

from scipy.special import betainc

from detectors.base import Detector, require, squash


class CountSurgeDetector(Detector):
    """Scores a window's count against the entity's usual count per window.

    Made for entities seen only in some windows (a term, a comment
    fingerprint). ``x`` holds ``count``, optionally ``exposure`` (how much
    there was to count in: e.g. hundreds of texts in the region; 1 if absent),
    and, from the engine, ``idle_windows``: the windows since the entity's
    previous one, in which it was not seen, and ``warmup`` (1 while the stage
    warms up: every entity is new then, and its counts are learned as they are,
    unshrunk; otherwise a rare entity learns at most a plausible count). The
    usual rate (count per unit of exposure) is shrunk toward zero by
    ``prior_windows`` windows of nothing,
    so a term's first few uses do not make it usual at once; it is a running
    mean after that, then an exponentially weighted one (``alpha``), and idle
    windows decay it. The expected count is that rate times the exposure, and
    at least ``prior``: what an entity never seen before is expected to show.
    With ``peak_alpha`` below 1 the detector also remembers the highest usual
    rate it has learned, fading by ``peak_alpha`` per window, and expects at
    least that: a common word whose uses fell for half an hour (a region's chat
    went quiet while its listing titles went on) is not new when they come back,
    while a word never common is judged as before. With ``memory_min`` as
    well, that peak outlives the entity's TTL: a term whose faded peak is still
    at least ``memory_min`` uses a window is cut down to it rather than
    forgotten (:meth:`memory`), so a common word of a quiet region, unused for
    an hour or two while the region's chat was silent, is not new when it
    comes back.

    The score comes from the upper tail ``p = P(N >= count)`` of a negative
    binomial with that mean and shape ``dispersion``: Poisson-like for a rare
    entity, so a handful of uses of a new code word is surprising, and a ratio
    test for a common one, so a usual word that rises by half is not.
    ``-log10(p)`` is squashed to ``[0, 1)`` with ``half`` as its midpoint;
    counts below ``min_count`` score 0.

    >>> det = CountSurgeDetector(prior=0.2, min_count=5)
    >>> det.score_one({"count": 8}) > 0.6  # a new term, in 8 texts
    True
    >>> for _ in range(10):
    ...     det.learn_one({"count": 200, "exposure": 10, "warmup": 1})  # a common word
    >>> det.score_one({"count": 280, "exposure": 10}) < 0.1
    True
    >>> det.score_one({"count": 500, "exposure": 25}) < 0.1  # a busier hour, same share
    True
    >>> det.learn_one({"count": 4, "idle_windows": 300})  # gone for hours: rare again
    >>> round(det.expected(), 2)
    0.26

    A word a quiet region uses every few minutes, silent past the TTL:

    >>> word = CountSurgeDetector(prior=0.03, min_count=3, half=4.0, peak_alpha=0.01,
    ...                           memory_min=0.1)
    >>> for _ in range(20):
    ...     word.learn_one({"count": 1, "idle_windows": 3})
    >>> kept = word.memory(90)  # its last window began 90 windows ago
    >>> kept == [0.0, 0.0, word.state()[2]]
    True
    >>> back = CountSurgeDetector(prior=0.03, min_count=3, half=4.0, peak_alpha=0.01)
    >>> back.load(kept)
    >>> back.score_one({"count": 3, "idle_windows": 89}) < 0.6  # not new again
    True
    >>> word.memory(400) is None  # faded below memory_min: forget it
    True
    """

    version = "2"

    def __init__(
        self,
        prior: float = 0.2,
        prior_windows: float = 5.0,
        alpha: float = 0.1,
        dispersion: float = 5.0,
        min_count: int = 5,
        half: float = 5.0,
        peak_alpha: float = 1.0,
        memory_min: float | None = None,
    ) -> None:
        require("prior", prior, above=0.0)
        require("prior_windows", prior_windows, at_least=0.0)
        require("alpha", alpha, above=0.0, at_most=1.0)
        require("dispersion", dispersion, above=0.0)
        require("min_count", min_count, at_least=0.0, whole=True)
        require("half", half, above=0.0)
        if not 0.0 < peak_alpha <= 1.0:
            raise ValueError(f"peak_alpha must be in (0, 1] (1: no remembered peak), "
                             f"not {peak_alpha}")
        if memory_min is not None and (memory_min <= 0.0 or peak_alpha == 1.0):
            raise ValueError(f"memory_min must be above 0 and needs a peak_alpha below 1 "
                             f"(the peak it keeps), not {memory_min} with peak_alpha "
                             f"{peak_alpha}")
        self.prior = prior
        self.prior_windows = prior_windows
        self.alpha = alpha
        self.dispersion = dispersion
        self.min_count = min_count
        self.half = half
        self.peak_alpha = peak_alpha
        self.memory_min = memory_min
        self.remembers = memory_min is not None
        self._rate = 0.0  # usual count per unit of exposure
        self._n = 0.0  # windows of history, decayed by idle ones
        self._peak = 0.0  # the highest usual rate learned, fading by peak_alpha a window
        self._last = (0.0, 1.0)  # idle windows and exposure of the window last scored

    def _decay(self, idle: float, alpha: float | None = None) -> float:
        return (1.0 - (self.alpha if alpha is None else alpha)) ** idle if idle > 0 else 1.0

    def _usual(self, idle: float) -> float:
        """The usual rate after ``idle`` windows without the entity."""
        return max(self._rate * self._decay(idle),
                   self._peak * self._decay(idle + 1.0, self.peak_alpha))

    def expected(self, idle: float = 0.0, exposure: float = 1.0) -> float:
        """The count expected in a window of ``exposure``, after ``idle`` windows
        without the entity."""
        return max(self._usual(idle) * exposure, self.prior)

    def surprise(self, x: dict[str, float]) -> float:
        """``-log10 P(N >= count)`` under the expected negative binomial count."""
        count = float(x["count"])
        self._last = (float(x.get("idle_windows", 0.0)), float(x.get("exposure", 1.0)))
        if count <= 0:
            return 0.0
        mu = self.expected(*self._last)
        k = self.dispersion
        tail = float(betainc(count, k, mu / (k + mu)))  # P(N >= count)
        return -math.log10(max(tail, 1e-300))

    def score_one(self, x: dict[str, float]) -> float:
        surprise = self.surprise(x)  # also remembers the window for baseline()
        return 0.0 if float(x["count"]) < self.min_count else squash(surprise, self.half)

    def learn_one(self, x: dict[str, float]) -> None:
        idle = float(x.get("idle_windows", 0.0))
        exposure = max(float(x.get("exposure", 1.0)), 1e-9)
        count = float(x["count"])
        mu = self.expected(idle, exposure)
        if mu < self.min_count and not x.get("warmup"):
            # a rare entity learns at most a plausible count (mean + 3 sd), so the first,
            # still quiet windows of a rising term do not teach the baseline to expect it
            count = min(count, mu + 3.0 * math.sqrt(mu + mu * mu / self.dispersion))
        keep = self._decay(idle)
        self._rate *= keep
        self._n = self._n * keep + 1.0
        shrink = 0.0 if x.get("warmup") else self.prior_windows
        step = max(1.0 / (self._n + shrink), self.alpha)
        self._rate += step * (count / exposure - self._rate)
        self._peak = max(self._peak * self._decay(idle + 1.0, self.peak_alpha), self._rate)

    def memory(self, windows: float) -> list[float] | None:
        """A state holding only the peak, for a term silent past its TTL whose last
        window started ``windows`` windows ago, while the peak faded over them is at
        least ``memory_min``."""
        if self.memory_min is None or (
                self._peak * self._decay(windows, self.peak_alpha) < self.memory_min):
            return None
        return [0.0, 0.0, self._peak]

    def state(self) -> list[float]:
        return [self._rate, self._n, self._peak]

    def load(self, state: list[float]) -> None:
        if len(state) == 2:  # saved before the peak was kept
            state = [*state, state[0]]
        self._rate, self._n, self._peak = state

    def baseline(self) -> dict[str, float]:
        return {"expected_count": self.expected(*self._last), "usual_rate": self._rate,
                "prior": self.prior, "windows": self._n}
