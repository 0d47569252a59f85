"""The signal ids a worker remembers the type of, for verdicts that name only the id."""

from __future__ import annotations

import pytest

from signals.aggregate import decode_batch
from signals.verdicts import (
    MUTE_VALUE,
    Mute,
    SignalTypes,
    decode_mute,
    encode_mute,
    verdict_label,
)


def test_the_oldest_noted_goes_first_and_a_noted_again_one_stays_longest() -> None:
    types = SignalTypes(capacity=3)
    for n in range(3):
        types.note(f"sig_{n}", "report_spike", "stream", f"st-{n}")
    types.note("sig_0", "report_spike", "stream", "st-0")  # its update, or its resolve
    types.note("sig_3", "emerging_term", "term", "cl0ne|US")
    refs = [types.ref_of(f"sig_{n}") for n in range(4)]
    assert [ref and ref.signal_type for ref in refs] == [
        "report_spike", None, "report_spike", "emerging_term"]
    assert len(types) == 3
    assert types.ref_of("sig_3") == ("emerging_term", "term", "cl0ne|US")
    assert types.ref_of("sig_3").entity_key == "term:cl0ne|US"  # its state's key


def test_capacity_must_hold_one() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        SignalTypes(capacity=0)


def test_a_type_outside_the_catalogue_is_counted_as_unknown() -> None:
    # a record on risk.signals that riskstream did not write must not add label values
    assert [verdict_label(t) for t in ("emerging_term", "made_up_type", "", None)] == [
        "emerging_term", "unknown", "unknown", "unknown"]


def test_a_mute_record_is_an_empty_batch_of_windows_to_a_worker_that_knows_no_mute() -> None:
    # an earlier version decodes every windows record of an unknown key as a batch
    assert decode_batch(MUTE_VALUE) == []
    mute = Mute(entity_key="stream:st-1", signal_type="report_spike", signal_id="sig_1",
                verdict="false_positive", ts=1, reviewer=None)
    assert decode_mute(encode_mute(mute)) == mute  # the header's value
