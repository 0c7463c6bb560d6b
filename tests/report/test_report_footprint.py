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
    row.update(
        run_id=f"r{i}",
        timestamp=T.format(i),
        project_name="p",
        wattprint_version="t",
        status="finished",
        duration="60",
    )
    row.update(cells)
    return row


def sized(i: int, op: float, emb: float, units: str = "", unit: str = "", **more: str):
    """A run with operational and embodied emissions (kg) and their bounds at -/+ 50 %."""
    return run(
        i,
        emissions=str(op),
        emissions_low_kg=str(op / 2),
        emissions_high_kg=str(op * 1.5),
        embodied_kg=str(emb),
        embodied_low_kg=str(emb / 2),
        embodied_high_kg=str(emb * 1.5),
        embodied_method="boavizta-components",
        units=units,
        functional_unit=unit,
        **more,
    )


def test_sci_of_a_group_by_hand() -> None:
    runs = [
        Run(sized(1, 0.010, 0.002, "100", "request")),
        Run(sized(2, 0.030, 0.006, "300", "request")),
    ]
    s = sci(runs)
    # (E x I + M) per R = ((10 + 30) g + (2 + 6) g) / (100 + 300) = 48 / 400 = 0.12 g/request
    assert s["g_per_unit"] == pytest.approx(0.12)
    assert s["low_g_per_unit"] == pytest.approx(0.06) and s["high_g_per_unit"] == pytest.approx(
        0.18
    )
    assert s["units"] == 400 and s["functional_unit"] == "request"
    assert s["operational_kg"] == pytest.approx(0.040) and s["embodied_kg"] == pytest.approx(0.008)


def test_sci_adds_the_remote_llm_part() -> None:
    runs = [
        Run(
            sized(
                1,
                0.010,
                0.002,
                "10",
                "answer",
                llm_calls="4",
                llm_emissions_kg="0.008",
                llm_emissions_low_kg="0.004",
                llm_emissions_high_kg="0.016",
            )
        )
    ]
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
    calls = llm(
        [
            Run(
                run(
                    1,
                    llm_calls="4",
                    llm_detail=detail,
                    llm_emissions_kg="0.001",
                    llm_emissions_low_kg="0.0005",
                    llm_emissions_high_kg="",
                )
            )
        ]
    )
    assert calls["calls"] == 4 and calls["models"] == {"openai/acme": 1, "openai/gpt-4o-mini": 3}
    assert calls["kg"] == pytest.approx(0.001) and calls["high_kg"] is None  # unbounded


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_report_shows_the_parts_and_sci(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    write(
        path,
        [
            sized(1, 0.010, 0.002, "100", "request", experiment_id="a"),
            sized(2, 0.030, 0.006, "300", "request", experiment_id="a"),
        ],
    )
    data = summarise([path], by="experiment")
    assert data["groups"][0]["footprint"]["sci"]["g_per_unit"] == pytest.approx(0.12)
    assert data["groups"][0]["emissions"]["kg"] == pytest.approx(0.04)  # embodied not folded in
    runner = CliRunner()
    plain = runner.invoke(app, ["report", str(path)], env={"COLUMNS": "200"})
    assert plain.exit_code == 0, plain.output
    assert "operational 40 g [20 g - 60 g]; embodied 8 g [4 g - 12 g]" in plain.output
    scored = runner.invoke(
        app, ["report", str(path), "--sci", "--by", "experiment"], env={"COLUMNS": "200"}
    )
    assert scored.exit_code == 0, scored.output
    assert "0.12 g/request" in scored.output and "400 x request" in scored.output
    assert "0.06 - 0.18" in scored.output


GPT, ACME = "openai/gpt-4o-mini", "openai/acme"


def entry(
    provider_model: str, calls: int, unknown: int, energy: float, gwp: float, note: str = ""
) -> dict[str, object]:
    """One model's entry in llm_detail, as the tracker writes it (ranges at -/+ 50 %)."""
    provider, model = provider_model.split("/")
    return {
        "provider": provider,
        "model": model,
        "host": "",
        "note": note,
        "calls": calls,
        "unknown_calls": unknown,
        "input_tokens": 10 * calls,
        "output_tokens": 20 * calls,
        "energy_kwh": energy,
        "energy_low_kwh": energy / 2,
        "energy_high_kwh": energy * 1.5,
        "emissions_kg": gwp,
        "emissions_low_kg": gwp / 2,
        "emissions_high_kg": gwp * 1.5,
    }


def llm_cells(detail: dict[str, dict[str, object]]) -> dict[str, str]:
    """A row's llm_* columns for its detail, by the tracker's rule (wattprint.llm.totals)."""
    from wattprint.llm import totals

    t = totals(detail)
    cell = {k: "" if v is None else str(v) for k, v in t.items()}
    return {
        "llm_calls": cell["calls"],
        "llm_detail": json.dumps(detail),
        **{f"llm_{k}": cell[k] for k in t if k != "calls"},
    }


def two_runs_with_calls() -> list[dict[str, str]]:
    first = {GPT: entry(GPT, 3, 0, 0.003, 0.0012)}
    second = {
        GPT: entry(GPT, 1, 0, 0.001, 0.0004),
        ACME: entry(ACME, 2, 2, 0.0, 0.0, "Could not find model `acme`"),
    }
    return [
        sized(
            1,
            0.010,
            0.002,
            "100",
            "request",
            experiment_id="a",
            energy_consumed="0.05",
            **llm_cells(first),
        ),
        sized(
            2,
            0.030,
            0.006,
            "300",
            "request",
            experiment_id="b",
            energy_consumed="0.1",
            **llm_cells(second),
        ),
    ]


def test_llm_per_model_totals_with_bounds_and_unknowns() -> None:
    calls = llm([Run(r) for r in two_runs_with_calls()])
    gpt, acme = calls["per_model"][GPT], calls["per_model"][ACME]
    assert (gpt["calls"], gpt["unknown_calls"]) == (4, 0)
    assert (gpt["input_tokens"], gpt["output_tokens"]) == (40, 80)
    assert gpt["energy_kwh"] == pytest.approx(0.004)
    assert (gpt["emissions_low_kg"], gpt["emissions_high_kg"]) == pytest.approx((0.0008, 0.0024))
    # acme: no call estimated: every figure unknown, never 0, with EcoLogits' note.
    assert (acme["calls"], acme["unknown_calls"]) == (2, 2)
    assert acme["energy_kwh"] is None and acme["emissions_high_kg"] is None
    assert acme["notes"] == ["Could not find model `acme`"]
    # The group: 6 calls, the known ones' figures, and the upper bound left open.
    assert calls["calls"] == 6 and calls["kg"] == pytest.approx(0.0016)
    assert calls["low_kg"] == pytest.approx(0.0008) and calls["high_kg"] is None
    assert calls["local_energy_kwh"] == pytest.approx(0.15)


def test_a_run_that_could_not_count_its_tokens_leaves_the_models_count_unknown(
    tmp_path: Path,
) -> None:
    counted, uncounted = entry(GPT, 3, 0, 0.003, 0.0012), entry(GPT, 1, 0, 0.001, 0.0004)
    uncounted.update(input_tokens=None, output_tokens=None)  # a stream without its usage chunk
    rows = [
        run(1, experiment_id="a", **llm_cells({GPT: counted})),
        run(2, experiment_id="a", **llm_cells({GPT: uncounted})),
    ]
    gpt = llm([Run(r) for r in rows])["per_model"][GPT]
    assert gpt["calls"] == 4 and gpt["energy_kwh"] == pytest.approx(0.004)
    assert (gpt["input_tokens"], gpt["output_tokens"]) == (None, None)  # not 30 / 60
    path = tmp_path / "emissions.csv"
    write(path, rows)
    out = CliRunner().invoke(app, ["report", str(path)], env={"COLUMNS": "220"})
    assert out.exit_code == 0, out.output
    table = out.output[out.output.index("LLM calls by model") :]
    line = next(line for line in table.splitlines() if GPT in line)
    assert "unknown/unknown" in line and "30/60" not in line


def test_sci_of_runs_whose_calls_were_not_estimated_is_unknown() -> None:
    only_unknown = {ACME: entry(ACME, 2, 2, 0.0, 0.0, "unknown model")}
    s = sci([Run(sized(1, 0.010, 0.002, "10", "answer", **llm_cells(only_unknown)))])
    assert s["g_per_unit"] is None and "not estimated" in s["note"]  # not (10 + 2) / 10
    mixed = sci([Run(r) for r in two_runs_with_calls()])
    # (E x I 40 g + M 8 g + LLM 1.6 g) / 400 requests; the upper bound is open.
    assert mixed["g_per_unit"] == pytest.approx((40 + 8 + 1.6) / 400)
    assert mixed["low_g_per_unit"] == pytest.approx((20 + 4 + 0.8) / 400)
    assert mixed["high_g_per_unit"] is None


def test_terminal_report_shows_local_and_remote_and_each_model(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    write(path, two_runs_with_calls())
    out = CliRunner().invoke(
        app, ["report", str(path), "--by", "experiment"], env={"COLUMNS": "220"}
    )
    assert out.exit_code == 0, out.output
    text = out.output
    assert "p / b: local: 100 Wh, operational 30 g [15 g - 45 g]; embodied 6 g" in text
    # b's calls: one estimated, two not (acme): the upper bounds are open.
    assert (
        "remote (LLM calls, EcoLogits): 3 call(s), 1 Wh [1800 J - ?], 400 mg [200 mg - ?]" in text
    )
    assert "remote (LLM calls, EcoLogits): 6 call(s), 4 Wh [2 Wh - ?], 1.6 g" in text  # total
    table = text[text.index("LLM calls by model") :]
    acme_line = next(line for line in table.splitlines() if ACME in line)
    assert "unknown" in acme_line and "Could not find model" in acme_line
    gpt_line = next(line for line in table.splitlines() if GPT in line)
    assert "4 Wh [2 Wh - 6 Wh]" in gpt_line and "40/80" in gpt_line


def test_sci_report_leaves_an_unknown_bound_open(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    write(path, two_runs_with_calls())
    out = CliRunner().invoke(
        app, ["report", str(path), "--sci", "--by", "experiment"], env={"COLUMNS": "200"}
    )
    assert out.exit_code == 0, out.output
    b = next(line for line in out.output.splitlines() if "p / b" in line)
    # (30 + 6 + 0.4) g / 300 = 0.1213 g; low (15 + 3 + 0.2) / 300; high open (acme's calls)
    assert "0.1213 g/request" in b and "0.06067 - ?" in b


def page_data(path: Path, tmp_path: Path, *args: str) -> tuple[dict[str, object], str]:
    from tests.report.test_report_html import Page, charts

    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(path), "--html", str(out), *args])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    return charts(text)["footprint"], " ".join(" ".join(Page(text).text).split())  # cell by cell


def test_html_report_shows_and_carries_the_footprint(tmp_path: Path) -> None:
    pytest.importorskip("plotly", reason="the html extra")
    path = tmp_path / "emissions.csv"
    write(path, two_runs_with_calls())
    data, text = page_data(path, tmp_path, "--by", "experiment")
    total = data["all"]["total"]
    assert total["llm"]["per_model"][ACME]["energy_kwh"] is None  # unknown in the page's data
    assert total["llm"]["per_model"][GPT]["calls"] == 4
    assert total["sci"]["g_per_unit"] == pytest.approx((40 + 8 + 1.6) / 400)
    assert data["all"]["p / a"]["embodied"]["kg"] == pytest.approx(0.002)
    assert "Local and remote footprint" in text and "LLM calls by model" in text
    # The total row: local energy, operational and embodied with ranges, then the remote part.
    assert (
        "total 150 Wh 40 g 20 g to 60 g 8 g 4 g to 12 g 6 4 Wh 2 Wh to unknown 1.6 g "
        "800 mg to unknown"
    ) in text
    assert f"{ACME} 2 2 20 / 40 unknown - unknown - Could not find model `acme`" in text
    assert "total 40 g 8 g 1.6 g 400 x request 0.124 g per request 0.062 to unknown" in text


def test_html_report_without_footprint_has_no_section(tmp_path: Path) -> None:
    pytest.importorskip("plotly", reason="the html extra")
    path = tmp_path / "emissions.csv"
    write(path, [run(1, emissions="0.01", energy_consumed="0.05")])
    data, text = page_data(path, tmp_path)
    assert "Local and remote footprint" not in text
    (group,) = data["all"].values()
    assert group["llm"]["calls"] == 0 and group["embodied"]["kg"] is None
