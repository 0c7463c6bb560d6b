"""The record's column spec: the one definition the CSV, the envelope and the server derive from."""

from wattprint import records

KINDS = {"text", "float", "int", "timestamp"}


def test_spec_starts_with_codecarbons_38_columns_in_order():
    assert len(records.CODECARBON_COLUMNS) == 38
    assert records.COLUMNS[:38] == records.CODECARBON_COLUMNS
    assert records.CODECARBON_COLUMNS[:3] == ("timestamp", "project_name", "run_id")
    assert records.CODECARBON_COLUMNS[-2:] == ("pue", "wue")


def test_every_column_has_a_known_kind_and_a_unique_name():
    for spec in (records.TASK_SPEC, records.INTERVAL_SPEC):
        names = [c.name for c in spec]
        assert len(names) == len(set(names))
        assert {c.kind for c in spec} <= KINDS
    assert records.TASK_COLUMNS == records.COLUMNS + ("task_name",)


def test_energy_and_mass_columns_carry_their_units():
    by = records.BY_NAME
    assert by["energy_consumed"].unit == "kWh" and by["emissions"].unit == "kg"
    assert by["cpu_power"].unit == "W" and by["duration"].unit == "s"
    for c in records.TASK_SPEC:
        if c.name.endswith("_kwh") and not c.name.endswith("_per_kwh"):
            assert c.unit == "kWh", c.name
        if c.name.endswith("_kg"):
            assert c.unit == "kg", c.name


# -- the JSON record and the envelopes -----------------------------------------------------------

import json  # noqa: E402
import math  # noqa: E402
from dataclasses import replace  # noqa: E402

import pytest  # noqa: E402

from wattprint import Tracker  # noqa: E402


@pytest.fixture
def results(machine):
    """A run's flush row, a task's row and its final row (water unknown: an empty cell)."""
    tracker = Tracker(country="FRA", save_csv=False).start()
    machine.write("/proc/stat", "cpu  5000 0 0 9000 0 0 0 0 0 0\n")
    first = tracker.flush()
    tracker.start_task("step")
    task = tracker.stop_task("step")
    last = tracker.stop()
    return first, task, last


def test_to_row_is_in_the_spec_order_and_refuses_a_column_outside_it(results):
    first, task, _ = results
    assert tuple(records.to_row(first, "1")) == records.COLUMNS
    assert tuple(records.to_row(task, "1")) == records.TASK_COLUMNS


def _numeric_ok(spec, body):
    for c in spec:
        value = body[c.name]
        if c.kind in ("float", "int"):
            assert value is None or (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
            ), (c.name, value)
        else:
            assert value is None or (isinstance(value, str) and value != ""), (c.name, value)


def test_record_envelope_has_every_column_and_json_null_for_unknown(results):
    first, task, last = results
    for seq, result in enumerate((first, task, last), start=1):
        env = records.record_envelope(result, seq)
        assert env["type"] == "wattprint.record" and env["version"] == 1
        assert env["key"] == f"{result.run_id}:{seq}"
        assert tuple(env["record"]) == records.TASK_COLUMNS
        _numeric_ok(records.TASK_SPEC, env["record"])
        json.dumps(env, allow_nan=False)  # strict JSON: no NaN, no Infinity
    env = records.record_envelope(last, "recovered")
    assert env["key"] == f"{last.run_id}:recovered"
    assert env["record"]["task_name"] is None
    assert records.record_envelope(task, 2)["record"]["task_name"] == "step"
    row = records.to_row(last, "1")
    empty = [name for name, value in row.items() if value == ""]
    assert "water_consumed" in empty  # no WUE known for France: unknown, never 0
    assert all(env["record"][name] is None for name in empty)
    assert env["record"]["cpu_energy"] == last.cpu.energy_kwh
    assert env["record"]["cpu_count"] == row["cpu_count"] and isinstance(row["cpu_count"], int)


def test_non_finite_numbers_become_null_in_json(results):
    _, _, last = results
    broken = replace(last, duration_s=math.inf, emissions_kg=math.nan)
    rec = records.to_record(broken)
    assert rec["duration"] is None and rec["emissions"] is None
    assert rec["emissions_rate"] is None  # nan / inf


def test_interval_envelope_has_the_interval_spec_and_power_over_the_interval(results):
    first, _, last = results
    env = records.interval_envelope(last, 2, previous=first)
    assert env["type"] == "wattprint.interval" and env["version"] == 1
    assert env["key"] == f"{last.run_id}:i2"
    body = env["interval"]
    assert tuple(body) == records.INTERVAL_COLUMNS
    _numeric_ok(records.INTERVAL_SPEC, body)
    assert body["seq"] == 2 and body["run_id"] == last.run_id
    dt = last.duration_s - first.duration_s
    assert body["interval_s"] == pytest.approx(dt)
    expected = (last.cpu.energy_kwh - first.cpu.energy_kwh) * records.J_PER_KWH / dt
    assert body["cpu_power"] == pytest.approx(expected)
    assert body["cpu_energy"] == last.cpu.energy_kwh
    start = records.interval_envelope(first, 1)["interval"]
    assert start["cpu_power"] == pytest.approx(first.cpu.energy_kwh * 3.6e6 / first.duration_s)
    json.dumps(env, allow_nan=False)


def test_a_csv_cell_is_read_by_its_columns_kind():
    by = records.BY_NAME
    assert records.parse_value(by["duration"], " 12.5 ") == 12.5
    assert records.parse_value(by["cpu_count"], "8") == 8
    assert records.parse_value(by["cpu_count"], "8.0") == 8
    for bad in ("", "  ", "inf", "nan", "-Infinity", "abc"):
        assert records.parse_value(by["emissions"], bad) is None
    assert records.parse_value(by["project_name"], " p ") == "p"
    assert records.parse_value(by["project_name"], "") is None
    rec = records.record_from_csv({"duration": "3", "run_id": "r", "extra": "x"})
    assert tuple(rec) == records.TASK_COLUMNS and rec["duration"] == 3.0
    assert rec["emissions"] is None and "extra" not in rec
