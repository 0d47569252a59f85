"""The signal catalogue: for each signal type, which entity it watches, which
detectors may serve it, what the detector reads from a closed window, and what a
reviewer gets as observed values and evidence.

>>> len(CATALOGUE), sorted(CATALOGUE)[:3]
(8, ['coordinated_comments', 'emerging_term', 'listing_burst'])
>>> CATALOGUE["report_spike"].entity_type
'stream'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from detectors import (
    CountSurgeDetector,
    Detector,
    LevelDetector,
    PoissonRateDetector,
    PriceShiftDetector,
    RateCusumDetector,
    RecordDetector,
    ViewerInflationDetector,
)
from detectors.price import log_price, price_from_log
from signals.aggregate import WindowAggregate
from signals.record import INT64_MAX, MAX_SAMPLE_IDS

if TYPE_CHECKING:
    from signals.policy import SignalPolicy

ENGAGEMENT_TYPES = ("comment", "like", "share", "follow", "gift", "purchase")


@dataclass(frozen=True)
class CatalogueEntry:
    """How one signal type reads a window.

    ``features`` returns the detector's input, or None when the window holds
    nothing to judge (e.g. no viewer count yet); ``observed`` and ``evidence``
    build the parts of the signal a reviewer reads.
    """

    signal_type: str
    code: int  # stable small number naming the type in encoded state; never reused
    entity_type: str
    detectors: dict[str, type[Detector]]
    features: Callable[[WindowAggregate], dict[str, float] | None]
    observed: Callable[[WindowAggregate, dict[str, float]], dict[str, Any]]
    evidence: Callable[[WindowAggregate], dict[str, Any]]
    #: whether a window can matter at all, given the signal's policy (its detector
    #: parameters, its open bar); others are not even sent to the detect stage
    relevant: Callable[[WindowAggregate, SignalPolicy], bool] | None = None
    #: the detector's baseline in the units a reviewer reads, added to the signal's
    baseline_view: Callable[[dict[str, float]], dict[str, float]] | None = None
    #: what the window's input was judged against, when the detector takes it from the
    #: input rather than its state (a category's price band), added to the baseline too
    input_baseline: Callable[[dict[str, float], Detector, SignalPolicy],
                             dict[str, float]] | None = None
    #: whether a window holds live text (chat, stream titles): for a signal with a
    #: warm-up, such windows also warm up on a clock of their own in their region
    live_text: Callable[[WindowAggregate], bool] | None = None
    #: signal types of the same entity whose open episode makes its windows unfit
    #: to learn from (fake viewers say nothing of a stream's reports per viewer);
    #: the engine judges those types first in each window
    unlearned_while: tuple[str, ...] = ()
    #: the detector's input while one of ``unlearned_while`` is open, from the window,
    #: the input as usual, and that type's detector baseline (a stream's reports are
    #: judged against its real audience, not its bought one)
    judged_while: Callable[[WindowAggregate, dict[str, float], dict[str, float]],
                           dict[str, float]] | None = None


SNAPSHOT_INTERVAL_MS = 10_000  # the contract: viewer snapshots are sent every ~10 s
MIN_LIVE_FRACTION = 0.5  # a rate per live minute needs at least half a window live


def live_fraction(agg: WindowAggregate) -> float:
    """The share of the window the stream was live, from its viewer snapshots.

    A stream that starts or ends inside a window has fewer snapshots; rates
    are scaled by this so that a partial window is not judged as a quiet one.

    >>> agg = WindowAggregate(entity_type="stream", entity_id="s", region="US",
    ...     window_start=0, window_end=60_000, features={"n_viewer_snapshot": 3.0})
    >>> live_fraction(agg)
    0.5
    """
    snapshots = agg.features.get("n_viewer_snapshot", 0.0)
    length = max(agg.window_end - agg.window_start, 1)
    return min(1.0, max(snapshots, 1.0) * SNAPSHOT_INTERVAL_MS / length)


def judged_live_fraction(agg: WindowAggregate) -> float | None:
    """:func:`live_fraction`, or None when under ``MIN_LIVE_FRACTION``: a stream's
    first or last seconds, too short to scale a count to a minute by.

    >>> agg = WindowAggregate(entity_type="stream", entity_id="s", region="US",
    ...     window_start=0, window_end=60_000, features={"n_viewer_snapshot": 2.0})
    >>> judged_live_fraction(agg) is None
    True
    """
    live = live_fraction(agg)
    return None if live < MIN_LIVE_FRACTION else live


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole > 0 else 0.0


def _common_evidence(agg: WindowAggregate) -> dict[str, Any]:
    f = agg.features
    out: dict[str, Any] = {k: v for k, v in agg.context.items() if k in ("seller_id", "category")}
    out["distinct_actors"] = int(f.get("distinct_actors", 0))
    out["young_actor_share"] = _share(f.get("young_actor_events", 0), f.get("aged_actor_events", 0)
                                      + f.get("young_actor_events", 0))
    return out


# --- report_spike ---------------------------------------------------------

def _report_features(agg: WindowAggregate) -> dict[str, float] | None:
    viewers = agg.features.get("viewers_mean", 0.0)
    if viewers <= 0:
        return None
    exposure = viewers / 1000.0 * live_fraction(agg)
    return {"count": agg.features.get("n_report", 0.0), "exposure": exposure}


def _report_honest(agg: WindowAggregate, x: dict[str, float],
                   inflation: dict[str, float]) -> dict[str, float]:
    """Reports judged against a stream's real audience while its ``viewer_inflation``
    episode is open: bought viewers do not report, and seven times the audience
    would expect seven times the reports, hiding a real spike. The real audience is
    the larger of the stream's usual viewers (the inflation detector's baseline,
    which learns no inflated window) and the audience its engagement implies at its
    usual engagement per viewer; never more than the viewers shown.

    >>> agg = WindowAggregate(entity_type="stream", entity_id="s", region="US",
    ...     window_start=0, window_end=60_000, features={"viewers_mean": 7000.0,
    ...     "n_viewer_snapshot": 6.0, "n_report": 6.0, "n_comment": 1200.0})
    >>> usual = {"viewers": 1100.0, "engagement_per_viewer": 1.0}
    >>> _report_honest(agg, _report_features(agg), usual)
    {'count': 6.0, 'exposure': 1.2, 'audience': 1200.0}
    """
    shown = agg.features["viewers_mean"]
    audience = inflation.get("viewers", shown)
    engaged, per_viewer = _inflation_features(agg), inflation.get("engagement_per_viewer", 0.0)
    if engaged is not None and per_viewer > 0.0:
        audience = max(audience, (engaged["engagement"] + 1.0) / per_viewer - 1.0)
    audience = min(max(audience, 1.0), shown)
    return x | {"exposure": audience / 1000.0 * live_fraction(agg), "audience": audience}


def _report_observed(agg: WindowAggregate, x: dict[str, float]) -> dict[str, Any]:
    out = {
        "reports": int(x["count"]),
        "viewers_mean": round(agg.features["viewers_mean"], 1),
        "reports_per_1k_viewers": round(x["count"] / x["exposure"], 3),
    }
    if "audience" in x:  # viewer_inflation open: the rate is per real viewer
        out["viewers_judged"] = round(x["audience"], 1)
    return out


def _report_evidence(agg: WindowAggregate) -> dict[str, Any]:
    out = _common_evidence(agg)
    out["sample_event_ids"] = agg.samples.get("report", [])[:MAX_SAMPLE_IDS]
    out["report_reasons"] = agg.breakdown.get("report_reasons", {})
    out["distinct_reporters"] = int(agg.features.get("distinct_reporters", 0))
    return out


# --- viewer_inflation -----------------------------------------------------

def _inflation_features(agg: WindowAggregate) -> dict[str, float] | None:
    """Viewers, engagement per full window, and the share of the window live.

    A window the stream was live for less than half of (its first or last) is
    neither judged nor learned: one snapshot stands for anything up to ten seconds
    live, so its engagement per viewer can be off by any factor, and a stream's
    first window would start its baseline there.

    >>> agg = WindowAggregate(entity_type="stream", entity_id="s", region="US",
    ...     window_start=0, window_end=60_000, features={"n_viewer_snapshot": 3.0,
    ...     "viewers_mean": 900.0, "n_comment": 4.0, "n_like": 2.0})
    >>> _inflation_features(agg)
    {'viewers': 900.0, 'engagement': 12.0, 'live': 0.5}
    >>> agg.features["n_viewer_snapshot"] = 2.0  # two snapshots: live 11-20 s
    >>> _inflation_features(agg) is None
    True
    """
    f = agg.features
    if f.get("n_viewer_snapshot", 0) == 0:
        return None
    live = judged_live_fraction(agg)
    if live is None:
        return None
    engagement = sum(f.get(f"n_{t}", 0.0) for t in ENGAGEMENT_TYPES)
    return {"viewers": f["viewers_mean"], "engagement": engagement / live, "live": live}


def _inflation_observed(agg: WindowAggregate, x: dict[str, float]) -> dict[str, Any]:
    return {
        "viewers_mean": round(x["viewers"], 1),
        "viewers_max": int(agg.features.get("viewers_max", 0)),
        "engagement_per_window": round(x["engagement"], 1),
        "engagement_per_1k_viewers": round(1000.0 * x["engagement"] / max(x["viewers"], 1.0), 3),
    }


def _inflation_evidence(agg: WindowAggregate) -> dict[str, Any]:
    out = _common_evidence(agg)
    young = agg.samples.get("young_actor", [])
    snaps = agg.samples.get("viewer_snapshot", [])
    out["sample_event_ids"] = (young + snaps)[:MAX_SAMPLE_IDS]
    out["young_actor_event_ids"] = young[:MAX_SAMPLE_IDS]
    return out


# --- purchase_anomaly -----------------------------------------------------

def _purchase_features(agg: WindowAggregate) -> dict[str, float] | None:
    """Young-account purchases in the window (per full live minute), on the
    Anscombe scale ``2 sqrt(n + 3/8)``, where a Poisson count has a spread of about 1
    whatever its rate: small and large streams are judged alike.

    A window the stream was live for less than half of (its first or last) is
    neither judged nor learned: scaled to a minute, one purchase in its last ten
    seconds would count as six.

    >>> agg = WindowAggregate(entity_type="stream", entity_id="s", region="US",
    ...     window_start=0, window_end=60_000,
    ...     features={"n_viewer_snapshot": 6.0, "viewers_mean": 500.0, "young_purchases": 6.0})
    >>> round(_purchase_features(agg)["value"], 3)
    5.05
    >>> agg.features.update(n_viewer_snapshot=1.0, young_purchases=1.0)  # live 10 s
    >>> _purchase_features(agg) is None
    True
    """
    if agg.features.get("viewers_mean", 0.0) <= 0:
        return None
    fraction = judged_live_fraction(agg)
    if fraction is None:
        return None
    count = agg.features.get("young_purchases", 0.0) / fraction
    return {"value": 2.0 * math.sqrt(count + 0.375)}


def _purchase_baseline(baseline: dict[str, float]) -> dict[str, float]:
    """The detector's level (and the top of its range) back on the count scale:
    young-account purchases a minute.

    >>> _purchase_baseline({"level": 5.05, "low": 1.22, "high": 7.0, "windows": 30})
    {'usual_young_purchases': 6.0, 'highest_young_purchases': 11.88}
    """
    out = {}
    for key, name in (("level", "usual_young_purchases"), ("mean", "usual_young_purchases"),
                      ("high", "highest_young_purchases")):
        if key in baseline:
            out[name] = round(max((baseline[key] / 2.0) ** 2 - 0.375, 0.0), 2)
    return out


def _purchase_observed(agg: WindowAggregate, x: dict[str, float]) -> dict[str, Any]:
    f = agg.features
    return {
        "purchases": int(f.get("n_purchase", 0)),
        "young_account_purchases": int(f.get("young_purchases", 0)),
        "young_purchases_per_1k_viewers": round(
            1000.0 * f.get("young_purchases", 0.0) / max(f["viewers_mean"], 1.0), 3),
        "viewers_mean": round(f["viewers_mean"], 1),
        "top_amount_share": round(f.get("purchase_top_amount_share", 0.0), 3),
    }


def _purchase_evidence(agg: WindowAggregate) -> dict[str, Any]:
    out = _common_evidence(agg)
    out["sample_event_ids"] = agg.samples.get("purchase", [])[:MAX_SAMPLE_IDS]
    out["young_actor_event_ids"] = agg.samples.get("young_actor", [])[:MAX_SAMPLE_IDS]
    out["top_amount_share"] = round(agg.features.get("purchase_top_amount_share", 0.0), 3)
    out["purchase_amount_sum"] = round(agg.features.get("purchase_amount_sum", 0.0), 2)
    return out


# --- price_anomaly --------------------------------------------------------

def established_seller(agg: WindowAggregate) -> float:
    """1.0 when every listing event in the window that gave the seller's account age
    gave one past ``young_account_days``; 0.0 for a young seller, or no age given.

    >>> agg = WindowAggregate(entity_type="seller", entity_id="sl-1", region="US",
    ...     window_start=0, window_end=60_000, features={"aged_actor_events": 5.0})
    >>> established_seller(agg)
    1.0
    >>> agg.features["young_actor_events"] = 1.0
    >>> established_seller(agg)
    0.0
    """
    f = agg.features
    return 1.0 if f.get("aged_actor_events", 0.0) > 0 and not f.get(
        "young_actor_events", 0.0) else 0.0


def _price_features(agg: WindowAggregate) -> dict[str, float] | None:
    """The window's lowest price (bait drops) against the price before it, its
    category's band, and whether the seller is :func:`established <established_seller>`.

    >>> agg = WindowAggregate(entity_type="listing", entity_id="li-1", region="US",
    ...     window_start=0, window_end=60_000,
    ...     features={"price_min": 6.0, "price_last": 6.0, "price_reference": 100.0})
    >>> x = _price_features(agg); round(math.exp(x["log_reference"] - x["log_price"]), 1)
    16.7
    """
    f = agg.features
    if "price_min" not in f:
        return None
    low, last = f["price_min"], f["price_last"]
    ref = f.get("price_reference")
    # judge the move that is further from the reference: a drop to bait, or a hike
    price = low if ref is None or abs(log_price(low) - log_price(ref)) >= abs(
        log_price(last) - log_price(ref)) else last
    return {"log_price": log_price(price),
            "log_reference": math.nan if ref is None else log_price(ref),
            "log_low": log_price(low),  # the window's lowest price, against its band
            "band_log_mean": f.get("band_log_mean", math.nan),
            "band_log_std": f.get("band_log_std", math.nan),
            "band_n": f.get("band_n", 0.0),
            "new_listing": 1.0 if f.get("n_listing_created", 0.0) > 0 else 0.0,
            "established": established_seller(agg)}


#: a new listing's window is judged only when its lowest price sits at least this many
#: standard deviations of log price below its category's band (most new listings are
#: ordinary: judging each would keep a state per listing), or less when the policy's
#: bar opens nearer; a window with neither a price change nor a new listing is not judged
PRICE_BAND_PRESCREEN = 2.0


def _price_relevant(agg: WindowAggregate, sp: SignalPolicy) -> bool:
    """Whether the window holds a price change, or a new listing far enough below a
    band old enough to judge it: measured as the policy's detector measures it (its
    ``band_min_n``, ``band_min_std``), and never further below than its bar to open.

    >>> import msgspec
    >>> from signals.policy import load_policy
    >>> sp = load_policy().signals["price_anomaly"]
    >>> band = {"band_log_mean": log_price(100.0), "band_log_std": 0.5, "band_n": 500.0}
    >>> def window(price, created=1.0):
    ...     return WindowAggregate(entity_type="listing", entity_id="li-1", region="US",
    ...         window_start=0, window_end=60_000, features=band | {
    ...             "price_min": price, "price_last": price, "n_listing_created": created})
    >>> _price_relevant(window(6.0), sp), _price_relevant(window(90.0), sp)
    (True, False)
    >>> _price_relevant(window(6.0, created=0.0), sp)  # an old listing, no price change here
    False
    >>> young = sp.params | {"band_min_n": 600}  # a band too young for that policy
    >>> _price_relevant(window(6.0), msgspec.structs.replace(sp, params=young))
    False
    >>> near = sp.params | {"band_half": 1.4}  # opens 1.71 std below: under 42.4 here
    >>> [_price_relevant(window(p), msgspec.structs.replace(sp, params=near)) for p in (40, 45)]
    [True, False]
    """
    if "price_reference" in agg.features:
        return True
    x = _price_features(agg)  # band_z reads what the detector will read
    if x is None:
        return False
    make: Callable[..., PriceShiftDetector] = PriceShiftDetector  # params are floats
    det = make(**sp.params)
    z = det.band_z(x)  # 0 for no new listing, or a band younger than band_min_n
    return z > 0.0 and z >= min(PRICE_BAND_PRESCREEN, det.band_bar(sp.open_score))


def _price_observed(agg: WindowAggregate, x: dict[str, float]) -> dict[str, Any]:
    out = {"price": round(price_from_log(x["log_price"]), 2)}
    if not math.isnan(x["log_reference"]):
        out["previous_price"] = round(price_from_log(x["log_reference"]), 2)
        out["price_ratio"] = round(price_from_log(x["log_price"] - x["log_reference"]), 4)
    if x["band_n"] > 0:  # the category's usual price (in this currency) and the lowest here
        out["lowest_price"] = round(price_from_log(x["log_low"]), 2)
        out["category_typical_price"] = round(price_from_log(x["band_log_mean"]), 2)
        out["category_listings_seen"] = int(x["band_n"])
        out["established_seller"] = bool(x.get("established"))  # judged by the higher bar
    return out


def _price_band_baseline(x: dict[str, float], detector: Detector,
                         sp: SignalPolicy) -> dict[str, float]:
    """A new listing's category band, and the price under which it opens the signal
    (by its seller's bar), when the band judged it.

    >>> from signals.policy import load_policy
    >>> sp = load_policy().signals["price_anomaly"]
    >>> x = {"band_log_mean": math.log(100.0), "band_log_std": 0.3, "band_n": 500.0,
    ...      "new_listing": 1.0, "established": 0.0}
    >>> _price_band_baseline(x, PriceShiftDetector(**sp.params), sp)
    {'category_typical_price': 100.0, 'opens_below_price': 16.32}
    >>> _price_band_baseline(x | {"new_listing": 0.0}, PriceShiftDetector(**sp.params), sp)
    {}
    """
    if not isinstance(detector, PriceShiftDetector):
        return {}
    below = detector.band_opens_below(x, sp.open_score)
    if math.isnan(below):
        return {}
    return {"category_typical_price": round(price_from_log(x["band_log_mean"]), 2),
            "opens_below_price": round(below, 2)}


def _price_evidence(agg: WindowAggregate) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in agg.context.items()
                           if k in ("seller_id", "category")}
    age = agg.features.get("seller_account_age_days")
    if age is not None:
        out["seller_account_age_days"] = int(age)
    out["sample_event_ids"] = agg.samples.get("price", [])[:MAX_SAMPLE_IDS]
    out["price_events"] = {k: int(agg.features.get(f"n_{k}", 0))
                           for k in ("listing_created", "listing_updated", "price_changed")}
    return out


# --- listing_burst --------------------------------------------------------

def _burst_features(agg: WindowAggregate) -> dict[str, float] | None:
    """New listings in the seller's window, and whether the seller is
    :func:`established <established_seller>`.

    >>> agg = WindowAggregate(entity_type="seller", entity_id="sl-1", region="US",
    ...     window_start=0, window_end=60_000,
    ...     features={"n_listing_created": 5.0, "aged_actor_events": 5.0})
    >>> _burst_features(agg)
    {'count': 5.0, 'exposure': 1.0, 'established': 1.0}
    >>> agg.features["young_actor_events"] = 1.0  # a young account, or no age given
    >>> _burst_features(agg)["established"]
    0.0
    """
    return {"count": agg.features.get("n_listing_created", 0.0), "exposure": 1.0,
            "established": established_seller(agg)}


def _burst_observed(agg: WindowAggregate, x: dict[str, float]) -> dict[str, Any]:
    return {"listings_created": int(x["count"]),
            "listing_events": int(sum(v for k, v in agg.features.items() if k.startswith("n_"))),
            "established_account": bool(x.get("established"))}


def _burst_evidence(agg: WindowAggregate) -> dict[str, Any]:
    out: dict[str, Any] = dict(agg.context)
    if "seller_account_age_days" in out:  # kept as text in the window's context
        out["seller_account_age_days"] = int(out["seller_account_age_days"])
    out["sample_event_ids"] = agg.samples.get("listing_created", [])[:MAX_SAMPLE_IDS]
    return out


# --- segment_report_surge -------------------------------------------------

def _segment_features(agg: WindowAggregate) -> dict[str, float] | None:
    """Streams of a category x region that drew reports (merged over every
    partition), against the segment's audience in thousands of viewers. A stream
    counts once however many reports it drew: one stream's own spike is a
    ``report_spike``, and a segment surges when many of its streams are reported.

    >>> agg = WindowAggregate(entity_type="segment", entity_id="fashion/bags|US",
    ...     region="US", window_start=0, window_end=60_000,
    ...     features={"distinct_actors": 2.0, "viewers": 1500.0, "viewers_k": 0.5})
    >>> _segment_features(agg)  # a part from an earlier version carries viewers_k
    {'count': 2.0, 'exposure': 2.0}
    """
    # "viewers_k" (thousands, a float) is how parts written by earlier versions carry it
    exposure = agg.features.get("viewers", 0.0) / 1000.0 + agg.features.get("viewers_k", 0.0)
    if exposure <= 0.0:
        return None  # no audience seen (categories unknown): nothing to judge or learn
    return {"count": agg.features.get("distinct_actors", 0.0), "exposure": exposure}


def _segment_observed(agg: WindowAggregate, x: dict[str, float]) -> dict[str, Any]:
    """What a surge was judged on; its audience a whole number that JSON readers (and
    orjson) take, even where streams' audiences of up to 2**63 - 1 each add up past it.

    >>> agg = WindowAggregate(entity_type="segment", entity_id="fashion/bags|US",
    ...     region="US", window_start=0, window_end=60_000, features={"n_report": 9.0})
    >>> _segment_observed(agg, {"count": 3.0, "exposure": 2.7e16})
    {'reported_streams': 3, 'reports': 9, 'viewers': 9223372036854775807}
    """
    return {"reported_streams": int(x["count"]),
            "reports": int(agg.features.get("n_report", 0)),
            "viewers": round(min(x["exposure"] * 1000, INT64_MAX))}


def _segment_evidence(agg: WindowAggregate) -> dict[str, Any]:
    category, _, region = agg.entity_id.rpartition("|")
    return {"category": category, "region": region,
            "report_reasons": agg.breakdown.get("report_reasons", {}),
            "reported_streams": int(agg.features.get("distinct_actors", 0)),
            "top_reported_streams": dict(sorted(
                agg.breakdown.get("stream_reports", {}).items(),
                key=lambda kv: (-kv[1], kv[0]))[:MAX_SAMPLE_IDS]),
            "sample_event_ids": agg.samples.get("report", [])[:MAX_SAMPLE_IDS]}


# --- coordinated_comments and emerging_term (text entities) ---------------

MIN_CLUSTER_STREAMS = 2  # near-identical comments in one stream only are not "across streams"


def _text_common(agg: WindowAggregate) -> dict[str, Any]:
    f = agg.features
    return {
        "distinct_accounts": int(f.get("distinct_accounts", 0)),
        "distinct_streams": int(f.get("distinct_streams", 0)),
        "young_actor_share": _share(f.get("young_actor_events", 0), f.get("n_use", 0)),
        "sample_event_ids": agg.samples.get("event", [])[:MAX_SAMPLE_IDS],
        "sample_texts": agg.samples.get("text", []),
        "sample_accounts": agg.samples.get("account", [])[:MAX_SAMPLE_IDS],
        "streams": agg.samples.get("stream", [])[:MAX_SAMPLE_IDS],
    }


def _text_observed(agg: WindowAggregate, x: dict[str, float]) -> dict[str, Any]:
    f = agg.features
    out = {"uses": int(f.get("n_use", 0)), "accounts": int(f.get("distinct_accounts", 0)),
           "streams": int(f.get("distinct_streams", 0)),
           "listings": int(f.get("distinct_listings", 0))}
    if agg.entity_type == "term":
        out["sellers"] = int(f.get("distinct_sellers", 0))  # who wrote those listings
        out["distinct_texts"] = int(f.get("distinct_texts", 0))
    return out


def _cluster_features(agg: WindowAggregate) -> dict[str, float] | None:
    """Distinct accounts that posted the fingerprint, if they did in several streams.

    >>> agg = WindowAggregate(entity_type="account_cluster", entity_id="fp-1", region="US",
    ...     window_start=0, window_end=60_000,
    ...     features={"distinct_accounts": 9.0, "distinct_streams": 1.0})
    >>> _cluster_features(agg)
    {'count': 0.0}
    """
    f = agg.features
    spread = f.get("distinct_streams", 0.0) >= MIN_CLUSTER_STREAMS
    return {"count": f.get("distinct_accounts", 0.0) if spread else 0.0}


def _cluster_evidence(agg: WindowAggregate) -> dict[str, Any]:
    # a cluster's accounts may post in several regions; a term is counted in one
    return ({"fingerprint": agg.entity_id.removeprefix("fp-")} | _text_common(agg)
            | {"regions": agg.breakdown.get("regions", {})})


TERM_USES_PER_ACCOUNT = 2.0
TERM_USES_PER_STREAM = 2.0


def _term_features(agg: WindowAggregate) -> dict[str, float] | None:
    """How widely the term was used in the region's comments and titles: its distinct
    texts, but at most twice its accounts, two per stream and one per seller's titles.

    A big stream going live raises every common word's uses but not the number of
    streams they are used in, while a code word spreads from stream to stream. In
    the same way a shop's bulk upload of twenty listings raises the uses of every
    word of its titles but not the number of sellers who wrote them. One copied
    text (a campaign: ``coordinated_comments``) counts as one, one account
    repeating itself as two.

    >>> def term(**features: float) -> WindowAggregate:
    ...     return WindowAggregate(entity_type="term", entity_id="dmaprice|US", region="US",
    ...                            window_start=0, window_end=60_000, features=features)
    >>> _term_features(term(n_use=11.0, distinct_accounts=7.0, distinct_texts=10.0,
    ...                     distinct_streams=6.0))
    {'count': 10.0}
    >>> _term_features(term(n_use=5.0, distinct_accounts=2.0, distinct_texts=5.0,
    ...                     distinct_listings=5.0, distinct_sellers=2.0))  # a bulk upload
    {'count': 2.0}

    A part written before sellers were counted has no ``distinct_sellers``: its
    listings count, one each, as they did then.
    """
    f = agg.features
    titles = f.get("distinct_sellers", f.get("distinct_listings", 0.0))
    places = TERM_USES_PER_STREAM * f.get("distinct_streams", 0.0) + titles
    return {"count": min(f.get("distinct_texts", 0.0),
                         TERM_USES_PER_ACCOUNT * f.get("distinct_accounts", 0.0), places)}


def _term_live(agg: WindowAggregate) -> bool:
    """Whether the term was used in a stream (its chat or title) in the window: a
    region whose first chat comes long after its first listings has to learn the
    words of its chat before judging them.

    >>> def term(**features: float) -> WindowAggregate:
    ...     return WindowAggregate(entity_type="term", entity_id="size|JP", region="JP",
    ...                            window_start=0, window_end=60_000, features=features)
    >>> _term_live(term(distinct_listings=1.0))
    False
    >>> _term_live(term(distinct_listings=1.0, distinct_streams=1.0))
    True
    """
    return agg.features.get("distinct_streams", 0.0) > 0.0


def _term_evidence(agg: WindowAggregate) -> dict[str, Any]:
    term, _, region = agg.entity_id.rpartition("|")
    out: dict[str, Any] = {"term": term, "region": region}
    if "first_seen_ts" in agg.context:
        out["first_seen_ts"] = int(agg.context["first_seen_ts"])
    out["first_seen_in_window_ts"] = int(agg.features.get("first_ts", agg.window_start))
    out["distinct_listings"] = int(agg.features.get("distinct_listings", 0))
    return out | _text_common(agg)


CATALOGUE: dict[str, CatalogueEntry] = {
    e.signal_type: e
    for e in (
        CatalogueEntry("report_spike", 1, "stream", {"poisson_rate": PoissonRateDetector},
                       _report_features, _report_observed, _report_evidence,
                       unlearned_while=("viewer_inflation",), judged_while=_report_honest),
        CatalogueEntry("viewer_inflation", 2, "stream",
                       {"viewer_inflation": ViewerInflationDetector},
                       _inflation_features, _inflation_observed, _inflation_evidence),
        CatalogueEntry("purchase_anomaly", 3, "stream",
                       {"record": RecordDetector, "level": LevelDetector},
                       _purchase_features, _purchase_observed, _purchase_evidence,
                       baseline_view=_purchase_baseline),
        CatalogueEntry("price_anomaly", 4, "listing", {"price_shift": PriceShiftDetector},
                       _price_features, _price_observed, _price_evidence,
                       relevant=_price_relevant, input_baseline=_price_band_baseline),
        CatalogueEntry("listing_burst", 5, "seller", {"poisson_rate": PoissonRateDetector},
                       _burst_features, _burst_observed, _burst_evidence,
                       relevant=lambda agg, _: agg.features.get("n_listing_created", 0.0) > 0),
        CatalogueEntry("segment_report_surge", 6, "segment",
                       {"rate_cusum": RateCusumDetector, "poisson_rate": PoissonRateDetector},
                       _segment_features, _segment_observed, _segment_evidence),
        CatalogueEntry("coordinated_comments", 7, "account_cluster",
                       {"count_surge": CountSurgeDetector},
                       _cluster_features, _text_observed, _cluster_evidence,
                       relevant=lambda agg, _: agg.features.get("distinct_accounts", 0.0) >= 2),
        # every term window is sent, even a single use: a term's uses are spread over
        # the input partitions, and dropping small partials would bias its baseline low
        CatalogueEntry("emerging_term", 8, "term", {"count_surge": CountSurgeDetector},
                       _term_features, _text_observed, _term_evidence,
                       live_text=_term_live),
    )
}
BY_CODE = {entry.code: entry for entry in CATALOGUE.values()}
assert len(BY_CODE) == len(CATALOGUE), "catalogue codes must be unique"
