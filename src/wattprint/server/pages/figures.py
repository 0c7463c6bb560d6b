"""The charts the team, project, experiment, map and run pages add, as the dashboard's chart
dicts (``id``, ``title``, ``traces``, ``layout``; ``dashboard.js`` draws them). Where the HTML
report already draws a chart (other regions, energy mix, world map), its figure is reused and
only wrapped: one drawing of each for both front ends."""

from __future__ import annotations

from typing import Any

from ...report import charts as report_charts

#: Okabe-Ito, as the report's charts: tells groups apart for colour-blind readers too.
PALETTE = report_charts.PALETTE
#: The order statuses are coloured in (the rest follow, alphabetically).
STATUSES = ("completed", "running", "failed", "interrupted", "unknown")


def wrapped(
    chart_id: str, title: str, figure: dict[str, Any] | None, wide: bool = False
) -> dict[str, Any] | None:
    """A report figure as a dashboard chart: its traces and layout, less the fixed height (the
    page's CSS sizes a chart); None where the report draws none."""
    if figure is None:
        return None
    layout = {k: v for k, v in figure["layout"].items() if k != "height"}
    out = {"id": chart_id, "title": title, "traces": figure["data"], "layout": layout}
    if wide:
        out["wide"] = True
    if "units" in figure:
        out["units"] = figure["units"]  # a value drawn times its factor is the summary's
    return out


def with_bounds(groups: list[dict[str, Any]], value: str, low: str, high: str) -> dict[str, Any]:
    """Asymmetric error bars from each group's bounds, where every group has them (as the
    summariser's rule: bounds only when all have them; the tables say which lack them)."""
    if not groups or any(None in (g.get(value), g.get(low), g.get(high)) for g in groups):
        return {"visible": False}
    return {
        "type": "data",
        "symmetric": False,
        "visible": True,
        "array": [g[high] - g[value] for g in groups],
        "arrayminus": [g[value] - g[low] for g in groups],
    }


def experiments(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each experiment's emissions with its bounds as error bars (``rows``: the experiments
    compared, each a summary's totals with a ``label``)."""
    return {
        "id": "chart-experiments",
        "title": "Experiments compared: emissions (kg CO2eq)",
        "traces": [
            {
                "type": "bar",
                "name": "emissions (kg)",
                "x": [r["label"] for r in rows],
                "y": [r["emissions_kg"] for r in rows],
                "error_y": with_bounds(
                    rows, "emissions_kg", "emissions_low_kg", "emissions_high_kg"
                ),
            }
        ],
        "layout": {
            "xaxis": {"title": {"text": "experiment"}, "type": "category"},
            "yaxis": {"title": {"text": "kg CO2eq"}},
        },
    }


def _colours(values: list[str], order: tuple[str, ...] = ()) -> tuple[list[str], list[dict]]:
    """A colour per point by its category, and the legend (category, colour, count)."""
    categories = [c for c in order if c in values] + sorted(set(values) - set(order))
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(categories)}
    legend = [{"name": c, "colour": colour[c], "runs": values.count(c)} for c in categories]
    return [colour[v] for v in values], legend


def runs_scatter(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Duration against emissions, one point per run (``summaries.compare``'s rows), coloured
    by status or by location: the page's control switches ``colour_by`` (one trace, so every
    run stays in ``traces[0]`` whichever colouring is shown)."""
    shown = [r for r in rows if r["duration_s"] is not None and r["emissions_kg"] is not None]
    by = {}
    for key, order in (("status", STATUSES), ("location", ())):
        colours, legend = _colours([r[key] or "unknown" for r in shown], order)
        by[key] = {"colours": colours, "legend": legend}
    return {
        "id": "chart-scatter",
        "title": "Runs: duration vs emissions",
        "traces": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "runs",
                "x": [r["duration_s"] for r in shown],
                "y": [r["emissions_kg"] for r in shown],
                "text": [f"{r['run_id']} · {r['status']} · {r['location']}" for r in shown],
                "customdata": [r["id"] for r in shown],
                "marker": {
                    "color": by["status"]["colours"],
                    "size": 9,
                    "line": {"color": "#1a1a1a", "width": 0.5},
                },
            }
        ],
        "layout": {
            "xaxis": {"title": {"text": "duration (s)"}},
            "yaxis": {"title": {"text": "kg CO2eq"}},
            "showlegend": False,
        },
        "colour_by": by,
        "coloured": "status",
    }


def by_location(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Energy and emissions of each location (a summary's ``location`` groups)."""
    names = [g["group"] for g in groups]
    return {
        "id": "chart-locations",
        "title": "By location: energy (kWh) and emissions (kg CO2eq)",
        "traces": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "energy (kWh)",
                "y": names,
                "x": [g["energy_kwh"] for g in groups],
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "emissions (kg)",
                "y": names,
                "x": [g["emissions_kg"] for g in groups],
                "error_x": with_bounds(
                    groups, "emissions_kg", "emissions_low_kg", "emissions_high_kg"
                ),
            },
        ],
        "layout": {"barmode": "group", "yaxis": {"automargin": True, "type": "category"}},
    }


def intensity_by(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Each intensity source's energy-weighted mean intensity (g/kWh)."""
    known = [g for g in groups if (g.get("intensity") or {}).get("g_per_kwh") is not None]
    return {
        "id": "chart-intensity",
        "title": "Mean grid intensity by source (g CO2eq/kWh)",
        "traces": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "g/kWh",
                "y": [g["group"] for g in known],
                "x": [g["intensity"]["g_per_kwh"] for g in known],
            }
        ],
        "layout": {
            "yaxis": {"automargin": True, "type": "category"},
            "xaxis": {"title": {"text": "g CO2eq/kWh"}},
        },
    }


def start_hours(hours: list[dict[str, Any]], started: str) -> dict[str, Any]:
    """The run's energy started at each hour of the day that followed its start, on its zone's
    typical day (``report.whatif.start_hours``'s rows), bounds as error bars."""
    return {
        "id": "chart-hours",
        "title": "Had it started at another hour (kg CO2eq)",
        "traces": [
            {
                "type": "bar",
                "name": "emissions (kg)",
                "x": [h["start"] for h in hours],
                "y": [h["emissions_kg"] for h in hours],
                "marker": {
                    "color": [PALETTE[3] if h["start"] == started else PALETTE[0] for h in hours]
                },
                "error_y": with_bounds(
                    hours, "emissions_kg", "emissions_low_kg", "emissions_high_kg"
                ),
            }
        ],
        "wide": True,
        "layout": {
            "xaxis": {"title": {"text": "start (UTC); orange: as it ran"}, "type": "date"},
            "yaxis": {"title": {"text": "kg CO2eq"}},
        },
    }
