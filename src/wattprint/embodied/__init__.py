"""Embodied emissions: what making the hardware emitted, spread over its lifetime and charged to
a run by the hour, for the share of the machine the run uses.

* :mod:`.table` reads ``data/embodied.csv`` (built by ``tools/build_data.py`` from Boavizta's
  component factors and Cloud Carbon Footprint's per-instance coefficients).
* :mod:`.model` costs a machine from its parts (Boavizta's component model), a cloud instance
  from CCF's coefficients, or an unknown machine as Boavizta's archetype, with bounds.
* :mod:`.share` says which share of the machine a run uses (machine, process or job mode).
* :func:`charge` turns a per-hour rate, a duration and a share into the record's figures.

Nothing here runs on the sampling path: the rate is found once per run, the charge once per row.
"""

from __future__ import annotations

from typing import Any

HOURS_PER_YEAR = 8760.0


def charge(
    rate: dict[str, Any] | None, duration_s: float, share: float | None
) -> tuple[float | None, float | None, float | None]:
    """(kg, low, high) for ``duration_s`` of a run using ``share`` of a machine whose embodied
    emissions are ``rate`` (``kg_per_h``, ``low_kg_per_h``, ``high_kg_per_h``). None: unknown."""
    if not rate or share is None or rate.get("kg_per_h") is None:
        return None, None, None
    hours = max(0.0, duration_s) / 3600.0
    return tuple(  # type: ignore[return-value]
        None if rate.get(k) is None else rate[k] * hours * share
        for k in ("kg_per_h", "low_kg_per_h", "high_kg_per_h")
    )
