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
