"""The same energy elsewhere or at another time: a job's emissions in other regions of the same
cloud provider, or started at the cleanest hour of its zone's typical day.

Like the ML CO2 Impact calculator, but with each region's own PUE where the provider publishes
it, and the intensity chain's annual figure for the region (the provider's own where it has
one, else its grid zone's), so that regions compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
        found = tables.cloud_pue(canonical, region.region)
        pue = found[0] if found is not None else 1.0
        grams = it_energy_kwh * pue * it.value
        options.append(
            RegionOption(
                canonical, region.region, region.city, region.country, pue, it, grams / 1000.0
            )
        )
    options.sort(key=lambda o: (o.emissions_kg, o.region))
    return options


# -- at another time -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeOption:
    """The same job started at the cleanest time within 24 h, on the zone's typical day."""

    zone: str
    asked: datetime  # when it started (or would start)
    start: datetime  # the cleanest start within 24 h
    intensity_at_once: float  # typical-day mean g/kWh over the job from ``asked``
    intensity: float  # the same from ``start``
    low: float
    high: float
    saving_kg: float  # energy x (at once - shifted), like with like on the typical day

    @property
    def saving_pct(self) -> float:
        if not self.intensity_at_once:
            return 0.0
        return 100.0 * (self.intensity_at_once - self.intensity) / self.intensity_at_once


def time_option(
    location: Location, energy_kwh: float, duration_h: float, asked: datetime
) -> TimeOption | None:
    """The job shifted within 24 h of ``asked``; None where the zone has no hourly profile."""
    from ..carbon.forecasts import TYPICAL_DAY
    from ..carbon.planning import plan

    if not duration_h > 0:
        return None
    chosen = plan(
        duration_h * 3600.0,
        within="24h",
        places=[location],
        now=asked,
        energy_kwh=energy_kwh if energy_kwh > 0 else None,
    )
    forecast = next(iter(chosen.forecasts.values()))
    if forecast.kind != TYPICAL_DAY:
        return None
    best, now = chosen.best, chosen.now
    saving = energy_kwh * (now.intensity - best.intensity) / 1000.0
    return TimeOption(
        forecast.zone, asked, best.start, now.intensity, best.intensity, best.low, best.high, saving
    )


def start_hours(
    location: Location, energy_kwh: float, duration_h: float, asked: datetime
) -> list[dict[str, Any]] | None:
    """The same job started at ``asked`` and at each of the 23 whole hours after it, on the
    zone's typical day (the plan ``time_option`` makes): mean intensity and emissions with
    bounds for each start. None where the zone has no hourly profile."""
    from datetime import timedelta

    from ..carbon.forecasts import TYPICAL_DAY
    from ..carbon.planning import plan

    if not duration_h > 0 or not energy_kwh > 0:
        return None
    chosen = plan(
        duration_h * 3600.0, within="24h", places=[location], now=asked, energy_kwh=energy_kwh
    )
    if next(iter(chosen.forecasts.values())).kind != TYPICAL_DAY:
        return None
    out = []
    for hour in range(24):
        start = asked + timedelta(hours=hour)
        mean = chosen.intensity_at(start)
        if mean is None:
            continue
        value, low, high = mean
        out.append(
            {
                "start": start,
                "intensity_g_per_kwh": value,
                "intensity_low_g_per_kwh": low,
                "intensity_high_g_per_kwh": high,
                "emissions_kg": energy_kwh * value / 1000.0,
                "emissions_low_kg": energy_kwh * low / 1000.0,
                "emissions_high_kg": energy_kwh * high / 1000.0,
            }
        )
    return out


def runs_at_another_time(
    runs: list[tuple[str, datetime, float, float]],
) -> dict[str, Any] | None:
    """Runs as (zone, start, duration_s, energy_kwh): what starting each at its typical day's
    cleanest time within 24 h would have saved. Only runs in zones with an hourly profile count;
    None when there are none."""
    saved = 0.0
    counted: list[TimeOption] = []
    for zone, start, duration_s, energy_kwh in runs:
        if not zone or tables.hourly_profile(zone) is None or energy_kwh <= 0 or duration_s <= 0:
            continue
        option = time_option(Location(zone=zone), energy_kwh, duration_s / 3600.0, start)
        if option is not None:
            counted.append(option)
            saved += option.saving_kg
    if not counted:
        return None
    return {
        "runs": len(counted),
        "zones": sorted({o.zone for o in counted}),
        "saving_kg": saved,
        "mean_saving_pct": sum(o.saving_pct for o in counted) / len(counted),
        "how": "each run's energy started at the cleanest time within 24 h of its start, on "
        "its zone's typical day (hourly profile); both times from the same profile",
    }
