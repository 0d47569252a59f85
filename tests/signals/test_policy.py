"""A bad policy file is refused at start with a message that names the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from signals.catalogue import CATALOGUE
from signals.policy import PolicyError, load_policy, parse_policy


def _default() -> dict:
    return yaml.safe_load(
        Path(__file__).parents[2].joinpath("signals/default_policy.yaml").read_text())


def _refused(data: dict) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(yaml.safe_dump(data))
    return str(info.value)


def test_bundled_policy_is_valid() -> None:
    policy = load_policy()
    assert set(policy.signals) == set(CATALOGUE)
    assert policy.signals["report_spike"].severity.of(0.95) == "high"
    assert policy.signals["report_spike"].severity.of(0.1) is None


def test_unknown_field_is_named() -> None:
    data = _default()
    data["signals"]["report_spike"]["opn_score"] = 0.5
    assert "opn_score" in _refused(data) and "$.signals.report_spike" in _refused(data)


def test_wrong_type_is_named() -> None:
    data = _default()
    data["signals"]["viewer_inflation"]["open_score"] = "high"
    assert "$.signals.viewer_inflation.open_score" in _refused(data)


def test_out_of_range_score_is_named() -> None:
    data = _default()
    data["signals"]["report_spike"]["open_score"] = 1.5
    assert "$.signals.report_spike.open_score" in _refused(data)


def test_unknown_signal_type_is_named() -> None:
    data = _default()
    data["signals"]["report_spikes"] = data["signals"]["report_spike"]
    assert "report_spikes" in _refused(data)


def test_unknown_detector_parameter_is_named() -> None:
    data = _default()
    data["signals"]["report_spike"]["params"]["prior"] = 1
    assert "$.signals.report_spike.params.prior" in _refused(data)


def test_detector_parameter_value_it_refuses_is_named() -> None:
    data = _default()
    data["signals"]["segment_report_surge"]["params"]["shift"] = 0.5
    message = _refused(data)
    assert "$.signals.segment_report_surge.params" in message and "shift" in message


@pytest.mark.parametrize("value, got", [("abc", "text"), (True, "true or false"),
                                        ([3], "a list"), (None, "nothing")])
def test_a_detector_parameter_that_is_no_number_is_named_by_its_key(value, got) -> None:
    data = _default()
    data["signals"]["segment_report_surge"]["params"]["shift"] = value
    assert _refused(data).endswith(
        f"expected a number at `$.signals.segment_report_surge.params.shift`, got {got}")


@pytest.mark.parametrize("signal, param, value", [
    ("segment_report_surge", "half", -1.0),  # squared in the score: it read as 1
    ("segment_report_surge", "decay", 1.5),
    ("segment_report_surge", "forget", float("nan")),
    ("segment_report_surge", "shift", float("inf")),
    ("report_spike", "prior_exposure", 0.0),
    ("listing_burst", "min_count", -1.0),
    ("listing_burst", "established_prior_rate", -1.0),
    ("viewer_inflation", "alpha", 1.5),
    ("viewer_inflation", "min_std", 0.0),
    ("purchase_anomaly", "grace", -1.0),
    ("price_anomaly", "scale", 0.0),
    ("price_anomaly", "band_half", -4.0),
    ("coordinated_comments", "dispersion", 0.0),
    ("emerging_term", "prior", 0.0),
    ("emerging_term", "alpha", 0.0),
    ("emerging_term", "min_count", 2.5),  # a count of texts: a whole number
    ("segment_report_surge", "set_aside", 1.5),  # it was cut to 1
])
def test_every_detectors_parameter_out_of_its_range_is_named(signal, param, value) -> None:
    data = _default()
    data["signals"][signal]["params"][param] = value
    message = _refused(data)
    assert f"bad value at `$.signals.{signal}.params.{param}`: {param} must be " in message


def test_a_remembered_peak_and_adoption_out_of_range_are_named() -> None:
    data = _default()
    data["signals"]["emerging_term"]["params"]["peak_alpha"] = 0.0
    message = _refused(data)
    assert "$.signals.emerging_term.params" in message and "peak_alpha" in message
    data = _default()
    data["signals"]["emerging_term"]["adopt_after_windows"] = -1
    assert "$.signals.emerging_term.adopt_after_windows" in _refused(data)


def test_detector_that_cannot_serve_the_signal() -> None:
    data = _default()
    data["signals"]["report_spike"]["detector"] = "viewer_inflation"
    assert "$.signals.report_spike.detector" in _refused(data)


def test_direction_is_named_when_wrong_or_when_the_detector_has_no_level() -> None:
    data = _default()
    data["signals"]["purchase_anomaly"]["direction"] = "sideways"
    assert "$.signals.purchase_anomaly.direction" in _refused(data)
    data = _default()
    data["signals"]["report_spike"]["direction"] = "up"  # poisson_rate: no single level
    message = _refused(data)
    assert "$.signals.report_spike.direction" in message and "poisson_rate" in message


def test_thresholds_must_be_consistent() -> None:
    data = _default()
    data["signals"]["report_spike"]["resolve_score"] = 0.9
    assert "resolve_score" in _refused(data)
    data = _default()
    data["signals"]["report_spike"]["severity"]["high"] = 0.99
    assert "severity" in _refused(data)
    data = _default()
    data["signals"]["listing_burst"]["rewarm_after_s"] = 60  # below its warm-up
    assert "$.signals.listing_burst.rewarm_after_s" in _refused(data)
    data["signals"]["listing_burst"]["rewarm_after_s"] = -1
    assert "rewarm_after_s" in _refused(data)


def test_not_yaml_and_missing_file() -> None:
    with pytest.raises(PolicyError, match="YAML"):
        parse_policy("version: [1")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy("/nonexistent/policy.yaml")
    with pytest.raises(PolicyError, match="version"):
        parse_policy("version: 2")


_BUNDLED = Path(__file__).parents[2].joinpath("signals/default_policy.yaml").read_text()


def _line_of(text: str, line: str, nth: int = 0) -> int:
    return [i for i, x in enumerate(text.splitlines(), 1) if x == line][nth]


def test_a_setting_given_twice_is_refused_not_taken_from_its_last_line() -> None:
    """PyYAML keeps a key's last value: a second `open_score` raised the bar to 0.99."""
    text = _BUNDLED.replace("    open_score: 0.6\n",
                            "    open_score: 0.6\n    open_score: 0.99\n", 1)
    first = _line_of(text, "    open_score: 0.6")
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert str(info.value) == (f"policy: not valid YAML: key `open_score` given twice, "
                               f"on line {first} and line {first + 1}")


def test_a_signal_type_given_twice_is_refused_not_replaced_by_its_second_block() -> None:
    text = _BUNDLED + "  report_spike:\n    detector: poisson_rate\n    enabled: false\n"
    with pytest.raises(PolicyError, match=(
            f"key `report_spike` given twice, on line {_line_of(text, '  report_spike:')} "
            f"and line {_line_of(text, '  report_spike:', 1)}")):
        parse_policy(text)


def test_a_merged_mapping_may_still_be_overridden_key_by_key() -> None:
    """`<<: *anchor` then a key of its own is YAML's way to override: not a repeat."""
    text = _BUNDLED.replace("    severity: {low: 0.6, medium: 0.75, high: 0.9, critical: 0.97}",
                            "    severity: &bands {low: 0.6, medium: 0.75, high: 0.9, "
                            "critical: 0.97}", 1)
    text = text.replace("    severity: {low: 0.6, medium: 0.75, high: 0.9, critical: 0.97}",
                        "    severity: {<<: *bands, critical: 0.95}", 1)
    bands = [s.severity for s in parse_policy(text).signals.values()]
    assert [b.critical for b in bands[:2]] == [0.97, 0.95]


@pytest.mark.parametrize(("text", "got"), [("", "an empty file"), ("report_spike", "text"),
                                           ("- version: 1", "a list")])
def test_a_file_that_is_no_mapping_is_told_what_it_holds(tmp_path, text: str, got: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == (f"policy {path}: expected a mapping of settings "
                               f"(`version: 1`, `signals: ...`), got {got}")


def test_an_error_in_a_policy_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "strict.yaml"
    path.write_text("version: 2\n")
    with pytest.raises(PolicyError, match=f"^policy {path}: .*version"):
        load_policy(path)


def test_a_policy_that_enables_no_signal_is_refused() -> None:
    # a worker started on it would read every event and never emit a signal
    assert "`$.signals` enables no signal type" in _refused({"version": 1})
    data = _default()
    for entry in data["signals"].values():
        entry["enabled"] = False
    assert "`$.signals` enables no signal type" in _refused(data)
    data["signals"]["price_anomaly"]["enabled"] = True  # one is enough
    assert set(parse_policy(yaml.safe_dump(data)).signals) == set(CATALOGUE)


def test_a_pinned_severity_is_named_when_wrong_or_on_a_signal_of_no_listing() -> None:
    data = _default()
    data["signals"]["price_anomaly"]["pinned"]["severity"] = "urgent"
    assert "$.signals.price_anomaly.pinned.severity" in _refused(data)
    data = _default()
    data["signals"]["price_anomaly"]["pinned"]["for_s"] = -1
    assert "$.signals.price_anomaly.pinned.for_s" in _refused(data)
    data = _default()
    data["signals"]["report_spike"]["pinned"] = {"severity": "high"}
    message = _refused(data)
    assert "$.signals.report_spike.pinned" in message and "stream" in message
