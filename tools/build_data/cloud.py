"""``carbon/data/cloud_regions.csv`` and ``cloud_providers.csv``: cloud regions with location,
grid zone, PUE, WUE (and Google's own intensity), and each provider's fleet figures."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    CARBON_DATA,
    CCF_DIR,
    CODECARBON_VERSION,
    FACTS,
    Table,
    csv_text,
    read_csv,
    read_ga,
    require,
    trimmed,
)
from .zone_sources import EM_CONTRIB, ZonePolygons, iso3_by_iso2, read_zones_meta
from .zones import EGRID_FILE, em_zone_rows

DATA_CENTERS_FILE = "electricitymaps-contrib/config/data_centers/data_centers.json"
BOAVIZTA_REGIONS_FILE = "boaviztapi/data/archetypes/cloud/regions.csv"
GOOGLE_YEAR = 2024
GOOGLE_FILE = f"google-region-carbon-info/data/yearly/{GOOGLE_YEAR}.csv"
GA_DATACENTERS_FILE = "green-algorithms/data/latest/cloudProviders_datacenters.csv"
GA_PUE_FILE = "green-algorithms/data/latest/defaults_PUE.csv"
CODECARBON_CLOUD_FILE = "codecarbon/cloud/impact.csv"
CASDK_AZURE_FILE = (
    "carbon-aware-sdk/src/CarbonAware.Tools/CarbonAware.Tools.AzureRegionTestDataGenerator/"
    "azure-regions.json"
)
CASDK_AWS_FILE = "carbon-aware-sdk/src/data/data-files/aws-regions.json"
WUE_FILE = "opencast-water-cloud/src/lib/water-cloud/cloud-wue.json"

# Each source as (label, license) for the source and license columns.
CLOUD_SOURCES = {
    "em": (f"{EM_CONTRIB} data_centers.json", f"{FACTS} ({EM_CONTRIB}, AGPL-3.0 repo)"),
    "polygon": (
        f"point in {EM_CONTRIB} zone polygon",
        f"{FACTS} ({EM_CONTRIB}, AGPL-3.0 repo)",
    ),
    "country-zone": ("the country's only Electricity Maps zone", FACTS),
    "egrid-state": ("the US state's eGRID zone", FACTS),
    "boavizta": ("boaviztapi regions.csv", f"{FACTS} (boaviztapi, AGPL-3.0 repo)"),
    "google": (f"Google region-carbon-info {GOOGLE_YEAR}", "Apache-2.0"),
    "ga": ("Green Algorithms cloudProviders_datacenters.csv", "CC BY 4.0"),
    "ga-default": ("Green Algorithms defaults_PUE.csv", "CC BY 4.0"),
    "codecarbon": (f"CodeCarbon {CODECARBON_VERSION} cloud/impact.csv", "MIT"),
    "casdk": ("Carbon Aware SDK azure-regions.json", "MIT"),
    "casdk-aws": ("Carbon Aware SDK aws-regions.json", "MIT"),
    "ccf": ("Cloud Carbon Footprint constants", "Apache-2.0"),
    "opencast": ("Opencast water-cloud cloud-wue.json", "MIT"),
}
PROVIDER_NAMES = {
    "alibaba": "Alibaba Cloud",
    "aws": "Amazon Web Services",
    "azure": "Microsoft Azure",
    "gcp": "Google Cloud",
    "hlrs": "HLRS (High-Performance Computing Center Stuttgart)",
    "itenos": "itenos",
    "oracle": "Oracle Cloud",
    "ovh": "OVHcloud",
    "scaleway": "Scaleway",
}
# Provider spellings in the sources -> our keys.
PROVIDER_KEYS = {
    "aws": "aws",
    "azure": "azure",
    "gcp": "gcp",
    "ovh": "ovh",
    "ovhcloud": "ovh",
    "scaleway": "scaleway",
    "oracle": "oracle",
    "hlrs": "hlrs",
    "itenos": "itenos",
}
# OVHcloud location codes (the last part of codes such as eu-west-gra) -> the site key
# electricitymaps-contrib uses. GRA Gravelines, SBG Strasbourg, RBX Roubaix, PAR Paris,
# LIM Limburg (OVHcloud's Frankfurt region), ERI Erith (London), WAW Warsaw, VIN Vint Hill,
# HIL Hillsboro, BHS Beauharnois, TOR Toronto, SGP Singapore, SYD Sydney, MUM Mumbai.
OVH_SITES = {
    "bhs": "ca-beauharnois",
    "eri": "gb-london",
    "gra": "fr-gravelines",
    "hil": "us-hillsboro",
    "lim": "de-frankfurt",
    "mum": "in-mumbai",
    "par": "fr-paris",
    "rbx": "fr-roubaix",
    "sbg": "fr-strasbourg",
    "sgp": "sg-singapore",
    "syd": "au-sydney",
    "tor": "ca-toronto",
    "vin": "us-vint_hill",
    "waw": "pl-warsaw",
}
# Azure geography groups (Azure CLI) -> the groups Opencast gives a WUE for.
AZURE_WUE_GROUPS = {
    "US": "Americas",
    "Canada": "Americas",
    "South America": "Americas",
    "Mexico": "Americas",
    "Asia Pacific": "Asia Pacific",
    "Europe": "EMEA",
    "Africa": "EMEA",
    "Middle East": "EMEA",
}
# Fallback from the Electricity Maps region of the region's country; the Middle East is
# under "Asia" there but in Azure's EMEA.
EM_REGION_WUE_GROUPS = {
    "Americas": "Americas",
    "Europe": "EMEA",
    "Africa": "EMEA",
    "Asia": "Asia Pacific",
    "Oceania": "Asia Pacific",
}
MIDDLE_EAST_ISO3 = frozenset({"ARE", "BHR", "ISR", "JOR", "KWT", "OMN", "QAT", "SAU"})


@dataclass
class RegionFacts:
    provider: str
    region: str
    aliases: set[str] = field(default_factory=set)
    values: dict[str, object] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # field -> source key

    def set(self, name: str, value: object, source: str) -> bool:
        """Set a field unless an earlier (preferred) source already did."""
        if value in (None, "") or name in self.values:
            return False
        self.values[name] = value
        self.origin[name] = source
        return True

    def get(self, name: str, default: object = None) -> object:
        return self.values.get(name, default)


def azure_code(name: str) -> str:
    """Azure display name -> region code: ``Germany North (Public)`` -> ``germanynorth``."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\(.*?\)", "", name).lower())


def read_ts_pue(shared: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """CCF's PUE_AVG per provider and PUE_TRAILING_TWELVE_MONTH per GCP region code."""
    averages: dict[str, float] = {}
    per_region: dict[str, dict[str, float]] = {}
    for provider, stem in (("aws", "Aws"), ("azure", "Azure"), ("gcp", "Gcp"), ("alibaba", "Ali")):
        folder = "ali" if provider == "alibaba" else provider
        text = require(
            shared, f"{CCF_DIR}/{folder}/src/domain/{stem}FootprintEstimationConstants.ts"
        ).read_text("utf-8")
        match = re.search(r"PUE_AVG:\s*([\d.]+)", text)
        if not match:
            raise ValueError(f"no PUE_AVG in CCF's {stem} constants")
        averages[provider] = float(match.group(1))
        if provider != "gcp":
            continue
        enum_text = require(shared, f"{CCF_DIR}/gcp/src/lib/GCPRegions.ts").read_text("utf-8")
        codes = dict(re.findall(r"(\w+)\s*=\s*'([\w-]+)'", enum_text))
        block = re.search(r"PUE_TRAILING_TWELVE_MONTH:\s*{(.*?)}", text, re.S)
        if not block:
            raise ValueError("no PUE_TRAILING_TWELVE_MONTH in CCF's GCP constants")
        per_region["gcp"] = {
            codes[name]: float(value)
            for name, value in re.findall(r"\[GCP_REGIONS\.(\w+)\]:\s*([\d.]+)", block.group(1))
        }
    return averages, per_region


def read_wue(shared: Path) -> dict[tuple[str, str], float]:
    """Opencast's WUE: (provider key, Azure geography group or '') -> L/kWh."""
    with require(shared, WUE_FILE).open(encoding="utf-8") as fh:
        entries = json.load(fh)
    keys = {"AWS": "aws", "Azure": "azure", "GCP": "gcp"}
    return {(keys[e["provider"]], e["region"] or ""): float(e["WUE"]) for e in entries}


def read_casdk_azure(shared: Path) -> dict[str, dict]:
    """Azure CLI ``list-locations`` output (UTF-16, a ``//`` comment line): physical regions."""
    text = require(shared, CASDK_AZURE_FILE).read_bytes().decode("utf-16")
    entries = json.loads(
        "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("//"))
    )
    regions = {}
    for entry in entries:
        meta = entry.get("metadata") or {}
        if meta.get("regionType") != "Physical" or not meta.get("latitude"):
            continue
        place = meta.get("physicalLocation") or ""
        if "Σ" in place:  # the file's one mis-decoded name: Latin-1 read as code page 437
            place = place.encode("cp437").decode("latin-1")
        regions[entry["name"]] = {
            "lat": float(meta["latitude"]),
            "lon": float(meta["longitude"]),
            "place": place,
            "group": meta.get("geographyGroup") or "",
        }
    return regions


def cloud_region_facts(shared: Path) -> tuple[dict[tuple[str, str], RegionFacts], list[str]]:
    notes: list[str] = []
    facts: dict[tuple[str, str], RegionFacts] = {}

    def entry(provider: str, region: str, create: bool = True) -> RegionFacts | None:
        key = (provider, region)
        if key not in facts and create:
            facts[key] = RegionFacts(provider, region)
        return facts.get(key)

    # 1. electricitymaps-contrib: location and grid zone of each data centre region.
    with require(shared, DATA_CENTERS_FILE).open(encoding="utf-8") as fh:
        centres = json.load(fh)
    em_region_of: dict[tuple[str, str], str] = {}
    for item in centres.values():
        if item.get("status") != "operational":
            continue
        provider = PROVIDER_KEYS[item["provider"]]
        f = entry(provider, item["region"])
        lon, lat = item["lonlat"]
        f.set("latitude", float(lat), "em")
        f.set("longitude", float(lon), "em")
        f.set("zone", item["zoneKey"], "em")
        f.set("em_city", item["displayName"], "em")
        em_region_of[(provider, item["region"])] = item["region"]

    # 2. boaviztapi: provider, region, country; OVHcloud codes name EM's OVH sites.
    renamed = []
    ovh_sites = {region: f for (provider, region), f in facts.items() if provider == "ovh"}
    for row in read_csv(require(shared, BOAVIZTA_REGIONS_FILE)):
        provider = PROVIDER_KEYS[row["provider"]]
        region = row["region"]
        if provider == "ovh":
            site = OVH_SITES[region.removesuffix("-snc").split("-")[-1]]
            f = ovh_sites.get(site)
            if f is None:
                raise ValueError(f"OVH site {site} for {region} is not in {DATA_CENTERS_FILE}")
            if region.endswith("-snc") or f.region != site:
                f.aliases.add(region)
            else:
                del facts[("ovh", site)]
                f.aliases.add(site)
                f.region = region
                facts[("ovh", region)] = f
                renamed.append(f"{site}->{region}")
            f.set("country", row["usage_location"], "boavizta")
            continue
        f = entry(provider, region)
        f.set("country", row["usage_location"], "boavizta")
    notes.append(
        "OVHcloud rows use OVHcloud's codes (boaviztapi), with EM's site keys and the "
        f"SecNumCloud codes as aliases: {', '.join(sorted(renamed))}"
    )

    # 3. Google's own per-region figures.
    states = egrid_state_codes(shared)
    google_rows = read_csv(require(shared, GOOGLE_FILE))
    for row in google_rows:
        f = entry("gcp", row["Google Cloud Region"].strip())
        f.set("provider_intensity", float(row["Grid carbon intensity (gCO2eq / kWh)"]), "google")
        f.set("provider_cfe", 100 * float(row["Google CFE"]), "google")
        f.set("google_city", row["Location"].strip(), "google")
        state = states.get(row["Location"].strip().lower())
        if state and f.region.startswith("us-"):
            f.set("state_zone", f"US-STATE-{state}", "egrid-state")
            f.set("country", "USA", "egrid-state")

    # 4. CodeCarbon's GCP table: city and country.
    unmatched = []
    for row in read_csv(require(shared, CODECARBON_CLOUD_FILE)):
        f = entry("gcp", row["region"].strip(), create=False)
        if f is None:
            unmatched.append(row["region"])
            continue
        f.set("cc_city", row["city"].strip(), "codecarbon")
        f.set("country", row["countryIsoCode"].strip(), "codecarbon")
    notes.append(f"CodeCarbon GCP regions matching no region: {', '.join(unmatched) or '-'}")

    # 5. Green Algorithms: city (Azure, GCP) and 2020 per-datacentre PUE (GCP).
    unmatched = []
    for row in read_ga(require(shared, GA_DATACENTERS_FILE)):
        provider = PROVIDER_KEYS[row["provider"]]
        region = azure_code(row["Name"]) if provider == "azure" else row["Name"].strip()
        f = entry(provider, region, create=False)
        if f is None:
            unmatched.append(f"{row['provider']} {row['Name']}")
            continue
        city = (row["Extra_details"] or row["location_freeForm"]).strip()
        f.set("ga_city", city, "ga")
        if row["PUE"].strip():
            f.set("ga_pue", float(row["PUE"]), "ga")
    notes.append(f"Green Algorithms regions matching no region: {', '.join(unmatched) or '-'}")

    # 6. Azure CLI locations: coordinates and geography group; adds physical regions.
    casdk = read_casdk_azure(shared)
    added = []
    for region, item in sorted(casdk.items()):
        if ("azure", region) not in facts:
            added.append(region)
        f = entry("azure", region)
        f.set("latitude", item["lat"], "casdk")
        f.set("longitude", item["lon"], "casdk")
        f.set("casdk_city", item["place"], "casdk")
        f.set("azure_group", item["group"], "casdk")
    notes.append(f"Azure regions only in the Azure CLI list: {', '.join(added) or '-'}")
    raw = require(shared, CASDK_AWS_FILE).read_bytes().decode("latin-1")
    for item in json.loads(raw):
        f = entry("aws", item["code"], create=False)
        if f is not None:
            f.set("casdk_city", item["name"], "casdk-aws")
    return facts, notes


def egrid_state_codes(shared: Path) -> dict[str, str]:
    """US state name (lower case) -> two-letter code, from the eGRID file."""
    with require(shared, EGRID_FILE).open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {
        name: e["regionCode"]
        for name, e in data.items()
        if not name.startswith("_") and re.fullmatch(r"[A-Z]{2}", e["regionCode"])
    }


CITY_ORDER = {
    "gcp": ("cc_city", "em_city", "ga_city", "google_city"),
    "azure": ("ga_city", "casdk_city", "em_city"),
    "aws": ("em_city", "casdk_city"),
}
CLOUD_COLUMNS = (
    "provider",
    "region",
    "aliases",
    "city",
    "country_iso3",
    "latitude",
    "longitude",
    "zone",
    "pue",
    "wue_l_per_kwh",
    "provider_intensity_g_per_kwh",
    "provider_cfe_pct",
    "provider_year",
    "source",
    "license",
)


def cloud_region_rows(shared: Path) -> tuple[list[dict], list[str]]:
    facts, notes = cloud_region_facts(shared)
    zone_rows, _ = em_zone_rows(shared)
    zones = {r["zone"]: r for r in zone_rows}
    meta = read_zones_meta(shared)
    iso3 = iso3_by_iso2(shared)
    only_zone: dict[str, list[str]] = {}
    for r in zone_rows:
        if r["level"] != "country-aggregate":
            only_zone.setdefault(r["country_iso3"], []).append(r["zone"])
    continent = {iso3[r["country"]]: r["region"] for r in meta.values() if r["country"] in iso3}
    polygons = ZonePolygons(shared)
    averages, per_region = read_ts_pue(shared)
    ga_defaults = {
        PROVIDER_KEYS.get(r["provider"].lower(), r["provider"].lower()): float(r["PUE"])
        for r in read_ga(require(shared, GA_PUE_FILE))
    }
    wue = read_wue(shared)
    rows = []
    disagreements = []
    no_zone = []
    for key in sorted(facts):
        f = facts[key]
        lat, lon = f.get("latitude"), f.get("longitude")
        inside = []
        if lat is not None:
            inside = [k for k, _ in polygons.containing(lon, lat) if k in zones]
        zone = f.get("zone")
        if zone:
            if zone not in zones:
                raise ValueError(f"{key}: zone {zone} has no intensity in zones.csv")
            if inside and zone not in inside:
                disagreements.append(f"{'/'.join(key)} {zone} (polygon: {'/'.join(inside)})")
        elif len(inside) == 1:
            f.set("zone", inside[0], "polygon")
        elif f.get("country") and len(only_zone.get(f.get("country"), [])) == 1:
            f.set("zone", only_zone[f.get("country")][0], "country-zone")
        elif f.get("state_zone"):
            f.values["zone"] = f.get("state_zone")
            f.origin["zone"] = f.origin["state_zone"]
        zone = f.get("zone", "")
        if zone in zones and zone in meta:
            country = iso3[meta[zone]["country"]]
            if f.get("country") and f.get("country") != country:
                disagreements.append(
                    f"{'/'.join(key)} country {f.get('country')} ({f.origin['country']}) vs "
                    f"{country} (zone {zone})"
                )
            f.set("country", country, f.origin["zone"])
        if not f.get("country"):
            notes.append(f"{'/'.join(key)}: no country in any source; left out")
            continue
        if not zone:
            no_zone.append("/".join(key))
        for name in CITY_ORDER.get(f.provider, ("em_city",)):
            if f.get(name):
                f.set("city", f.get(name), f.origin[name])
                break
        # PUE: a per-region figure first, then the provider's fleet figure.
        provider = f.provider
        if f.region in per_region.get(provider, {}):
            f.set("pue", per_region[provider][f.region], "ccf")
        elif f.get("ga_pue"):
            f.set("pue", f.get("ga_pue"), "ga")
        elif provider in averages:
            f.set("pue", averages[provider], "ccf")
        elif provider in ga_defaults:
            f.set("pue", ga_defaults[provider], "ga-default")
        # WUE: Opencast's provider figure; for Azure the one for the region's geography.
        if provider == "azure":
            group = AZURE_WUE_GROUPS.get(str(f.get("azure_group", "")), "")
            if not group:
                country = f.get("country")
                em_region = continent.get(str(country), "")
                group = (
                    "EMEA"
                    if country in MIDDLE_EAST_ISO3
                    else EM_REGION_WUE_GROUPS.get(em_region, "")
                )
            f.set("wue", wue.get(("azure", group), wue[("azure", "")]), "opencast")
        elif (provider, "") in wue:
            f.set("wue", wue[(provider, "")], "opencast")
        rows.append(cloud_row(f))
    notes.append(f"zone disagreements (data_centers.json kept): {'; '.join(disagreements) or '-'}")
    notes.append(f"regions without a grid zone: {', '.join(no_zone) or '-'}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["provider"]] = counts.get(r["provider"], 0) + 1
    notes.insert(
        0, "regions per provider: " + ", ".join(f"{p} {n}" for p, n in sorted(counts.items()))
    )
    return rows, notes


FIELD_LABELS = (
    ("latitude", "location"),
    ("zone", "zone"),
    ("country", "country"),
    ("city", "city"),
    ("pue", "PUE"),
    ("wue", "WUE"),
    ("provider_intensity", "intensity and CFE"),
)


def cloud_row(f: RegionFacts) -> dict[str, str]:
    def number(name: str, places: int) -> str:
        value = f.get(name)
        return "" if value is None else trimmed(float(value), places)

    by_source: dict[str, list[str]] = {}
    for name, label in FIELD_LABELS:
        if name in f.origin:
            by_source.setdefault(f.origin[name], []).append(label)
    source = "; ".join(
        f"{', '.join(labels)}: {CLOUD_SOURCES[src][0]}" for src, labels in by_source.items()
    )
    licenses = sorted({CLOUD_SOURCES[src][1] for src in by_source})
    return {
        "provider": f.provider,
        "region": f.region,
        "aliases": " ".join(sorted(f.aliases)),
        "city": str(f.get("city", "")),
        "country_iso3": str(f.get("country")),
        "latitude": number("latitude", 4),
        "longitude": number("longitude", 4),
        "zone": str(f.get("zone", "")),
        "pue": number("pue", 3),
        "wue_l_per_kwh": number("wue", 2),
        "provider_intensity_g_per_kwh": number("provider_intensity", 2),
        "provider_cfe_pct": number("provider_cfe", 1),
        "provider_year": str(GOOGLE_YEAR) if f.get("provider_intensity") is not None else "",
        "source": source,
        "license": "; ".join(licenses),
    }


def build_cloud_regions(shared: Path) -> Table:
    rows, notes = cloud_region_rows(shared)
    body = [tuple(r[c] for c in CLOUD_COLUMNS) for r in rows]
    return Table(
        f"{CARBON_DATA}/cloud_regions.csv", csv_text(CLOUD_COLUMNS, body), len(body), notes
    )


def build_cloud_providers(shared: Path) -> Table:
    """Per-provider PUE and WUE, for a region wattprint does not know."""
    averages, _ = read_ts_pue(shared)
    ga_defaults = {
        PROVIDER_KEYS.get(r["provider"].lower(), r["provider"].lower()): float(r["PUE"])
        for r in read_ga(require(shared, GA_PUE_FILE))
    }
    wue = read_wue(shared)
    body = []
    for provider in sorted(PROVIDER_NAMES):
        sources = []
        pue = ""
        if provider in averages:
            pue = trimmed(averages[provider], 3)
            sources.append(("PUE", "ccf"))
        elif provider in ga_defaults:
            pue = trimmed(ga_defaults[provider], 3)
            sources.append(("PUE", "ga-default"))
        water = ""
        if (provider, "") in wue:
            water = trimmed(wue[(provider, "")], 2)
            sources.append(("WUE", "opencast"))
        source = "; ".join(f"{label}: {CLOUD_SOURCES[src][0]}" for label, src in sources)
        licenses = "; ".join(sorted({CLOUD_SOURCES[src][1] for _, src in sources}))
        body.append((provider, PROVIDER_NAMES[provider], pue, water, source, licenses))
    header = ("provider", "name", "pue", "wue_l_per_kwh", "source", "license")
    notes = [
        "PUE: CCF fleet averages (AWS, Azure, GCP, Alibaba), else Green Algorithms defaults; "
        "WUE: Opencast (AWS, Azure worldwide, GCP)"
    ]
    return Table(f"{CARBON_DATA}/cloud_providers.csv", csv_text(header, body), len(body), notes)
