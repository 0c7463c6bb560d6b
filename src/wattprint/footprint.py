"""The rest of the footprint in the record: embodied emissions, LLM API calls and the SCI score.

Beside the operational emissions, never inside them: ``emissions`` keeps CodeCarbon's meaning
(the measured components' electricity), and these columns say what else the run caused.

SCI (Green Software Foundation, Software Carbon Intensity specification 1.1) is
``(E x I + M) per R``, over the software boundary of the run and the hosted models it called:

- E x I, local: the run's ``emissions``, its measured electricity times the intensity of the
  grid it ran on. E is that electricity alone: the LLM calls' energy (``llm_energy_kwh``) is
  spent on another grid and is never multiplied by this one's intensity.
- The LLM calls: EcoLogits' emissions for them (``llm_emissions_kg``), which are their own
  E x I (the provider's electricity, at its data centre's grid) plus M (the provider's
  hardware's embodied share, EcoLogits' embodied phase), added once, as one remote term.
- M, local: the embodied emissions charged to the run (``embodied_kg``).
- R: the functional units it did (``units``).

A term that is unknown (no embodied figure, LLM calls EcoLogits could not estimate) leaves the
score, or its upper bound, unknown: never counted as zero.
"""

from __future__ import annotations

import json
from typing import Any

NO_LLM = {
    "calls": None,
    "energy_kwh": None,
    "energy_low_kwh": None,
    "energy_high_kwh": None,
    "emissions_kg": None,
    "emissions_low_kg": None,
    "emissions_high_kg": None,
}


def llm_totals(result: Any) -> dict[str, Any]:
    if not result.llm:  # the common case: nothing more to import
        return dict(NO_LLM)
    from .llm import totals

    return totals(result.llm)


def sci_parts(result: Any) -> dict[str, float | None]:
    """E x I, M and the remote (LLM) part in kg, and R; None where unknown."""
    llm = llm_totals(result)
    return {
        "operational_kg": result.emissions_kg,
        "operational_low_kg": result.emissions_low_kg,
        "operational_high_kg": result.emissions_high_kg,
        "llm_kg": llm["emissions_kg"],
        "llm_low_kg": llm["emissions_low_kg"],
        "llm_high_kg": llm["emissions_high_kg"],
        "llm_calls": llm["calls"],
        "embodied_kg": result.embodied_kg,
        "embodied_low_kg": result.embodied_low_kg,
        "embodied_high_kg": result.embodied_high_kg,
        "units": result.units,
    }


def sci_g_per_unit(parts: dict[str, float | None]) -> tuple[float | None, ...]:
    """(SCI, low, high) in gCO2e per functional unit; None without units or a part unknown."""
    units = parts["units"]
    if not units:
        return None, None, None
    out = []
    for suffix in ("", "_low", "_high"):
        o, m = parts[f"operational{suffix}_kg"], parts[f"embodied{suffix}_kg"]
        remote = parts[f"llm{suffix}_kg"] if parts.get("llm_calls") else 0.0
        if o is None or m is None or remote is None:
            out.append(None)
        else:
            out.append((o + remote + m) * 1000.0 / units)
    return tuple(out)


#: The record's note on what its SCI adds up (GSF SCI 1.1).
SCI_NOTE = (
    "SCI = (E x I + M) / R: E x I = emissions (local electricity at the local grid's "
    "intensity) + llm_emissions_kg (EcoLogits: the hosted models' electricity at their "
    "data centre's grid and their hardware's embodied share); M = embodied_kg; "
    "R = units"
)


def notes(result: Any) -> list[str]:
    """The record's notes, with what its SCI adds up where it has a score."""
    out = list(result.notes)
    if result.units:
        out.append(SCI_NOTE)
    return out


def _num(value: float | None) -> Any:
    return "" if value is None else value


def columns(result: Any) -> dict[str, Any]:
    """The record's footprint block (see records.SPEC), and its notes with the SCI's own."""
    llm = llm_totals(result)
    sci, sci_low, sci_high = sci_g_per_unit(sci_parts(result))
    detail = json.dumps(result.llm, sort_keys=True, separators=(",", ":")) if result.llm else ""
    return {
        "notes": " | ".join(notes(result)),
        "embodied_kg": _num(result.embodied_kg),
        "embodied_low_kg": _num(result.embodied_low_kg),
        "embodied_high_kg": _num(result.embodied_high_kg),
        "embodied_method": result.embodied_method,
        "embodied_source": result.embodied_source,
        "units": _num(result.units),
        "functional_unit": result.functional_unit,
        "sci_g_per_unit": _num(sci),
        "sci_low_g_per_unit": _num(sci_low),
        "sci_high_g_per_unit": _num(sci_high),
        "llm_calls": _num(llm["calls"]),
        "llm_energy_kwh": _num(llm["energy_kwh"]),
        "llm_energy_low_kwh": _num(llm["energy_low_kwh"]),
        "llm_energy_high_kwh": _num(llm["energy_high_kwh"]),
        "llm_emissions_kg": _num(llm["emissions_kg"]),
        "llm_emissions_low_kg": _num(llm["emissions_low_kg"]),
        "llm_emissions_high_kg": _num(llm["emissions_high_kg"]),
        "llm_detail": detail,
    }


def render_lines(result: Any) -> list[str]:
    """The result's text lines for the footprint beside the operational emissions."""
    from .units import energy_text, mass_text

    lines = []
    if result.embodied_kg is not None:
        lines.append(
            f"  embodied {mass_text(result.embodied_kg)} [{mass_text(result.embodied_low_kg)} - "
            f"{mass_text(result.embodied_high_kg)}] ({result.embodied_method}; not in CO2eq above)"
        )
    llm = llm_totals(result)
    if llm["calls"]:
        lines.append(
            f"  LLM calls {llm['calls']}: {energy_text(llm['energy_kwh'])}, "
            f"{mass_text(llm['emissions_kg'])} [{mass_text(llm['emissions_low_kg'])} - "
            f"{mass_text(llm['emissions_high_kg'])}] remote (EcoLogits)"
        )
        for key, entry in sorted((result.llm or {}).items()):
            if entry.get("unknown_calls"):
                lines.append(
                    f"        {key}: {entry['unknown_calls']} call(s) unknown: {entry['note']}"
                )
    lines.extend(_sci_lines(result))
    return lines


def _sci_lines(result: Any) -> list[str]:
    """The score with its parts, or why there is none, where the run counted units."""
    from .units import mass_text

    if not result.units:
        return []
    parts = sci_parts(result)
    sci = sci_g_per_unit(parts)
    unit = result.functional_unit or "unit"
    remote = f" + LLM {mass_text(parts['llm_kg'])}" if parts["llm_calls"] else ""
    terms = (
        f"(E x I {mass_text(parts['operational_kg'])}{remote} + M "
        f"{mass_text(parts['embodied_kg'])}) / {parts['units']:g}"
    )
    if sci[0] is None:
        return [f"  SCI unknown per {unit}: {terms}, a part unknown"]
    return [f"  SCI {sci[0]:.4g} gCO2e per {unit} [{_g(sci[1])} - {_g(sci[2])}] = {terms}"]


def _g(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"


def from_state(meta: dict[str, Any], state: dict[str, Any], duration_s: float) -> dict[str, Any]:
    """RunResult's footprint fields from a run's meta and one cumulative state."""
    from .embodied import charge
    from .embodied.share import attributed_share

    rate = meta.get("embodied")
    kg, low, high = charge(rate, duration_s, attributed_share(meta, state))
    units = state.get("units")
    if units is None:
        units = meta.get("functional_units")
    return {
        "embodied_kg": kg,
        "embodied_low_kg": low,
        "embodied_high_kg": high,
        "embodied_method": (rate or {}).get("method", "") if kg is not None else "none",
        "embodied_source": (rate or {}).get("source", "") if kg is not None else "",
        "units": None if units is None else float(units),
        "functional_unit": meta.get("functional_unit") or "",
        "llm": state.get("llm") or None,
    }
