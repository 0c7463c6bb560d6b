"""What the grid's carbon intensity will be over the coming hours, and how sure that is.

``forecast(location, start, end)`` answers a :class:`Forecast`: consecutive periods, each with a
value and low/high bounds in gCO2e/kWh, and what they came from:

* ``typical-day`` (offline, the default): the zone's hourly profile for those months and local
  hours, the mean of two years of hours; the bounds are the 10th and 90th percentile of the
  hours behind each mean, i.e. how far a single day strays from the typical one;
* ``provider-forecast`` (opt-in, ``provider=``): the GB Carbon Intensity API's 48 h forecast, or
  Electricity Maps' or WattTime's (marginal) forecast, through the live clients, with their
  caching, timeouts and retries. Providers publish no uncertainty, so the bounds are the value;
  past the provider's horizon the typical day fills in, and a provider that fails leaves the
  typical day in place; ``notes`` say which;
* ``annual`` for a zone without an hourly profile: one flat figure, which no timing can lower.

Network I/O happens only with a provider, in the caller's thread: never call this from the
sampling thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from . import tables
from .grid import annual, zone_key
from .location import Location

TYPICAL_DAY = "typical-day"
PROVIDER_FORECAST = "provider-forecast"
ANNUAL = "annual"
PROVIDERS = ("ukgrid", "electricitymaps", "watttime")
HOUR = timedelta(hours=1)
UTC = timezone.utc


@dataclass(frozen=True)
class ForecastPoint:
    """One period [start, end) of a forecast, aware UTC times, values in gCO2e/kWh."""

    start: datetime
    end: datetime
    value: float
    low: float
    high: float
    kind: str = TYPICAL_DAY


@dataclass(frozen=True)
class Forecast:
    zone: str
    points: tuple[ForecastPoint, ...]
    kind: str  # typical-day, provider-forecast or annual (the points say theirs)
    signal: str  # average or marginal
    source: str
    basis: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def start(self) -> datetime:
        return self.points[0].start

    @property
    def end(self) -> datetime:
        return self.points[-1].end

    @property
    def flat(self) -> bool:
        """True when every period has the same value: timing cannot change anything."""
        return len({p.value for p in self.points}) <= 1

    def at(self, moment: datetime) -> ForecastPoint | None:
        """The period that holds ``moment`` (aware), or None outside the forecast."""
        for point in self.points:
            if point.start <= moment < point.end:
                return point
        return None

    def mean(self, start: datetime, end: datetime) -> tuple[float, float, float] | None:
        """Time-weighted (value, low, high) over [start, end); None where not covered."""
        if end <= start or start < self.start or end > self.end:
            return None
        total = low = high = covered = 0.0
        for p in self.points:
            overlap = (min(end, p.end) - max(start, p.start)).total_seconds()
            if overlap > 0:
                total += p.value * overlap
                low += p.low * overlap
                high += p.high * overlap
                covered += overlap
        span = (end - start).total_seconds()
        if covered < span - 1e-6:  # a gap in the provider's data: no mean, not a low one
            return None
        return total / span, low / span, high / span

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "kind": self.kind,
            "signal": self.signal,
            "source": self.source,
            "basis": self.basis,
            "notes": list(self.notes),
            "points": [
                {
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "g_per_kwh": p.value,
                    "low": p.low,
                    "high": p.high,
                    "kind": p.kind,
                }
                for p in self.points
            ],
        }


def as_location(where: Location | str) -> Location:
    """A Location, or a zone key (``DE``, ``US-CAL-CISO``) made into one; ValueError if unknown."""
    if isinstance(where, Location):
        return where
    from .location import locate

    return locate(zone=where)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return moment.astimezone(UTC)


def forecast(
    location: Location | str,
    start: datetime,
    end: datetime,
    *,
    provider: str | None = None,
    client: Any = None,
    settings: Any = None,
) -> Forecast:
    """The intensity of ``location`` over [start, end): offline unless ``provider`` is named.

    ``provider`` is one of ``ukgrid``, ``electricitymaps``, ``watttime``; ``client`` a ready
    client of that provider (tests, or to share its cache); ``settings`` where the credentials
    are (default: the loaded settings). Bad arguments raise ValueError; a provider that fails
    does not: the typical day is used and ``notes`` say why.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        raise ValueError(f"the forecast must end after it starts ({start} >= {end})")
    loc = as_location(location)
    offline = offline_forecast(loc, start, end)
    if provider is None:
        return offline
    if provider not in PROVIDERS:
        raise ValueError(
            f"unknown forecast provider {provider!r}: use one of {', '.join(PROVIDERS)}"
        )
    from .providers import ProviderError

    try:
        if client is None:
            client = make_client(provider, settings)
        zone = provider_zone(provider, loc, client)
        points = client.forecast(zone)
    except ProviderError as err:
        note = f"{err}; the typical day ({offline.kind}) is used instead"
        return replace(offline, notes=(*offline.notes, note))
    return _merge(points, offline, start, end, provider)


def make_client(provider: str, settings: Any = None) -> Any:
    """A live client for ``provider`` with the credentials from the settings (or environment)."""
    from .providers import electricitymaps, ukgrid, watttime

    if provider == "ukgrid":
        return ukgrid.UKGridClient()
    if settings is None:
        from ..config import load_settings

        settings = load_settings({})
    if provider == "electricitymaps":
        return electricitymaps.ElectricityMapsClient(settings.electricitymaps_token or "")
    return watttime.WattTimeClient(
        settings.watttime_username or "", settings.watttime_password or ""
    )


def provider_zone(provider: str, location: Location, client: Any) -> str:
    """The provider's name for the location's grid: ``GB-13``, ``DE``, ``CAISO_NORTH``."""
    from . import countries
    from .live import _coordinates

    if provider == "ukgrid":
        key = (location.zone or "").upper()
        if key == "GB" or key.startswith("GB-"):
            return key
        if location.country == "GBR":
            return "GB"
        raise ValueError("the GB Carbon Intensity API covers Great Britain only: give --zone GB")
    if provider == "electricitymaps":
        key = zone_key(location)
        if key is None or key.startswith("US-STATE-"):  # eGRID states are not EM zones
            key = countries.find(location.country).iso2 if location.country else None
        if not key:
            raise ValueError(
                "an Electricity Maps forecast needs a location: give a zone or country"
            )
        return key
    where = _coordinates(location)
    if where is None:
        raise ValueError(
            "a WattTime forecast needs a place with coordinates: give a zone or region"
        )
    return client.region_from_loc(*where)


def _merge(
    points: list[Any], offline: Forecast, start: datetime, end: datetime, name: str
) -> Forecast:
    """Provider points clipped to [start, end); the typical day before and after them, for an
    average signal only: a marginal one (WattTime) is not mixed with averages, so it ends
    where the provider's horizon does."""
    marginal = bool(points) and points[0].kind == "marginal"
    out: list[ForecastPoint] = []
    covered_until = start
    for p in points:
        p_start = p.datetime
        p_end = p_start + timedelta(seconds=p.period_s or 3600.0)
        lo, hi = max(p_start, start), min(p_end, end)
        if hi <= lo or lo < covered_until:
            continue
        if lo > covered_until and not marginal:
            out += _slice(offline, covered_until, lo)
        v = p.value_g_per_kwh
        out.append(ForecastPoint(lo, hi, v, v, v, PROVIDER_FORECAST))
        covered_until = hi
    if not out:
        note = f"{name}'s forecast does not cover {start.isoformat()} to {end.isoformat()}"
        return replace(offline, notes=(*offline.notes, f"{note}; the typical day is used"))
    notes = [f"{name} publishes no uncertainty: its periods' bounds are the value itself"]
    if covered_until < end and marginal:
        notes.append(
            f"no marginal forecast after {covered_until.isoformat()} (the provider's "
            "horizon): later windows are not considered"
        )
    elif covered_until < end:
        out += _slice(offline, covered_until, end)
        notes.append(f"after {covered_until.isoformat()} (the provider's horizon) the typical day")
    first = points[0]
    signal = first.kind
    if signal == "marginal":
        notes.append("marginal (MOER): what one more kWh emits, not the grid's average")
    return Forecast(
        zone=first.zone,
        points=tuple(out),
        kind=PROVIDER_FORECAST,
        signal=signal,
        source=first.source,
        basis=first.basis,
        notes=(*offline.notes, *notes),
    )


def _slice(offline: Forecast, start: datetime, end: datetime) -> list[ForecastPoint]:
    out = []
    for p in offline.points:
        lo, hi = max(p.start, start), min(p.end, end)
        if hi > lo:
            out.append(replace(p, start=lo, end=hi))
    return out


def offline_forecast(location: Location, start: datetime, end: datetime) -> Forecast:
    """The typical day of the location's zone over [start, end), or its annual figure."""
    key = zone_key(location)
    profile = tables.hourly_profile(key) if key else None
    if profile is None:
        return _flat(location, start, end, key)
    return profile_forecast(profile, start, end)


def profile_forecast(profile: tables.HourlyProfile, start: datetime, end: datetime) -> Forecast:
    """The typical day of ``profile`` over [start, end) (the benchmark passes its own)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(profile.tz)
    # Periods follow the zone's local hours (a half-hour offset, a DST change included).
    local = start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    moment = local.astimezone(UTC)
    points = []
    while moment < end:
        here = moment.astimezone(tz)
        value = profile.at(here.month, here.hour)
        spread = profile.spread(here.month, here.hour) or (value, value)
        following = moment + HOUR
        points.append(
            ForecastPoint(max(moment, start), min(following, end), value, spread[0], spread[1])
        )  # type: ignore[arg-type]
        moment = following
    return Forecast(
        zone=profile.zone,
        points=tuple(points),
        kind=TYPICAL_DAY,
        signal="average",
        source=f"{profile.source} ({profile.years}): typical day by month and local hour, "
        "bounds the 10th-90th percentile of those hours",
        basis=profile.basis,
        notes=(f"a typical-day estimate for {profile.zone}, not a forecast of these days",),
    )


def _flat(location: Location, start: datetime, end: datetime, key: str | None) -> Forecast:
    it = annual(location)
    point = ForecastPoint(start, end, it.value, it.low, it.high, ANNUAL)
    where = key or it.zone
    return Forecast(
        zone=it.zone,
        points=(point,),
        kind=ANNUAL,
        signal="average",
        source=it.source,
        basis=it.basis,
        notes=(
            f"no hourly data for {where}: one annual figure ({it.kind}) for every hour, so the "
            "start time changes nothing; a provider forecast (--provider) may know more",
        ),
    )
