"""The server's summaries are the report's, on the same rows (one summariser, one set of rules)."""

from __future__ import annotations

import csv
import math
from typing import Any

import pytest

from tests.fakes.serverkit import app, client, database_url, full_record, world  # noqa: F401 - the fixtures
from wattprint import records
from wattprint.report.summary import read_runs, summarise, summarise_group


def same(mine: Any, theirs: Any, where: str = "") -> None:
    """Equal, floats within rounding (SQL adds in another order than the report)."""
    if isinstance(mine, float) and isinstance(theirs, float):
        assert math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-15), (where, mine, theirs)
    elif isinstance(mine, dict) and isinstance(theirs, dict):
        assert sorted(mine) == sorted(theirs), (where, sorted(mine), sorted(theirs))
        for key in mine:
            same(mine[key], theirs[key], f"{where}.{key}")
    elif isinstance(mine, list) and isinstance(theirs, list):
        assert len(mine) == len(theirs), (where, mine, theirs)
        for n, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            same(a, b, f"{where}[{n}]")
    else:
        assert mine == theirs, (where, mine, theirs)


def _rows():
    """Three wattprint runs (one without bounds, one on a cloud) of two rows each, on two
    days, and a CodeCarbon run with CodeCarbon's columns only."""
    rows = []
    for n, (run, day) in enumerate((("a", 1), ("b", 1), ("c", 2))):
        for seq in (1, 2):
            row = full_record(
                run,
                seq,
                timestamp=f"2026-03-0{day}T1{seq}:00:00+00:00",
                emissions=0.01 * (n + 1) * seq,
                energy_consumed=0.1 * seq,
                emissions_low_kg=0.005 * seq,
                emissions_high_kg=0.02 * seq,
                country_iso_code="FRA",
                status="finished" if seq == 2 else "running",
                cloud_provider="",
                on_cloud="N",
                intensity_source=f"src-{n}",
            )
            if run == "b":
                row.update(emissions_low_kg=None, energy_high_kwh=None, gpu_energy_low_kwh=None)
            if run == "c":
                row.update(cloud_provider="gcp", cloud_region="europe-west1", on_cloud="Y")
            rows.append(row)
    cc = {c: None for c in records.CODECARBON_COLUMNS}
    cc.update(
        timestamp="2026-03-02T09:00:00",
        run_id="cc-1",
        project_name="p",
        duration=60.0,
        emissions=0.002,
        energy_consumed=0.01,
        cpu_energy=0.006,
        ram_energy=0.004,
        country_iso_code="DEU",
        on_cloud="N",
        pue=1.0,
    )
    return rows, cc


def _write(path, columns, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})


@pytest.fixture
def same_rows(world, tmp_path):
    rows, cc = _rows()
    _write(tmp_path / "emissions.csv", records.COLUMNS, rows)
    _write(tmp_path / "emissions_cc.csv", records.CODECARBON_COLUMNS, [cc])
    envelopes = [
        {"type": "wattprint.record", "version": 1, "key": f"{r['run_id']}:{i}", "record": r}
        for i, r in enumerate(rows)
    ]
    envelopes.append({"type": "wattprint.record", "version": 1, "key": "cc-1:0", "record": cc})
    assert world.send(envelopes).json()["created"] == len(envelopes)
    return [tmp_path / "emissions.csv", tmp_path / "emissions_cc.csv"]


def test_the_project_summary_is_the_reports(world, same_rows):
    report = summarise_group("total", read_runs(same_rows))
    got = world.client.get(
        f"/api/v1/projects/{world.ids['project']}/summary", headers=world.h("viewer")
    ).json()
    assert got["runs"] == report["runs"] == 4
    assert got["duration_s"] == pytest.approx(report["duration_s"])
    assert got["energy_kwh"] == pytest.approx(report["energy"]["total"]["kwh"])
    assert got["emissions_kg"] == pytest.approx(report["emissions"]["kg"])
    assert got["emissions_low_kg"] is None and report["emissions"]["low_kg"] is None
    assert got["energy_low_kwh"] is None and got["energy_high_kwh"] is None
    assert got["bounds"] == report["emissions"]["bounds"]
    for part in ("cpu", "gpu", "ram", "platform"):
        assert got["by_component"][part]["kwh"] == pytest.approx(report["energy"][part]["kwh"])
        assert got["by_component"][part]["unknown_runs"] == report["energy"][part]["unknown_runs"]
    assert got["by_component"]["cpu"]["low_kwh"] is None  # the CodeCarbon run has none
    for key in (
        "statuses",
        "sources",
        "intensity",
        "country",
        "equivalents",
        "elsewhere",
        "footprint",
    ):
        same(got[key], report[key], key)
    assert got["sources"] == {"codecarbon": 1, "wattprint": 3}
    assert got["elsewhere"] and got["elsewhere"][0]["provider"]


def test_bounds_are_given_when_every_run_has_them(world, same_rows):
    c, h = world.client, world.h("viewer")
    runs = {
        r["client_run_id"]: r["id"]
        for r in c.get(
            "/api/v1/runs", params={"project_id": world.ids["project"]}, headers=h
        ).json()["items"]
    }
    got = c.get("/api/v1/runs/compare", params={"ids": f"{runs['a']},{runs['c']}"}, headers=h)
    assert [r["run_id"] for r in got.json()["runs"]] == ["a", "c"]
    report = summarise_group("total", [r for r in read_runs(same_rows) if r.run_id in "ac"])
    got = c.get(f"/api/v1/runs/{runs['a']}/summary", headers=h).json()
    assert got["emissions_low_kg"] == pytest.approx(0.01) and got["emissions_high_kg"] == (
        pytest.approx(0.04)
    )
    assert got["by_component"]["cpu"]["low_kwh"] is not None
    assert report["emissions"]["low_kg"] is not None


def test_groups_by_day_are_the_reports(world, same_rows):
    report = summarise(same_rows, by="day")
    got = world.client.get(
        f"/api/v1/projects/{world.ids['project']}/summary",
        params={"by": "day"},
        headers=world.h("viewer"),
    ).json()
    assert [g["group"] for g in got["groups"]] == [g["group"] for g in report["groups"]]
    for mine, theirs in zip(got["groups"], report["groups"], strict=True):
        assert mine["runs"] == theirs["runs"]
        assert mine["emissions_kg"] == pytest.approx(theirs["emissions"]["kg"])
        assert mine["energy_kwh"] == pytest.approx(theirs["energy"]["total"]["kwh"])


def test_other_groupings_and_filters(world, same_rows):
    c, h, p = world.client, world.h("viewer"), world.ids["project"]
    url = f"/api/v1/projects/{p}/summary"
    by_source = c.get(url, params={"by": "intensity_source"}, headers=h).json()["groups"]
    assert [g["group"] for g in by_source] == ["codecarbon (not stated)", "src-0", "src-1", "src-2"]
    by_week = c.get(url, params={"by": "week"}, headers=h).json()["groups"]
    # 2026-03-01 is a Sunday: its week began on Monday 23 February
    assert [(g["group"], g["runs"]) for g in by_week] == [("2026-02-23", 2), ("2026-03-02", 2)]
    by_month = c.get(url, params={"by": "month"}, headers=h).json()["groups"]
    assert [(g["group"], g["runs"]) for g in by_month] == [("2026-03", 4)]
    by_location = c.get(url, params={"by": "location"}, headers=h).json()["groups"]
    assert {g["group"]: g["runs"] for g in by_location} == {
        "DEU": 1,
        "FRA / region-2 / cloud_region-2": 2,
        "FRA / region-2 / gcp / europe-west1": 1,
    }
    finished = c.get(url, params={"status": "finished"}, headers=h).json()
    assert finished["runs"] == 3
    since = c.get(url, params={"since": "2026-03-02T00:00:00Z"}, headers=h).json()
    assert since["runs"] == 2  # c and the CodeCarbon run
    team = c.get(f"/api/v1/teams/{world.ids['team']}/summary", headers=h).json()
    org = c.get(f"/api/v1/organizations/{world.ids['org_a']}/summary", headers=h).json()
    assert (
        team["emissions_kg"]
        == org["emissions_kg"]
        == pytest.approx(c.get(url, headers=h).json()["emissions_kg"])
    )
