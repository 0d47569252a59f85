"""CountSurgeDetector: a new term rising fires; common and sparse ones stay quiet."""

from __future__ import annotations

import random

import pytest

from detectors.surge import CountSurgeDetector


def _feed(det: CountSurgeDetector, counts: list[float], **extra: float) -> list[float]:
    scores = []
    for c in counts:
        x = {"count": c, **extra}
        scores.append(det.score_one(x))
        if scores[-1] < 0.3:  # as the engine does: flagged windows are not learned
            det.learn_one(x)
    return scores


def test_a_new_term_that_ramps_up_fires_within_two_windows() -> None:
    scores = _feed(CountSurgeDetector(), [1, 3, 8, 12, 20])
    assert max(scores[:2]) < 0.6 and max(scores[2:4]) >= 0.6


def test_a_common_fluctuating_term_stays_quiet() -> None:
    rng = random.Random(3)
    det = CountSurgeDetector()
    for _ in range(5):
        det.learn_one({"count": 25.0, "warmup": 1.0})
    scores = _feed(det, [rng.gauss(25, 6) for _ in range(200)])
    assert max(scores) < 0.6


def test_a_sparse_term_with_poisson_noise_stays_quiet() -> None:
    rng = random.Random(5)
    det = CountSurgeDetector()
    counts = [float(sum(rng.random() < 0.1 for _ in range(10))) for _ in range(500)]
    assert max(_feed(det, counts)) < 0.6


def test_state_round_trip_and_idle_decay() -> None:
    det = CountSurgeDetector()
    for _ in range(30):
        det.learn_one({"count": 10.0, "warmup": 1.0})
    clone = CountSurgeDetector()
    clone.load(det.state())
    assert clone.score_one({"count": 14}) == det.score_one({"count": 14})
    assert det.expected() > 9.0
    assert det.expected(idle=50) == det.prior  # gone quiet: rare again


def _quiet_spell(det: CountSurgeDetector) -> float:
    """A common word (25 texts a window) used twice a window for half an hour, then
    25 again: a region's chat fell silent while its listing titles went on."""
    for _ in range(30):
        det.learn_one({"count": 25.0, "warmup": 1.0})
    _feed(det, [2.0] * 30)
    return det.score_one({"count": 25.0})


def test_a_remembered_peak_keeps_a_common_word_from_looking_new_after_a_quiet_spell() -> None:
    assert _quiet_spell(CountSurgeDetector(prior=0.1, min_count=4, half=4.0)) >= 0.6
    assert _quiet_spell(CountSurgeDetector(prior=0.1, min_count=4, half=4.0,
                                           peak_alpha=0.01)) < 0.3


def test_a_remembered_peak_changes_nothing_for_a_new_term() -> None:
    det = CountSurgeDetector(peak_alpha=0.01)
    assert _feed(det, [1, 3, 8, 12, 20]) == _feed(CountSurgeDetector(), [1, 3, 8, 12, 20])


def test_a_state_saved_before_the_peak_was_kept_still_loads() -> None:
    det = CountSurgeDetector(peak_alpha=0.01)
    det.load([12.0, 40.0])
    assert det.expected() == 12.0 and len(det.state()) == 3


def _quiet_region_word(**params: float) -> CountSurgeDetector:
    """A word a quiet region uses once every four windows, for 40 windows."""
    det = CountSurgeDetector(prior=0.03, min_count=3, half=4.0, peak_alpha=0.01, **params)
    for _ in range(10):
        det.learn_one({"count": 1.0, "idle_windows": 3.0})
    return det


def test_a_common_words_peak_is_kept_past_the_ttl_while_it_counts() -> None:
    word = _quiet_region_word(memory_min=0.1)
    assert word.remembers
    peak = word.state()[2]
    assert word.memory(61) == [0.0, 0.0, peak]
    back = CountSurgeDetector(prior=0.03, min_count=3, half=4.0, peak_alpha=0.01)
    back.load(word.memory(61))
    assert back.score_one({"count": 3.0, "idle_windows": 60.0}) < 0.6
    never_seen = CountSurgeDetector(prior=0.03, min_count=3, half=4.0, peak_alpha=0.01)
    assert never_seen.score_one({"count": 3.0}) >= 0.6
    # kept while the faded peak is at least memory_min, then forgotten
    fades_out = next(w for w in range(61, 2_000) if peak * 0.99 ** w < 0.1)
    assert word.memory(fades_out - 1) is not None and word.memory(fades_out) is None


def test_a_word_used_once_is_not_kept_past_the_ttl() -> None:
    junk = CountSurgeDetector(prior=0.03, min_count=3, half=4.0, peak_alpha=0.01,
                              memory_min=0.1)
    junk.learn_one({"count": 1.0})
    assert junk.memory(61) is None


def test_without_memory_min_nothing_is_kept_past_the_ttl() -> None:
    word = _quiet_region_word()
    assert not word.remembers and word.memory(61) is None


def test_bad_memory_settings_are_refused_naming_the_knob() -> None:
    with pytest.raises(ValueError, match="memory_min"):
        CountSurgeDetector(peak_alpha=0.01, memory_min=0.0)
    with pytest.raises(ValueError, match=r"memory_min .* needs a peak_alpha below 1"):
        CountSurgeDetector(memory_min=0.1)
