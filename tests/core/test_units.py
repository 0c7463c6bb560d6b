"""Numbers for people (wattprint.units): short decimals in a unit that fits, never an exponent."""

from __future__ import annotations

import pytest

from wattprint import units


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1043.0, "1040"),
        (0.28912, "0.289"),
        (9.996, "10"),
        (12345.6, "12,300"),
        (0.5, "0.5"),
        (-3.21, "-3.21"),
        (0.00012345, "0.000123"),
        (0.0, "0"),
        (2_525_253.0, "2,530,000"),
    ],
)
def test_number_is_a_short_decimal(value, text):
    assert units.number(value) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (units.energy(1040 / 3.6e6), "1040 J"),
        (units.energy(0.0253), "25.3 Wh"),
        (units.energy(60.8), "60.8 kWh"),
        (units.energy(1234.0), "1.23 MWh"),
        (units.mass(5.8e-7), "0.58 mg"),
        (units.mass(0.0123), "12.3 g"),
        (units.mass(28.8), "28.8 kg"),
        (units.mass(2300.0), "2.3 t"),
        (units.power(0.5), "0.5 W"),
        (units.power(5600.0), "5.6 kW"),
        (units.duration(12.34), "12 s"),
        (units.duration(0.0023), "0.0023 s"),
        (units.duration(125.0), "2.1 min"),
        (units.duration(6 * 3600.0), "6 h"),
        (units.intensity(56.04), "56 g/kWh"),
    ],
)
def test_each_quantity_in_the_unit_that_makes_it_short(text, expected):
    assert text == expected


def test_equivalents_at_a_human_scale():
    """The figures the issue found in the terminal: 3.96e-07 smartphone, 1.47e-06 day."""
    assert units.equivalent(3.96e-07, "smartphone", "smartphone manufacture") == (
        "1 in 2,500,000 smartphones",
        "smartphone manufacture",
    )
    assert units.equivalent(0.041, "smartphone", "x")[0] == "4.1 % of a smartphone"
    assert units.equivalent(3.0, "smartphone", "x")[0] == "3 smartphones"
    assert units.equivalent(1.47e-06, "day", "days of a US household's home energy") == (
        "0.13 s",
        "a US household's home energy",
    )
    assert units.equivalent(0.278, "hour", "video streaming") == ("17 min", "video streaming")
    assert units.equivalent(0.0398, "km", "distance by car (US)")[0] == "39.8 m"
    assert units.equivalent(58.5, "passenger-km", "flight share (economy)")[0] == "58.5 km"


def test_a_runs_text_summary_has_no_exponent(machine, tmp_path):
    import re

    from wattprint import Tracker
    from wattprint.report.text import render_text

    result = Tracker(country="FRA", output_dir=tmp_path, save_csv=False).start().stop()
    text = render_text(result).replace(result.run_id, "<id>")
    assert not re.search(r"\d[eE][+-]?\d", text), text
    assert " J " in text or " mg" in text
