"""``wattprint report``: totals of emissions.csv files by project, experiment, run or day."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _kwh(value: float | None) -> str:
    from ..units import energy_text

    return energy_text(value) if value is not None else "?"


def _kg(value: float | None) -> str:
    from ..units import mass_text

    return mass_text(value)


def _g_per_kwh(value: float | None) -> str:
    from .. import units

    return units.number(value) if value is not None else "?"


def _table(title: str, columns: tuple[str, ...], numbers: tuple[str, ...]) -> Any:
    """A table that fits 80 columns: light rules, no outer padding, figures never wrapped
    (each is a short decimal), text wrapped between words only."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=0,
        pad_edge=False,
    )
    for c in columns:
        figure = c in numbers
        table.add_column(
            c,
            justify="right" if figure else "left",
            no_wrap=figure,
            overflow="ellipsis" if figure else "fold",
            min_width=len(c),
        )
    return table


def _render(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    from .. import units

    console = Console()
    since = f" since {data['since']}" if data["since"] else ""
    if not data["groups"]:
        console.print(f"No runs{since} in {', '.join(data['files'])}")
        return
    figures = ("runs", "time", "cpu", "gpu", "ram", "energy", "CO2eq", "g/kWh")
    table = _table(f"Emissions by {data['by']}{since}", ("group", *figures), figures)
    how: list[str] = []  # lines, not a table: long text wraps between words at any width
    rows = list(data["groups"])
    if data["total"] and len(rows) > 1:
        rows.append(data["total"])
    for g in rows:
        e, m = g["energy"], g["emissions"]
        bounds = (
            f"{_kg(m['low_kg'])} - {_kg(m['high_kg'])}" if m["low_kg"] is not None else m["bounds"]
        )
        machine = g["machine"]
        machine_text = (
            f"{_kwh(machine['energy_kwh'])}, {_kg(machine['emissions_kg'])}"
            if machine["energy_kwh"] is not None
            else "-"
        )
        it = g["intensity"]
        g_kwh = _g_per_kwh(it["g_per_kwh"])
        methods = "; ".join(f"{c}: {', '.join(v)}" for c, v in g["methods"].items())
        style = "bold" if g is data["total"] else None
        table.add_row(
            g["group"], str(g["runs"]), units.duration(g["duration_s"]),
            _kwh(e["cpu"]["kwh"]), _kwh(e["gpu"]["kwh"]), _kwh(e["ram"]["kwh"]),
            _kwh(e["total"]["kwh"]), _kg(m["kg"]), g_kwh, style=style,
        )  # fmt: skip
        how.append(
            f"  [bold]{escape(g['group'])}[/]: CO2eq bounds {bounds}; whole machine "
            f"{machine_text}; intensity "
            + "; ".join(it["sources"])
            + " ("
            + ", ".join(it["kinds"])
            + f"); methods {methods}"
        )
    console.print(table)
    console.print("How it was obtained:")
    for line in how:
        console.print(line)
    _render_footprint(console, rows, data["total"])
    total = data["total"]
    if total:
        parts = [
            "{1}: {0}".format(*units.equivalent(q["amount"], q["unit"], q["label"]))
            for q in total["equivalents"]
        ]
        console.print("[bold]That is about[/]: " + "; ".join(parts))
        for q in total["equivalents"]:
            note = f" ({q['note']})" if q["note"] else ""
            console.print(
                f"  [dim]{q['label']}: {units.mass(q['factor_g'] / 1000)} CO2e/{q['unit']}, "
                f"{q['year']}, {q['source']}{note}[/]"
            )
    for g in data["groups"]:
        for o in g["elsewhere"]:
            if "note" in o:
                console.print(f"[yellow]note[/] ({g['group']}): {o['note']}")
                continue
            console.print(
                f"[bold]{g['group']}[/]: had its {o['runs']} {o['provider']} run(s) "
                f"({', '.join(o['regions'])}) run in {o['label']}: {_kg(o['kg'])} instead of "
                f"{_kg(o['actual_kg'])} ({units.intensity(o['intensity_g_per_kwh'])}, "
                f"PUE {o['pue']:g})"
            )
        t = g.get("at_another_time")
        if t:
            console.print(
                f"[bold]{g['group']}[/]: had its {t['runs']} run(s) in {', '.join(t['zones'])} "
                f"started at the cleanest time within 24 h: {_kg(t['saving_kg'])} less "
                f"({t['mean_saving_pct']:.0f} % on average; typical-day hourly profile)"
            )


def _runs_table(groups: list[dict[str, Any]]) -> Any:
    """``--by run``: which run each id is: its project, experiment, start and place."""
    from rich.table import Table

    table = Table(title="Runs", title_justify="left")
    for c in ("run", "project", "experiment", "started (UTC)", "location"):
        table.add_column(c, overflow="fold")
    for g in groups:
        table.add_row(
            g["group"],
            g["project"] or "-",
            g["experiment"] or "-",
            g["start"] or "-",
            ", ".join(g["locations"]),
        )
    return table


def _render_footprint(console: Any, groups: list[dict[str, Any]], total: Any) -> None:
    """Embodied emissions and LLM calls beside the operational emissions, where there are any:
    the local part (this machine's electricity and hardware) and the remote one (the hosted
    models' estimate), each with its bounds; then the LLM calls per model."""
    for g in groups:
        f = g["footprint"]
        e, llm = f["embodied"], f["llm"]
        if e["kg"] is None and not llm["calls"]:
            continue
        m = g["emissions"]
        local = (
            f"local: {_kwh(g['energy']['total']['kwh'])}, operational {_kg(m['kg'])}"
            f"{_span(m['low_kg'], m['high_kg'])}"
        )
        if e["kg"] is not None:
            local += (
                f"; embodied {_kg(e['kg'])}{_span(e['low_kg'], e['high_kg'])} "
                f"({', '.join(e['methods'])})"
            )
        elif e["unknown_runs"]:
            local += "; embodied unknown"
        style = "bold" if g is total else ""
        name = f"[{style}]{g['group']}[/]" if style else g["group"]
        console.print(f"{name}: {local}")
        if llm["calls"]:
            console.print(
                f"  remote (LLM calls, EcoLogits): {llm['calls']} call(s), "
                f"{_kwh(llm['energy_kwh'])}"
                f"{_span(llm['energy_low_kwh'], llm['energy_high_kwh'], _kwh)}, "
                f"{_kg(llm['kg'])}{_span(llm['low_kg'], llm['high_kg'])}"
                + (
                    f"; {llm['unknown_runs']} run(s) with calls not estimated"
                    if llm["unknown_runs"]
                    else ""
                )
            )
    models = (total or (groups[0] if groups else {})).get("footprint", {}).get("llm", {})
    if models.get("per_model"):
        console.print(_models_table(models["per_model"]))


def _span(low: float | None, high: float | None, text: Any = _kg) -> str:
    """The bounds as " [low - high]", with "?" for one that is unknown."""
    if low is None and high is None:
        return ""
    return f" [{text(low) if low is not None else '?'} - {text(high) if high is not None else '?'}]"


def _models_table(per_model: dict[str, dict[str, Any]]) -> Any:
    """The LLM calls per provider/model: tokens, energy and CO2e with bounds; unknown as such."""
    from rich.table import Table

    from ..report.footprint import tokens_text

    table = Table(title="LLM calls by model (remote, EcoLogits)", title_justify="left")
    for c in ("model", "calls", "unestimated", "tokens in/out", "energy", "CO2e", "note"):
        table.add_column(c, justify="left" if c in ("model", "note") else "right", overflow="fold")
    for key, m in per_model.items():
        energy = (
            f"{_kwh(m['energy_kwh'])}{_span(m['energy_low_kwh'], m['energy_high_kwh'], _kwh)}"
            if m["energy_kwh"] is not None
            else "unknown"
        )
        co2 = (
            f"{_kg(m['emissions_kg'])}{_span(m['emissions_low_kg'], m['emissions_high_kg'])}"
            if m["emissions_kg"] is not None
            else "unknown"
        )
        tokens = f"{tokens_text(m['input_tokens'])}/{tokens_text(m['output_tokens'])}"
        table.add_row(
            key,
            str(m["calls"]),
            str(m["unknown_calls"]),
            tokens,
            energy,
            co2,
            "; ".join(m["notes"]),
        )
    return table


def render_sci(data: dict[str, Any]) -> None:
    """``report --sci``: SCI = (E x I + M) per R, per group, with its parts."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"SCI by {data['by']} (GSF SCI 1.1: (E x I + M) per R)", title_justify="left"
    )
    for c in ("group", "E x I", "M (embodied)", "LLM (remote)", "R", "SCI", "bounds"):
        table.add_column(c, justify="left" if c in ("group", "R") else "right", overflow="fold")
    for g in data["groups"]:
        s = g["footprint"]["sci"]
        score = (
            f"{s['g_per_unit']:.4g} g/{s['functional_unit']}"
            if s["g_per_unit"] is not None
            else "?"
        )
        low, high = s["low_g_per_unit"], s["high_g_per_unit"]
        bounds = f"{_g(low)} - {_g(high)}" if s["g_per_unit"] is not None else s["note"] or "-"
        units = f"{s['units']:g} x {s['functional_unit']}" if s["units"] else s["note"]
        llm = _kg(s["llm_kg"]) if s["llm_kg"] is not None else "-"
        table.add_row(
            g["group"], _kg(s["operational_kg"]), _kg(s["embodied_kg"]), llm, units, score, bounds
        )
    Console().print(table)


def _g(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"


#: What the first bytes of a page wattprint wrote look like: such a page may be replaced.
REPORT_MARK = "<title>wattprint report:"


def check_output(html: Path, inputs: list[Path], force: bool) -> None:
    """ValueError unless writing ``html`` loses nothing: it is never one of the inputs, and an
    existing file is replaced only when it is an earlier wattprint report, or with --force."""
    if not html.exists():
        return
    for given in inputs or [Path("emissions.csv")]:
        try:
            same = given.exists() and html.samefile(given)
        except OSError:
            same = False
        if same:
            raise ValueError(f"--html {html}: that is an input of this report; name another file")
    if html.is_dir() or force:
        return  # a folder: check_target says what is wrong
    try:
        with html.open("rb") as f:
            head = f.read(2048).decode("utf-8", "replace")
    except OSError:
        head = ""
    if REPORT_MARK not in head:
        raise ValueError(
            f"--html {html}: the file exists and is not a wattprint report; "
            "name another file, or add --force to replace it"
        )


def report(
    files: list[Path],
    by: str,
    since: str | None,
    as_json: bool,
    html: Path | None = None,
    force: bool = False,
    sci: bool = False,
) -> int:
    """Print the report, and with ``html`` write the HTML page there; ValueError for files that
    are not emissions CSVs, a missing plotly or an ``html`` path that cannot be written or
    would replace something that is not an earlier report."""
    from ..report.summary import DETAIL_KEYS, summarise

    os.environ.setdefault("WATTPRINT_LOG_LEVEL", "warning")
    from .._log import setup

    setup("warning")  # a damaged line skipped is said on stderr
    js = None
    if html is not None:  # plotly only now, and before the CSVs are read: fail fast
        from ..report.html import check_target, plotly_js

        check_output(html, files, force)
        check_target(html)
        js = plotly_js()
    data = summarise(list(files), by=by, since=since, details=html is not None)
    if html is not None:
        from ..report.html import write_page

        write_page(html, data, js)
    if as_json:  # the same JSON with or without --html
        shown = {k: v for k, v in data.items() if k not in DETAIL_KEYS}
        print(json.dumps(shown, indent=2, allow_nan=False))  # strict JSON: never Infinity
    elif sci:
        render_sci(data)
    else:
        if data["by"] == "run" and data["groups"]:
            from rich.console import Console

            Console().print(_runs_table(data["groups"]))
        _render(data)
        if html is not None:
            print(f"wrote {html}")
    return 0
