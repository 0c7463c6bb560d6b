"""The report's footprint beside the operational emissions, and ``report --sci``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattprint.cli import app
from wattprint.records import COLUMNS
from wattprint.report.footprint import embodied, llm, sci
from wattprint.report.summary import Run, summarise

T = "2026-01-0{}T10:00:00+00:00"


def run(i: int, **cells: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(run_id=f"r{i}", timestamp=T.format(i), project_name="p", wattprint_version="t",
               status="finished", duration="60")  # fmt: skip
    row.update(cells)
    return row


def sized(i: int, op: float, emb: float, units: str = "", unit: str = "", **more: str):
    """A run with operational and embodied emissions (kg) and their bounds at -/+ 50 %."""
    return run(i, emissions=str(op), emissions_low_kg=str(op / 2), emissions_high_kg=str(op * 1.5),
               embodied_kg=str(emb), embodied_low_kg=str(emb / 2),
               embodied_high_kg=str(emb * 1.5), embodied_method="boavizta-components",
               units=units, functional_unit=unit, **more)  # fmt: skip


def test_sci_of_a_group_by_hand() -> None:
    runs = [Run(sized(1, 0.010, 0.002, "100", "request")),
            Run(sized(2, 0.030, 0.006, "300", "request"))]  # fmt: skip
    s = sci(runs)
    # (E x I + M) per R = ((10 + 30) g + (2 + 6) g) / (100 + 300) = 48 / 400 = 0.12 g/request
    assert s["g_per_unit"] == pytest.approx(0.12)
    assert s["low_g_per_unit"] == pytest.approx(0.06) and s["high_g_per_unit"] == pytest.approx(
        0.18
    )
    assert s["units"] == 400 and s["functional_unit"] == "request"
    assert s["operational_kg"] == pytest.approx(0.040) and s["embodied_kg"] == pytest.approx(0.008)


def test_sci_adds_the_remote_llm_part() -> None:
    runs = [Run(sized(1, 0.010, 0.002, "10", "answer", llm_calls="4", llm_emissions_kg="0.008",
                      llm_emissions_low_kg="0.004", llm_emissions_high_kg="0.016"))]  # fmt: skip
    s = sci(runs)
    assert s["llm_kg"] == pytest.approx(0.008)
    assert s["g_per_unit"] == pytest.approx((10 + 2 + 8) / 10)  # 2 g per answer
    assert s["high_g_per_unit"] == pytest.approx((15 + 3 + 16) / 10)


def test_sci_says_why_there_is_no_score() -> None:
    assert "no run counted units" in sci([Run(sized(1, 0.01, 0.002))])["note"]
    mixed = [Run(sized(1, 0.01, 0.002, "3", "image")), Run(sized(2, 0.01, 0.002, "3", "page"))]
    s = sci(mixed)
    assert s["g_per_unit"] is None and "mixed functional units" in s["note"]
    unknown = [Run(run(1, emissions="0.01", units="3", functional_unit="image"))]
    assert sci(unknown)["g_per_unit"] is None  # no embodied figure: not a zero


def test_embodied_and_llm_totals_count_unknown_runs() -> None:
    runs = [Run(sized(1, 0.01, 0.002)), Run(run(2, emissions="0.01"))]  # an older row: unknown
    e = embodied(runs)
    assert e["kg"] == pytest.approx(0.002) and e["unknown_runs"] == 1
    assert e["low_kg"] == pytest.approx(0.001) and e["methods"] == ["boavizta-components"]
    detail = json.dumps({"openai/gpt-4o-mini": {"calls": 3}, "openai/acme": {"calls": 1}})
    calls = llm([Run(run(1, llm_calls="4", llm_detail=detail, llm_emissions_kg="0.001",
                         llm_emissions_low_kg="0.0005", llm_emissions_high_kg=""))])  # fmt: skip
    assert calls["calls"] == 4 and calls["models"] == {"openai/acme": 1, "openai/gpt-4o-mini": 3}
    assert calls["kg"] == pytest.approx(0.001) and calls["high_kg"] is None  # unbounded


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_report_shows_the_parts_and_sci(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    write(path, [sized(1, 0.010, 0.002, "100", "request", experiment_id="a"),
                 sized(2, 0.030, 0.006, "300", "request", experiment_id="a")])  # fmt: skip
    data = summarise([path], by="experiment")
    assert data["groups"][0]["footprint"]["sci"]["g_per_unit"] == pytest.approx(0.12)
    assert data["groups"][0]["emissions"]["kg"] == pytest.approx(0.04)  # embodied not folded in
    runner = CliRunner()
    plain = runner.invoke(app, ["report", str(path)], env={"COLUMNS": "200"})
    assert plain.exit_code == 0, plain.output
    assert "operational 40 g; embodied 8 g [4 g - 12 g]" in plain.output
    scored = runner.invoke(app, ["report", str(path), "--sci", "--by", "experiment"],
                           env={"COLUMNS": "200"})  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert "0.12 g/request" in scored.output and "400 x request" in scored.output
    assert "0.06 - 0.18" in scored.output
