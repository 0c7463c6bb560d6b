"""State, province and zone names as people write them -> wattprint's grid zones.

``resolve_region("california")`` -> the US-STATE-CA zone; ``resolve_zone("fr")`` -> FR. Used by
:mod:`.location` (the ``region``/``zone`` settings) and :mod:`.site` (a site file's keys); a
module of its own so that neither imports the other for it.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import TYPE_CHECKING

from . import countries

if TYPE_CHECKING:
    from .tables import Zone

# As CodeCarbon users write them: the postal code or the English name. US states map to the EPA
# eGRID state zones (US-STATE-XX), Canadian provinces to the CA-XX zones.
_US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico",
}  # fmt: skip
_CA_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories",
    "NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec",
    "SK": "Saskatchewan", "YT": "Yukon",
}  # fmt: skip
_ALIASES = {
    "USA": {"washington dc": "DC", "washington d c": "DC"},
    "CAN": {"pei": "PE", "newfoundland": "NL", "labrador": "NL", "yukon territory": "YT",
            "quebec": "QC"},
}  # fmt: skip


def iso2_of(iso3: str) -> str:
    """A country's ISO 3166 alpha-2 code, "" for one wattprint does not know."""
    found = countries.find(iso3)
    return found.iso2 if found else ""


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    for ch in "-_.,'":
        text = text.replace(ch, " ")
    return " ".join(text.lower().split())


@functools.cache
def _region_index() -> dict[str, dict[str, tuple[str, str]]]:
    """Per country ISO-3: folded name or code -> (zone key, label), from the zone table."""
    from . import tables

    known = {z.key.upper(): z for z in tables.zones()}
    index: dict[str, dict[str, tuple[str, str]]] = {}

    def add(iso3: str, names: tuple[str, ...], key: str, label: str) -> None:
        if key.upper() not in known:
            return
        key = known[key.upper()].key
        for name in names:
            if name:
                index.setdefault(iso3, {}).setdefault(_fold(name), (key, label))

    for code, name in _US_STATES.items():
        add("USA", (code, name), f"US-STATE-{code}", name)
    for code, name in _CA_PROVINCES.items():
        add("CAN", (code, name), f"CA-{code}", name)
    for iso3, aliases in _ALIASES.items():
        for alias, code in aliases.items():
            name = (_US_STATES if iso3 == "USA" else _CA_PROVINCES)[code]
            prefix = "US-STATE-" if iso3 == "USA" else "CA-"
            add(iso3, (alias,), f"{prefix}{code}", name)
    for z in tables.zones():
        iso2 = iso2_of(z.country)
        if not iso2 or not z.key.upper().startswith(f"{iso2.upper()}-"):
            continue  # a national zone is not a region
        suffix = z.key[len(iso2) + 1 :]
        add(z.country, (suffix, z.name), z.key, z.name)
    return index


def _zone_hint() -> str:
    return "e.g. FR, DE, US-CAL-CISO, US-STATE-CA, CA-ON, AU-NSW"


def close_matches(word: str, candidates: list[str], n: int = 3) -> list[str]:
    import difflib  # only on error paths

    return difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)


def resolve_zone(key: str) -> Zone:
    """The zone for a zone key (case-insensitive); ValueError with close matches if unknown."""
    from . import tables

    found = tables.zone(key.strip())
    if found is not None:
        return found
    keys = [z.key for z in tables.zones()]
    close = close_matches(key.strip().upper(), [k.upper() for k in keys])
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"zone {key!r} is not a grid zone wattprint knows ({_zone_hint()}){hint}")


def resolve_region(region: str, country: str | None = None) -> Zone:
    """The zone for a state/province name or code (within ``country`` if given) or a zone key.

    ``california``, ``CA`` (with country USA) -> US-STATE-CA; ``ontario``, ``ON``, ``CA-ON`` ->
    CA-ON; ``NSW`` -> AU-NSW. Without a country a code that could mean several places (``CA``:
    California or the zone of Canada; ``WA``: Washington or Western Australia) is refused.
    """
    from . import tables

    text = region.strip()
    folded = _fold(text)
    index = _region_index()
    if country:
        found = index.get(country, {}).get(folded)
        if found is not None:
            return resolve_zone(found[0])
        by_key = tables.zone(text)
        if by_key is not None:
            if by_key.country != country:
                raise ValueError(
                    f"region {region!r} is the zone {by_key.key} in {by_key.country}, "
                    f"not in country {country}"
                )
            return by_key
        entries = index.get(country, {})
        labels = {_fold(label): label for _, label in entries.values()}
        preferred = _US_STATES if country == "USA" else _CA_PROVINCES if country == "CAN" else None
        names = sorted(preferred.values()) if preferred else sorted(labels.values())
        close = [labels.get(c, c) for c in close_matches(folded, sorted(labels))]
        if not names:
            allowed = f"wattprint has no sub-national zones for {country}; set zone or country only"
        else:
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            allowed = f"allowed: a state/province name or code ({shown}) or a zone key"
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"region {region!r} is not a region of {country} ({allowed}){hint}")
    matches: dict[str, tuple[str, str, str]] = {}  # zone key -> (key, label, iso3)
    for iso3, by_name in index.items():
        found = by_name.get(folded)
        if found is not None:
            matches[found[0]] = (found[0], found[1], iso3)
    by_key = tables.zone(text)
    if by_key is not None and by_key.key not in matches:
        matches[by_key.key] = (by_key.key, by_key.name, by_key.country)
    if len(matches) == 1:
        return resolve_zone(next(iter(matches)))
    if len(matches) > 1:
        options = "; ".join(
            f"{label} ({key}, country={iso3!r})" for key, label, iso3 in sorted(matches.values())
        )
        raise ValueError(f"region {region!r} is ambiguous: {options}. Set country, or use zone=")
    every = {_fold(label): label for names in index.values() for _, label in names.values()}
    close = [every[c] for c in close_matches(folded, sorted(every))]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"region {region!r} is not a state, province or zone wattprint knows (a US state or "
        f"Canadian province name or code, or a zone key, {_zone_hint()}){hint}"
    )
