"""A Poisson rate detector: counts against an exposure-scaled, learned rate."""

from __future__ import annotations

import math

from scipy.special import gammainc

from detectors.base import Detector, require, squash


class PoissonRateDetector(Detector):
    """Scores a window's event count against the rate the entity usually shows.

    ``x`` holds ``count`` (e.g. reports in the window) and ``exposure`` (e.g.
    thousands of viewers). The expected count is ``exposure * rate``, where the
    rate is a Gamma-Poisson posterior: a prior of ``prior_rate`` worth
    ``prior_exposure`` units of exposure (the category-wide norm, so that a stream
    five minutes old is not judged on nothing), plus the entity's own exponentially
    decayed counts and exposure. The score comes from the upper-tail probability
    ``p = P(N >= count)``: ``-log10(p)`` is squashed to ``[0, 1)`` with ``half`` as
    its midpoint. Counts below ``min_count`` score 0.

    With ``established_prior_rate``, a window whose ``x`` holds ``established``
    (true: the entity's actor is an account past the young-account age) takes
    that prior instead: a seller with years behind it who lists a handful of
    items at once is not judged like an account a few days old.

    With ``habit_half_life`` (in windows), the detector also remembers an
    established entity's *habit*: the largest count of a window of at least
    ``habit_min`` it has shown, flagged or not, fading by half every
    ``habit_half_life`` windows. It applies from the entity's next *session*, after
    ``habit_gap`` windows without one: an established window of a later session is
    expected to hold at least the faded habit, so a shop that uploads twenty items
    every morning opens a signal on its first upload, and after that only on one
    far beyond its habit, while a burst that goes on within its session is judged
    as before. :meth:`remember_one` learns it (the engine calls it for every
    window), and it is kept, past the entity's TTL too (:meth:`memory`), until it
    has faded to half of ``habit_min``.

    Examples
    --------
    >>> det = PoissonRateDetector(prior_rate=0.5, prior_exposure=5.0)
    >>> for _ in range(10):
    ...     det.learn_one({"count": 0, "exposure": 1.0})
    >>> det.score_one({"count": 1, "exposure": 1.0})
    0.0
    >>> det.score_one({"count": 25, "exposure": 1.0}) > 0.9
    True
    >>> seller = PoissonRateDetector(prior_rate=0.05, prior_exposure=20.0,
    ...                              established_prior_rate=1.0)
    >>> young, aged = {"count": 5, "exposure": 1.0}, {"count": 5, "exposure": 1.0,
    ...                                               "established": 1.0}
    >>> seller.score_one(young) > 0.6, seller.score_one(aged) < 0.3
    (True, True)
    >>> shop = PoissonRateDetector(prior_rate=0.05, prior_exposure=20.0, min_count=4,
    ...                            established_prior_rate=1.0, habit_half_life=4320)
    >>> upload = {"count": 20, "exposure": 1.0, "established": 1.0, "idle_windows": 0.0}
    >>> shop.score_one(upload) > 0.9  # the first upload: nothing known of the shop
    True
    >>> shop.remember_one(upload)
    >>> next_day = upload | {"idle_windows": 1439.0}
    >>> shop.score_one(next_day) < 0.3, shop.score_one(next_day | {"count": 45}) > 0.6
    (True, True)
    """

    version = "3"  # 2: a separate prior for established accounts; 3: an established habit

    def __init__(
        self,
        prior_rate: float = 0.5,
        prior_exposure: float = 5.0,
        decay: float = 0.05,
        min_count: int = 3,
        half: float = 5.0,
        established_prior_rate: float | None = None,
        habit_half_life: float | None = None,
        habit_min: float = 10.0,
        habit_gap: float = 60.0,
    ) -> None:
        require("prior_exposure", prior_exposure, above=0.0)
        require("decay", decay, at_least=0.0, below=1.0)
        require("min_count", min_count, at_least=0.0, whole=True)
        require("half", half, above=0.0)
        require("prior_rate", prior_rate, at_least=0.0)
        if established_prior_rate is not None:
            require("established_prior_rate", established_prior_rate, at_least=0.0)
        if habit_half_life is not None and habit_half_life <= 0.0:
            raise ValueError(f"habit_half_life must be above 0 windows, not {habit_half_life}")
        if habit_half_life is not None and established_prior_rate is None:
            raise ValueError("habit_half_life needs established_prior_rate: only an "
                             "established account's habit is learned")
        if habit_min < 1.0:
            raise ValueError(f"habit_min must be at least 1, not {habit_min}")
        if habit_gap < 1.0:
            raise ValueError(f"habit_gap must be at least 1 window, not {habit_gap}")
        self.prior_rate = prior_rate
        self.established_prior_rate = established_prior_rate
        self.prior_exposure = prior_exposure
        self.decay = decay
        self.min_count = min_count
        self.half = half
        self._counts = 0.0
        self._exposure = 0.0
        self._prior = prior_rate  # the prior of the window last scored or learned
        # the habit's fade per window (None: no habit); the habit as of the last window
        # remembered, and as the window last scored saw it (0 for a young account)
        self._fade = None if habit_half_life is None else 0.5 ** (1.0 / habit_half_life)
        self.remembers = self._fade is not None
        self.habit_min = habit_min
        self.habit_gap = habit_gap
        self._habit = 0.0  # of earlier sessions, as of the last window remembered
        self._session = 0.0  # of the current session (the habit from the next one on)
        self._habit_seen = 0.0

    @property
    def rate(self) -> float:
        """Expected count per unit of exposure (with the prior of the last window seen)."""
        return (self._prior * self.prior_exposure + self._counts) / (
            self.prior_exposure + self._exposure
        )

    def _see(self, x: dict[str, float]) -> None:
        """Take the prior that fits the window's actor."""
        established = self.established_prior_rate
        self._prior = established if established is not None and x.get("established") \
            else self.prior_rate

    def _faded(self, idle_windows: float) -> tuple[float, float]:
        """The habit and the session's largest count, ``idle_windows + 1`` windows after
        the last window remembered; after ``habit_gap`` idle windows the session is
        over, and its count is part of the habit."""
        if self._fade is None or not (self._habit or self._session):
            return 0.0, 0.0
        fade = self._fade ** (idle_windows + 1.0)
        habit, session = self._habit * fade, self._session * fade
        if idle_windows >= self.habit_gap:
            return max(habit, session), 0.0
        return habit, session

    def surprise(self, x: dict[str, float]) -> float:
        """``-log10 P(N >= count)`` under the expected Poisson count: the rate times the
        exposure, or an established entity's faded habit if that is larger."""
        self._see(x)
        count = float(x["count"])
        self._habit_seen = self._faded(x.get("idle_windows", 0.0))[0] if x.get(
            "established") else 0.0
        mu = max(self.rate * float(x["exposure"]), self._habit_seen, 1e-9)
        if count <= 0:
            return 0.0
        tail = float(gammainc(count, mu))  # P(N >= k) for N ~ Poisson(mu)
        return -math.log10(max(tail, 1e-300))

    def score_one(self, x: dict[str, float]) -> float:
        if float(x["count"]) < self.min_count:
            return 0.0
        return squash(self.surprise(x), self.half)

    def learn_one(self, x: dict[str, float]) -> None:
        self._see(x)
        keep = 1.0 - self.decay
        mu = self.rate * float(x["exposure"])
        # learn at most a plausible count (mean + 3 sd, at least 1), so a window that holds
        # the first reports of a spike, or a new seller's first listings of a burst, still
        # below min_count, does not raise the baseline after it
        count = min(float(x["count"]), max(mu + 3.0 * math.sqrt(mu), 1.0))
        self._counts = self._counts * keep + count
        self._exposure = self._exposure * keep + float(x["exposure"])

    def remember_one(self, x: dict[str, float]) -> None:
        """Fade the habit by the windows since the last one, and take this window's count
        as its session's if the entity is established and the count is at least
        ``habit_min`` and above it. Unlike :meth:`learn_one`, for every window: a habit
        is learned from the upload that opened a signal, so the next session's does
        not."""
        if self._fade is None:
            return
        habit, session = self._faded(x.get("idle_windows", 0.0))
        count = float(x["count"])
        if x.get("established") and count >= self.habit_min:
            session = max(session, count)
        low = 0.5 * self.habit_min
        self._habit = habit if habit >= low else 0.0
        self._session = session if session >= low else 0.0

    def memory(self, windows: float) -> list[float] | None:
        """A state holding only the habit, for an entity silent past its TTL whose last
        window started ``windows`` windows ago, until the habit has faded to half of
        ``habit_min``."""
        if max(self._faded(windows - 1.0)) < 0.5 * self.habit_min:
            return None
        return [0.0, 0.0, -max(self._habit, self._session)]  # past the TTL: a new session

    def state(self) -> list[float]:
        # a habit is kept negated: a state from before a310ca0 held a window count there
        if self._session:
            return [self._counts, self._exposure, -self._habit, -self._session]
        if self._habit:
            return [self._counts, self._exposure, -self._habit]
        return [self._counts, self._exposure]

    def load(self, state: list[float]) -> None:
        """Two floats, three with a habit, four with the session's largest count (both
        negated). A non-negative third value (a window count kept before) is ignored."""
        self._counts, self._exposure = state[0], state[1]
        self._habit = max(-state[2], 0.0) if len(state) > 2 and self._fade else 0.0
        self._session = max(-state[3], 0.0) if len(state) > 3 and self._fade else 0.0

    def baseline(self) -> dict[str, float]:
        # `exposure`: the entity's own decayed exposure behind `rate`, beside the prior's;
        # `habit`: the faded habit the last score expected at least, when one is learned
        out = {"rate": self.rate, "prior_rate": self._prior, "exposure": self._exposure}
        if self._fade is not None:
            out["habit"] = self._habit_seen
        return out
