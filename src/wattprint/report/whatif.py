"""The same energy elsewhere: a job's emissions in other regions of the same cloud provider.

Like the ML CO2 Impact calculator, but with each region's own PUE where the provider publishes
it, and the intensity chain's annual figure for the region (the provider's own where it has
one, else its grid zone's), so that regions compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..carbon import tables
from ..carbon.grid import Intensity, annual
from ..carbon.location import Location


@dataclass(frozen=True)
class RegionOption:
    provider: str
    region: str
    city: str
    country: str
    pue: float
    intensity: Intensity
    emissions_kg: float  # for the IT energy given, with this region's PUE

    @property
    def label(self) -> str:
        where = ", ".join(x for x in (self.city, self.country) if x)
        return f"{self.provider} {self.region}" + (f" ({where})" if where else "")


def region_options(provider: str, it_energy_kwh: float) -> list[RegionOption]:
    """Every region of ``provider`` with a known intensity, lowest emissions first."""
    canonical = tables.normalise_provider(provider)
    if canonical is None:
        raise ValueError(f"unknown cloud provider {provider!r}")
    default_pue, _, _ = tables.provider_defaults(canonical)
    options = []
    for region in tables.cloud_regions(canonical):
        loc = Location(
            country=region.country or None,
            zone=region.zone or None,
            cloud_provider=canonical,
            cloud_region=region.region,
        )
        if not (loc.country or loc.zone):
            continue
        it = annual(loc)
        if it.kind == "world-average":
            continue  # a region we cannot place says nothing about its grid
        pue = region.pue or default_pue or 1.0
        grams = it_energy_kwh * pue * it.value
        options.append(
            RegionOption(
                canonical, region.region, region.city, region.country, pue, it, grams / 1000.0
            )  # fmt: skip
        )
    options.sort(key=lambda o: (o.emissions_kg, o.region))
    return options
