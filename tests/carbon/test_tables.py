"""The packaged zone, cloud-region, hourly, marginal and time-zone tables and their loaders."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint.carbon import tables

REPO = Path(__file__).resolve().parents[2]
# As in test_build_data: WATTPRINT_SHARED_DATA names the raw data where they are not beside the
# checkout.
SHARED = Path(os.environ.get("WATTPRINT_SHARED_DATA") or REPO.parent / "shared" / "data")
DATA = REPO / "src" / "wattprint" / "carbon" / "data"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"raw public data not found at {SHARED}"
)


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _complete(row: dict[str, str], *columns: str) -> None:
    for column in columns:
        assert row[column].strip(), (column, row)


# ------------------------------------------------------------------------------------------
# integrity of every table


def test_zones_rows_are_complete() -> None:
    rows = _rows("zones.csv")
    assert len(rows) > 350
    keys = [r["zone"] for r in rows]
    assert keys == sorted(keys) and len({k.upper() for k in keys}) == len(keys)
    for r in rows:
        _complete(r, "zone", "name", "country_iso3", "level", "unit", "year", "source", "license")
        assert re.fullmatch(r"[A-Z]{3}", r["country_iso3"]), r["zone"]
        assert 0 < float(r["intensity_g_per_kwh"]) < 1500, r["zone"]
        assert r["unit"] == "gCO2e/kWh"
        assert 2020 <= int(r["year"]) <= 2030
        assert r["kind"] == "average"
        if r["level"] == "us-state":
            assert r["basis"] == "direct" and r["zone"].startswith("US-STATE-")
            assert r["license"].startswith("public domain")
        else:
            assert r["basis"] == "lifecycle" and "ODbL 1.0" in r["license"]
        assert r["level"] in {"country", "country-aggregate", "subnational", "us-state"}
        if r["latitude"]:
            assert -90 <= float(r["latitude"]) <= 90 and -180 <= float(r["longitude"]) <= 180


def test_zone_timezones_are_places() -> None:
    known = {r["tz_name"] for r in _rows("timezones.csv")}
    for r in _rows("zones.csv"):
        if r["level"] != "us-state":
            assert r["tz"] in known, (r["zone"], r["tz"])
            assert not r["tz"].startswith("US/"), r["zone"]  # written as zone.tab names


def test_cloud_rows_are_complete() -> None:
    rows = _rows("cloud_regions.csv")
    zones = {r["zone"] for r in _rows("zones.csv")}
    assert len(rows) > 150
    keys = [(r["provider"], r["region"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for r in rows:
        _complete(r, "provider", "region", "country_iso3", "source", "license")
        assert r["provider"] == r["provider"].lower()
        assert re.fullmatch(r"[A-Z]{3}", r["country_iso3"]), r
        assert not r["zone"] or r["zone"] in zones, r
        if r["pue"]:
            assert 1.0 <= float(r["pue"]) <= 2.0, r
        if r["wue_l_per_kwh"]:
            assert 0 <= float(r["wue_l_per_kwh"]) <= 5, r
        if r["provider_intensity_g_per_kwh"]:
            assert 0 <= float(r["provider_intensity_g_per_kwh"]) < 1500, r
            assert 0 <= float(r["provider_cfe_pct"]) <= 100, r
            assert r["provider_year"] == "2024"
    by_provider: dict[str, int] = {}
    for r in rows:
        by_provider[r["provider"]] = by_provider.get(r["provider"], 0) + 1
    assert by_provider["aws"] >= 30 and by_provider["azure"] >= 50 and by_provider["gcp"] >= 40
    assert by_provider["ovh"] >= 10


def test_cloud_provider_rows() -> None:
    rows = {r["provider"]: r for r in _rows("cloud_providers.csv")}
    assert {"aws", "azure", "gcp", "ovh"} <= set(rows)
    for provider in ("aws", "azure", "gcp"):
        assert 1.0 <= float(rows[provider]["pue"]) <= 2.0
        assert 0 <= float(rows[provider]["wue_l_per_kwh"]) <= 5
        _complete(rows[provider], "source", "license")


def test_hourly_rows_are_complete() -> None:
    rows = _rows("hourly_profiles.csv")
    zones = {r["zone"]: r for r in _rows("zones.csv")}
    per_zone: dict[str, set[int]] = {}
    for r in rows:
        _complete(r, "zone", "unit", "years", "tz", "basis", "source", "license", "samples")
        for hour in range(24):
            value = r[f"h{hour:02d}"]
            assert 0 < float(value) < 1500, r
            assert re.fullmatch(r"\d+\.\d", value), r
            # The spread of the hours behind the mean brackets it, and is a real spread.
            low, high = float(r[f"p10_h{hour:02d}"]), float(r[f"p90_h{hour:02d}"])
            assert 0 <= low <= float(value) <= high < 2000, (r["zone"], r["month"], hour)
        assert int(r["samples"]) >= 24 * 20, r  # two years of a month, give or take DST
        assert 0 <= float(r["estimated_pct"]) <= 100
        assert r["basis"] == "lifecycle" and r["license"] == "ODbL 1.0"
        assert r["unit"] == "gCO2e/kWh"
        assert r["tz"] == zones[r["zone"]]["tz"], r["zone"]
        per_zone.setdefault(r["zone"], set()).add(int(r["month"]))
    assert len(per_zone) >= 10
    for zone, months in per_zone.items():
        assert months == set(range(1, 13)), zone


def test_marginal_rows_are_complete() -> None:
    rows = _rows("marginal.csv")
    assert len(rows) > 200
    assert [r["iso3"] for r in rows] == sorted({r["iso3"] for r in rows})
    for r in rows:
        _complete(r, "iso3", "unit", "year", "source", "license")
        assert re.fullmatch(r"[A-Z]{3}", r["iso3"])
        # IFI operating margins run to ~1600 (Zimbabwe 1575); 0 is the source's for hydro grids.
        assert 0 <= float(r["operating_margin_g_per_kwh"]) < 1700, r
        assert (r["unit"], r["year"], r["basis"], r["kind"]) == (
            "gCO2/kWh",
            "2021",
            "direct",
            "marginal",
        )


def test_timezone_zone_rows() -> None:
    rows = _rows("timezone_zones.csv")
    zones = {r["zone"]: r for r in _rows("zones.csv")}
    countries = {r["tz_name"]: r["iso2"] for r in _rows("timezones.csv")}
    assert len(rows) > 30
    for r in rows:
        _complete(r, "tz_name", "zone", "source", "license")
        assert r["zone"] in zones, r
        assert countries[r["tz_name"]] == r["iso2"], r
        assert zones[r["zone"]]["level"] in {"subnational", "country"}, r
        assert int(r["country_timezones"]) >= 1


# ------------------------------------------------------------------------------------------
# values equal their sources


@needs_shared
@pytest.mark.parametrize("key", ["FR", "DE", "US-CAL-CISO", "AU-NSW", "IN-WE", "CA-ON"])
def test_zone_is_latest_electricity_maps_value(key: str) -> None:
    latest = None
    for path in sorted((SHARED / "co2js" / "electricity-maps").glob("yearly_*.json")):
        data = json.loads(path.read_text("utf-8"))
        if key in data:
            latest = (int(path.stem.split("_")[1]), data[key]["carbonIntensity"]["value"])
    z = tables.zone(key)
    assert z is not None and latest is not None
    assert (z.year, z.intensity_g_per_kwh) == (latest[0], float(latest[1]))


@needs_shared
def test_egrid_conversion_matches_source() -> None:
    raw = json.loads((SHARED / "codecarbon/private_infra/2023/usa_emissions.json").read_text())
    ca = tables.zone("US-STATE-CA")
    assert ca is not None
    assert ca.intensity_g_per_kwh == pytest.approx(raw["california"]["emissions"] * 0.453592, 0.01)
    assert 175 <= ca.intensity_g_per_kwh <= 185  # 394.769 lb/MWh
    assert (ca.year, ca.basis, ca.country) == (2023, "direct", "USA")


@needs_shared
def test_gcp_values_match_google() -> None:
    with (SHARED / "google-region-carbon-info/data/yearly/2024.csv").open(encoding="utf-8") as fh:
        google = {r["Google Cloud Region"]: r for r in csv.DictReader(fh)}
    for code in ("europe-west1", "us-central1", "asia-south1"):
        region = tables.cloud_region("gcp", code)
        assert region is not None
        row = google[code]
        assert region.provider_intensity_g_per_kwh == pytest.approx(
            float(row["Grid carbon intensity (gCO2eq / kWh)"])
        )
        assert region.provider_cfe_pct == pytest.approx(100 * float(row["Google CFE"]))


@needs_shared
def test_marginal_matches_source() -> None:
    raw = json.loads((SHARED / "co2js/marginal-intensities-2021.json").read_text("utf-8"))
    for name, iso3 in (("India", "IND"), ("France", "FRA"), ("Cayman Islands", "CYM")):
        factor = tables.marginal(iso3)
        assert factor is not None
        assert factor.g_per_kwh == float(raw[name]["Operating Margin Grid Emission"])


@needs_shared
def test_cloud_locations_match_data_centers_file() -> None:
    path = SHARED / "electricitymaps-contrib/config/data_centers/data_centers.json"
    centres = json.loads(path.read_text("utf-8"))
    for key in ("aws-us-east-1", "azure-westeurope", "gcp-europe-west4"):
        item = centres[key]
        region = tables.cloud_region(item["provider"], item["region"])
        assert region is not None and region.zone == item["zoneKey"]
        assert region.longitude == pytest.approx(item["lonlat"][0], abs=1e-4)
        assert region.latitude == pytest.approx(item["lonlat"][1], abs=1e-4)


# ------------------------------------------------------------------------------------------
# loaders


def test_zone_lookup_is_case_insensitive() -> None:
    fr = tables.zone("fr")
    assert fr is not None and fr is tables.zone("FR") and fr is tables.zone(" Fr ")
    assert (fr.country, fr.basis, fr.kind, fr.tz, fr.level) == (
        "FRA",
        "lifecycle",
        "average",
        "Europe/Paris",
        "country",
    )
    assert tables.zone("us-cal-ciso").key == "US-CAL-CISO"  # type: ignore[union-attr]
    assert tables.zone("us-state-ca").key == "US-STATE-CA"  # type: ignore[union-attr]
    assert tables.zone("NOWHERE") is None
    assert len(tables.zones()) == len(_rows("zones.csv"))


def test_zone_for_country() -> None:
    assert tables.zone_for_country("FRA").key == "FR"  # type: ignore[union-attr]
    assert tables.zone_for_country("fra").key == "FR"  # type: ignore[union-attr]
    us = tables.zone_for_country("USA")
    assert us is not None and us.key == "US" and us.level == "country-aggregate"
    assert tables.zone_for_country("XXX") is None


@pytest.mark.parametrize(
    ("lat", "lon", "key"),
    [
        (48.8566, 2.3522, "FR"),  # Paris
        (52.52, 13.405, "DE"),  # Berlin
        (-33.87, 151.21, "AU-NSW"),  # Sydney
        (35.68, 139.69, "JP-TK"),  # Tokyo
    ],
)
def test_nearest_zone(lat: float, lon: float, key: str) -> None:
    z = tables.nearest_zone(lat, lon)
    assert z is not None and z.key == key


def test_nearest_zone_skips_aggregates_and_rejects_bad_coordinates() -> None:
    assert tables.nearest_zone(39.8, -98.6).level != "country-aggregate"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="latitude"):
        tables.nearest_zone(123.0, 0.0)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("AWS", "aws"),
        ("amazon", "aws"),
        ("Amazon Web Services", "aws"),
        ("Google", "gcp"),
        ("gcp", "gcp"),
        ("GCP", "gcp"),
        ("google_cloud", "gcp"),
        ("azure", "azure"),
        ("Microsoft", "azure"),
        ("OVHcloud", "ovh"),
        ("scaleway", "scaleway"),
        ("IBM", None),
    ],
)
def test_normalise_provider(name: str, key: str | None) -> None:
    assert tables.normalise_provider(name) == key


def test_cloud_region_aws() -> None:
    region = tables.cloud_region("aws", "us-east-1")
    assert region is not None
    assert region.country == "USA" and region.zone == "US-MIDA-PJM"
    assert tables.zone(region.zone) is not None
    assert region.pue == 1.135 and region.wue_l_per_kwh == 0.18
    assert region.provider_intensity_g_per_kwh is None
    assert tables.cloud_region("AMAZON", "US-EAST-1") is region
    assert tables.cloud_region("aws", "us_east_1") is region


def test_cloud_region_gcp_has_provider_figures() -> None:
    region = tables.cloud_region("Google", "europe-west1")
    assert region is not None
    assert region.country == "BEL" and region.zone == "BE"
    assert region.provider_intensity_g_per_kwh is not None
    assert region.provider_cfe_pct is not None and 0 <= region.provider_cfe_pct <= 100
    assert region.provider_year == 2024
    assert region.pue is not None and 1.0 <= region.pue < 1.2


def test_cloud_region_aliases() -> None:
    east = tables.cloud_region("Microsoft", "East US")
    assert east is not None and east.region == "eastus"
    gra = tables.cloud_region("ovh", "fr-gravelines")  # electricitymaps-contrib's site key
    assert gra is not None and gra.region == "eu-west-gra" and gra.country == "FRA"
    assert tables.cloud_region("ovhcloud", "eu-west-gra-snc") is gra
    assert tables.cloud_region("aws", "mars-north-1") is None
    assert tables.cloud_region("ibm", "us-south") is None


def test_cloud_regions_by_provider() -> None:
    aws = tables.cloud_regions("AWS")
    assert aws and all(r.provider == "aws" for r in aws)
    assert len(tables.cloud_regions()) == len(_rows("cloud_regions.csv"))
    assert tables.cloud_regions("nobody") == []


def test_provider_defaults() -> None:
    pue, wue, source = tables.provider_defaults("Azure")
    assert pue == 1.185 and wue == 0.49 and "Cloud Carbon Footprint" in source
    assert tables.provider_defaults("gcp")[0] == 1.1
    assert tables.provider_defaults("ovh")[0] == 1.09
    assert tables.provider_defaults("unknown") == (None, None, "")


def test_hourly_profile() -> None:
    profile = tables.hourly_profile("us-cal-ciso")
    assert profile is not None and profile.zone == "US-CAL-CISO"
    assert profile.tz == "America/Los_Angeles"
    assert len(profile.values) == 12 and all(len(month) == 24 for month in profile.values)
    assert profile.at(7, 13) == profile.values[6][13]
    # California's solar: midday is cleaner than the evening peak, every month.
    for month in range(1, 13):
        assert profile.at(month, 13) < profile.at(month, 20)  # type: ignore[operator]
    assert profile.basis == "lifecycle" and profile.license == "ODbL 1.0"
    assert profile.years == "2023-2024"
    with pytest.raises(ValueError):
        profile.at(13, 0)
    assert tables.hourly_profile("FR") is None
    assert "GB" in tables.hourly_zones()
    assert tables.hourly_profile("IN-WE").estimated_pct == 100.0  # type: ignore[union-attr]


def test_hourly_profile_spread() -> None:
    profile = tables.hourly_profile("DE")
    assert profile is not None
    low, high = profile.spread(1, 12)  # type: ignore[misc]
    assert low < profile.at(1, 12) < high  # type: ignore[operator]
    # A month of wind and calm: German winter days differ by far more than a few percent.
    assert high - low > 0.2 * profile.at(1, 12)  # type: ignore[operator]
    with pytest.raises(ValueError):
        profile.spread(0, 12)


def test_marginal_loader() -> None:
    india = tables.marginal("IND")
    assert india is not None and india.g_per_kwh > 700 and india.year == 2021
    assert india.basis == "direct" and india.license == "CC BY-SA 4.0"
    assert tables.marginal("ind") is india
    assert tables.marginal("ZZZ") is None


@pytest.mark.parametrize(
    ("tz", "zone"),
    [
        ("Australia/Sydney", "AU-NSW"),
        ("Australia/Melbourne", "AU-VIC"),
        ("Australia/NSW", "AU-NSW"),  # a link follows its target
        ("America/Vancouver", "CA-BC"),
        ("America/Winnipeg", "CA-MB"),
    ],
)
def test_zone_for_timezone(tz: str, zone: str) -> None:
    assert tables.zone_for_timezone(tz) == zone


@pytest.mark.parametrize(
    "tz",
    [
        "America/Toronto",  # Ontario and Quebec keep the same clock
        "America/Los_Angeles",  # California, Oregon, Washington, Nevada: many zones
        "US/Pacific",
        "America/New_York",
        "Asia/Tokyo",  # all of Japan's zones
        "Europe/Oslo",
        "Europe/Rome",
        "Europe/Berlin",  # single-zone country: the country says it all
        "UTC",
        "America/Montreal",  # a link to Toronto's rules
    ],
)
def test_a_timezone_shared_by_several_zones_pins_none(tz: str) -> None:
    assert tables.zone_for_timezone(tz) is None


# ------------------------------------------------------------------------------------------
# lazy and fast


def test_import_reads_no_table() -> None:
    code = (
        "import pathlib\n"
        "opened = []\n"
        "real = pathlib.Path.read_text\n"
        "def spy(self, *args, **kwargs):\n"
        "    opened.append(self.name)\n"
        "    return real(self, *args, **kwargs)\n"
        "pathlib.Path.read_text = spy\n"
        "import wattprint.carbon.tables as t\n"
        "assert not [n for n in opened if n.endswith('.csv')], opened\n"
        "t.zone('FR')\n"
        "assert [n for n in opened if n.endswith('.csv')] == ['zones.csv'], opened\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------
# embodied/data/embodied.csv

EMBODIED_UNITS = {
    "server": "kgCO2e/server",
    "gpu": "kgCO2e/gpu",
    "cloud": "kgCO2e/instance",
}


def test_embodied_rows_are_complete_and_bounded() -> None:
    path = REPO / "src" / "wattprint" / "embodied" / "data" / "embodied.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    kinds = {r["kind"] for r in rows}
    assert kinds == {"factor", "server", "gpu", "cloud"}
    keys = [(r["kind"], r["key"]) for r in rows]
    assert len(keys) == len(set(keys)), "a key twice"
    for r in rows:
        _complete(r, "key", "unit", "source", "year", "license", "detail")
        value, low, high = float(r["value"]), float(r["low"]), float(r["high"])
        assert 0 < low <= value <= high, r
        if r["kind"] in EMBODIED_UNITS:
            assert r["unit"] == EMBODIED_UNITS[r["kind"]], r
        if r["kind"] == "cloud":
            assert r["license"] == "Apache-2.0" and r["key"].split(":")[0] in (
                "aws",
                "azure",
                "gcp",
            )
            host, share = re.fullmatch(
                r"host ([\d.]+) kgCO2e x ([\d.]+) of its vCPUs", r["detail"]
            ).groups()
            assert 0 < float(share) <= 1 and value == pytest.approx(
                float(host) * float(share), rel=2e-3
            )
        else:
            assert "AGPL" in r["license"] and "facts" in r["license"], r  # facts only
    providers = {r["key"].split(":")[0] for r in rows if r["kind"] == "cloud"}
    assert providers == {"aws", "azure", "gcp"}
    assert ("server", "dellR740") in keys and ("gpu", "DEFAULT") in keys
    assert sum(1 for k, _ in keys if k == "cloud") > 1000


def test_embodied_licenses_are_stated() -> None:
    text = (DATA / "DATA_LICENSES.md").read_text(encoding="utf-8")
    section = text.split("## embodied/data/embodied.csv", 1)[1]
    assert "Boavizta" in section and "AGPL-3.0" in section and "facts" in section
    assert "Cloud Carbon Footprint" in section and "Apache-2.0" in section
