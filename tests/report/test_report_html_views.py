"""The HTML report's views beyond the totals: power per component over time from each run's
journal, the energy mix of the runs' zones, the world map with its shipped geometry, and one
project at a time. Figures are read from the page's chart data, never from pixels."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fakesys import cpu_stat
from tests.report.test_report_html import assert_offline, charts, figure, make_page
from tests.report.test_report_views import write_runs
from wattprint import Tracker
from wattprint.carbon import tables
from wattprint.report import geo
from wattprint.report.mix import zone_mix
from wattprint.report.summary import summarise

T0 = 1_780_000_000.0  # 2026-05-28 UTC


def journal(
    folder: Path,
    run_id: str,
    states: list[tuple[float, dict[str, float | None]]],
    damaged: bool = False,
) -> Path:
    """A finished run's journal: the run line, one cumulative state per (seconds, joules)."""
    path = folder / ".wattprint" / f"{run_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"type": "run", "run_id": run_id})]
    for seconds, joules in states:
        components = {
            c: {"energy_j": j, "low_j": j, "high_j": j, "method": f"{c}-test"}
            for c, j in joules.items()
        }
        lines.append(
            json.dumps(
                {
                    "type": "interval",
                    "t": T0 + seconds,
                    "duration_s": seconds,
                    "components": components,
                }
            )
        )
        if damaged and seconds == states[1][0]:
            lines.append('{"type": "interval", "t": ')  # a line cut short, mid-file
    lines.append(json.dumps({"type": "end", "status": "finished"}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "runs"
    write_runs(
        out / "emissions.csv",
        [
            {
                "run_id": "fr-run",
                "project_name": "vision",
                "experiment_name": "base",
                "timestamp": "2026-05-28T10:00:00+00:00",
                "energy_consumed": "0.3",
                "emissions": "0.009",
            },
            {
                "run_id": "de-run",
                "project_name": "speech",
                "experiment_name": "base",
                "timestamp": "2026-05-29T10:00:00+00:00",
                "energy_consumed": "0.1",
                "emissions": "0.04",
                "country_iso_code": "DEU",
                "country_name": "Germany",
                "intensity_zone": "DE",
            },
            {
                "run_id": "aws-run",
                "project_name": "speech",
                "experiment_name": "big",
                "timestamp": "2026-05-30T10:00:00+00:00",
                "on_cloud": "Y",
                "cloud_provider": "aws",
                "cloud_region": "us-west-2",
                "intensity_zone": "US-NW-BPAT",
                "country_iso_code": "USA",
                "country_name": "United States",
                "energy_consumed": "0.2",
                "emissions": "0.01",
            },
            {
                "run_id": "nowhere",
                "project_name": "speech",
                "experiment_name": "big",
                "timestamp": "2026-05-31T10:00:00+00:00",
                "intensity_zone": "",
                "country_iso_code": "",
                "country_name": "",
                "energy_consumed": "0.05",
                "emissions": "",
            },
        ],
    )
    journal(
        out,
        "fr-run",
        [
            (0, {"cpu": 0.0, "ram": 0.0}),
            (10, {"cpu": 500.0, "ram": 30.0}),
            (20, {"cpu": 1500.0, "ram": None}),
            (40, {"cpu": 1600.0, "ram": 90.0}),
        ],
        damaged=True,
    )
    return out


def page_data(tmp_path: Path, folder: Path, *args: str) -> tuple[str, dict[str, Any]]:
    _, text = make_page(tmp_path, str(folder), *args)
    assert_offline(text)
    return text, charts(text)


def test_power_over_time_is_the_journals_energy_over_its_intervals(folder, tmp_path):
    text, data = page_data(tmp_path, folder)
    power = figure(data, "power_over_time")
    assert power["runs"] == ["fr-run"]  # the other runs have no journal
    factor = power["units"]["y"][0]
    by_part = {t["meta"]: t for t in power["data"]}
    cpu, ram = by_part["fr-run:cpu"], by_part["fr-run:ram"]
    assert [v * factor for v in cpu["y"]] == pytest.approx([50.0, 100.0, 5.0])  # J / s
    assert ram["y"][0] * factor == pytest.approx(3.0)
    assert ram["y"][1:] == [None, None]  # unknown at 20 s: a gap, never 0
    assert html.unescape(cpu["name"]) == "cpu (cpu-test)"
    assert cpu["x"][0] == "2026-05-28 20:26:50"  # the state's time, UTC
    assert "1 damaged journal line(s) were skipped" in text


def test_power_over_time_from_a_real_tracker_journal(machine, tmp_path):
    out = tmp_path / "tracked"
    tracker = Tracker(project_name="live", output_dir=out, interval_s=0.05, country="FRA").start()
    for step in range(6):
        machine.write("/proc/stat", cpu_stat(2000 + 400 * step, 9000 + 500 * step))
        time.sleep(0.06)
    tracker.stop()
    data = summarise([out / "emissions.csv"], details=True)
    (run,) = data["power"]
    assert run["run_id"] == data["runs"][0]["run_id"] and len(run["t"]) >= 2
    assert {"cpu", "ram"} <= set(run["watts"]) and run["methods"]["cpu"] == "cpu-model"
    assert all(w is None or w >= 0 for series in run["watts"].values() for w in series)


def test_energy_mix_is_the_zone_tables_shares(folder, tmp_path):
    text, data = page_data(tmp_path, folder)
    mix = figure(data, "energy_mix")
    renewable, carbon_free = mix["data"]
    zones = ["FR", "DE", "US-NW-BPAT"]
    expected = {z: zone_mix(z) for z in zones}
    assert all(expected.values())
    for trace, key in ((renewable, "renewable_pct"), (carbon_free, "carbon_free_pct")):
        shown = dict(zip((html.unescape(y) for y in trace["y"]), trace["x"], strict=True))
        for z in zones:
            (name,) = [n for n in shown if n.endswith(f"({z})")]
            assert shown[name] == getattr(expected[z], key)
    summary = summarise([folder / "emissions.csv"], details=True)
    energy = {"FR": 0.3, "DE": 0.1, "US-NW-BPAT": 0.2}
    weighted = sum(energy[z] * expected[z].renewable_pct for z in zones) / sum(energy.values())
    assert summary["mix"]["renewable_pct"] == pytest.approx(weighted)
    assert f"{weighted:.0f} % of it came from renewable sources" in text
    assert "the runs do not say where they ran" in text  # the run with no place
    assert "ODbL" in text


def test_world_map_colours_countries_and_marks_the_runs(folder, tmp_path):
    text, data = page_data(tmp_path, folder)
    world = figure(data, "world_map")
    choropleth, states = [t for t in world["data"] if t["type"] == "choropleth"]
    z = dict(zip(choropleth["locations"], choropleth["z"], strict=True))
    by_state = dict(zip(states["locations"], states["z"], strict=True))
    assert by_state["US-STATE-TX"] == tables.zone("US-STATE-TX").intensity_g_per_kwh
    assert by_state["CA-QC"] == tables.zone("CA-QC").intensity_g_per_kwh
    assert by_state["AU-NSW"] == tables.zone("AU-NSW").intensity_g_per_kwh
    assert len(by_state) == 51 + 13 + 7 and states["geojson"] == data["geojsonName"]
    assert states["zmin"] == choropleth["zmin"] and states["zmax"] == choropleth["zmax"]
    assert states["colorscale"] == choropleth["colorscale"]  # one scale for both levels
    assert data["geojson"] == geo.subnational_geojson()  # inlined: plotly.js fetches nothing
    assert "Drawn below country level: US states" in text
    assert "Canadian provinces and territories and Australian states" in text
    assert z["FRA"] == tables.zone_for_country("FRA").intensity_g_per_kwh
    assert z["DEU"] == tables.zone_for_country("DEU").intensity_g_per_kwh
    assert set(z) <= geo.mapped_countries() and len(z) > 150
    (points,) = [t for t in world["data"] if t["type"] == "scattergeo"]
    oregon = tables.cloud_region("aws", "us-west-2")
    assert (oregon.latitude, oregon.longitude) in zip(points["lat"], points["lon"], strict=True)
    paris = tables.zone("FR")
    assert (paris.latitude, paris.longitude) in zip(points["lat"], points["lon"], strict=True)
    assert len(points["lat"]) == 3 and "1 run(s) say nowhere and are not marked" in text
    assert data["topojson"] == geo.world_topology()  # inlined: plotly.js has nothing to fetch


def test_one_project_at_a_time(folder, tmp_path):
    text, data = page_data(tmp_path, folder)
    views = {f["view"] for f in data["figures"]}
    assert views == {"all", "project-0", "project-1"}  # speech, vision: sorted
    assert '<option value="project-0">speech</option>' in text
    assert '<div data-view="project-1" hidden>' in text and '<div data-view="all">' in text
    speech = figure(data, "runs_compared", "project-0")
    shown = {x for t in speech["data"] for x in t["x"]}
    assert shown == {"de-run", "aws-run", "nowhere"}
    vision_total = summarise([folder / "emissions.csv"], details=True)["projects"]["vision"]
    assert vision_total["total"]["emissions"]["kg"] == pytest.approx(0.009)
    assert figure(data, "power_over_time", "project-1")["runs"] == ["fr-run"]
    assert not [
        f for f in data["figures"] if f["chart"] == "power_over_time" and f["view"] == "project-0"
    ]


def test_json_report_leaves_the_page_details_out(folder):
    from typer.testing import CliRunner

    from wattprint.cli import app

    result = CliRunner().invoke(app, ["report", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert not {"power", "mix", "places", "projects", "runs"} & set(shown)


def test_shipped_geometry_is_iso3_and_licensed():
    topology = geo.world_topology()
    ids = [g.get("id") for g in topology["objects"]["countries"]["geometries"]]
    named = [i for i in ids if i]
    assert len(named) == len(set(named)) > 170
    assert all(len(i) == 3 and i.isupper() for i in named)
    assert {"FRA", "USA", "CHN", "BRA", "IND", "AUS", "ZAF"} <= set(named)
    assert "Natural Earth" in topology["license"] and "ISC" in topology["license"]
    known = {
        c.iso3 for c in __import__("wattprint.carbon.countries").carbon.countries.all_countries()
    }
    assert len(set(named) & known) > 150


def test_a_long_run_is_thinned_without_losing_energy():
    from wattprint.report.power import series

    states = [
        {
            "t": T0 + s,
            "duration_s": float(s),
            "components": {"gpu": {"energy_j": 0.5 * s * s, "method": "nvml-counter"}},
        }
        for s in range(0, 5001)
    ]
    out = series(states, limit=50)
    assert out is not None and len(out["t"]) <= 50 and out["elapsed_s"][-1] == 5000.0
    spans = [b - a for a, b in zip([0.0, *out["elapsed_s"]], out["elapsed_s"], strict=False)]
    energy = sum(w * span for w, span in zip(out["watts"]["gpu"], spans, strict=True))
    assert energy == pytest.approx(0.5 * 5000 * 5000)  # exact averages over the longer spans
    states[10]["components"]["gpu"]["energy_j"] = 0.0  # a cumulative figure that fell
    assert None in series(states[:20], limit=50)["watts"]["gpu"]  # unknown, not negative


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(
    not (SHARED / "world-atlas").is_dir(),
    reason=f"raw world-atlas topology not at {SHARED}/world-atlas",
)
def test_build_geo_reproduces_the_shipped_geometry():
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("build_geo", root / "tools" / "build_geo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build(SHARED) == (root / module.TARGET).read_text("utf-8")


def test_a_long_journal_is_read_with_a_stride_and_keeps_its_ends(tmp_path):
    from wattprint.journal import read
    from wattprint.report.power import power_series

    states = [(float(s), {"cpu": 20.0 * s}) for s in range(0, 20001)]
    path = journal(tmp_path, "long", states)
    kept = read(path, keep=None, stride=7).states
    assert len(kept) == len(range(0, 20001, 7)) + 1  # every 7th, and the last
    assert kept[0]["duration_s"] == 0.0 and kept[-1]["duration_s"] == 20000.0
    out = power_series(path, limit=50)
    assert len(out["t"]) <= 50 and out["elapsed_s"][-1] == 20000.0
    assert out["watts"]["cpu"] == pytest.approx([20.0] * len(out["t"]))
