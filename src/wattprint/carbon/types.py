"""The two value types a record holds about the grid: :class:`Location` and :class:`Intensity`.

Plain frozen dataclasses and the names of their ``source``/``kind`` values, with no lookup: a
module that only carries or writes them (``records``, ``journal``, the sinks) imports this one
instead of :mod:`.location` and :mod:`.grid`, which resolve places and figures. Those two modules
re-export the types, so ``from wattprint.carbon.grid import Intensity`` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How the location was decided, as written in records (``location_source``).
EXPLICIT = "explicit"
CLOUD_ENV = "cloud-env"
CLOUD_METADATA = "cloud-metadata"
SITE = "site-file"
TIMEZONE = "timezone"
IP = "ip-geolocation"
WORLD = "world-average"


@dataclass(frozen=True)
class Location:
    """A place to look an intensity up for.

    ``country`` is ISO 3166 alpha-3 once resolved; ``zone`` a grid zone key (``FR``,
    ``US-CAL-CISO``, ``US-STATE-CA``, ``AU-NSW``); ``region`` the state or province as the user
    wrote it; ``cloud_provider``/``cloud_region`` canonical (``aws``, ``eu-west-3``).
    ``source`` says how it was decided and ``detail`` in a few words from what (the timezone
    name, the environment variable, the file path, ...).
    """

    country: str | None = None
    region: str | None = None
    zone: str | None = None
    cloud_provider: str | None = None
    cloud_region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    source: str = EXPLICIT
    detail: str | None = None

    @property
    def country_name(self) -> str | None:
        # Imported here: the country table is read only when a name is asked for.
        from . import countries

        found = countries.find(self.country) if self.country else None
        return found.name if found else None


@dataclass(frozen=True)
class Intensity:
    """``value`` in gCO2e/kWh with ``low <= value <= high``."""

    value: float
    low: float
    high: float
    kind: str
    zone: str  # the grid zone or ISO-3 country the value is for; "WORLD" for the world
    year: int | None
    source: str
    basis: str | None = None  # lifecycle or direct, where the source says
    license: str | None = None
