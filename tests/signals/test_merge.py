"""Merging spread entities' partial windows: each input partition's part once."""

from signals.aggregate import WindowAggregate
from signals.merge import Mergers


def _part(n: float, ids: list[str], ws: int = 0) -> WindowAggregate:
    return WindowAggregate(entity_type="seller", entity_id="sl-1", region="US",
                           window_start=ws, window_end=ws + 60_000,
                           features={"n_listing_created": n},
                           samples={"listing_created": ids})


def test_a_part_sent_again_by_the_same_input_partition_is_counted_once() -> None:
    m = Mergers(settle_ms=60_000)
    assert m.add(_part(2.0, ["a", "b"]), 0, "listing.events:0")
    assert m.add(_part(1.0, ["c"]), 0, "listing.events:1")
    assert not m.add(_part(2.0, ["a", "b"]), 0, "listing.events:0")  # closed again
    [w] = m.drain()
    assert w.features["n_listing_created"] == 3.0
    assert w.samples["listing_created"] == ["a", "b", "c"]


def test_parts_without_a_source_all_count() -> None:
    m = Mergers(settle_ms=60_000)
    m.add(_part(2.0, ["a"]), 0)
    m.add(_part(2.0, ["b"]), 0)
    assert m.drain()[0].features["n_listing_created"] == 4.0


def test_a_part_read_again_after_its_window_was_released_starts_a_new_merge() -> None:
    # the engine then finds the window stale (its state has seen it) and ignores it
    m = Mergers(settle_ms=60_000)
    m.add(_part(2.0, ["a"]), 0, "listing.events:0")
    assert len(m.drain()) == 1
    assert m.add(_part(2.0, ["a"]), 0, "listing.events:0")
    assert len(m) == 1


def test_the_same_partition_may_send_a_part_of_each_window() -> None:
    m = Mergers(settle_ms=60_000)
    assert m.add(_part(1.0, ["a"], ws=0), 0, "listing.events:0")
    assert m.add(_part(1.0, ["b"], ws=60_000), 0, "listing.events:0")
    assert [w.window_start for w in m.drain()] == [0, 60_000]


def _term_part(listings: list[str], sellers: list[str] | None) -> WindowAggregate:
    features = {"distinct_listings": float(len(listings)), "distinct_texts": 4.0}
    samples = {"listing": listings}
    if sellers is not None:  # parts written before sellers were counted have none
        features["distinct_sellers"] = float(len(sellers))
        samples["seller"] = sellers
    return WindowAggregate(entity_type="term", entity_id="show|DE", region="DE",
                           window_start=0, window_end=60_000, features=features,
                           samples=samples)


def test_a_term_part_from_a_worker_not_yet_upgraded_counts_its_listings_as_sellers() -> None:
    # during a rolling upgrade one partition's part may come from the version before
    # sellers were counted: its titles count one a listing, as that version counted
    # them, however many newer parts it meets and in whatever order
    for order in ((0, 1, 2), (1, 0, 2), (1, 2, 0)):
        parts = [_term_part(["li-1", "li-2", "li-3"], None),
                 _term_part(["li-4"], ["shop"]), _term_part(["li-5"], ["shop"])]
        m = Mergers(settle_ms=60_000)
        for i in order:
            assert m.add(parts[i], 0, f"listing.events:{i}")
        [w] = m.drain()
        assert w.features["distinct_sellers"] == 4.0, order
        assert w.features["distinct_listings"] == 5.0
