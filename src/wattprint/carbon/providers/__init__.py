"""Live carbon-intensity providers: opt-in clients for public grid APIs.

Every client here talks to the network, so none is used unless the user asks for it, and none may
be called on the sampling thread. Each returns :class:`LiveIntensity` values that say who said
what (provider and endpoint), for which zone and time, and whether the provider called the value
an estimate; each raises :class:`ProviderError` (never a bare ``urllib`` or ``json`` exception)
with a message that says what failed and what to do.

The clients are loaded on first use (PEP 562), so importing this package costs nothing:

* :class:`ElectricityMapsClient` (``electricitymaps``): average intensity, lifecycle by default;
* :class:`UKGridClient` (``ukgrid``): the GB Carbon Intensity API, national and regional;
* :class:`WattTimeClient` (``watttime``): marginal (MOER) intensity, converted to g/kWh.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .electricitymaps import ElectricityMapsClient
    from .ukgrid import UKGridClient
    from .watttime import WattTimeClient


@dataclass(frozen=True)
class LiveIntensity:
    """One carbon-intensity value from a live provider.

    ``datetime`` is aware (UTC) and is the start of the period the value is for; ``period_s`` is
    that period's length where the provider says it (3600 for hourly data, 1800 for GB half hours,
    300 for WattTime's five minutes). ``kind`` is ``"average"`` or ``"marginal"``; ``basis`` is
    ``"lifecycle"`` or ``"direct"`` where the provider's method says which, else None;
    ``estimated`` is the provider's own flag (a forecast counts as estimated), None where it gives
    none.
    """

    value_g_per_kwh: float
    datetime: datetime
    kind: str
    basis: str | None
    zone: str
    source: str
    estimated: bool | None
    period_s: float | None = None


class ProviderError(RuntimeError):
    """A live provider could not give a value. The message says what failed and what to do."""

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.url = url


_LAZY = {
    "ElectricityMapsClient": "electricitymaps",
    "UKGridClient": "ukgrid",
    "WattTimeClient": "watttime",
}

__all__ = [
    "ElectricityMapsClient",
    "LiveIntensity",
    "ProviderError",
    "UKGridClient",
    "WattTimeClient",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
