"""The LLM calls made while runs collect: per provider and model, with EcoLogits' ranges.

Every run that collects (``track_llm_calls``) holds a Collector; each answered call, whatever
its client, reaches them all through ``record``. A model EcoLogits does not know is counted as
a call with unknown energy and a note, never as zero.
"""

from __future__ import annotations

import threading
from typing import Any

TOTALS = (
    "energy_kwh",
    "energy_low_kwh",
    "energy_high_kwh",
    "emissions_kg",
    "emissions_low_kg",
    "emissions_high_kg",
)
COUNTS = ("calls", "unknown_calls", "input_tokens", "output_tokens")

_lock = threading.Lock()
_collectors: list[Collector] = []


def _range(impact: Any) -> tuple[float, float, float] | None:
    """(value, low, high) of an EcoLogits impact: a number, or a range whose mean is the value."""
    value = getattr(impact, "value", None)
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value), float(value), float(value)
    low, high = float(value.min), float(value.max)
    return (low + high) / 2.0, low, high


class Collector:
    """The LLM calls made while one run collects, per provider and model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, dict[str, Any]] = {}

    def add(
        self,
        provider: str,
        model: str,
        host: str,
        tokens_in: int | None,
        tokens_out: int | None,
        impacts: Any,
        note: str = "",
    ) -> None:
        energy = _range(getattr(impacts, "energy", None)) if impacts is not None else None
        gwp = _range(getattr(impacts, "gwp", None)) if impacts is not None else None
        if energy is None or gwp is None:
            errors = getattr(impacts, "errors", None) or []
            note = note or (
                getattr(errors[0], "message", str(errors[0]))
                if errors
                else f"EcoLogits has no estimate for {provider} model {model!r}"
            )
        with self._lock:
            entry = self._models.setdefault(f"{provider}/{model}", _empty(provider, model, host))
            entry["calls"] += 1
            # A call whose answer gave no count (an OpenAI stream without its usage chunk)
            # makes the model's count unknown: a sum of the others would pass for the whole.
            entry["input_tokens"] = _plus(entry["input_tokens"], tokens_in)
            entry["output_tokens"] = _plus(entry["output_tokens"], tokens_out)
            if energy is None or gwp is None:
                entry["unknown_calls"] += 1
                entry["note"] = note
                return
            for key, value in zip(TOTALS, energy + gwp, strict=True):
                entry[key] += value

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {key: dict(entry) for key, entry in self._models.items()}

    def close(self) -> None:
        with _lock:
            if self in _collectors:
                _collectors.remove(self)


def _plus(total: int | None, tokens: int | None) -> int | None:
    return None if total is None or tokens is None else total + tokens


def _minus(end: Any, start: Any) -> Any:
    return None if end is None or start is None else end - start


def _empty(provider: str, model: str, host: str) -> dict[str, Any]:
    return {
        "provider": provider,
        "model": model,
        "host": host,
        "note": "",
        **dict.fromkeys(COUNTS, 0),
        **dict.fromkeys(TOTALS, 0.0),
    }


def collecting() -> bool:
    """Whether any run collects now (a call made outside every run is not read at all)."""
    return bool(_collectors)


def open_collector() -> Collector:
    collector = Collector()
    with _lock:
        _collectors.append(collector)
    return collector


def record(
    provider: str,
    model: str,
    host: str,
    tokens_in: int | None,
    tokens_out: int | None,
    impacts: Any,
    note: str = "",
) -> None:
    """One answered call, into every collecting run."""
    with _lock:
        collectors = list(_collectors)
    for collector in collectors:
        collector.add(provider, model, host, tokens_in, tokens_out, impacts, note)


def subtract(
    end: dict[str, dict[str, Any]], start: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The calls made between two snapshots (a task's own calls)."""
    out = {}
    for key, entry in end.items():
        before = start.get(key)
        if before is None:
            out[key] = dict(entry)
            continue
        diff = {k: _minus(entry[k], before.get(k, 0)) for k in (*COUNTS, *TOTALS)}
        if diff["calls"]:
            out[key] = {**entry, **diff}
    return out


def totals(models: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """The record's llm_* figures from a run's per-model calls. Calls EcoLogits could not
    estimate leave the total's upper bound unknown (None), and all-unknown leaves it all None."""
    if not models:
        return {"calls": None, **dict.fromkeys(TOTALS)}
    out: dict[str, Any] = {"calls": sum(e["calls"] for e in models.values())}
    known = sum(e["calls"] - e["unknown_calls"] for e in models.values())
    unknown = sum(e["unknown_calls"] for e in models.values())
    for key in TOTALS:
        out[key] = sum(e[key] for e in models.values()) if known else None
    if unknown:
        out["energy_high_kwh"] = out["emissions_high_kg"] = None
    return out
