"""The HTML report's section on the rest of the footprint: local and remote side by side
(this machine's electricity and embodied emissions; the hosted models' LLM calls, per model),
and the SCI score per group. Unknown is written "unknown", never 0; every range is shown as
the files give it."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from ..units import energy_text, mass_text
from .footprint import tokens_text


def has_footprint(groups: list[dict[str, Any]]) -> bool:
    return any(
        g["footprint"]["embodied"]["kg"] is not None
        or g["footprint"]["llm"]["calls"]
        or g["footprint"]["sci"]["runs"]
        for g in groups
    )


def _value(value: float | None, text: Callable[[float], str]) -> str:
    return "unknown" if value is None else text(value)


def _range(low: float | None, high: float | None, text: Callable[[float], str]) -> str:
    if low is None and high is None:
        return "-"
    return f"{_value(low, text)} to {_value(high, text)}"


def _kg(value: float | None) -> str:
    return _value(value, mass_text)


def _kwh(value: float | None) -> str:
    return _value(value, energy_text)


def _table(head: list[str], rows: list[tuple[list[str], str]], text_cols: int = 1) -> str:
    from .html import _table as table

    return table(head, rows, text_cols)


def local_and_remote(groups: list[dict[str, Any]], by: str, total: Any) -> str:
    e = html.escape
    rows = []
    for g in groups:
        m, f = g["emissions"], g["footprint"]
        emb, llm = f["embodied"], f["llm"]
        calls = llm["calls"]
        cells = [e(g["group"]), _kwh(g["energy"]["total"]["kwh"]), _kg(m["kg"]),
                 _range(m["low_kg"], m["high_kg"], mass_text),
                 _kg(emb["kg"]), _range(emb["low_kg"], emb["high_kg"], mass_text),
                 str(calls),
                 _kwh(llm["energy_kwh"]) if calls else "-",
                 _range(llm["energy_low_kwh"], llm["energy_high_kwh"], energy_text)
                 if calls else "-",
                 _kg(llm["kg"]) if calls else "-",
                 _range(llm["low_kg"], llm["high_kg"], mass_text) if calls else "-"]  # fmt: skip
        rows.append((cells, "total" if g is total else ""))
    head = [
        e(by),
        "local energy",
        "operational CO2e",
        "range",
        "embodied CO2e",
        "range",
        "LLM calls",
        "remote energy",
        "range",
        "remote CO2e",
        "range",
    ]
    return _table(head, rows)


def per_model(models: dict[str, dict[str, Any]]) -> str:
    e = html.escape
    rows = []
    for key, m in models.items():
        tokens = f"{tokens_text(m['input_tokens'])} / {tokens_text(m['output_tokens'])}"
        cells = [e(key), str(m["calls"]), str(m["unknown_calls"]), tokens, _kwh(m["energy_kwh"]),
                 _range(m["energy_low_kwh"], m["energy_high_kwh"], energy_text),
                 _kg(m["emissions_kg"]),
                 _range(m["emissions_low_kg"], m["emissions_high_kg"], mass_text),
                 e("; ".join(m["notes"]))]  # fmt: skip
        rows.append((cells, ""))
    head = [
        "provider/model",
        "calls",
        "not estimated",
        "tokens in / out",
        "energy",
        "range",
        "CO2e",
        "range",
        "note",
    ]
    return _table(head, rows)


def sci_table(groups: list[dict[str, Any]], by: str, total: Any) -> str:
    e = html.escape
    rows = []
    for g in groups:
        s = g["footprint"]["sci"]
        unit = s["functional_unit"] or "unit"
        score = (
            f"{s['g_per_unit']:.4g} g per {e(unit)}" if s["g_per_unit"] is not None else "unknown"
        )
        bounds = _range(s["low_g_per_unit"], s["high_g_per_unit"], lambda v: f"{v:.4g}")
        units = f"{s['units']:g} x {e(unit)}" if s["units"] else "-"
        llm = _kg(s["llm_kg"]) if s["llm_kg"] is not None else "-"
        cells = [
            e(g["group"]),
            _kg(s["operational_kg"]),
            _kg(s["embodied_kg"]),
            llm,
            units,
            score,
            bounds,
            e(s["note"]),
        ]
        rows.append((cells, "total" if g is total else ""))
    head = [e(by), "E x I (local)", "M (embodied)", "LLM (remote)", "R", "SCI", "range", "note"]
    return _table(head, rows)


CAPTION = (
    "<p class=caption>Beside the operational emissions, never inside them. Local: this "
    "machine's electricity (energy_consumed) and its CO2e, and the embodied emissions of its "
    "hardware charged to the runs. Remote: the LLM API calls' energy and CO2e, estimated by "
    "EcoLogits for the provider's data centre (its electricity and its hardware's share), "
    "never multiplied by the local grid's intensity. A call EcoLogits could not estimate (a "
    "model it does not know) leaves its figures, or their upper bound, unknown.</p>"
)
SCI_CAPTION = (
    "<p class=caption>GSF SCI 1.1: (E x I + M) per R. E x I is the runs' emissions (local "
    "electricity at the local grid's intensity), M their embodied emissions, plus the LLM "
    "calls' estimated CO2e as the remote term; R the functional units the runs counted. A "
    "group mixing functional units, or with a part unknown, gets no score.</p>"
)


def section(data: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The section for one view, or "" where its runs carry none of these figures."""
    if not has_footprint(rows):
        return ""
    total = data["total"]
    parts = [
        "<section><h2>Local and remote footprint</h2>",
        CAPTION,
        local_and_remote(rows, data["by"], total),
    ]
    models = total["footprint"]["llm"]["per_model"] if total else {}
    if models:
        parts += ["<h3>LLM calls by model</h3>", per_model(models)]
    if any(g["footprint"]["sci"]["runs"] for g in rows):
        parts += ["<h3>SCI</h3>", SCI_CAPTION, sci_table(rows, data["by"], total)]
    parts.append("</section>")
    return "".join(parts)


def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The view's footprint figures per group (as summarise() gives them), for the page's data
    block ("footprint" beside the charts), so that what the tables show can be read back."""
    return {g["group"]: g["footprint"] for g in rows}
