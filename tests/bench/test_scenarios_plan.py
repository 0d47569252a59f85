"""The scenario bench's plan: where in a window its scenarios start."""

from collections import Counter

from signals.policy import load_policy
from streams.bench.scenarios import EVALUATION_SEEDS, sim_config
from streams.simulate import SCENARIOS, Simulator


def test_evaluation_scenarios_start_anywhere_in_a_window() -> None:
    """Abuse starts at any second, so the bench's delays must not all be measured from
    a window's start (the worst case for a delay, and the only case a stream's first
    window is always whole in)."""
    window_s = load_policy().windows.size_s
    starts = [(lb["start_ts"] // 1000) % window_s
              for seed in EVALUATION_SEEDS
              for lb in Simulator(sim_config(seed, SCENARIOS, 40, 150.0, window_s)).labels()]
    sixths = Counter(s * 6 // window_s for s in starts)
    assert len(starts) == len(EVALUATION_SEEDS) * len(SCENARIOS) * 2
    assert all(sixths[k] >= len(starts) // 12 for k in range(6)), sixths
