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
        bounded = all(
            r["emissions_low_kg"] is not None and r["emissions_high_kg"] is not None for r in rows
        )
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
            band = {
                "type": "scatter",
                "x": x,
                "mode": "lines",
                "line": {"width": 0},
                "legendgroup": name,
                "showlegend": False,
                "hoverinfo": "skip",
            }
            traces.append({**band, "y": [v / factor for v in low], "meta": "low"})
            traces.append(
                {
                    **band,
                    "y": [v / factor for v in high],
                    "meta": "high",
                    "fill": "tonexty",
                    "fillcolor": _rgba(colour, 0.18),
                }
            )
            hover = [
                f"range {lo / factor:.3g} to {hi / factor:.3g} {unit}"
                for lo, hi in zip(low, high, strict=True)
            ]
        else:
            hover = ["no range: the file has no bounds"] * len(x)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "legendgroup": name,
                "x": x,
                "y": [v / factor for v in kg],
                "meta": "kg",
                "line": {"color": colour},
                "hovertext": hover,
                "hovertemplate": f"<b>%{{fullData.name}}</b><br>%{{x}} UTC<br>%{{y:.3g}} {unit} "
                "so far<br>%{hovertext}<extra></extra>",
            }
        )
    return {
        "units": {"y": [factor, unit]},
        "data": traces,
        "layout": _layout(
            420,
            xaxis=_axis("end of run (UTC)", type="date"),
            yaxis=_axis(f"CO2e, cumulative ({unit})", rangemode="tozero"),
        ),
    }


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
        traces.append(
            {
                "type": "bar",
                "name": part,
                "meta": part,
                "x": x,
                "y": [_scaled(v, factor) for v in values],
                "hovertext": hover,
                "marker": {"color": PART_COLOURS[part]},
                "hovertemplate": f"%{{x}}<br>{part}: %{{y:.3g}} {unit}<br>%{{hovertext}}"
                "<extra></extra>",
            }
        )
    return {
        "units": {"y": [factor, unit]},
        "data": traces,
        "layout": _layout(
            420,
            barmode="stack",
            xaxis=_axis(data["by"], type="category"),
            yaxis=_axis(f"energy ({unit})"),
        ),
    }


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
    for axis, what, key, lo, hi, scales, colour in rows:
        factor, unit = _unit([r[hi] if r[hi] is not None else r[key] for r in runs], scales)
        units[axis] = [factor, unit]
        with_range = [i for i, r in enumerate(runs) if None not in (r[key], r[lo], r[hi])]
        without = [i for i, r in enumerate(runs) if r[key] is not None and i not in with_range]
        for picked, name in (
            (with_range, f"{what} (bar: low to high)"),
            (without, f"{what} (no bounds in the file)"),
        ):
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
        "layout": _layout(
            560,
            barmode="overlay",
            xaxis=x_axis,
            grid={"rows": 2, "columns": 1, "pattern": "coupled"},
            yaxis=_axis(f"energy ({units['y'][1]})", rangemode="tozero"),
            yaxis2=_axis(f"CO2e ({units['y2'][1]})", rangemode="tozero"),
        ),
    }


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
            bars.append(
                (o["label"], o["kg"], "#999999" if o["zone"] == "WORLD" else PALETTE[5], how)
            )
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
        "layout": _layout(
            90 + 28 * len(bars),
            showlegend=False,
            margin={"l": 20, "r": 20, "t": 20, "b": 50},
            xaxis=_axis(f"CO2e ({unit})", rangemode="tozero"),
            yaxis=_axis("", type="category", autorange="reversed", automargin=True),
        ),  # room for the longest label
    }


POWER = ((1e6, "MW"), (1e3, "kW"), (1.0, "W"), (1e-3, "mW"))


def power_over_time(data: dict[str, Any]) -> dict[str, Any] | None:
    """Power per component within a run, from its journal: one set of lines per run, a menu to
    pick the run (the latest is shown first). Each point is the average power since the
    previous one; a gap where a component's energy was not known."""
    runs = data.get("power") or []
    if not runs:
        return None
    factor, unit = _unit([w for r in runs for s in r["watts"].values() for w in s], POWER)
    traces: list[dict[str, Any]] = []
    owner: list[int] = []
    shown = len(runs) - 1
    for i, run in enumerate(runs):
        for part, watts in run["watts"].items():
            method = run["methods"].get(part, "")
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": label(f"{part} ({method})" if method else part),
                    "meta": f"{run['run_id']}:{part}",
                    "x": run["t"],
                    "y": [_scaled(w, factor) for w in watts],
                    "visible": i == shown,
                    "connectgaps": False,
                    "line": {"color": PART_COLOURS.get(part, "#555555")},
                    "hovertemplate": (
                        f"%{{x}} UTC<br>{label(part)}: %{{y:.3g}} {unit}<extra></extra>"
                    ),
                }
            )
            owner.append(i)
    titles = [
        label(f"{r['project']} / {r['experiment']} · {r['run_id'][:8]} · {r['start']} UTC")
        for r in runs
    ]
    buttons = [
        {"label": titles[i], "method": "update", "args": [{"visible": [o == i for o in owner]}]}
        for i in reversed(range(len(runs)))
    ]
    layout = _layout(
        420,
        xaxis=_axis("time (UTC)", type="date"),
        yaxis=_axis(f"power ({unit})", rangemode="tozero"),
    )
    if len(runs) > 1:
        layout["updatemenus"] = [
            {
                "buttons": buttons,
                "direction": "down",
                "x": 0,
                "y": 1.25,
                "xanchor": "left",
                "showactive": True,
            }
        ]
        layout["margin"] = {**layout["margin"], "t": 80}
    return {
        "units": {"y": [factor, unit]},
        "runs": [r["run_id"] for r in runs],
        "data": traces,
        "layout": layout,
    }


MIX_BARS = (
    ("renewable_pct", "renewable", "#009E73"),
    ("carbon_free_pct", "carbon-free (with nuclear)", "#56B4E9"),
)


def energy_mix(data: dict[str, Any]) -> dict[str, Any] | None:
    """Renewable and carbon-free shares of each zone the runs ran in (the yearly tables)."""
    mix = data.get("mix") or {}
    zones = [z for z in mix.get("zones", []) if z["renewable_pct"] is not None]
    if not zones:
        return None
    names = [
        label(f"{z['name']} ({z['zone']})" if z["name"] != z["zone"] else z["zone"]) for z in zones
    ]
    hover = [label(f"{z['runs']} run(s); {z['year']}; {z['source']}") for z in zones]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "meta": key,
            "y": names,
            "x": [z[key] for z in zones],
            "marker": {"color": colour},
            "hovertext": hover,
            "hovertemplate": f"%{{y}}<br>{name}: %{{x:.0f}} %<br>%{{hovertext}}<extra></extra>",
        }
        for key, name, colour in MIX_BARS
    ]
    return {
        "data": traces,
        "layout": _layout(
            110 + 46 * len(zones),
            barmode="group",
            xaxis=_axis("share of the electricity consumed (%)", range=[0, 100]),
            yaxis=_axis("", type="category", autorange="reversed", automargin=True),
        ),
    }


#: Grid intensity, 0 to 800 g/kWh: green to red (the map's countries and sub-national zones).
INTENSITY_SCALE = [[0, "#1a9850"], [0.25, "#a6d96a"], [0.5, "#fee08b"], [0.75, "#f46d43"],
                   [1, "#a50026"]]  # fmt: skip


def world_map(data: dict[str, Any]) -> dict[str, Any] | None:
    """Countries coloured by their annual grid intensity, the sub-national zones the package
    has shapes for (US states, Canadian provinces, Australian states) over them on the same
    scale, and the runs marked where they ran (marker area by emissions). The geometry is the
    package's own (see ``geo``)."""
    from .geo import GEOJSON_NAME, TOPOJSON_NAME, country_intensities, subnational_intensities

    places = (data.get("places") or {}).get("points", [])
    if not data.get("runs"):
        return None
    countries = country_intensities()
    zones = subnational_intensities()
    biggest = max((p["emissions_kg"] for p in places), default=0.0)
    factor, unit = _unit([p["emissions_kg"] for p in places], MASS)
    scale = {"zmin": 0, "zmax": 800, "colorscale": INTENSITY_SCALE}
    traces: list[dict[str, Any]] = [{
        "type": "choropleth", "locationmode": "ISO-3", "meta": "intensity",
        "locations": [c["iso3"] for c in countries], "z": [c["g_per_kwh"] for c in countries],
        "text": [label(f"{c['name']}: {c['g_per_kwh']:.0f} g/kWh ({c['year']}, {c['source']})")
                 for c in countries],
        "hoverinfo": "text", **scale,
        "marker": {"line": {"color": "#ffffff", "width": 0.5}},
        "colorbar": {"title": {"text": "g CO2e/kWh"}, "thickness": 12},
    }, {
        # The page puts the shapes in place of their name (geo.GEOJSON_NAME) before drawing.
        "type": "choropleth", "geojson": GEOJSON_NAME, "featureidkey": "id",
        "meta": "subnational", "locations": [z["zone"] for z in zones],
        "z": [z["g_per_kwh"] for z in zones],
        "text": [label(f"{z['name']} ({z['zone']}): {z['g_per_kwh']:.0f} g/kWh, {z['basis']} "
                       f"({z['year']}, {z['source']})") for z in zones],
        "hoverinfo": "text", **scale, "showscale": False,
        "marker": {"line": {"color": "#ffffff", "width": 0.3}},
    }]  # fmt: skip
    if places:
        traces.append(
            {
                "type": "scattergeo",
                "mode": "markers",
                "meta": "runs",
                "name": "runs",
                "lat": [p["latitude"] for p in places],
                "lon": [p["longitude"] for p in places],
                "text": [
                    label(
                        f"{'; '.join(p['locations'])} ({p['what']}): {p['runs']} run(s), "
                        f"{p['emissions_kg'] / factor:.3g} {unit} CO2e"
                    )
                    for p in places
                ],
                "hoverinfo": "text",
                "marker": {
                    "size": [
                        8 + 22 * (p["emissions_kg"] / biggest) ** 0.5 if biggest else 10
                        for p in places
                    ],
                    "color": "#0072B2",
                    "opacity": 0.85,
                    "line": {"color": "#ffffff", "width": 1},
                },
            }
        )
    # The rotation said: plotly.js 4 leaves it unset for a world map, drawn off-centre then.
    geo = {"scope": "world", "resolution": 110,
           "projection": {"type": "natural earth", "rotation": {"lon": 0}},
           "showland": True, "landcolor": "#e8e8e8", "showcountries": True,
           "countrycolor": "#ffffff", "showcoastlines": False, "showocean": False,
           "showlakes": False, "showrivers": False, "showframe": False,
           "bgcolor": "#ffffff"}  # fmt: skip
    return {
        "units": {"marker": [factor, unit]},
        "topojson": TOPOJSON_NAME,
        "geojson": GEOJSON_NAME,
        "data": traces,
        "layout": _layout(
            460, geo=geo, showlegend=False, margin={"l": 0, "r": 0, "t": 10, "b": 10}
        ),
    }
