"""Benchmarks that print figures: ``riskstream bench throughput`` (and its parts)."""
