"""When (and where) to run a job so that it emits least, and waiting for that moment.

``plan()`` takes a job's duration, how soon it must start (``within``) or finish (``deadline``),
one or several places, and optionally its energy; it forecasts each place (``forecasts.py``) and
answers a :class:`Plan`: the best start (and place), the same job started at once, the saving
with bounds, and the next best options. The mean intensity of a fixed-length window over a
piecewise-constant forecast changes slope only where the window's start or end meets a period
boundary, so those starts (and "now") are the only candidates: the optimum is exact, not sampled.

Ties go to the earliest start, then to the place listed first. Without an energy figure the
options are ranked by intensity alone, and the plan says so.

``wait_for()`` sleeps until the chosen start, or until the intensity falls below a threshold,
whichever comes first, with an injectable clock so that tests never sleep. ``carbon_aware``
(``wattprint/aware.py``, beside the tracker it may use) does both for a function.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..units import J_PER_KWH
from .forecasts import Forecast, as_location, forecast
from .location import Location
from .shift import ShiftInfo

UTC = timezone.utc
NEXT_OPTIONS = 3
POLL_S = 60.0
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")


def parse_duration(value: str | float | timedelta, name: str = "duration") -> float:
    """Seconds from ``3h``, ``90m``, ``1h30m``, ``2d``, ``45s``, a timedelta or seconds."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if not text or "".join(n + u for n, u in parts) != text:
            raise ValueError(
                f"{name} {value!r} is not a duration: write it like 3h, 90m, 1h30m, 2d or 45s"
            )
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"{name} must be a duration like 3h, not {value!r}")
    if not seconds > 0:
        raise ValueError(f"{name} must be longer than zero, not {value!r}")
    return seconds


@dataclass(frozen=True)
class Window:
    """The job run from ``start`` to ``end`` at one place, as the forecast sees it."""

    start: datetime
    end: datetime
    place: str  # what the user named: the zone, country or cloud region
    zone: str
    intensity: float  # mean g/kWh over the window
    low: float
    high: float
    emissions_kg: float | None = None  # None without an energy figure
    emissions_low_kg: float | None = None
    emissions_high_kg: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "place": self.place,
            "zone": self.zone,
            "intensity_g_per_kwh": self.intensity,
            "intensity_low_g_per_kwh": self.low,
            "intensity_high_g_per_kwh": self.high,
            "emissions_kg": self.emissions_kg,
            "emissions_low_kg": self.emissions_low_kg,
            "emissions_high_kg": self.emissions_high_kg,
        }


@dataclass(frozen=True)
class Plan:
    asked_at: datetime
    duration_s: float
    latest_start: datetime
    best: Window
    now: Window  # started at once, at the first place given
    options: tuple[Window, ...]  # the next best, each at least an hour from the others
    ranked_by: str  # "emissions" or "intensity"
    energy_kwh: float | None
    saving_g_per_kwh: float
    saving_pct: float  # of the intensity had it started at once
    saving_kg: tuple[float, float, float] | None  # (estimate, low, high)
    forecasts: dict[str, Forecast] = field(default_factory=dict)  # place -> its forecast
    notes: tuple[str, ...] = ()

    @property
    def wait_s(self) -> float:
        return (self.best.start - self.asked_at).total_seconds()

    def intensity_at(self, start: datetime) -> tuple[float, float, float] | None:
        """The best place's forecast mean over the job's duration from ``start``."""
        end = start + timedelta(seconds=self.duration_s)
        return self.forecasts[self.best.place].mean(start, end)

    def to_dict(self) -> dict[str, Any]:
        saving = self.saving_kg
        return {
            "asked_at": self.asked_at.isoformat(),
            "duration_s": self.duration_s,
            "latest_start": self.latest_start.isoformat(),
            "ranked_by": self.ranked_by,
            "energy_kwh": self.energy_kwh,
            "best": self.best.to_dict(),
            "now": self.now.to_dict(),
            "options": [o.to_dict() for o in self.options],
            "saving": {
                "g_per_kwh": self.saving_g_per_kwh,
                "pct": self.saving_pct,
                "kg": saving[0] if saving else None,
                "low_kg": saving[1] if saving else None,
                "high_kg": saving[2] if saving else None,
            },
            "forecasts": {
                place: {k: v for k, v in f.to_dict().items() if k != "points"}
                for place, f in self.forecasts.items()
            },
            "notes": list(self.notes),
        }


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset, e.g. 2025-03-30T06:00+02:00")
    return moment.astimezone(UTC)


def _energy(energy_kwh: float | None, power_w: float | None, duration_s: float) -> float | None:
    if energy_kwh is not None and power_w is not None:
        raise ValueError("give the job's energy (energy_kwh) or its power (power_w), not both")
    if power_w is not None:
        if not power_w > 0:
            raise ValueError(f"power_w must be above zero, not {power_w}")
        return power_w * duration_s / J_PER_KWH
    if energy_kwh is not None and not energy_kwh > 0:
        raise ValueError(f"energy_kwh must be above zero, not {energy_kwh}")
    return energy_kwh


def _candidates(f: Forecast, now: datetime, latest: datetime, span: timedelta) -> list[datetime]:
    """Starts where a window's start or end meets a period boundary, plus now."""
    found = {now, latest}
    for p in f.points:
        for moment in (p.start, p.end, p.start - span, p.end - span):
            if now <= moment <= latest:
                found.add(moment)
    return sorted(found)


def _window(
    f: Forecast, place: str, start: datetime, span: timedelta, kwh: float | None
) -> Window | None:
    mean = f.mean(start, start + span)
    if mean is None:
        return None
    value, low, high = mean

    def kg(g: float) -> float | None:
        return None if kwh is None else kwh * g / 1000.0

    return Window(
        start, start + span, place, f.zone, value, low, high, kg(value), kg(low), kg(high)
    )


def plan(
    duration: str | float | timedelta,
    *,
    within: str | float | timedelta | None = "24h",
    deadline: datetime | None = None,
    places: Sequence[Location | str] | None = None,
    zone: str | None = None,
    country: str | None = None,
    cloud: str | None = None,
    regions: Sequence[str] | None = None,
    energy_kwh: float | None = None,
    power_w: float | None = None,
    provider: str | None = None,
    now: datetime | None = None,
    forecaster: Callable[..., Forecast] | None = None,
) -> Plan:
    """The best time (and place) to start a job of ``duration``; see the module's docstring.

    ``within``: the job starts no later than this after now (``None``: only the deadline
    limits it); ``deadline``: it must end by then. Places: ``zone`` or ``country``, or
    ``cloud`` with ``regions``, or ``places`` (Locations or zone keys); none: this machine's.
    Unknown cloud regions are left out and said in ``notes``; none known is a ValueError.
    ``forecaster(location, start, end)`` replaces the forecast (tests, benchmarks).
    """
    duration_s = parse_duration(duration)
    span = timedelta(seconds=duration_s)
    asked = _aware(now, "now") or datetime.now(UTC)
    latest = asked + timedelta(seconds=parse_duration(within, "within")) if within else None
    end_by = _aware(deadline, "deadline")
    if end_by is not None:
        if end_by - asked < span:
            hours = (end_by - asked).total_seconds() / 3600
            away = f"{hours:.2g} h away" if hours > 0 else "already past"
            raise ValueError(
                f"the job takes {duration_s / 3600:g} h but the deadline {end_by.isoformat()} is "
                f"{away}: move the deadline or shorten the job"
            )
        latest = min(latest, end_by - span) if latest else end_by - span
    if latest is None:
        raise ValueError("give within (how soon the job must start) or a deadline")
    kwh = _energy(energy_kwh, power_w, duration_s)
    named, notes = _places(places, zone, country, cloud, regions)
    get = forecaster or functools.partial(forecast, provider=provider)
    forecasts: dict[str, Forecast] = {}
    windows: list[tuple[int, Window]] = []
    for index, (label, location) in enumerate(named):
        f = get(location, asked, latest + span)
        forecasts[label] = f
        pue = _pue(location)
        if pue != 1.0 and kwh is not None:
            notes.append(f"{label}: emissions include the region's PUE {pue:g}")
        for start in _candidates(f, asked, latest, span):
            w = _window(f, label, start, span, None if kwh is None else kwh * pue)
            if w is not None:
                windows.append((index, w))
        notes += [f"{label}: {n}" for n in f.notes]
    if not windows:
        raise ValueError("no forecast covers the job's window: try a shorter job or window")
    if kwh is None:
        windows.sort(key=lambda iw: (round(iw[1].intensity, 6), iw[1].start, iw[0]))
    else:
        windows.sort(key=lambda iw: (round(iw[1].emissions_kg, 9), iw[1].start, iw[0]))
    best = windows[0][1]
    first = named[0][0]
    start_now = next((w for i, w in windows if i == 0 and w.start == asked), None)
    if start_now is None:
        raise ValueError(
            f"the forecast for {named[0][0]} does not cover the job started now: shorten it"
        )
    ranked_by = "emissions" if kwh is not None else "intensity"
    if kwh is None:
        notes.append("no energy figure (energy_kwh or power_w): ranked by intensity alone")
    if len(named) > 1:
        notes.append(f"'if started now' is at {first}, the first place given")
    saving = start_now.intensity - best.intensity
    return Plan(
        asked_at=asked,
        duration_s=duration_s,
        latest_start=latest,
        best=best,
        now=start_now,
        options=_next_best([w for _, w in windows[1:]], best),
        ranked_by=ranked_by,
        energy_kwh=kwh,
        saving_g_per_kwh=saving,
        saving_pct=100.0 * saving / start_now.intensity if start_now.intensity else 0.0,
        saving_kg=_saving_kg(start_now, best),
        forecasts=forecasts,
        notes=tuple(notes),
    )


def _saving_kg(now: Window, best: Window) -> tuple[float, float, float] | None:
    """(estimate, low, high): the bounds pair one window's low with the other's high.

    Taking the two windows' deviations as shared (low with low) gives bounds that held for
    only 10-60 % of 2024's actual savings in benchmarks/carbon_aware.py; pairing them this way
    held for 80-100 % in all but one zone.
    """
    if now.emissions_kg is None or best.emissions_kg is None:
        return None
    kg = (
        now.emissions_kg - best.emissions_kg,
        now.emissions_low_kg - best.emissions_high_kg,  # type: ignore[operator]
        now.emissions_high_kg - best.emissions_low_kg,  # type: ignore[operator]
    )
    return kg[0], min(kg), max(kg)


def _next_best(ranked: list[Window], best: Window) -> tuple[Window, ...]:
    """The best windows after ``best`` that start at least an hour from any kept one there."""
    kept = [best]
    for w in ranked:
        if all(
            w.place != k.place or abs((w.start - k.start).total_seconds()) >= 3600 for k in kept
        ):
            kept.append(w)
        if len(kept) > NEXT_OPTIONS:
            break
    return tuple(kept[1:])


def _places(
    places: Sequence[Location | str] | None,
    zone: str | None,
    country: str | None,
    cloud: str | None,
    regions: Sequence[str] | None,
) -> tuple[list[tuple[str, Location]], list[str]]:
    from .location import locate

    given = sum(x is not None for x in (places, zone, country, cloud))
    if given > 1:
        raise ValueError("give one of: places, zone, country, or cloud with regions")
    if regions and not cloud:
        raise ValueError("regions need the cloud provider they belong to (cloud='aws')")
    if cloud is not None:
        return _cloud_places(cloud, regions or ())
    if places is not None:
        if not places:
            raise ValueError("places is empty: name at least one zone or location")
        out = []
        for p in places:
            location = as_location(p)
            out.append((p if isinstance(p, str) else _label(location), location))
        return out, []
    location = locate(zone=zone, country=country)
    return [(zone or country or _label(location), location)], []


def _label(location: Location) -> str:
    if location.cloud_provider and location.cloud_region:
        return f"{location.cloud_provider} {location.cloud_region}"
    return location.zone or location.country or "here"


def _pue(location: Location) -> float:
    """A cloud region's PUE (or its provider's), so that regions compare like with like; 1.0
    elsewhere (the user's energy figure is taken as what the facility draws)."""
    from . import tables

    if not (location.cloud_provider and location.cloud_region):
        return 1.0
    found = tables.cloud_pue(location.cloud_provider, location.cloud_region)
    return found[0] if found is not None else 1.0


def _cloud_places(
    cloud: str, regions: Sequence[str]
) -> tuple[list[tuple[str, Location]], list[str]]:
    from . import tables
    from .location import locate

    provider = tables.normalise_provider(cloud)
    if provider is None:
        raise ValueError(
            f"unknown cloud provider {cloud!r}: use aws, azure, gcp, ovh, scaleway, ..."
        )
    if not regions:
        raise ValueError(f"name the {provider} regions to compare: --regions r1,r2,...")
    out, unknown = [], []
    for region in regions:
        if tables.cloud_region(provider, region) is None:
            unknown.append(region)
            continue
        out.append((f"{provider} {region}", locate(cloud_provider=provider, cloud_region=region)))
    notes = []
    if unknown:
        notes.append(
            f"unknown {provider} region(s) left out: {', '.join(unknown)} (`wattprint estimate "
            f"--cloud {provider} --region R` lists what is known)"
        )
    if not out:
        raise ValueError(f"none of the regions is a known {provider} region: {', '.join(regions)}")
    return out, notes


# -- waiting ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitOutcome:
    started_at: datetime
    reason: str  # "window": the planned start came; "threshold": the intensity fell below it


def wait_for(
    chosen: Plan,
    *,
    below: float | None = None,
    current: Callable[[datetime], float | None] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = POLL_S,
) -> WaitOutcome:
    """Sleep until the plan's start, or until ``current(now)`` is at or below ``below``.

    ``current`` gives the intensity now (default: the best place's forecast). Ctrl-C
    (KeyboardInterrupt) propagates: the caller runs nothing.
    """
    if below is not None and not below >= 0:
        raise ValueError(f"below must be a positive intensity in g/kWh, not {below}")
    target = chosen.best.start.timestamp()
    place = chosen.forecasts.get(chosen.best.place)

    def default_current(moment: datetime) -> float | None:
        point = place.at(moment) if place is not None else None
        return None if point is None else point.value

    look = current or default_current
    while True:
        now = clock()
        moment = datetime.fromtimestamp(now, UTC)
        if now >= target:
            return WaitOutcome(moment, "window")
        value = look(moment) if below is not None else None
        if value is not None and value <= below:  # type: ignore[operator]
            return WaitOutcome(moment, "threshold")
        sleep(min(poll_s, target - now))


def shift_info(chosen: Plan, outcome: WaitOutcome) -> ShiftInfo:
    """The record's account of the shift: from when to when, and the forecast at both."""
    at_once = (chosen.now.intensity, chosen.now.low, chosen.now.high)
    started = chosen.intensity_at(outcome.started_at) or (
        chosen.best.intensity,
        chosen.best.low,
        chosen.best.high,
    )
    f = chosen.forecasts[chosen.best.place]
    why = "the planned window" if outcome.reason == "window" else "the intensity fell below --below"
    return ShiftInfo(
        shifted_from=chosen.asked_at.isoformat(timespec="seconds"),
        shifted_to=outcome.started_at.isoformat(timespec="seconds"),
        intensity_from=at_once[0],
        intensity_from_low=at_once[1],
        intensity_from_high=at_once[2],
        intensity_to=started[0],
        intensity_to_low=started[1],
        intensity_to_high=started[2],
        source=f"{f.kind} {f.zone} ({f.source}); started at {why}",
    )
