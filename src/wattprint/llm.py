"""LLM API calls: their energy and emissions, estimated by EcoLogits, added to the run.

A hosted model's energy is spent in someone else's data centre, where no local meter sees it.
EcoLogits (``pip install wattprint[llm]``) estimates it per call from the model's size, the
tokens it generated and the provider's data centre, with a range. With ``track_llm_calls`` on,
a tracked run turns EcoLogits on for the clients it supports and wraps, on top of EcoLogits,
the OpenAI client's calls (OpenAI and every OpenAI-compatible server it talks to): each call's
estimate and token counts are added, per provider and model, to the runs collecting now.

A model EcoLogits does not know is counted as a call with unknown energy and a note, never as
zero. Imported only when the setting is on: ``import wattprint`` never loads ecologits.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

#: EcoLogits' provider names and the package each one needs.
ECOLOGITS_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "mistralai": "mistralai",
    "litellm": "litellm",
    "google_genai": "google.genai",
    "cohere": "cohere",
    "huggingface_hub": "huggingface_hub",
}
#: The client methods whose answers wattprint reads (module, name, tokens in, tokens out).
OPENAI_METHODS = (
    ("openai.resources.chat.completions", "Completions.create", "prompt_tokens",
     "completion_tokens"),
    ("openai.resources.chat.completions", "AsyncCompletions.create", "prompt_tokens",
     "completion_tokens"),
    ("openai.resources.responses.responses", "Responses.create", "input_tokens", "output_tokens"),
    ("openai.resources.responses.responses", "AsyncResponses.create", "input_tokens",
     "output_tokens"),
)  # fmt: skip
TOTALS = ("energy_kwh", "energy_low_kwh", "energy_high_kwh", "emissions_kg", "emissions_low_kg",
          "emissions_high_kg")  # fmt: skip
COUNTS = ("calls", "unknown_calls", "input_tokens", "output_tokens")

_lock = threading.Lock()
_collectors: list[Collector] = []
_installed = False
_providers: list[str] = []  # those EcoLogits was turned on for


def _range(impact: Any) -> tuple[float, float, float] | None:
    """(value, low, high) of an EcoLogits impact: a number, or a range whose mean is the value."""
    value = getattr(impact, "value", None)
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value), float(value), float(value)
    low, high = float(value.min), float(value.max)
    return (low + high) / 2.0, low, high


def _host(instance: Any) -> str:
    client = getattr(instance, "_client", None)
    url = getattr(client, "base_url", None)
    return str(getattr(url, "host", "") or "")


class Collector:
    """The LLM calls made while one run collects, per provider and model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, dict[str, Any]] = {}

    def add(self, provider: str, model: str, host: str, tokens_in: int | None,
            tokens_out: int | None, impacts: Any, note: str = "") -> None:  # fmt: skip
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
            entry["input_tokens"] += tokens_in or 0
            entry["output_tokens"] += tokens_out or 0
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


def _empty(provider: str, model: str, host: str) -> dict[str, Any]:
    return {"provider": provider, "model": model, "host": host, "note": "",
            **dict.fromkeys(COUNTS, 0), **dict.fromkeys(TOTALS, 0.0)}  # fmt: skip


def _record(instance: Any, kwargs: dict[str, Any], response: Any, keys: tuple[str, str]) -> None:
    """One answered call, into every collecting run. Never raises into the user's code."""
    try:
        with _lock:
            collectors = list(_collectors)
        if not collectors:
            return
        model = str(getattr(response, "model", None) or kwargs.get("model") or "?")
        note = ""
        if kwargs.get("stream"):
            impacts, usage = None, None
            note = "streamed answer: wattprint does not read EcoLogits' per-chunk estimates"
        else:
            impacts, usage = getattr(response, "impacts", None), getattr(response, "usage", None)
        tokens_in = getattr(usage, keys[0], None) if usage is not None else None
        tokens_out = getattr(usage, keys[1], None) if usage is not None else None
        for collector in collectors:
            collector.add("openai", model, _host(instance), tokens_in, tokens_out, impacts, note)
    except Exception:  # an estimate must never break the call it describes
        pass


def _wrapper(keys: tuple[str, str], asynchronous: bool) -> Callable[..., Any]:
    if asynchronous:

        def wrap_async(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            async def call() -> Any:
                response = await wrapped(*args, **kwargs)
                _record(instance, kwargs, response, keys)
                return response

            return call()

        return wrap_async

    def wrap(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        response = wrapped(*args, **kwargs)
        _record(instance, kwargs, response, keys)
        return response

    return wrap


def install() -> list[str]:
    """Turn EcoLogits on for the installed clients it supports, and read the OpenAI client's
    answers. Once per process. Returns the providers turned on. ImportError without ecologits."""
    global _installed, _providers
    from ecologits import EcoLogits  # ImportError: said by start_collecting
    from wrapt import wrap_function_wrapper

    with _lock:
        if _installed:
            return _providers
        _installed = True  # never twice, even after a failure: a method wrapped twice breaks
        for provider, module in ECOLOGITS_PROVIDERS.items():
            if not _importable(module):
                continue
            try:  # one at a time: a client whose own extras are missing must not stop the rest
                EcoLogits.init(providers=[provider])
            except Exception:
                continue
            _providers.append(provider)
        if "openai" in _providers:
            for module, name, tokens_in, tokens_out in OPENAI_METHODS:
                asynchronous = name.startswith("Async")
                wrap_function_wrapper(module, name, _wrapper((tokens_in, tokens_out), asynchronous))
    return _providers


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def start_collecting(warn: Callable[[str, str], None]) -> Collector | None:
    """A collector for one run, or None (with one warning) when EcoLogits is not installed."""
    try:
        providers = install()
    except ImportError:
        warn(
            "llm:missing",
            "track_llm_calls is on but EcoLogits is not installed: LLM API "
            "calls are not counted. Install it with pip install 'wattprint[llm]'.",
        )
        return None
    if "openai" not in providers:
        warn("llm:no-openai", "track_llm_calls: wattprint reads the OpenAI client's calls "
                              "(and OpenAI-compatible servers'); the openai package is not "
                              "installed, so no call is counted.")  # fmt: skip
    collector = Collector()
    with _lock:
        _collectors.append(collector)
    return collector


def subtract(end: dict[str, dict[str, Any]], start: dict[str, dict[str, Any]]
             ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The calls made between two snapshots (a task's own calls)."""
    out = {}
    for key, entry in end.items():
        before = start.get(key)
        if before is None:
            out[key] = dict(entry)
            continue
        diff = {k: entry[k] - before.get(k, 0) for k in (*COUNTS, *TOTALS)}
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
