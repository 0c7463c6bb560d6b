"""The HTML report's four charts, as plotly.js figures (plain dicts) built from ``summarise()``'s
data with ``details=True``; plotly.js draws them in the page.

Units stay SI-ish (kWh, kg) in the data; each chart picks a readable unit (J, Wh or kWh; mg, g
or kg) and records it as ``units``: a value on the chart times its factor is the summary's.
A figure the files say nothing about is left out, and an unknown value is a gap (null), never a
zero. Every text that plotly.js draws passes through ``label()``: plotly.js reads a few HTML tags
in labels (``<b>``, ``<a href>``), so a project name must reach it escaped to show as written.
"""

from __future__ import annotations

import html
from itertools import accumulate
from typing import Any

from .summary import PARTS

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
#: Okabe-Ito: tells groups apart for colour-blind readers too, and prints in greyscale.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
PART_COLOURS = {"cpu": "#0072B2", "gpu": "#D55E00", "ram": "#009E73", "platform": "#999999"}
MASS = ((1.0, "kg"), (1e-3, "g"), (1e-6, "mg"))
ENERGY = ((1.0, "kWh"), (1e-3, "Wh"), (1 / 3.6e6, "J"))


def label(text: str) -> str:
    return html.escape(text, quote=False)  # plotly.js decodes &lt; &gt; &amp; back


def _unit(values: list[float | None], scales: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    biggest = max((abs(v) for v in values if v is not None), default=0.0)
    for factor, name in scales:
        if biggest >= factor:
            return factor, name
    return scales[-1]


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value / factor


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "font": {"family": FONT, "size": 13, "color": "#1b1b1b"},
        "margin": {"l": 70, "r": 20, "t": 30, "b": 60},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": 1.12},
        "hoverlabel": {"font": {"family": FONT}},
        **extra,
    }


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "gridcolor": "#e5e5e5", "zerolinecolor": "#bbbbbb", **extra}


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def emissions_over_time(data: dict[str, Any]) -> dict[str, Any] | None:
    """Cumulative emissions per group at each run's end; a band where every run has bounds."""
    series = []
    for g in data["groups"]:
        rows = [r for r in data["runs"] if r["group"] == g["group"]]
        rows = [r for r in rows if r["emissions_kg"] is not None]
        if not rows:
            continue
        bounded = all(r["emissions_low_kg"] is not None and r["emissions_high_kg"] is not None
                      for r in rows)  # fmt: skip
        kg = list(accumulate(r["emissions_kg"] for r in rows))
        low = list(accumulate(r["emissions_low_kg"] for r in rows)) if bounded else None
        high = list(accumulate(r["emissions_high_kg"] for r in rows)) if bounded else None
        series.append((g["group"], [r["end"] for r in rows], kg, low, high))
    if not series:
        return None
    factor, unit = _unit([v for s in series for v in (s[4] or s[2])], MASS)
    traces: list[dict[str, Any]] = []
    for i, (group, x, kg, low, high) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        name = label(group)
        if low is not None and high is not None:
            band = {"type": "scatter", "x": x, "mode": "lines", "line": {"width": 0},
                    "legendgroup": name, "showlegend": False, "hoverinfo": "skip"}  # fmt: skip
            traces.append({**band, "y": [v / factor for v in low], "meta": "low"})
            traces.append({**band, "y": [v / factor for v in high], "meta": "high",
                           "fill": "tonexty", "fillcolor": _rgba(colour, 0.18)})  # fmt: skip
            hover = [f"range {lo / factor:.3g} to {hi / factor:.3g} {unit}"
                     for lo, hi in zip(low, high, strict=True)]  # fmt: skip
        else:
            hover = ["no range: the file has no bounds"] * len(x)
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": name, "legendgroup": name,
            "x": x, "y": [v / factor for v in kg], "meta": "kg", "line": {"color": colour},
            "hovertext": hover,
            "hovertemplate": f"<b>%{{fullData.name}}</b><br>%{{x}} UTC<br>%{{y:.3g}} {unit} "
                             "so far<br>%{hovertext}<extra></extra>",
        })  # fmt: skip
    return {
        "units": {"y": [factor, unit]},
        "data": traces,
        "layout": _layout(420, xaxis=_axis("end of run (UTC)", type="date"),
                          yaxis=_axis(f"CO2e, cumulative ({unit})", rangemode="tozero")),
    }  # fmt: skip


def energy_by_component(data: dict[str, Any]) -> dict[str, Any] | None:
    """Stacked energy of each part per group; a part no run of a group records is no bar."""
    groups = data["groups"]
    known = {p: [g["energy"][p]["kwh"] for g in groups] for p in PARTS}
    known = {p: v for p, v in known.items() if any(x is not None for x in v)}
    if not known:
        return None
    stacks = [sum(v or 0.0 for v in col) for col in zip(*known.values(), strict=True)]
    factor, unit = _unit(stacks, ENERGY)
    x = [label(g["group"]) for g in groups]
    traces = []
    for part, values in known.items():
        hover = []
        for g in groups:
            unknown = g["energy"][part]["unknown_runs"]
            hover.append(f"unknown in {unknown} of {g['runs']} run(s)" if unknown else "")
        traces.append({
            "type": "bar", "name": part, "meta": part, "x": x,
            "y": [_scaled(v, factor) for v in values], "hovertext": hover,
            "marker": {"color": PART_COLOURS[part]},
            "hovertemplate": f"%{{x}}<br>{part}: %{{y:.3g}} {unit}<br>%{{hovertext}}"
                             "<extra></extra>",
        })  # fmt: skip
    return {
        "units": {"y": [factor, unit]},
        "data": traces,
        "layout": _layout(420, barmode="stack", xaxis=_axis(data["by"], type="category"),
                          yaxis=_axis(f"energy ({unit})")),
    }  # fmt: skip


def run_labels(runs: list[dict[str, Any]]) -> list[str]:
    """Short run ids (the first 8 characters) where those are unique, else the full ones."""
    short = [r["run_id"][:8] for r in runs]
    return short if len(set(short)) == len(short) else [r["run_id"] for r in runs]


def runs_compared(data: dict[str, Any]) -> dict[str, Any] | None:
    """Energy (top) and emissions (bottom) of each run, bounds as error bars. Runs with and
    without bounds are separate traces: plotly.js draws a missing error value as zero."""
    runs = data["runs"]
    if not runs:
        return None
    names = [label(x) for x in run_labels(runs)]
    traces: list[dict[str, Any]] = []
    units: dict[str, list[Any]] = {}
    rows = (
        ("y", "energy", "energy_kwh", "energy_low_kwh", "energy_high_kwh", ENERGY, 0),
        ("y2", "CO2e", "emissions_kg", "emissions_low_kg", "emissions_high_kg", MASS, 3),
    )
    for axis, what, key, lo, hi, scales, colour in rows:  # fmt: skip
        factor, unit = _unit([r[hi] if r[hi] is not None else r[key] for r in runs], scales)
        units[axis] = [factor, unit]
        with_range = [i for i, r in enumerate(runs) if None not in (r[key], r[lo], r[hi])]
        without = [i for i, r in enumerate(runs) if r[key] is not None and i not in with_range]
        for picked, name in ((with_range, f"{what} (bar: low to high)"),
                             (without, f"{what} (no bounds in the file)")):  # fmt: skip
            if not picked:
                continue
            trace = {
                "type": "bar", "name": name, "meta": key, "xaxis": "x", "yaxis": axis,
                "x": [names[i] for i in picked],
                "y": [runs[i][key] / factor for i in picked],
                "marker": {"color": PALETTE[colour] if picked is with_range
                           else _rgba(PALETTE[colour], 0.45)},
                "hovertext": [label(f"{runs[i]['group']} · {runs[i]['run_id']} · "
                                    f"{runs[i]['end']} UTC · {runs[i]['status']}")
                              for i in picked],
                "hovertemplate": f"%{{hovertext}}<br>{what}: %{{y:.3g}} {unit}<extra></extra>",
            }  # fmt: skip
            if picked is with_range:
                trace["error_y"] = {
                    "type": "data", "symmetric": False, "color": "#333333",
                    "array": [max(0.0, runs[i][hi] - runs[i][key]) / factor for i in picked],
                    "arrayminus": [max(0.0, runs[i][key] - runs[i][lo]) / factor
                                   for i in picked],
                }  # fmt: skip
            traces.append(trace)
    if not traces:
        return None
    x_axis = _axis("run", type="category", categoryorder="array", categoryarray=names)
    return {
        "units": units,
        "data": traces,
        "layout": _layout(560, barmode="overlay", xaxis=x_axis,
                          grid={"rows": 2, "columns": 1, "pattern": "coupled"},
                          yaxis=_axis(f"energy ({units['y'][1]})", rangemode="tozero"),
                          yaxis2=_axis(f"CO2e ({units['y2'][1]})", rangemode="tozero")),
    }  # fmt: skip


def regions(block: dict[str, Any]) -> dict[str, Any] | None:
    """One block of ``summarise()['regions']``: as run, then each region or reference grid."""
    options = block["options"]
    if not options:
        return None
    bars = []
    if block["actual_kg"] is not None:
        bars.append(("as run (from the files)", block["actual_kg"], "#333333", "the files' figure"))
    for o in options:
        if block["kind"] == "cloud":
            where = " (where it ran)" if o["own"] else ""
            how = f"{o['intensity_g_per_kwh']:.4g} g/kWh, PUE {o['pue']:g}; {o['source']}"
            colour = PALETTE[1] if o["own"] else PALETTE[5]
            bars.append((o["label"] + where, o["kg"], colour, how))
        else:
            how = f"{o['intensity_g_per_kwh']:.4g} g/kWh ({o['year']}); {o['source']}"
            bars.append((o["label"], o["kg"], "#999999" if o["zone"] == "WORLD" else PALETTE[5],
                         how))  # fmt: skip
    factor, unit = _unit([b[1] for b in bars], MASS)
    trace = {
        "type": "bar", "orientation": "h", "name": "CO2e", "meta": "kg",
        "y": [label(b[0]) for b in bars], "x": [b[1] / factor for b in bars],
        "marker": {"color": [b[2] for b in bars]}, "hovertext": [label(b[3]) for b in bars],
        "hovertemplate": f"%{{y}}<br>%{{x:.3g}} {unit}<br>%{{hovertext}}<extra></extra>",
    }  # fmt: skip
    return {
        "units": {"x": [factor, unit]},
        "data": [trace],
        "layout": _layout(90 + 28 * len(bars), showlegend=False,
                          margin={"l": 20, "r": 20, "t": 20, "b": 50},
                          xaxis=_axis(f"CO2e ({unit})", rangemode="tozero"),
                          yaxis=_axis("", type="category", autorange="reversed",
                                      automargin=True)),  # room for the longest label
    }  # fmt: skip
