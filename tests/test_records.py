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
