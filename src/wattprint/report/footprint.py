"""A group's footprint beside its operational emissions: embodied, LLM calls and SCI.

Same rules as the summariser: unknown is never zero (a run without the column is counted as
unknown, not added as 0), and bounds only when every counted run has them.
"""

from __future__ import annotations

import json
from typing import Any

from .summary import Run, _sum_known


def _bounded(runs: list[Run], value: str, low: str, high: str) -> dict[str, Any]:
    kg, unknown = _sum_known([r.num(value) for r in runs])
    lows, highs = [r.num(low) for r in runs], [r.num(high) for r in runs]
    counted = [i for i, r in enumerate(runs) if r.num(value) is not None]
    bounded = all(lows[i] is not None and highs[i] is not None for i in counted) and counted
    return {
        "kg": kg,
        "low_kg": _sum_known([lows[i] for i in counted])[0] if bounded else None,
        "high_kg": _sum_known([highs[i] for i in counted])[0] if bounded else None,
        "unknown_runs": unknown,
    }


def embodied(runs: list[Run]) -> dict[str, Any]:
    out = _bounded(runs, "embodied_kg", "embodied_low_kg", "embodied_high_kg")
    out["methods"] = sorted({r.text("embodied_method") for r in runs if r.num("embodied_kg")
                             is not None})  # fmt: skip
    return out


def llm(runs: list[Run]) -> dict[str, Any]:
    calls, _ = _sum_known([r.num("llm_calls") for r in runs])
    out = _bounded(runs, "llm_emissions_kg", "llm_emissions_low_kg", "llm_emissions_high_kg")
    out["calls"] = int(calls or 0)
    out["energy_kwh"], _ = _sum_known([r.num("llm_energy_kwh") for r in runs])
    models: dict[str, int] = {}
    for r in runs:
        try:
            detail = json.loads(r.text("llm_detail") or "{}")
        except ValueError:
            continue
        for key, entry in detail.items() if isinstance(detail, dict) else ():
            if isinstance(entry, dict) and isinstance(entry.get("calls"), int):
                models[key] = models.get(key, 0) + entry["calls"]
    out["models"] = dict(sorted(models.items()))
    return out


def sci(runs: list[Run]) -> dict[str, Any]:
    """SCI = (E x I + M) per R over the runs that counted units, with its parts."""
    counted = [r for r in runs if r.num("units")]
    units = {r.text("functional_unit") or "unit" for r in counted}
    out: dict[str, Any] = {"runs": len(counted), "runs_without_units": len(runs) - len(counted),
                           "functional_unit": None, "units": None, "operational_kg": None,
                           "embodied_kg": None, "llm_kg": None, "g_per_unit": None,
                           "low_g_per_unit": None, "high_g_per_unit": None, "note": ""}  # fmt: skip
    if not counted:
        out["note"] = "no run counted units of work (functional_unit, add_units)"
        return out
    if len(units) > 1:
        out["note"] = f"mixed functional units ({', '.join(sorted(units))}): no one score"
        return out
    r_units, _ = _sum_known([r.num("units") for r in counted])
    o = _bounded(counted, "emissions", "emissions_low_kg", "emissions_high_kg")
    m = _bounded(counted, "embodied_kg", "embodied_low_kg", "embodied_high_kg")
    remote = _bounded(counted, "llm_emissions_kg", "llm_emissions_low_kg", "llm_emissions_high_kg")
    has_remote = any(r.num("llm_calls") for r in counted)
    out.update(functional_unit=units.pop(), units=r_units, operational_kg=o["kg"],
               embodied_kg=m["kg"], llm_kg=remote["kg"] if has_remote else None)  # fmt: skip
    if o["unknown_runs"] or m["unknown_runs"] or not r_units:
        out["note"] = "a run's operational or embodied emissions are unknown"
        return out
    for key, suffix in (("g_per_unit", "kg"), ("low_g_per_unit", "low_kg"),
                        ("high_g_per_unit", "high_kg")):  # fmt: skip
        extra = remote[suffix] if has_remote else 0.0
        if o[suffix] is None or m[suffix] is None or extra is None:
            continue
        out[key] = (o[suffix] + m[suffix] + extra) * 1000.0 / r_units
    return out


def summarise_footprint(runs: list[Run]) -> dict[str, Any]:
    return {"embodied": embodied(runs), "llm": llm(runs), "sci": sci(runs)}
