"""LLM API calls: their energy and emissions, estimated by EcoLogits, added to the run.

A hosted model's energy is spent in someone else's data centre, where no local meter sees it.
EcoLogits (``pip install wattprint[llm]``) estimates it per call from the model's size, the
tokens it generated and the provider's data centre, with a range. With ``track_llm_calls`` on,
a tracked run turns EcoLogits on for the clients it supports (OpenAI and OpenAI-compatible
servers, Anthropic, Mistral, Google's google-genai, LiteLLM; ``clients``) and reads each
call's estimate and token counts, streamed or not (``calls``), into the runs collecting now,
per provider and model (``collector``).

A model EcoLogits does not know is counted as a call with unknown energy and a note, never as
zero. Imported only when the setting is on: ``import wattprint`` never loads ecologits.
"""

from __future__ import annotations

from collections.abc import Callable

from .collector import COUNTS, TOTALS, Collector, open_collector, subtract, totals

__all__ = ["COUNTS", "TOTALS", "Collector", "start_collecting", "subtract", "totals"]


def start_collecting(warn: Callable[[str, str], None]) -> Collector | None:
    """A collector for one run, or None (with one warning) when EcoLogits is not installed."""
    from .clients import CLIENTS, install

    try:
        providers = install()
    except ImportError:
        warn(
            "llm:missing",
            "track_llm_calls is on but EcoLogits is not installed: LLM API "
            "calls are not counted. Install it with pip install 'wattprint[llm]'.",
        )
        return None
    if not providers:
        names = ", ".join(package for package, _ in CLIENTS.values())
        warn(
            "llm:no-client",
            "track_llm_calls: none of the LLM clients wattprint reads "
            f"({names}) is installed, so no call is counted.",
        )
    return open_collector()
