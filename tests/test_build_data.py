"""Tests for tools/build_data.py and the packaged tables it writes."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import sys
from importlib import resources
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
CARBON = REPO / "src" / "wattprint" / "carbon" / "data"
METERS = REPO / "src" / "wattprint" / "meters" / "data"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"raw public data not found at {SHARED}; the byte-for-byte check needs it",
)


def _load_build_data():
    spec = importlib.util.spec_from_file_location("build_data", REPO / "tools" / "build_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


build_data = _load_build_data()


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
    return _rows(METERS / "cpu_tdp.csv")


# ------------------------------------------------------------------------------------------
# the committed tables are exactly what the script builds


@needs_shared
def test_build_reproduces_committed_files() -> None:
    built = build_data.build(SHARED)
    assert sorted(built) == [
        "src/wattprint/carbon/data/DATA_LICENSES.md",
        "src/wattprint/carbon/data/countries.csv",
        "src/wattprint/carbon/data/timezones.csv",
        "src/wattprint/meters/data/cpu_tdp.csv",
    ]
    for path, text in built.items():
        committed = (REPO / path).read_bytes()
        assert committed == text.encode("utf-8"), f"{path} is stale: run tools/build_data.py"


@needs_shared
def test_build_is_deterministic() -> None:
    assert build_data.build(SHARED) == build_data.build(SHARED)


@needs_shared
def test_crosscheck_summary() -> None:
    summary = build_data.crosscheck(SHARED)
    assert "vs codecarbon" in summary and "vs carbontracker" in summary
    assert ">20%" in summary


def test_tables_are_utf8_with_unix_newlines() -> None:
    for path in (CARBON / "countries.csv", CARBON / "timezones.csv", METERS / "cpu_tdp.csv"):
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
        "meters/data/cpu_tdp.csv",
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
# cpu_tdp.csv


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
        assert 0 < float(row["tdp_w"]) <= 1000, model
        assert row["source"].strip() and row["license"].strip(), model


# ------------------------------------------------------------------------------------------
# DATA_LICENSES.md


def test_data_licenses_cover_each_table() -> None:
    text = (CARBON / "DATA_LICENSES.md").read_text("utf-8")
    for needle in (
        "## carbon/data/countries.csv",
        "## carbon/data/timezones.csv",
        "## meters/data/cpu_tdp.csv",
        "Ember – Yearly Electricity Data",
        "CC BY-SA 4.0",
        "co2.js",
        "Apache-2.0",
        "public domain",
        "MIT",
        "Code Carbon",
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
    table = build_data.build_countries(_fake_shared(tmp_path))
    rows = {r["iso3"]: r for r in csv.DictReader(io.StringIO(table.text))}
    assert list(rows) == ["CYM", "FRA", "WLD", "ZZZ"]  # EU skipped, CAF (zero) dropped
    assert rows["CYM"]["iso2"] == "KY"  # the conflicting ",CY,CYM" row loses
    assert rows["CYM"]["intensity_g_per_kwh"] == "642.86"
    assert rows["ZZZ"]["iso2"] == "" and rows["ZZZ"]["intensity_g_per_kwh"] == "550.00"
    assert rows["WLD"]["name"] == "World" and rows["WLD"]["iso2"] == ""
    notes = "\n".join(table.notes)
    assert "1 countries have no ISO2" in notes and "CAF" in notes and "CY, KY" in notes


def test_timezones_logic_on_fake_data(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(build_data, "LEGACY_SUCCESSORS", {"Iceland": "Atlantic/Reykjavik"})
    table = build_data.build_timezones(_fake_shared(tmp_path))
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
    assert build_data.fixed(550) == "550.00"
    assert build_data.fixed(44.175) in {"44.17", "44.18"}
    assert build_data.trimmed(280.0) == "280"
    assert build_data.trimmed(4.5) == "4.5"
    assert build_data.trimmed(12.25) == "12.25"
    assert build_data.pypi_tzdata_version("2026f") == "2026.6"
    assert build_data.clean_model(" Intel\u00a0Atom  E625CT\u200b ") == "Intel Atom E625CT"
