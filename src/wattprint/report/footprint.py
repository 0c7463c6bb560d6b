"""A group's footprint beside its operational emissions: embodied, LLM calls and SCI.

Same rules as the summariser: unknown is never zero (a run without the column is counted as
unknown, not added as 0), and bounds only when every counted run has them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .summary import Run, _sum_known


def _bounded(runs: list[Run], value: str, low: str, high: str) -> dict[str, Any]:
    kg, unknown = _sum_known([r.num(value) for r in runs])
    lows, highs = [r.num(low) for r in runs], [r.num(high) for r in runs]
    counted = [i for i, r in enumerate(runs) if r.num(value) is not None]

    def bound(values: list[float | None]) -> float | None:
        # Each bound on its own: LLM calls EcoLogits could not estimate leave only the upper
        # one open.
        if not counted or any(values[i] is None for i in counted):
            return None
        return _sum_known([values[i] for i in counted])[0]

    return {
        "kg": kg,
        "low_kg": bound(lows),
        "high_kg": bound(highs),
        "unknown_runs": unknown,
    }


def embodied(runs: list[Run]) -> dict[str, Any]:
    out = _bounded(runs, "embodied_kg", "embodied_low_kg", "embodied_high_kg")
    out["methods"] = sorted(
        {r.text("embodied_method") for r in runs if r.num("embodied_kg") is not None}
    )
    return out


def llm(runs: list[Run]) -> dict[str, Any]:
    """The runs' LLM calls (remote) beside their local energy; ``unknown_runs``: runs whose
    calls EcoLogits could not estimate (runs without calls are not counted)."""
    callers = [r for r in runs if r.num("llm_calls")]
    calls, _ = _sum_known([r.num("llm_calls") for r in callers])
    out = _bounded(callers, "llm_emissions_kg", "llm_emissions_low_kg", "llm_emissions_high_kg")
    out["calls"] = int(calls or 0)
    energy = _bounded(callers, "llm_energy_kwh", "llm_energy_low_kwh", "llm_energy_high_kwh")
    out["energy_kwh"] = energy["kg"]
    out["energy_low_kwh"], out["energy_high_kwh"] = energy["low_kg"], energy["high_kg"]
    out["local_energy_kwh"], _ = _sum_known([r.num("energy_consumed") for r in runs])
    per_model = per_model_totals(runs)
    out["models"] = {key: entry["calls"] for key, entry in per_model.items()}
    out["per_model"] = per_model
    return out


#: A model's totals over the runs' llm_detail (the record's per-model JSON).
MODEL_TOTALS = (
    "energy_kwh",
    "energy_low_kwh",
    "energy_high_kwh",
    "emissions_kg",
    "emissions_low_kg",
    "emissions_high_kg",
)
MODEL_COUNTS = ("calls", "unknown_calls", "input_tokens", "output_tokens")
TOKENS = ("input_tokens", "output_tokens")


def tokens_text(count: int | None) -> str:
    """A token count as the reports write it: "unknown" where a call could not say."""
    return "unknown" if count is None else str(count)


def per_model_totals(runs: list[Run]) -> dict[str, dict[str, Any]]:
    """Per provider/model: calls, tokens, energy and emissions with bounds, over the runs."""
    return model_totals((detail_of(r.text("llm_detail")), 1) for r in runs)


def model_totals(
    details: Iterable[tuple[dict[str, dict[str, Any]], int]],
) -> dict[str, dict[str, Any]]:
    """Per provider/model over (a run's detail, how many runs have it): calls, tokens, energy
    and emissions with bounds. A model with calls EcoLogits could not estimate has no upper
    bound, and none of its figures if it has no estimated call at all; a token count a run
    could not make leaves the model's total unknown: unknown, never zero."""
    models: dict[str, dict[str, Any]] = {}
    for detail, times in details:
        for key, entry in detail.items():
            total = models.setdefault(
                key,
                {
                    "provider": entry.get("provider", ""),
                    "model": entry.get("model", key),
                    "notes": [],
                    **dict.fromkeys(MODEL_COUNTS, 0),
                    **dict.fromkeys(MODEL_TOTALS, 0.0),
                },
            )
            for name in (*MODEL_COUNTS, *MODEL_TOTALS):
                value = entry.get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    if total[name] is not None:
                        total[name] += value if times == 1 else value * times
                elif name in TOKENS:  # a run that could not count them: unknown, never zero
                    total[name] = None
            note = entry.get("note")
            if note and note not in total["notes"]:
                total["notes"].append(str(note))
    for total in models.values():
        if total["unknown_calls"]:
            total["energy_high_kwh"] = total["emissions_high_kg"] = None
        if total["unknown_calls"] >= total["calls"]:
            for name in MODEL_TOTALS:
                total[name] = None
    return dict(sorted(models.items()))


def detail_of(text: str) -> dict[str, dict[str, Any]]:
    """A run's ``llm_detail`` (JSON): its entries with a count of calls; {} if it has none."""
    try:
        detail = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(detail, dict):
        return {}
    return {
        key: entry
        for key, entry in detail.items()
        if isinstance(entry, dict) and isinstance(entry.get("calls"), int)
    }


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
    # The LLM term, over the runs that made calls: EcoLogits' estimate, or unknown (never 0).
    callers = [r for r in counted if r.num("llm_calls")]
    remote = (
        _bounded(callers, "llm_emissions_kg", "llm_emissions_low_kg", "llm_emissions_high_kg")
        if callers
        else NO_CALLS
    )
    out.update(
        functional_unit=units.pop(),
        units=r_units,
        operational_kg=o["kg"],
        embodied_kg=m["kg"],
        llm_kg=remote["kg"] if callers else None,
    )
    if o["unknown_runs"] or m["unknown_runs"] or not r_units:
        out["note"] = "a run's operational or embodied emissions are unknown"
        return out
    if remote["unknown_runs"]:
        out["note"] = f"the LLM calls of {remote['unknown_runs']} run(s) were not estimated"
        return out
    for key, suffix in (
        ("g_per_unit", "kg"),
        ("low_g_per_unit", "low_kg"),
        ("high_g_per_unit", "high_kg"),
    ):
        if o[suffix] is None or m[suffix] is None or remote[suffix] is None:
            continue
        out[key] = (o[suffix] + m[suffix] + remote[suffix]) * 1000.0 / r_units
    return out


NO_CALLS = {"kg": 0.0, "low_kg": 0.0, "high_kg": 0.0, "unknown_runs": 0}


def summarise_footprint(runs: list[Run]) -> dict[str, Any]:
    return {"embodied": embodied(runs), "llm": llm(runs), "sci": sci(runs)}
