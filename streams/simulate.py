"""A live-shopping event simulator with labelled abuse scenarios.

Background traffic: many concurrent streams across regions and categories with
heavy-tailed audiences (Pareto), engagement proportional to real viewers, a
diurnal rate curve, ordinary report noise, viewer snapshots every 10 s, a
trickle of listing events, and established sellers who list a handful of items
at once. Streams already live when the simulation starts send
their ``stream_start`` in its first second, so every stream's category is known.
On top, scenarios from the signal catalogue are injected at planned times, and
their ground truth is returned as labels.

The generator is pure and seeded: the same arguments give the same events.

>>> sim = Simulator(SimConfig(seed=1, rate=50, duration_s=120, start_ts=0, scenarios=()))
>>> events = list(sim.events())
>>> 40 < len(events) / 120 < 60  # about the requested rate
True
>>> all(a[2]["ts"] <= b[2]["ts"] for a, b in zip(events, events[1:]))
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from signals.text import tokens
from streams.contract import LISTING_TOPIC, LIVESTREAM_TOPIC

#: one simulated event: (topic, key, the event)
Event = tuple[str, bytes, dict[str, Any]]

SCENARIOS = (
    "report_spike", "viewer_inflation", "coordinated_comments", "emerging_term",
    "price_anomaly", "listing_burst", "purchase_anomaly", "segment_report_surge",
)
REGIONS = ("US", "GB", "DE", "BR", "ID", "JP")
REGION_WEIGHTS = (30, 12, 10, 10, 8, 6)
CATEGORIES = (
    "beauty/skincare", "fashion/sneakers", "fashion/bags", "electronics/phones",
    "home/kitchen", "collectibles/cards", "toys/figures",
)
CATEGORY_WEIGHTS = (25, 20, 12, 12, 10, 8, 6)
PRICE_BANDS = {  # median price per category, lognormal sigma 0.5
    "beauty/skincare": 25.0, "fashion/sneakers": 140.0, "fashion/bags": 220.0,
    "electronics/phones": 480.0, "home/kitchen": 45.0, "collectibles/cards": 30.0,
    "toys/figures": 35.0,
}
CURRENCY = {"US": "USD", "GB": "GBP", "DE": "EUR", "BR": "BRL", "ID": "IDR", "JP": "JPY"}
WORDS = (
    "love", "this", "color", "size", "price", "shipping", "when", "restock", "wow", "nice",
    "how", "much", "does", "it", "fit", "true", "to", "great", "deal", "link", "please",
    "show", "back", "again", "what", "material", "is", "so", "cute", "need", "one",
)
# ordinary sellers open some titles with the words the scenario sellers' titles use
# (``brand new``, ``authentic``, ``new``), so a scenario is told by what it does, not by
# a word that clean traffic never writes
TITLE_OPENERS = ("new", "brand new", "authentic", "original", "sale")
TITLE_OPENER_SHARE = 0.3
EMOJI = ("😍", "🔥", "👍", "💯", "🙏", "😂", "✨")
ENGAGEMENT_MIX = (("comment", 35), ("like", 40), ("share", 4), ("follow", 10), ("gift", 5),
                  ("purchase", 6))
REPORT_REASONS = ("counterfeit", "prohibited_item", "misleading_claim", "offplatform_redirect",
                  "harassment", "fraud", "other")
BASE_REPORTS_PER_1K_PER_MIN = 0.3
SNAPSHOT_EVERY_S = 10
SURGE_STREAMS = 6  # new streams that go live in a segment as its reports surge
LEAD_S = 360  # a dedicated scenario stream is live this long before its scenario starts
# clean traffic: an established seller lists a handful of items at once, about once a
# minute at 150 events/s
BULK_SESSIONS_PER_EVENT = 1 / 9_000
BULK_SIZE = (3, 8)  # new listings in a session
BULK_SPAN_MS = 40_000  # within this long
# opt-in (``--daily-shops``): established shops uploading a catalogue every day
SHOP_UPLOAD = (12, 30)  # a shop's usual upload; each day's is within 20% of it
SHOP_SPAN_MS = 50_000  # an upload's listings within this long


@dataclass(frozen=True)
class SimConfig:
    seed: int = 7
    rate: float = 200.0  # events per second of event time, before scenario traffic
    duration_s: int = 3600
    start_ts: int = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    scenarios: tuple[str, ...] = SCENARIOS
    first_scenario_s: int | None = None
    scenario_gap_s: int | None = None
    scenario_len_s: int = 600
    daily_shops: int = 0  # established shops that each upload a dozen or more listings a day


@dataclass
class _Stream:
    stream_id: str
    seller_id: str
    region: str
    category: str
    viewers: float
    start_ts: int
    end_ts: int
    phase: int
    inflate: float = 1.0
    report_boost: float = 0.0  # extra reports per 1k viewers per minute
    started: bool = False


@dataclass
class Scenario:
    kind: str
    start_ts: int
    end_ts: int
    entity_type: str
    entity_id: str
    region: str
    data: dict[str, Any] = field(default_factory=dict)

    def label(self) -> dict[str, Any]:
        out = {"scenario": self.kind, "entity_type": self.entity_type,
               "entity_id": self.entity_id, "region": self.region,
               "start_ts": self.start_ts, "end_ts": self.end_ts}
        if "accounts" in self.data:
            out["accounts"] = list(self.data["accounts"])
        if "related" in self.data:
            out["related"] = {k: list(v) for k, v in self.data["related"].items()}
        return out


def matches(label: dict[str, Any], signal: dict[str, Any]) -> bool:
    """Whether a signal (as on the wire) is about a labelled scenario.

    A term is labelled by the word (the signal's entity is ``term|region``), and an
    account cluster by its accounts (its entity is a text fingerprint).

    >>> label = {"scenario": "emerging_term", "entity_type": "term", "entity_id": "dm4price",
    ...          "region": "US"}
    >>> matches(label, {"signal_type": "emerging_term", "entity_id": "dmaprice|US"})
    True
    """
    if signal["signal_type"] != label["scenario"]:
        return False
    if label["entity_type"] == "term":  # as the detector spells it: see signals.text
        term = "".join(tokens(label["entity_id"]))
        return bool(signal["entity_id"] == f"{term}|{label['region']}")
    if label["entity_type"] == "account_cluster":
        accounts = signal.get("evidence", {}).get("sample_accounts", ())
        return not set(accounts).isdisjoint(label["accounts"])
    return bool(signal["entity_id"] == label["entity_id"])


def explained(labels: list[dict[str, Any]], signal: dict[str, Any]) -> bool:
    """Whether a scenario explains a signal: the signal is about it, or is one the
    scenario causes on purpose besides (its ``related`` signals: e.g. the streams of
    counterfeit sellers in a segment surge draw reports enough for a ``report_spike``
    of their own). Such a side signal is no false alarm, and no detection either.

    >>> label = {"scenario": "segment_report_surge", "entity_type": "segment",
    ...          "entity_id": "beauty/skincare|US", "related": {"report_spike": ["st-9"]}}
    >>> explained([label], {"signal_type": "report_spike", "entity_id": "st-9"})
    True
    >>> explained([label], {"signal_type": "report_spike", "entity_id": "st-8"})
    False
    """
    return explaining(labels, signal) is not None


def explaining(labels: list[dict[str, Any]], signal: dict[str, Any]
               ) -> tuple[dict[str, Any], bool] | None:
    """The label of the scenario that explains a signal (see :func:`explained`), and
    whether the signal is a side effect of it rather than about it; ``None`` if none.

    >>> label = {"scenario": "report_spike", "entity_type": "stream", "entity_id": "st-9"}
    >>> explaining([label], {"signal_type": "report_spike", "entity_id": "st-9"})[1]
    False
    """
    for lb in labels:
        if matches(lb, signal):
            return lb, False
        if signal["entity_id"] in lb.get("related", {}).get(signal["signal_type"], ()):
            return lb, True
    return None


_ENTITY_TYPE = {
    "report_spike": "stream", "viewer_inflation": "stream", "purchase_anomaly": "stream",
    "coordinated_comments": "account_cluster", "emerging_term": "term",
    "price_anomaly": "listing", "listing_burst": "seller", "segment_report_surge": "segment",
}
_CODE_WORDS = ("superclone", "mirrorgrade", "dm4price", "1to1copy")
CAMPAIGN_ENDINGS = ("", "!", " 🔥", "!!", " pls")  # what a bot adds to a copy
_CAMPAIGN_TEXTS = (
    "dm me on whatsapp for the real deal at half price",
    "this seller is a scam buy from my shop instead link in bio",
    "free gift card for the first hundred who follow my page today",
    "same bag half the price message me before it sells out",
)


class Simulator:
    """Generates ``(topic, key, event)`` in event-time order, and the labels of its scenarios."""

    def __init__(self, config: SimConfig) -> None:
        unknown = [s for s in config.scenarios if s not in SCENARIOS]
        if unknown:
            raise ValueError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
        self.cfg = config
        self.rng = random.Random(config.seed)
        self._n = 0
        self._streams: list[_Stream] = []
        self._listings: list[tuple[str, str, str, str, float]] = []
        self._dedicated: list[_Stream] = []
        self._stream_no = 0
        self._viewer_norm: float | None = None
        # bulk listing draws from its own generator, so the rest of the traffic draws what
        # it drew without it (only its event and listing ids move on)
        self._bulk_rng = random.Random(f"bulk-{config.seed}")
        # so do ordinary titles' openers: the traffic is what it was but for those words
        self._title_rng = random.Random(f"titles-{config.seed}")
        # pending bulk listings: (ts, (seller, region, category, account age in days))
        self._bulk: list[tuple[int, tuple[str, str, str, int]]] = []
        # daily shops draw from their own generator too: (seller, region, category, age,
        # usual upload size, second of the day it uploads), and their pending listings
        self._shop_rng = random.Random(f"shops-{config.seed}")
        self._shops = [(f"sl-shop-{i}", self._shop_rng.choices(REGIONS, REGION_WEIGHTS)[0],
                        self._shop_rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
                        self._shop_rng.randint(200, 3000), self._shop_rng.randint(*SHOP_UPLOAD),
                        self._shop_rng.randrange(86_400)) for i in range(config.daily_shops)]
        self._shop_pending: list[tuple[int, tuple[str, str, str, int]]] = []
        self.concurrency = max(8, int(config.rate / 4))
        self.scenarios = self._plan()

    # -- planning ---------------------------------------------------------
    def _plan(self) -> list[Scenario]:
        cfg, rng = self.cfg, self.rng
        kinds = list(cfg.scenarios)
        if not kinds:
            return []
        length = min(cfg.scenario_len_s, max(cfg.duration_s // 4, 60))
        first = cfg.first_scenario_s
        if first is None:
            first = min(max(LEAD_S + 60, cfg.duration_s // 4), max(cfg.duration_s - length, 0))
        gap = cfg.scenario_gap_s
        if gap is None:
            room = max(cfg.duration_s - first - length, 0)
            gap = room // max(len(kinds) - 1, 1) if len(kinds) > 1 else 0
        out = []
        for i, kind in enumerate(kinds):
            # a repeated scenario is a new campaign: its own text, word or segment
            nth = cfg.seed + kinds[:i].count(kind)
            start = cfg.start_ts + (first + i * gap) * 1000
            end = start + length * 1000
            region = rng.choices(REGIONS, REGION_WEIGHTS)[0]
            tag = f"{cfg.seed}-{i}"
            if kind in ("report_spike", "viewer_inflation", "purchase_anomaly"):
                stream = self._new_stream(start - LEAD_S * 1000, region=region,
                                          viewers=rng.uniform(400, 1500),
                                          end_ts=end + 180_000, dedicated=True)
                sc = Scenario(kind, start, end, "stream", stream.stream_id, region,
                              {"stream": stream})
            elif kind == "coordinated_comments":
                region = REGIONS[0]  # text spreads through streams: the busiest region
                sc = Scenario(kind, start, min(end, start + 300_000), "account_cluster",
                              f"cluster-{tag}", region,
                              {"accounts": [f"bot-{tag}-{j}" for j in range(25)],
                               "text": _CAMPAIGN_TEXTS[nth % len(_CAMPAIGN_TEXTS)],
                               # its own draws, so the rest of the traffic is as it was
                               "copies": random.Random(f"copies-{tag}")})
            elif kind == "emerging_term":
                sc = Scenario(kind, start, end, "term", _CODE_WORDS[nth % len(_CODE_WORDS)],
                              REGIONS[0], {"spellings": random.Random(f"spellings-{tag}")})
            elif kind == "price_anomaly":
                listing = f"li-{tag}-bait"
                category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
                # every other campaign lists a new item at a bait price from the start;
                # the others drop an existing listing's price to bait
                sc = Scenario(kind, start, end, "listing", listing, region,
                              {"seller": f"sl-{tag}-bait", "category": category,
                               "new_at_bait": nth % 2 == 1})
            elif kind == "listing_burst":
                sc = Scenario(kind, start, end, "seller", f"sl-{tag}-burst", region,
                              {"category": rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]})
            else:  # segment_report_surge: a wave of counterfeit sellers in one of the
                # busiest segments: new streams go live in it, and its streams draw reports
                region, category = REGIONS[0], CATEGORIES[nth % 3]
                sellers = [self._new_stream(start + j * 30_000, region=region, category=category,
                                            viewers=rng.uniform(100, 400),
                                            end_ts=end + length * 1000, dedicated=True)
                           for j in range(SURGE_STREAMS)]
                sc = Scenario(kind, start, end + length * 1000, "segment",
                              f"{category}|{region}", region,
                              {"category": category, "boosted": {},
                               "sellers": {s.stream_id for s in sellers},
                               "related": {"report_spike": [s.stream_id for s in sellers]}})
            out.append(sc)
        return out

    def labels(self) -> list[dict[str, Any]]:
        return [s.label() for s in self.scenarios]

    # -- helpers ----------------------------------------------------------
    def _id(self, prefix: str = "e") -> str:
        self._n += 1
        return f"{prefix}{self.cfg.seed}-{self._n}"

    def _user(self) -> tuple[str, int]:
        n = int(self.rng.paretovariate(1.1)) % 200_000
        age = (n * 2654435761) % 2000
        return f"u{n}", (age % 5 if age < 50 else age)  # ~2.5% of accounts are days old

    def _new_stream(self, ts: int, region: str | None = None, viewers: float | None = None,
                    end_ts: int | None = None, dedicated: bool = False,
                    category: str | None = None) -> _Stream:
        rng = self.rng
        region = region or rng.choices(REGIONS, REGION_WEIGHTS)[0]
        category = category or rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        if viewers is None:
            viewers = min(30 * rng.paretovariate(1.3), 20_000)
        if end_ts is None:
            end_ts = ts + int(max(rng.expovariate(1 / 2400), 600) * 1000)
        self._stream_no += 1
        stream = _Stream(f"st-{self.cfg.seed}-{self._stream_no}",
                         f"sl-{rng.randrange(20_000)}", region, category, viewers, ts, end_ts,
                         phase=rng.randrange(SNAPSHOT_EVERY_S))
        if dedicated:
            self._dedicated.append(stream)
        else:
            self._streams.append(stream)
        return stream

    def _live(self, s: _Stream, ts: int, etype: str, **extra: Any) -> Event:
        ev = {"schema_version": 1, "event_id": self._id(), "event_type": etype, "ts": ts,
              "stream_id": s.stream_id, "seller_id": s.seller_id, "region": s.region}
        ev.update(extra)
        return LIVESTREAM_TOPIC, s.stream_id.encode(), ev

    def _engagement(self, s: _Stream, ts: int, etype: str) -> Event:
        rng = self.rng
        user, age = self._user()
        extra: dict[str, Any] = {"user_id": user, "account_age_days": age}
        cur = CURRENCY[s.region]
        if etype == "comment":
            words = rng.choices(WORDS, k=rng.randint(2, 9))
            if rng.random() < 0.3:
                words.append(rng.choice(EMOJI))
            extra["text"] = " ".join(words)
        elif etype == "like":
            extra["count"] = rng.randint(1, 20)
        elif etype == "gift":
            extra.update(value=round(rng.choice((0.5, 1, 2, 5, 10)), 2), currency=cur)
        elif etype == "purchase":
            price = round(PRICE_BANDS[s.category] * math.exp(rng.gauss(0, 0.5)), 2)
            extra.update(order_id=self._id("o"), listing_id=f"li-{rng.randrange(50_000)}",
                         amount=price, currency=cur)
        return self._live(s, ts, etype, **extra)

    def _report(self, s: _Stream, ts: int, reasons: tuple[str, ...] = REPORT_REASONS,
                young: bool = False) -> Event:
        user, age = self._user()
        return self._live(s, ts, "report", user_id=user,
                          account_age_days=self.rng.randint(0, 5) if young else age,
                          reason=self.rng.choice(reasons))

    def _listing(self, ts: int, etype: str, listing_id: str, seller: str, region: str,
                 category: str, price: float | None = None, **extra: Any
                 ) -> Event:
        ev: dict[str, Any] = {"schema_version": 1, "event_id": self._id(), "event_type": etype,
                              "ts": ts, "region": region, "listing_id": listing_id,
                              "seller_id": seller, "category": category}
        if price is not None:
            ev.update(price=price, currency=CURRENCY[region])
        ev.update(extra)
        return LISTING_TOPIC, listing_id.encode(), ev

    # -- generation -------------------------------------------------------
    def events(self) -> Iterator[Event]:
        cfg = self.cfg
        t0 = cfg.start_ts
        for _ in range(self.concurrency):  # live at the start: their stream_start comes first
            self._new_stream(t0 - self.rng.randrange(600_000))
        for second in range(cfg.duration_s):
            ts = t0 + second * 1000
            tick = list(self._tick(ts, second))
            tick.sort(key=lambda e: e[2]["ts"])
            yield from tick

    def _tick(self, ts: int, second: int) -> Iterator[Event]:
        rng, cfg = self.rng, self.cfg
        diurnal = 1.0 + 0.3 * math.sin(2 * math.pi * (ts / 86_400_000.0))
        live = []
        for s in self._streams + self._dedicated:
            if s.start_ts > ts:
                continue
            if not s.started:
                s.started = True
                yield self._live(s, ts, "stream_start", title=self._title(s), category=s.category)
            if s.end_ts <= ts:
                yield self._live(s, ts, "stream_end")
                continue
            live.append(s)
            if (second + s.phase) % SNAPSHOT_EVERY_S == 0:
                s.viewers = max(5.0, s.viewers * math.exp(rng.gauss(0, 0.04)))
                yield self._live(s, ts + rng.randrange(1000), "viewer_snapshot",
                                 viewers=int(s.viewers * s.inflate))
        ended = [s for s in self._streams if s.end_ts <= ts]
        self._streams = [s for s in self._streams if s.end_ts > ts]
        self._dedicated = [s for s in self._dedicated if s.end_ts > ts]
        for _ in ended:
            self._new_stream(ts + rng.randrange(1000, 30_000))
        if not live:
            return
        # background engagement: a steady rate per real viewer, so a stream's engagement
        # follows its own audience and not the comings and goings of other streams
        total = sum(s.viewers for s in live)
        self._viewer_norm = total if self._viewer_norm is None else (
            0.998 * self._viewer_norm + 0.002 * total)
        budget = max(cfg.rate * diurnal * 0.92 - len(live) / SNAPSHOT_EVERY_S, 0.0)
        n = _poisson(rng, budget * total / self._viewer_norm)
        weights = [s.viewers for s in live]
        kinds = rng.choices([k for k, _ in ENGAGEMENT_MIX], [w for _, w in ENGAGEMENT_MIX], k=n)
        for s, kind in zip(rng.choices(live, weights, k=n), kinds, strict=True):
            yield self._engagement(s, ts + rng.randrange(1000), kind)
        # report noise and boosted report rates
        for s in live:
            per_s = s.viewers / 1000.0 * (BASE_REPORTS_PER_1K_PER_MIN + s.report_boost) / 60.0
            for _ in range(_poisson(rng, per_s)):
                yield self._report(s, ts + rng.randrange(1000))
        # listings
        for _ in range(_poisson(rng, cfg.rate * 0.05)):
            yield self._background_listing(ts + rng.randrange(1000))
        yield from self._bulk_listings(ts)
        if self._shops:
            yield from self._shop_uploads(ts)
        for sc in self.scenarios:
            if sc.start_ts - 600_000 <= ts < sc.end_ts + 60_000:
                yield from self._scenario(sc, ts, live)

    def _title(self, s: _Stream) -> str:
        return self._opened(f"{s.category.split('/')[1]} live " + " ".join(
            self.rng.choices(WORDS, k=3)))

    def _opened(self, title: str) -> str:
        """An ordinary title, opened ``TITLE_OPENER_SHARE`` of the time by one of
        ``TITLE_OPENERS``.

        >>> sim = Simulator(SimConfig(seed=1, scenarios=()))
        >>> titles = [sim._opened("bags color size") for _ in range(1000)]
        >>> 250 < sum(t != "bags color size" for t in titles) < 350
        True
        >>> sorted({t.removesuffix(" bags color size") for t in titles} - {"bags color size"})
        ['authentic', 'brand new', 'new', 'original', 'sale']
        """
        rng = self._title_rng
        if rng.random() < TITLE_OPENER_SHARE:
            return f"{rng.choice(TITLE_OPENERS)} {title}"
        return title

    def _item_title(self, rng: random.Random, category: str) -> str:
        """An ordinary listing's title: its category's noun and four chat words from
        ``rng``, perhaps opened (:meth:`_opened`)."""
        return self._opened(f"{category.split('/')[1]} " + " ".join(rng.choices(WORDS, k=4)))

    def _bulk_listings(self, ts: int) -> Iterator[Event]:
        """An established seller listing a handful of items at once (a new collection,
        stock from a supplier): ``BULK_SIZE`` new listings within ``BULK_SPAN_MS``, in
        sessions that start ``BULK_SESSIONS_PER_EVENT`` times per background event.

        >>> from collections import Counter
        >>> sim = Simulator(SimConfig(seed=3, rate=150, duration_s=600, start_ts=0, scenarios=()))
        >>> created = Counter(e["seller_id"] for _, _, e in sim.events()
        ...                   if e["event_type"] == "listing_created")
        >>> 5 <= sum(n >= 3 for n in created.values()) <= 15  # about ten sessions
        True
        """
        rng = self._bulk_rng
        for _ in range(_poisson(rng, self.cfg.rate * BULK_SESSIONS_PER_EVENT)):
            seller = (f"sl-{rng.randrange(20_000)}", rng.choices(REGIONS, REGION_WEIGHTS)[0],
                      rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0], rng.randint(30, 3000))
            self._bulk += [(ts + rng.randrange(BULK_SPAN_MS), seller)
                           for _ in range(rng.randint(*BULK_SIZE))]
        due, self._bulk = _due(self._bulk, ts)
        yield from self._created(rng, due, ts)

    def _created(self, rng: random.Random, due: list[tuple[int, tuple[str, str, str, int]]],
                 ts: int) -> Iterator[Event]:
        """New listings at their times (not before ``ts``), priced and titled from ``rng``
        (a title's opener from the titles' own generator)."""
        for at, (seller, region, category, age) in due:
            price = round(PRICE_BANDS[category] * math.exp(rng.gauss(0, 0.5)), 2)
            title = self._item_title(rng, category)
            yield self._listing(max(at, ts), "listing_created", self._id("li-"), seller, region,
                                category, price, title=title, seller_account_age_days=age)

    def _shop_uploads(self, ts: int) -> Iterator[Event]:
        """Each of ``daily_shops`` established shops uploading its catalogue once a day,
        at its own time of day: within 20% of its usual ``SHOP_UPLOAD`` size, within
        ``SHOP_SPAN_MS``.

        >>> from collections import Counter
        >>> sim = Simulator(SimConfig(seed=3, rate=1, duration_s=2 * 86_400, start_ts=0,
        ...                           scenarios=(), daily_shops=3))
        >>> days = Counter((e["seller_id"], e["ts"] // 86_400_000) for _, _, e in sim.events()
        ...                if e["seller_id"].startswith("sl-shop-"))
        >>> len(days), all(9 <= n <= 36 for n in days.values())  # 3 shops, 2 days
        (6, True)
        """
        rng, second = self._shop_rng, (ts // 1000) % 86_400
        for seller, region, category, age, usual, at in self._shops:
            if at == second:
                size = max(1, round(usual * rng.uniform(0.8, 1.2)))
                self._shop_pending += [(ts + rng.randrange(SHOP_SPAN_MS),
                                        (seller, region, category, age)) for _ in range(size)]
        due, self._shop_pending = _due(self._shop_pending, ts)
        yield from self._created(rng, sorted(due), ts)

    def _background_listing(self, ts: int) -> Event:
        rng = self.rng
        if not self._listings or rng.random() < 0.4:
            region = rng.choices(REGIONS, REGION_WEIGHTS)[0]
            category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
            price = round(PRICE_BANDS[category] * math.exp(rng.gauss(0, 0.5)), 2)
            item = (self._id("li-"), f"sl-{rng.randrange(20_000)}", region, category, price)
            self._listings.append(item)
            if len(self._listings) > 5000:
                self._listings.pop(0)
            return self._listing(ts, "listing_created", item[0], item[1], region, category, price,
                                 title=self._item_title(rng, category),
                                 seller_account_age_days=rng.randint(30, 3000))
        listing_id, seller, region, category, price = rng.choice(self._listings)
        kind = rng.choices(("price_changed", "listing_updated", "listing_removed",
                            "listing_reported"), (40, 35, 15, 10))[0]
        if kind == "price_changed":
            new = round(price * rng.uniform(0.85, 1.1), 2)
            return self._listing(ts, kind, listing_id, seller, region, category, new,
                                 previous_price=price)
        if kind == "listing_updated":
            return self._listing(ts, kind, listing_id, seller, region, category, price,
                                 title=self._item_title(rng, category))
        if kind == "listing_reported":
            user, _ = self._user()
            return self._listing(ts, kind, listing_id, seller, region, category,
                                 user_id=user, reason=rng.choice(REPORT_REASONS))
        return self._listing(ts, kind, listing_id, seller, region, category)

    def _scenario(self, sc: Scenario, ts: int, live: list[_Stream]
                  ) -> Iterator[Event]:
        rng = self.rng
        active = sc.start_ts <= ts < sc.end_ts
        minute_frac = 1 / 60.0
        if sc.kind in ("report_spike", "viewer_inflation", "purchase_anomaly"):
            s: _Stream = sc.data["stream"]
            if sc.kind == "report_spike":
                s.report_boost = rng.uniform(15, 30) if active else 0.0
            elif sc.kind == "viewer_inflation":
                if active and s.inflate == 1.0:
                    s.inflate = rng.uniform(6, 10)
                elif not active:
                    s.inflate = 1.0
                if active:
                    for _ in range(_poisson(rng, 6 * minute_frac)):
                        user = f"fresh-{rng.randrange(10**6)}"
                        yield self._live(s, ts + rng.randrange(1000), "follow", user_id=user,
                                         account_age_days=rng.randint(0, 3))
            elif active:  # purchase_anomaly: brushing from young accounts, same amount
                for _ in range(_poisson(rng, 30 * minute_frac)):
                    yield self._live(s, ts + rng.randrange(1000), "purchase",
                                     user_id=f"fresh-{rng.randrange(10**6)}",
                                     account_age_days=rng.randint(0, 3),
                                     order_id=self._id("o"), listing_id=f"li-{sc.entity_id}",
                                     amount=19.99, currency=CURRENCY[s.region])
            return
        if not active:
            if sc.kind == "segment_report_surge":  # over: back to the usual rate
                for s in sc.data["boosted"].values():
                    s.report_boost = 0.0
                sc.data["boosted"].clear()
            if (sc.kind == "price_anomaly" and ts == sc.start_ts - 600_000
                    and not sc.data["new_at_bait"]):
                price = PRICE_BANDS[sc.data["category"]]
                yield self._listing(ts, "listing_created", sc.entity_id, sc.data["seller"],
                                    sc.region, sc.data["category"], price,
                                    title="authentic " + sc.data["category"].split("/")[1],
                                    seller_account_age_days=400)
            return
        if sc.kind == "coordinated_comments":
            targets = ([s for s in live if s.region == sc.region] + live)[:5]
            for account in sc.data["accounts"]:
                if rng.random() < 3 / 300:  # ~3 posts per account over five minutes
                    s = rng.choice(targets)
                    text = _bot_copy(sc.data["copies"], sc.data["text"]) + rng.choice(
                        CAMPAIGN_ENDINGS)
                    yield self._live(s, ts + rng.randrange(1000), "comment", user_id=account,
                                     account_age_days=rng.randint(0, 2), text=text)
        elif sc.kind == "emerging_term":
            progress = (ts - sc.start_ts) / max(sc.end_ts - sc.start_ts, 1)
            targets = [s for s in live if s.region == sc.region] or live
            for _ in range(_poisson(rng, (2 + 25 * progress) * minute_frac)):
                s = rng.choice(targets)
                user, age = self._user()
                word, spellings = sc.entity_id, sc.data["spellings"]
                if spellings.random() < 0.3:  # a letter drawn out, from draws of its own
                    word = _draw_out(spellings, word)
                yield self._live(s, ts + rng.randrange(1000), "comment", user_id=user,
                                 account_age_days=age, text=_obfuscate(rng, word)
                                 + " " + " ".join(rng.choices(WORDS, k=3)))
        elif sc.kind == "price_anomaly":
            if ts == sc.start_ts:
                base = PRICE_BANDS[sc.data["category"]]
                bait = round(base * 0.06, 2)
                if sc.data["new_at_bait"]:
                    yield self._listing(ts, "listing_created", sc.entity_id, sc.data["seller"],
                                        sc.region, sc.data["category"], bait,
                                        title="brand new " + sc.data["category"].split("/")[1],
                                        seller_account_age_days=3)
                else:
                    yield self._listing(ts, "price_changed", sc.entity_id, sc.data["seller"],
                                        sc.region, sc.data["category"], bait,
                                        previous_price=base)
                host = next((s for s in live if s.region == sc.region), live[0])
                yield self._live(host, ts + 500, "product_pin", listing_id=sc.entity_id,
                                 price=bait, currency=CURRENCY[host.region])
        elif sc.kind == "listing_burst":
            for _ in range(_poisson(rng, 6 * minute_frac)):
                category = sc.data["category"]
                price = round(PRICE_BANDS[category] * math.exp(rng.gauss(0, 0.3)), 2)
                yield self._listing(ts + rng.randrange(1000), "listing_created",
                                    self._id("li-"), sc.entity_id, sc.region, category, price,
                                    title=f"new {category.split('/')[1]} " + " ".join(
                                        rng.choices(WORDS, k=3)), seller_account_age_days=2)
        elif sc.kind == "segment_report_surge":
            # the counterfeit sellers' streams draw reports at about 20x the usual rate,
            # and the segment's other streams at 5x: enough, on a big one, for a
            # report_spike of its own (a related signal, listed once generated)
            sellers, related = sc.data["sellers"], sc.data["related"]["report_spike"]
            for s in live:
                if s.category == sc.data["category"] and s.region == sc.region:
                    s.report_boost = (20 if s.stream_id in sellers else 4) * (
                        BASE_REPORTS_PER_1K_PER_MIN)
                    if s.stream_id not in sc.data["boosted"]:
                        sc.data["boosted"][s.stream_id] = s
                        if s.stream_id not in sellers:
                            related.append(s.stream_id)


def _bot_copy(rng: random.Random, text: str) -> str:
    """A campaign text as a bot posts it, varied so copies do not match exactly: a word
    split in two, a letter drawn out, an emoji between words (each 30% of the time).

    >>> for seed in (1, 4):
    ...     print(_bot_copy(random.Random(seed), "dm me on whatsapp for the real deal"))
    dm me on wha tsapp for the realllll deal
    dm me 😍 on whatsa pp for the real deal
    """
    words = text.split()
    if rng.random() < 0.3:
        i = rng.choice([i for i, w in enumerate(words) if len(w) >= 4])
        cut = rng.randrange(1, len(words[i]))
        words[i:i + 1] = [words[i][:cut], words[i][cut:]]
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = _draw_out(rng, words[i])
    if rng.random() < 0.3:
        words.insert(rng.randrange(1, len(words)), rng.choice(EMOJI))
    return " ".join(words)


def _draw_out(rng: random.Random, word: str) -> str:
    """The word with one of its letters written 3-5 times.

    >>> _draw_out(random.Random(1), "superclone")
    'suppppperclone'
    """
    j = rng.randrange(len(word))
    return word[:j] + word[j] * rng.randint(3, 5) + word[j + 1:]


def _obfuscate(rng: random.Random, word: str) -> str:
    """Spell a code word the ways evaders do: spacing, digits for letters, homoglyphs."""
    style = rng.randrange(4)
    if style == 0:
        return word
    if style == 1:
        return " ".join(word)
    if style == 2:
        digits: dict[str, str | int | None] = {"o": "0", "i": "1", "e": "3", "a": "4"}
        return word.translate(str.maketrans(digits))
    homoglyphs: dict[str, str | int | None] = {  # Cyrillic
        "o": "\u043e", "e": "\u0435", "a": "\u0430", "c": "\u0441"}
    return word.translate(str.maketrans(homoglyphs))


def _due(pending: list[tuple[int, Any]], ts: int) -> tuple[list[tuple[int, Any]],
                                                           list[tuple[int, Any]]]:
    """Split pending ``(time, item)`` into those due in the second from ``ts``, and the rest.

    >>> _due([(500, "a"), (1500, "b")], 0)
    ([(500, 'a')], [(1500, 'b')])
    """
    return [b for b in pending if b[0] < ts + 1000], [b for b in pending if b[0] >= ts + 1000]


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, normal approximation for large)."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
