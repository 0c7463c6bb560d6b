"""Everything the tracker needs from the carbon layer for one run, decided once at start.

Where the machine is, the intensity over time there, the marginal factor, and the PUE and WUE
that turn IT energy into facility energy and water, each with where it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import tables
from .grid import Intensity, Timeline, assumption, marginal
from .location import Location, locate

ON_PREMISES_PUE = 1.0


@dataclass
class CarbonSetup:
    location: Location
    timeline: Timeline
    marginal: Intensity | None
    pue: float
    pue_source: str
    wue_l_per_kwh: float | None  # None: unknown, so water is not reported (never a zero)
    wue_source: str
    live: Any = None  # a LiveFeed when a live provider is on
    announcement: str | None = None

    def marginal_at(self, t: float) -> float | None:
        """gCO2e per marginal kWh at ``t``: a fresh live marginal value, else the country's."""
        if self.live is not None and self.live.kind == "marginal":
            live = self.live.value_at(t)
            if live is not None:
                return live.value
        return self.marginal.value if self.marginal is not None else None

    def close(self) -> None:
        if self.live is not None:
            self.live.close()


def _efficiency(
    settings: Any, location: Location, site: Any
) -> tuple[float, str, float | None, str]:
    """PUE and WUE: explicit > site file > the cloud region's > the provider's > on-premises."""
    pue, pue_source = settings.pue, "setting pue" if settings.pue is not None else ""
    wue, wue_source = settings.wue, "setting wue" if settings.wue is not None else ""
    if pue is None and site is not None and getattr(site, "pue", None) is not None:
        pue, pue_source = site.pue, f"site file {site.path}"
    provider = (
        tables.normalise_provider(location.cloud_provider) if location.cloud_provider else None
    )
    if provider is not None:
        if pue is None:
            pue, pue_source = tables.cloud_pue(provider, location.cloud_region) or (None, "")
        region = tables.cloud_region(provider, location.cloud_region or "")
        if region is not None and wue is None and region.wue_l_per_kwh is not None:
            wue, wue_source = region.wue_l_per_kwh, f"{provider} {region.region}: {region.source}"
        _, default_wue, source = tables.provider_defaults(provider)
        if wue is None and default_wue is not None:
            wue, wue_source = default_wue, f"{provider} default: {source}"
    if pue is None:
        pue, pue_source = ON_PREMISES_PUE, "on-premises default (set pue to your facility's)"
    return pue, pue_source, wue, wue_source or "unknown (set wue to report water)"


def setup(
    settings: Any,
    *,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    live: Callable[[Location], Any] | None = None,
) -> CarbonSetup:
    """Resolve the location and build the intensity timeline for a run's settings."""
    location = locate(
        settings.country,
        settings.region,
        settings.zone,
        settings.cloud_provider,
        settings.cloud_region,
        settings.latitude,
        settings.longitude,
        cloud_metadata=settings.cloud_metadata,
        ip_geolocation=settings.ip_geolocation,
        root=root,
        env=env,
    )
    # A site file's PUE holds wherever the location came from: the cluster knows its building.
    # Its intensity only where it also gave the location.
    site = _site(root, env)
    override = settings.intensity_g_per_kwh
    if override is None and site is not None and location.source == "site-file":
        override = site.intensity_g_per_kwh
    live_feed = live(location) if live is not None and override is None else None
    timeline = Timeline(location, override=override, live=live_feed)
    pue, pue_source, wue, wue_source = _efficiency(settings, location, site)
    said = None if override is not None else assumption(location, timeline.base)
    return CarbonSetup(
        location=location,
        timeline=timeline,
        marginal=_marginal(location, live_feed),
        pue=pue,
        pue_source=pue_source,
        wue_l_per_kwh=wue,
        wue_source=wue_source,
        live=live_feed,
        announcement=said,
    )


def _marginal(location: Location, live: Any) -> Intensity | None:
    static = marginal(location)
    if static is None and live is not None and live.kind == "marginal":
        # Only a live marginal signal: record its provenance; values come per interval.
        return Intensity(0.0, 0.0, 0.0, "marginal", live.zone, None, live.source)
    return static


def _site(root: Path | None, env: Mapping[str, str] | None) -> Any:
    try:
        from . import site
    except ImportError:
        return None
    try:
        return site.find(root=root, env=env)
    except Exception:  # the location step already validated and reported the file
        return None
