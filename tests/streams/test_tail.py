"""``riskstream tail --labels`` finds a scenario's signal as ``bench scenarios`` does."""

from __future__ import annotations

from typing import Any

from streams.tail import score_labels


def opened(signal_type: str, entity_id: str, **extra: Any) -> dict[str, Any]:
    return {"signal_type": signal_type, "entity_id": entity_id, "status": "open",
            "emitted_ts": 131_000, "window_end": 120_000, **extra}


def test_a_code_word_is_found_by_the_spelling_the_detector_reads() -> None:
    label = {"scenario": "emerging_term", "entity_type": "term", "entity_id": "1to1copy",
             "region": "US", "start_ts": 1_000}
    assert score_labels([opened("emerging_term", "itoicopy|US")], [label]) == [
        "emerging_term 1to1copy: found as itoicopy|US, 130.0 s after the scenario started "
        "(window end + 11.0 s)"]
    # the same word in another region is another term
    assert score_labels([opened("emerging_term", "itoicopy|DE")], [label]) == [
        "emerging_term 1to1copy: missed"]


def test_a_comment_campaign_is_found_by_its_accounts() -> None:
    label = {"scenario": "coordinated_comments", "entity_type": "account_cluster",
             "entity_id": "cluster-7-2", "region": "US", "start_ts": 1_000,
             "accounts": [f"bot-7-2-{i}" for i in range(25)]}
    ours = opened("coordinated_comments", "fp-018fff6a06fcca82",
                  evidence={"sample_accounts": ["u1", "bot-7-2-15"]})
    other = opened("coordinated_comments", "fp-0000000000000001",
                   evidence={"sample_accounts": ["u1", "u2"]})
    assert score_labels([other, ours], [label]) == [
        "coordinated_comments cluster-7-2: found as fp-018fff6a06fcca82, 130.0 s after the "
        "scenario started (window end + 11.0 s)"]
    assert score_labels([other], [label]) == ["coordinated_comments cluster-7-2: missed"]


def test_a_scenario_not_found_says_whether_it_had_started_when_reading_stopped() -> None:
    labels = [{"scenario": "purchase_anomaly", "entity_type": "stream", "entity_id": f"st-{i}",
               "start_ts": start} for i, start in enumerate((1_000, 500_000))]
    assert score_labels([opened("purchase_anomaly", "st-0")], labels, until_ms=400_000) == [
        "purchase_anomaly st-0: found, 130.0 s after the scenario started (window end + 11.0 s)",
        "purchase_anomaly st-1: not started when reading stopped"]
    assert score_labels([], labels, until_ms=560_000)[1] == (
        "purchase_anomaly st-1: missed (reading stopped 60.0 s after it started)")
