"""The driver: every builder in order, then the license notes from the tables built before them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .cloud import build_cloud_providers, build_cloud_regions
from .common import Table
from .countries import build_countries
from .cpus import build_cpus
from .embodied import build_embodied
from .gpus import build_gpus
from .hourly import build_hourly_profiles
from .licenses import build_data_licenses
from .marginal import build_marginal
from .timezone_zones import build_timezone_zones
from .timezones import build_timezones
from .zone_mix import build_zone_mix
from .zones import build_zones

BUILDERS: list[Callable[[Path], Table]] = [
    build_countries,
    build_timezones,
    build_cpus,
    build_gpus,
    build_zones,
    build_zone_mix,
    build_hourly_profiles,
    build_marginal,
    build_timezone_zones,
    build_cloud_regions,
    build_cloud_providers,
    build_embodied,
]


def build_tables(shared: Path) -> dict[str, Table]:
    """Every table, keyed by its path relative to the repository root."""
    tables = {t.path: t for t in (builder(shared) for builder in BUILDERS)}
    licenses = build_data_licenses(shared, tables)
    tables[licenses.path] = licenses
    return tables


def build(shared: Path) -> dict[str, str]:
    """Relative output path (from the repository root) -> file text. Writes nothing."""
    return {path: table.text for path, table in build_tables(Path(shared)).items()}
