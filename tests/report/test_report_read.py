"""``report``'s reader on damaged and hostile files: a BOM, torn lines, huge fields, dates at the
ends of the calendar, impossible numbers; and a fuzz that only the reader's one-line error gets
out. Also: ``Run`` from a plain row (the server's) summarises as a CSV's does."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wattprint.cli import app
from wattprint.records import COLUMNS
from wattprint.report.read import ReadError, read_runs
from wattprint.report.summary import Run, summarise, summarise_group, summarise_runs

runner = CliRunner()


def wp_row(run_id: str, timestamp: str, **values: str) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    row.update(
        timestamp=timestamp,
        project_name="p",
        run_id=run_id,
        duration="10",
        emissions="0.001",
        energy_consumed="0.002",
        cpu_energy="0.002",
        emissions_low_kg="0.0008",
        emissions_high_kg="0.0012",
        status="finished",
        wattprint_version="0.1",
        country_iso_code="FRA",
    )
    row.update(values)
    return row


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def report_json(caplog):
    """``report --json``: its data and the warnings it said."""

    def invoke(*args: str) -> tuple[dict, str]:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="wattprint"):
            result = runner.invoke(app, ["report", *args, "--json"])
        assert result.exit_code == 0, result.output
        assert "Infinity" not in result.stdout and "NaN" not in result.stdout
        return json.loads(result.stdout), "\n".join(caplog.messages)

    return invoke


ROWS = [wp_row("a", "2026-01-01T10:00:00+00:00"), wp_row("b", "2026-01-02T10:00:00+00:00")]


def test_a_csv_with_a_utf8_bom_is_read(tmp_path, report_json):
    path = tmp_path / "emissions.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(ROWS).encode())
    data, _ = report_json(str(path))
    assert data["total"]["runs"] == 2
    assert data["total"]["emissions"]["kg"] == pytest.approx(0.002)


def test_a_torn_line_is_skipped_with_a_warning_and_the_rest_read(tmp_path, report_json):
    """A row cut short by a full disk, then later runs appended onto it."""
    text = csv_text(ROWS)
    torn = csv_text([wp_row("torn", "2026-01-03T10:00:00+00:00")]).splitlines()[1]
    later = csv_text(
        [wp_row("c", "2026-01-04T10:00:00+00:00"), wp_row("d", "2026-01-05T10:00:00+00:00")]
    ).split("\n", 1)[1]
    path = tmp_path / "emissions.csv"
    path.write_text(text + torn[: len(torn) // 2] + later)  # "c" runs on from the torn line
    data, err = report_json(str(path))
    assert data["total"]["runs"] == 3  # a, b, d: the torn line (with c glued on) is skipped
    assert data["total"]["emissions"]["kg"] == pytest.approx(0.003)
    assert "skipped 1 damaged line(s) (line 4" in err
    path.write_text(text + torn[: len(torn) // 2])  # cut short at the end of the file
    data, err = report_json(str(path))
    assert data["total"]["runs"] == 2 and "skipped 1 damaged line(s)" in err


def test_a_row_torn_inside_a_quoted_field_loses_only_its_own_line(tmp_path, report_json):
    """Cut inside a quoted field, a row swallows the lines appended after it: they are read
    again one by one, so that only the torn line (the torn row, and the row appended onto it
    in the same line) is lost."""
    stamp = "2026-01-0{}T10:00:00+00:00"
    torn = csv_text([wp_row("torn", stamp.format(3), notes="cpu: failed, estimated")])
    torn = torn.splitlines()[1]
    torn = torn[: torn.index('"cpu: failed') + 8]  # inside the quotes
    later = [
        wp_row("c", stamp.format(4)),
        wp_row("d", stamp.format(5), notes="note, d"),
        wp_row("e", stamp.format(6)),
    ]
    path = tmp_path / "emissions.csv"
    path.write_text(csv_text(ROWS) + torn + csv_text(later).split("\n", 1)[1])
    data, said = report_json(str(path), "--by", "run")
    assert [g["group"] for g in data["groups"]] == ["a", "b", "d", "e"]  # c began on line 4
    assert "skipped 1 damaged line(s) (line 4" in said


def test_a_field_over_the_csv_limit_skips_its_row(tmp_path, report_json):
    rows = [*ROWS, wp_row("huge", "2026-01-03T10:00:00+00:00", notes="x" * 200_000)]
    path = tmp_path / "emissions.csv"
    path.write_text(csv_text(rows))
    data, err = report_json(str(path))
    assert data["total"]["runs"] == 2
    assert "field larger than field limit" in err


@pytest.mark.parametrize(
    "stamp",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:00-05:00", "2026-13-01T00:00:00", "yesterday"],
)
def test_a_timestamp_out_of_range_skips_its_row_without_a_traceback(tmp_path, report_json, stamp):
    path = tmp_path / "emissions.csv"
    path.write_text(csv_text([*ROWS, wp_row("x", stamp)]))
    data, err = report_json(str(path), "--by", "day")
    assert data["total"]["runs"] == 2
    assert "skipped 1 damaged line(s)" in err and "Traceback" not in err


def test_a_file_with_no_readable_row_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "emissions.csv"
    path.write_text(csv_text([wp_row("x", "0001-01-01T00:00:00+05:00")]))
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "no row can be read" in result.stderr


def test_a_non_utf8_file_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "emissions.csv"
    path.write_bytes(csv_text(ROWS).encode() + b"\xff\xfe,1\n")
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("column", ["duration", "emissions", "energy_consumed", "cpu_energy"])
@pytest.mark.parametrize("bad", ["inf", "-inf", "nan", "-1", "1e999"])
def test_impossible_numbers_are_unknown_flagged_and_never_summed(
    tmp_path, report_json, column, bad
):
    path = tmp_path / "emissions.csv"
    path.write_text(csv_text([*ROWS, wp_row("bad", "2026-01-03T10:00:00+00:00", **{column: bad})]))
    data, said = report_json(str(path))
    assert "counted as unknown" in said and f"{column}={bad}" in said
    total = data["total"]
    assert total["runs"] == 3
    if column == "duration":
        assert total["duration_s"] == pytest.approx(20.0)
        return
    where = {
        "emissions": total["emissions"],
        "energy_consumed": total["energy"]["total"],
        "cpu_energy": total["energy"]["cpu"],
    }[column]
    figure = where["kg"] if column == "emissions" else where["kwh"]
    assert figure == pytest.approx(0.002 if column == "emissions" else 0.004)
    assert where["unknown_runs"] == 1


def test_a_runs_latest_row_by_timestamp_wins_not_the_last_in_the_file(tmp_path, report_json):
    late = wp_row("a", "2026-01-01T12:00:00+00:00", emissions="0.005", status="finished")
    early = wp_row("a", "2026-01-01T11:00:00+00:00", emissions="0.001", status="running")
    path = tmp_path / "emissions.csv"
    path.write_text(csv_text([late, early]))  # the older row last in the file
    data, _ = report_json(str(path))
    assert data["total"]["emissions"]["kg"] == pytest.approx(0.005)
    assert data["total"]["statuses"] == {"finished": 1}
    # the same instant in another offset is the same time: the later row in the file wins
    same = wp_row("a", "2026-01-01T13:00:00+01:00", emissions="0.007")
    path.write_text(csv_text([late, same]))
    data, _ = report_json(str(path))
    assert data["total"]["emissions"]["kg"] == pytest.approx(0.007)


def test_a_run_from_a_plain_row_of_numbers_summarises_as_its_csv_row(tmp_path):
    """The server builds Runs from database rows (numbers, datetimes): the same summary."""
    from datetime import datetime

    path = tmp_path / "emissions.csv"
    path.write_text(csv_text(ROWS))
    from_csv = summarise([path])
    typed = []
    for row in ROWS:
        r = Run(
            {
                **row,
                "timestamp": datetime.fromisoformat(row["timestamp"]),
                "duration": 10,
                "emissions": 0.001,
                "energy_consumed": 0.002,
                "cpu_energy": 0.002,
                "emissions_low_kg": 0.0008,
                "emissions_high_kg": 0.0012,
                "gpu_energy": None,
            }
        )
        assert r.kind == "wattprint" and r.num("duration") == 10.0
        typed.append(r)
    from_rows = summarise_runs(typed)
    assert from_rows["groups"] == from_csv["groups"] and from_rows["total"] == from_csv["total"]
    group = summarise_group("p", typed)
    assert group["emissions"]["low_kg"] == pytest.approx(0.0016)
    from decimal import Decimal

    assert Run({**ROWS[0], "emissions": Decimal("0.25")}).num("emissions") == 0.25  # NUMERIC
    typed.append(Run({"run_id": "cc", "timestamp": "2026-01-01T00:00:00", "emissions": 0.1}))
    assert typed[-1].kind == "codecarbon"
    group = summarise_group("p", typed)
    assert group["emissions"]["low_kg"] is None  # bounds only when every run has them
    assert group["emissions"]["bounds"] == "no bounds: 1 CodeCarbon run(s) have none"
    assert group["energy"]["total"]["unknown_runs"] == 1  # unknown, never zero
    with pytest.raises(ValueError, match="run_id"):
        Run({"timestamp": "2026-01-01T00:00:00"})
    with pytest.raises(KeyError):  # the summariser reads only the spec's columns
        typed[0].num("emission")


# -- fuzz: whatever the bytes, the reader returns runs or raises its own one-line error -----------

HEADER = ",".join(COLUMNS).encode()


def _read_or_refuse(path: Path) -> None:
    try:
        runs = read_runs([path])
    except ReadError as exc:
        assert "\n" not in str(exc)
        return
    data = summarise_runs(runs, by="day")
    json.dumps(data, allow_nan=False)  # never Infinity or NaN


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes_after_a_valid_header(tmp_path, body):
    path = tmp_path / "emissions.csv"
    path.write_bytes(HEADER + b"\n" + body)
    _read_or_refuse(path)


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes(tmp_path, body):
    path = tmp_path / "emissions.csv"
    path.write_bytes(body)
    _read_or_refuse(path)


NUMBERS = st.one_of(
    st.sampled_from(["", "inf", "-inf", "nan", "-0", "1e308", "-1", "1e999", "abc", " 1 "]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
STAMPS = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "", "Z", "x"]),
)


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "timestamp": STAMPS,
                "run_id": st.sampled_from(["a", "b", ""]),
                "duration": NUMBERS,
                "emissions": NUMBERS,
                "energy_consumed": NUMBERS,
                "cpu_energy": NUMBERS,
                "emissions_low_kg": NUMBERS,
                "emissions_high_kg": NUMBERS,
                "pue": NUMBERS,
                "on_cloud": st.sampled_from(["Y", "N", ""]),
                "cloud_provider": st.sampled_from(["aws", "gcp", "", "nowhere"]),
                "notes": st.text(max_size=50),
            }
        ),
        max_size=8,
    )
)
def test_fuzz_rows_of_hostile_values(tmp_path, rows):
    path = tmp_path / "emissions.csv"
    full = [{**wp_row("x", "2026-01-01T00:00:00"), **row} for row in rows]
    path.write_text(csv_text(full), encoding="utf-8", errors="surrogatepass")
    logging.getLogger("wattprint").setLevel(logging.ERROR)  # the warnings are tested above
    _read_or_refuse(path)
