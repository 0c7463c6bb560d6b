"""``carbon/data/timezones.csv``: IANA time zone (and link) name to ISO 3166 country, from
``zone.tab`` and ``tzdata.zi``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .common import CARBON_DATA, Table, csv_text, read_csv, require

# POSIX-style and abbreviation names: they name a clock, not a place (CET links to
# Europe/Brussels, EST to America/Panama, but neither means Belgium or Panama).
POSIX_STYLE = frozenset(
    {"CET", "CST6CDT", "EET", "EST", "EST5EDT", "HST", "MET", "MST", "MST7MDT", "PST8PDT", "WET"}
)

# Legacy link names whose compiled target (tzdata.zi merges zones that share a clock since
# 1970) is a zone in another country, mapped to the zone.tab name of the place they stand for.
# Evidence: the zone.tab comment of the successor, or tz's `backward` file (`#=` notes and
# the link targets before the 2022 merges).
LEGACY_SUCCESSORS = {
    "Africa/Asmera": "Africa/Asmara",  # old spelling; backward linked it to Asmara (ER)
    "Africa/Timbuktu": "Africa/Bamako",  # Timbuktu is in Mali; backward linked it to Bamako
    "America/Coral_Harbour": "America/Atikokan",  # zone.tab: "EST - ON (Atikokan), NU (Coral H)"
    "America/Virgin": "America/St_Thomas",  # US Virgin Islands; backward linked St_Thomas
    "Antarctica/South_Pole": "Antarctica/McMurdo",  # zone.tab: "... McMurdo, South Pole"
    "Atlantic/Jan_Mayen": "Arctic/Longyearbyen",  # ISO 3166 SJ, "Svalbard & Jan Mayen"
    # backward: "Link Africa/Abidjan Iceland #= Atlantic/Reykjavik"
    "Iceland": "Atlantic/Reykjavik",
    "Pacific/Ponape": "Pacific/Pohnpei",  # zone.tab: "Pohnpei/Ponape"
    "Pacific/Truk": "Pacific/Chuuk",  # zone.tab: "Chuuk/Truk, Yap"
    "Pacific/Yap": "Pacific/Chuuk",  # zone.tab: "Chuuk/Truk, Yap"
}


def read_iso3166(shared: Path) -> dict[str, str]:
    codes = {}
    for line in require(shared, "tzdata/zoneinfo/iso3166.tab").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t", 1)
            codes[code] = name
    return codes


def read_zone_tab(shared: Path) -> dict[str, str]:
    """zone.tab: zone name -> ISO2 (one country per zone)."""
    zones = {}
    for line in require(shared, "tzdata/zoneinfo/zone.tab").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            zones[fields[2]] = fields[0]
    return zones


def read_tzdata_zi(shared: Path) -> tuple[str, set[str], dict[str, str]]:
    """tzdata.zi: (IANA release, zone names, link name -> target)."""
    version = ""
    zones: set[str] = set()
    links: dict[str, str] = {}
    for line in require(shared, "tzdata/zoneinfo/tzdata.zi").read_text("utf-8").splitlines():
        if line.startswith("# version "):
            version = line.split()[2]
        fields = line.split()
        if fields and fields[0] == "Z":
            zones.add(fields[1])
        elif fields and fields[0] == "L":
            links[fields[2]] = fields[1]
    if not re.fullmatch(r"\d{4}[a-z]", version):
        raise ValueError(f"tzdata.zi has no usable '# version' line (got {version!r})")
    return version, zones, links


def pypi_tzdata_version(release: str) -> str:
    """The PyPI ``tzdata`` version for an IANA release: ``2026f`` -> ``2026.6``."""
    return f"{release[:4]}.{ord(release[4]) - ord('a') + 1}"


def resolve_place(name: str, places: Iterable[str], links: dict[str, str]) -> str:
    """The ``zone.tab`` name a tz name stands for: itself if listed, else along its links.

    A legacy name in ``LEGACY_SUCCESSORS`` starts from its successor, not the merged zone.
    Returns the last name reached (not in ``places`` when the chain ends elsewhere).
    """
    place = LEGACY_SUCCESSORS.get(name, name)
    seen = set()
    while place not in places and place in links and place not in seen:
        seen.add(place)
        place = links[place]
    return place


def timezone_countries(shared: Path) -> tuple[str, dict[str, str], list[str]]:
    """(IANA release, tz name -> ISO2, notes)."""
    release, zones, links = read_tzdata_zi(shared)
    zone_tab = read_zone_tab(shared)
    iso3166 = read_iso3166(shared)
    for name, successor in LEGACY_SUCCESSORS.items():
        if name not in links or successor not in zone_tab:
            raise ValueError(f"LEGACY_SUCCESSORS entry {name} -> {successor} no longer fits tzdata")
    names = zones | set(links) | set(zone_tab)
    listed = require(shared, "tzdata/zones").read_text("utf-8").split()
    mapping: dict[str, str] = {}
    skipped: dict[str, list[str]] = {"clock": [], "no country": []}
    for name in sorted(names):
        if name in POSIX_STYLE:
            skipped["clock"].append(name)
            continue
        country = zone_tab.get(resolve_place(name, zone_tab, links))
        if country is None:
            skipped["no country"].append(name)
            continue
        if country not in iso3166:
            raise ValueError(f"{name} maps to {country}, which is not in iso3166.tab")
        mapping[name] = country
    notes = [
        f"{len(names)} names ({len(zones)} zones, {len(links)} links); tzdata/zones lists "
        f"{len(listed)}" + ("" if set(listed) == names else " (a different set!)"),
        f"skipped clock names: {' '.join(skipped['clock'])}",
        f"skipped names with no country (UTC/GMT/Etc/Factory): {len(skipped['no country'])}",
        "legacy links mapped to their own place, not the merged zone: "
        + ", ".join(f"{k}->{mapping[k]}" for k in sorted(LEGACY_SUCCESSORS)),
    ]
    notes.extend(compare_tz_derived(shared, mapping))
    return release, mapping, notes


def compare_tz_derived(shared: Path, mapping: dict[str, str]) -> list[str]:
    """Differences from shared/data/derived/tz_to_country.csv (a note, not a failure)."""
    path = shared / "derived" / "tz_to_country.csv"
    if not path.is_file():
        return []
    derived = {r["tz_name"]: r["country_code"] for r in read_csv(path) if r["country_code"]}
    diffs = [
        f"{name}: {derived.get(name, '-')} -> {mapping.get(name, '-')}"
        for name in sorted(set(derived) | set(mapping))
        if derived.get(name) != mapping.get(name)
    ]
    return [f"differences from derived/tz_to_country.csv ({len(diffs)}): " + "; ".join(diffs)]


def build_timezones(shared: Path) -> Table:
    release, mapping, notes = timezone_countries(shared)
    pypi = pypi_tzdata_version(release)
    source = f"IANA tz database {release} via tzdata {pypi} (zone.tab, links)"
    body = [(name, iso2, source, "public domain") for name, iso2 in sorted(mapping.items())]
    text = csv_text(("tz_name", "iso2", "source", "license"), body)
    return Table(f"{CARBON_DATA}/timezones.csv", text, len(body), notes)
