"""What a run that was moved in time knew when it was moved, and the columns that say so.

``wattprint wait`` and ``@carbon_aware`` set a tracker's ``shift`` to a :class:`ShiftInfo` before
it starts; the run's meta (and so its journal) carries it, and every row of the run gets the
``shifted_*`` / ``shift_*`` columns. The saving is an estimate: the run's measured energy times
the difference between the forecast intensity had it started at once and the forecast intensity
of the hours it was started at (both from the same forecast), with bounds that pair one time's
low with the other's high (see ``planning._saving_kg`` for why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ShiftInfo:
    shifted_from: str  # ISO 8601: when the run was asked for (it would have started then)
    shifted_to: str  # ISO 8601: when it started
    intensity_from: float  # g/kWh, forecast mean over the run's duration from shifted_from
    intensity_from_low: float
    intensity_from_high: float
    intensity_to: float  # g/kWh, the same from shifted_to
    intensity_to_low: float
    intensity_to_high: float
    source: str  # the forecast's kind and source, and why the wait ended


def saving_kg(shift: ShiftInfo, energy_kwh: float | None) -> tuple[float, float, float] | None:
    """(estimate, low, high) of the kg CO2e saved against starting at once, or None."""
    if energy_kwh is None:
        return None
    diffs = (
        shift.intensity_from - shift.intensity_to,
        shift.intensity_from_low - shift.intensity_to_high,
        shift.intensity_from_high - shift.intensity_to_low,
    )
    kg = [energy_kwh * d / 1000.0 for d in diffs]
    return kg[0], min(kg), max(kg)


def columns(shift: ShiftInfo | None, energy_kwh: float | None) -> dict[str, Any]:
    """The record's shift columns (named in ``records.SPEC``); empty for a run not shifted."""
    saved = None if shift is None else saving_kg(shift, energy_kwh)
    row: dict[str, Any] = {
        "shifted_from": shift.shifted_from if shift else "",
        "shifted_to": shift.shifted_to if shift else "",
        "shift_intensity_from_g_per_kwh": shift.intensity_from if shift else "",
        "shift_intensity_to_g_per_kwh": shift.intensity_to if shift else "",
        "shift_saving_kg": saved[0] if saved else "",
        "shift_saving_low_kg": saved[1] if saved else "",
        "shift_saving_high_kg": saved[2] if saved else "",
        "shift_source": shift.source if shift else "",
    }
    return row
