"""Tests for the tools/build_data package and the packaged tables it writes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from importlib import resources
from pathlib import Path

import pytest

import tools.build_data as build_data
from tools.build_data import cloud, common, hourly, marginal, parts, zone_sources, zones
from tools.build_data import countries as countries_module
from tools.build_data import timezones as timezones_module
from tools.build_data.crosscheck import crosscheck as crosscheck_summary

REPO = Path(__file__).resolve().parents[2]
# The raw data sit beside the checkout; WATTPRINT_SHARED_DATA names them where they do not
# (a worktree in a folder of its own).
SHARED = Path(os.environ.get("WATTPRINT_SHARED_DATA") or REPO.parent / "shared" / "data")
CARBON = REPO / "src" / "wattprint" / "carbon" / "data"
METERS = REPO / "src" / "wattprint" / "meters" / "data"
EMBODIED = REPO / "src" / "wattprint" / "embodied" / "data"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"raw public data not found at {SHARED}; the byte-for-byte check needs it",
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def countries() -> dict[str, dict[str, str]]:
    return {row["iso3"]: row for row in _rows(CARBON / "countries.csv")}


@pytest.fixture(scope="module")
def timezones() -> dict[str, dict[str, str]]:
    return {row["tz_name"]: row for row in _rows(CARBON / "timezones.csv")}


@pytest.fixture(scope="module")
def cpus() -> list[dict[str, str]]:
    return _rows(METERS / "cpus.csv")


# ------------------------------------------------------------------------------------------
# the committed tables are exactly what the script builds


@needs_shared
def test_build_reproduces_committed_files() -> None:
    built = build_data.build(SHARED)
    assert sorted(built) == [
        "src/wattprint/carbon/data/DATA_LICENSES.md",
        "src/wattprint/carbon/data/cloud_providers.csv",
        "src/wattprint/carbon/data/cloud_regions.csv",
        "src/wattprint/carbon/data/countries.csv",
        "src/wattprint/carbon/data/hourly_profiles.csv",
        "src/wattprint/carbon/data/marginal.csv",
        "src/wattprint/carbon/data/timezone_zones.csv",
        "src/wattprint/carbon/data/timezones.csv",
        "src/wattprint/carbon/data/zone_mix.csv",
        "src/wattprint/carbon/data/zones.csv",
        "src/wattprint/embodied/data/embodied.csv",
        "src/wattprint/meters/data/cpus.csv",
        "src/wattprint/meters/data/gpus.csv",
    ]
    for path, text in built.items():
        committed = (REPO / path).read_bytes()
        assert committed == text.encode("utf-8"), f"{path} is stale: run tools/build_data.py"


@needs_shared
def test_build_is_deterministic() -> None:
    assert build_data.build(SHARED) == build_data.build(SHARED)


@needs_shared
def test_crosscheck_summary() -> None:
    summary = crosscheck_summary(SHARED)
    assert "vs codecarbon" in summary and "vs carbontracker" in summary
    assert ">20%" in summary


ZONE_TABLES = (
    "zones.csv",
    "hourly_profiles.csv",
    "marginal.csv",
    "timezone_zones.csv",
    "cloud_regions.csv",
    "cloud_providers.csv",
)


def test_tables_are_utf8_with_unix_newlines() -> None:
    paths = [CARBON / "countries.csv", CARBON / "timezones.csv"]
    paths += [METERS / "cpus.csv", METERS / "gpus.csv", EMBODIED / "embodied.csv"]
    for path in paths + [CARBON / name for name in ZONE_TABLES]:
        data = path.read_bytes()
        data.decode("utf-8")
        assert b"\r" not in data, path
        assert data.endswith(b"\n"), path


def test_tables_ship_as_package_data() -> None:
    root = resources.files("wattprint")
    for name in (
        "carbon/data/countries.csv",
        "carbon/data/timezones.csv",
        "carbon/data/DATA_LICENSES.md",
        "meters/data/cpus.csv",
        "meters/data/gpus.csv",
        "embodied/data/embodied.csv",
        *(f"carbon/data/{table}" for table in ZONE_TABLES),
    ):
        assert root.joinpath(name).is_file(), name


# ------------------------------------------------------------------------------------------
# countries.csv


def test_countries_columns() -> None:
    header = (CARBON / "countries.csv").read_text("utf-8").splitlines()[0]
    assert header == ("iso3,iso2,name,intensity_g_per_kwh,unit,year,basis,kind,source,license")


@pytest.mark.parametrize(
    ("iso3", "iso2", "low", "high", "year"),
    [
        ("FRA", "FR", 40, 48, "2024"),
        ("IND", "IN", 690, 730, "2024"),
        ("USA", "US", 370, 400, "2024"),
        ("DEU", "DE", 250, 450, "2024"),
    ],
)
def test_known_country_values(countries, iso3, iso2, low, high, year) -> None:
    row = countries[iso3]
    assert row["iso2"] == iso2
    assert low <= float(row["intensity_g_per_kwh"]) <= high
    assert row["year"] == year


def test_world_row(countries) -> None:
    world = countries["WLD"]
    assert world["iso2"] == "" and world["name"] == "World"
    assert 400 <= float(world["intensity_g_per_kwh"]) <= 550


def test_aggregates_are_not_countries(countries) -> None:
    names = {row["name"] for row in countries.values()}
    assert not names & {"EU", "Africa", "G7", "OECD", "Europe", "Asia"}
    assert all(re.fullmatch(r"[A-Z]{3}", iso3) for iso3 in countries)


def test_every_country_row_is_complete(countries) -> None:
    assert len(countries) > 150
    iso2_seen: set[str] = set()
    for iso3, row in countries.items():
        assert re.fullmatch(r"[A-Z]{2}|", row["iso2"]), iso3
        if row["iso2"]:
            assert row["iso2"] not in iso2_seen, f"{row['iso2']} used twice"
            iso2_seen.add(row["iso2"])
        value = float(row["intensity_g_per_kwh"])
        assert 0 < value < 2000, iso3
        assert re.fullmatch(r"\d+\.\d\d", row["intensity_g_per_kwh"]), iso3
        assert row["unit"] == "gCO2e/kWh"
        assert 2015 <= int(row["year"]) <= 2030, iso3
        assert row["basis"] in {"lifecycle", "direct"}
        assert row["kind"] == "average"
        assert row["source"].strip() and row["license"].strip(), iso3
        assert row["name"].strip(), iso3


def test_countries_sorted(countries) -> None:
    assert list(countries) == sorted(countries)


# ------------------------------------------------------------------------------------------
# timezones.csv


@pytest.mark.parametrize(
    ("tz", "iso2"),
    [
        ("Europe/Paris", "FR"),
        ("Australia/Sydney", "AU"),
        ("America/New_York", "US"),
        ("Asia/Kolkata", "IN"),
        ("Asia/Calcutta", "IN"),  # link
        ("US/Eastern", "US"),  # link
        ("Europe/Kiev", "UA"),  # link
        ("Europe/Amsterdam", "NL"),  # in zone.tab, a link to Brussels in tzdata.zi
        ("Europe/Oslo", "NO"),  # in zone.tab, a link to Berlin in tzdata.zi
        ("Iceland", "IS"),  # legacy link whose compiled target is Africa/Abidjan
        ("Africa/Timbuktu", "ML"),
        ("Pacific/Yap", "FM"),
    ],
)
def test_timezone_country(timezones, tz, iso2) -> None:
    assert timezones[tz]["iso2"] == iso2


def test_timezones_skip_clock_names(timezones) -> None:
    for name in timezones:
        assert not name.startswith("Etc/"), name
    for name in ("UTC", "GMT", "UCT", "Zulu", "Universal", "Factory", "CET", "EST", "EST5EDT"):
        assert name not in timezones, name


def test_timezone_rows_are_complete(timezones) -> None:
    assert len(timezones) > 500
    for name, row in timezones.items():
        assert re.fullmatch(r"[A-Z]{2}", row["iso2"]), name
        assert row["source"].startswith("IANA tz database"), name
        assert row["license"] == "public domain", name
    assert list(timezones) == sorted(timezones)


# ------------------------------------------------------------------------------------------
# cpus.csv (more in tests/core/test_hardware.py)


@pytest.mark.parametrize(
    ("model", "tdp"),
    [
        ("AMD EPYC 7763", 280.0),
        ("AMD EPYC 9654", 360.0),
        ("Intel Xeon Platinum 8380", 270.0),
        ("Intel Core i9-13900K", 125.0),
    ],
)
def test_known_cpu_tdp(cpus, model, tdp) -> None:
    matches = [row for row in cpus if row["model"] == model]
    assert len(matches) == 1, model
    assert float(matches[0]["tdp_w"]) == tdp


def test_cpu_rows_are_complete(cpus) -> None:
    assert len(cpus) > 4000
    models = [row["model"] for row in cpus]
    assert len(models) == len(set(models))
    for row in cpus:
        model = row["model"]
        assert model == " ".join(model.split()) and "\u200b" not in model, repr(model)
        assert 1 <= float(row["tdp_w"]) <= 1000, model
        assert row["source"].strip() and row["license"].strip(), model


# ------------------------------------------------------------------------------------------
# DATA_LICENSES.md


def test_data_licenses_cover_each_table() -> None:
    text = (CARBON / "DATA_LICENSES.md").read_text("utf-8")
    for needle in (
        "## carbon/data/countries.csv",
        "## carbon/data/timezones.csv",
        "## meters/data/cpus.csv",
        "## meters/data/gpus.csv",
        "Ember – Yearly Electricity Data",
        "CC BY-SA 4.0",
        "co2.js",
        "Apache-2.0",
        "public domain",
        "MIT",
        "Code Carbon",
        "## carbon/data/zones.csv",
        "## carbon/data/hourly_profiles.csv",
        "## carbon/data/marginal.csv",
        "## carbon/data/timezone_zones.csv",
        "## carbon/data/cloud_regions.csv and carbon/data/cloud_providers.csv",
        "Open Database License (ODbL) 1.0",
        "Contains Electricity Maps data (https://www.electricitymaps.com)",
        "eGRID2023",
        "public domain",
        "CC BY 4.0",
        "Green Algorithms",
        "Google",
        "OPENCAST SOFTWARE EUROPE LIMITED",
        "Green Software Foundation",
        "says where the *city* is, not where the",
    ):
        assert needle in text, needle


# ------------------------------------------------------------------------------------------
# the build logic on a small synthetic shared folder (runs without the real data)


def _fake_shared(tmp_path: Path) -> Path:
    co2js = tmp_path / "co2js"
    co2js.mkdir()
    entries = {
        "FRA": {"country_code": "FRA", "country_or_region": "France", "year": 2024,
                "emissions_intensity_gco2_per_kwh": 44.18},
        "CYM": {"country_code": "CYM", "country_or_region": "Cayman Islands", "year": 2023,
                "emissions_intensity_gco2_per_kwh": 642.857},
        "ZZZ": {"country_code": "ZZZ", "country_or_region": "Nowhere", "year": 2022,
                "emissions_intensity_gco2_per_kwh": 550},
        "CAF": {"country_code": "CAF", "country_or_region": "Central African Republic",
                "year": 2022, "emissions_intensity_gco2_per_kwh": 0},
        "EU": {"country_code": "", "country_or_region": "EU", "year": 2024,
               "emissions_intensity_gco2_per_kwh": 213.02},
        "World": {"country_code": "", "country_or_region": "World", "year": 2024,
                  "emissions_intensity_gco2_per_kwh": 472.94},
    }  # fmt: skip
    (co2js / "average-intensities.json").write_text(json.dumps(entries), "utf-8")
    (co2js / "countries.csv").write_text(
        "ember_country_name,unfccc_country_name,country_code_iso_2,country_code_iso_3\n"
        "France,France,FR,FRA\n"
        "Cayman Islands (the),Canary Islands (Spain),KY,CYM\n"
        "Central African Republic (the),x,CF,CAF\n"
        ",Cayman Islands,CY,CYM\n"
        "EU,Memo: EU 27,,\n",
        "utf-8",
    )
    zoneinfo = tmp_path / "tzdata" / "zoneinfo"
    zoneinfo.mkdir(parents=True)
    (zoneinfo / "iso3166.tab").write_text(
        "# comment\nCI\tCôte d'Ivoire\nFR\tFrance\nIS\tIceland\nKY\tCayman Islands\n", "utf-8"
    )
    (zoneinfo / "zone.tab").write_text(
        "# comment\nCI\t+0519-00402\tAfrica/Abidjan\nFR\t+4852+00220\tEurope/Paris\n"
        "IS\t+6409-02151\tAtlantic/Reykjavik\n",
        "utf-8",
    )
    (zoneinfo / "tzdata.zi").write_text(
        "# version 2026f\nZ Africa/Abidjan -0:16:8 - LMT 1912\nZ Europe/Paris 0:9:21 - LMT\n"
        "Z Etc/UTC 0 - UTC\nZ EST5EDT -5 US E%sT\nL Africa/Abidjan Atlantic/Reykjavik\n"
        "L Africa/Abidjan Iceland\nL Etc/UTC UTC\nL Europe/Paris Europe/Monaco\n",
        "utf-8",
    )
    names = (
        "Africa/Abidjan Atlantic/Reykjavik EST5EDT Etc/UTC Europe/Monaco Europe/Paris Iceland UTC"
    )
    (tmp_path / "tzdata" / "zones").write_text("\n".join(names.split()) + "\n", "utf-8")
    return tmp_path


def test_countries_logic_on_fake_data(tmp_path) -> None:
    table = countries_module.build_countries(_fake_shared(tmp_path))
    rows = {r["iso3"]: r for r in csv.DictReader(io.StringIO(table.text))}
    assert list(rows) == ["CYM", "FRA", "WLD", "ZZZ"]  # EU skipped, CAF (zero) dropped
    assert rows["CYM"]["iso2"] == "KY"  # the conflicting ",CY,CYM" row loses
    assert rows["CYM"]["intensity_g_per_kwh"] == "642.86"
    assert rows["ZZZ"]["iso2"] == "" and rows["ZZZ"]["intensity_g_per_kwh"] == "550.00"
    assert rows["WLD"]["name"] == "World" and rows["WLD"]["iso2"] == ""
    notes = "\n".join(table.notes)
    assert "1 countries have no ISO2" in notes and "CAF" in notes and "CY, KY" in notes


def test_timezones_logic_on_fake_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(timezones_module, "LEGACY_SUCCESSORS", {"Iceland": "Atlantic/Reykjavik"})
    table = timezones_module.build_timezones(_fake_shared(tmp_path))
    rows = {r["tz_name"]: r["iso2"] for r in csv.DictReader(io.StringIO(table.text))}
    assert rows == {
        "Africa/Abidjan": "CI",
        "Atlantic/Reykjavik": "IS",  # its own zone.tab row wins over the link target
        "Europe/Monaco": "FR",  # link followed to its target
        "Europe/Paris": "FR",
        "Iceland": "IS",  # legacy successor, not Abidjan's CI
    }
    assert "IANA tz database 2026f via tzdata 2026.6" in table.text


def test_number_formats() -> None:
    assert common.fixed(550) == "550.00"
    assert common.fixed(44.175) in {"44.17", "44.18"}
    assert common.trimmed(280.0) == "280"
    assert common.trimmed(4.5) == "4.5"
    assert common.trimmed(12.25) == "12.25"
    assert timezones_module.pypi_tzdata_version("2026f") == "2026.6"
    assert parts.clean_model(" Intel\u00a0Atom  E625CT\u200b ") == "Intel Atom E625CT"


# ------------------------------------------------------------------------------------------
# the zone tables' build logic on small synthetic inputs


def test_parse_iso6709() -> None:
    lat, lon = zone_sources.parse_iso6709("+4852+00220")  # Paris
    assert lat == pytest.approx(48 + 52 / 60) and lon == pytest.approx(2 + 20 / 60)
    lat, lon = zone_sources.parse_iso6709("+404251-0740023")  # New York, with seconds
    assert lat == pytest.approx(40 + 42 / 60 + 51 / 3600)
    assert lon == pytest.approx(-(74 + 0 / 60 + 23 / 3600))
    with pytest.raises(ValueError):
        zone_sources.parse_iso6709("48N 2E")


def _square(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def test_zone_polygons(tmp_path: Path) -> None:
    features = [
        {  # a square with a hole in the middle, and an island to the east
            "properties": {"zoneName": "AA-1", "countryKey": "AA", "countryName": "A"},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [_square(0, 0, 10, 10), _square(4, 4, 6, 6)],
                    [_square(20, 0, 21, 1)],
                ],
            },
        },
        {
            "properties": {"zoneName": "AA-2", "countryKey": "AA", "countryName": "A"},
            "geometry": {"type": "Polygon", "coordinates": [_square(4, 4, 6, 6)]},
        },
    ]
    geo = tmp_path / "electricitymaps-contrib" / "geo"
    geo.mkdir(parents=True)
    (geo / "world.geojson").write_text(json.dumps({"features": features}), "utf-8")
    polygons = zone_sources.ZonePolygons(tmp_path)
    assert polygons.containing(1, 1) == [("AA-1", "AA")]
    assert polygons.containing(5, 5) == [("AA-2", "AA")]  # in the hole: the other zone
    assert polygons.containing(20.5, 0.5) == [("AA-1", "AA")]  # the island
    assert polygons.containing(15, 5) == []
    near = polygons.nearby(10.1, 5, 25)  # ~11 km east of AA-1's edge at the equator
    assert [k for _, k, _ in near] == ["AA-1"] and 10 < near[0][0] < 12
    assert polygons.nearby(15, 5, 25) == []


def test_egrid_state_rows(tmp_path: Path) -> None:
    folder = tmp_path / "codecarbon" / "private_infra" / "2023"
    folder.mkdir(parents=True)
    data = {
        "_unit": {"emissions": "lbs/MWh", "regionCode": "2 digit state/region code"},
        "_source": {"name": "EPA eGRID2023", "field": "STC2ERTA", "year": 2023},
        "california": {"emissions": 394.769, "regionCode": "CA"},
        "district of columbia": {"emissions": 100.0, "regionCode": "DC"},
        "puerto rico": {"emissions": 1500.0, "regionCode": "PR"},
        "usa": {"emissions": 770.884, "regionCode": "usa"},
    }
    (folder / "usa_emissions.json").write_text(json.dumps(data), "utf-8")
    rows, notes = zones.egrid_state_rows(tmp_path)
    by_key = {r["zone"]: r for r in rows}
    assert sorted(by_key) == ["US-STATE-CA", "US-STATE-DC", "US-STATE-PR"]
    assert by_key["US-STATE-CA"]["value"] == pytest.approx(179.06, abs=0.01)
    assert by_key["US-STATE-DC"]["name"] == "District of Columbia"
    assert by_key["US-STATE-PR"]["country_iso3"] == "PRI"
    assert all(r["basis"] == "direct" and r["year"] == 2023 for r in rows)
    assert "usa (usa)" in "\n".join(notes)


def test_hourly_profiles_use_local_time(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "sustain-cluster" / "data" / "carbon_intensity" / "JP-TK" / "2024"
    folder.mkdir(parents=True)
    header = (
        "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
        "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,"
        "Data Source,Data Estimated,Data Estimation Method\n"
    )
    lines = [  # Tokyo is UTC+9 all year: 15:00 UTC on 31 Jan is 00:00 on 1 Feb
        "2024-01-31 15:00:00,Japan,Tokyo,JP-TK,1,100.0,0,0,x,false,\n",
        "2024-01-31 14:00:00,Japan,Tokyo,JP-TK,1,300.0,0,0,x,true,\n",
        "2024-02-29 15:00:00,Japan,Tokyo,JP-TK,1,200.0,0,0,x,false,\n",
    ]
    (folder / "JP-TK_2024_hourly.csv").write_text(header + "".join(lines), "utf-8")
    monkeypatch.setattr(
        hourly, "read_zones_meta", lambda shared: {"JP-TK": {"timezone": "Asia/Tokyo"}}
    )
    monkeypatch.setattr(hourly, "canonical_tz", lambda shared: lambda name: name)
    profiles, _ = hourly.hourly_profiles(tmp_path)
    cells = profiles["JP-TK"]["cells"]
    assert cells[(2, 0)] == [100.0, 1, 0]
    assert cells[(1, 23)] == [300.0, 1, 1]
    assert cells[(3, 0)] == [200.0, 1, 0]
    assert profiles["JP-TK"]["samples"][(2, 0)] == [100.0]  # kept for the spread columns
    assert profiles["JP-TK"]["tz"] == "Asia/Tokyo" and profiles["JP-TK"]["years"] == {2024}


def test_marginal_logic_on_fake_data(tmp_path: Path) -> None:
    co2js = tmp_path / "co2js"
    co2js.mkdir()

    def entry(name: str, value: str, iso3: str) -> dict[str, str]:
        return {"Operating Margin Grid Emission": value, "country_code_iso_3": iso3}

    data = {
        "Canary Islands (Spain)": entry("Canary", "753", "CYM"),
        "Cayman Islands": entry("Cayman", "753", "CYM"),
        "Iceland": entry("Iceland", "0", "ISL"),
        "India": entry("India", "951", "IND"),
        "Memo:  EU 27": entry("EU", "409", ""),
    }
    (co2js / "marginal-intensities-2021.json").write_text(json.dumps(data), "utf-8")
    table = marginal.build_marginal(tmp_path)
    rows = {r["iso3"]: r for r in csv.DictReader(io.StringIO(table.text))}
    assert list(rows) == ["CYM", "IND", "ISL"]
    assert rows["ISL"]["operating_margin_g_per_kwh"] == "0"
    assert rows["IND"]["kind"] == "marginal" and rows["IND"]["basis"] == "direct"
    assert "Canary Islands" in "\n".join(table.notes)


def test_small_helpers() -> None:
    assert zones.title_name("district of columbia") == "District of Columbia"
    assert common.year_span([2024, 2023]) == "2023-2024"
    assert common.year_span([2021, 2023]) == "2021;2023"
    assert cloud.azure_code("Germany North (Public)") == "germanynorth"
    assert cloud.azure_code("South Africa North") == "southafricanorth"
    links = {"US/Pacific": "America/Los_Angeles", "Iceland": "Africa/Abidjan"}
    places = {"America/Los_Angeles", "Atlantic/Reykjavik", "Africa/Abidjan"}
    assert timezones_module.resolve_place("US/Pacific", places, links) == "America/Los_Angeles"
    assert timezones_module.resolve_place("Iceland", places, links) == "Atlantic/Reykjavik"


def test_hourly_spread_is_the_10th_and_90th_percentile() -> None:
    # 0..100 in steps of 10: the inclusive 10th percentile is 10, the 90th 90.
    assert common.decile_bounds([float(v) for v in range(0, 101, 10)]) == (10.0, 90.0)
    assert common.decile_bounds([5.0]) == (5.0, 5.0)
