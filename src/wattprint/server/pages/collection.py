"""What a page about a set of runs (a team, a project, an experiment, an organization's map)
shows beside its totals: the experiments compared, the runs as a scatter, breakdowns by location
and intensity source, the map and the energy mix. Every figure comes from ``summaries`` (the
API's summaries and its runs compared) and the report's own map, mix and chart functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from ...report import charts as report_charts
from .. import dashboard, summaries
from ..store import MAX_PAGE, RunFilter
from . import figures

MAX_EXPERIMENTS = 100  # experiments compared on a page at most (the newest)
MAX_DRAWN = MAX_PAGE  # runs a page's scatter, map and mix draw at most (the newest)
RUNS_LISTED = 100  # runs a page's table lists at a time, newest first (older ones a link away)
#: A summary's figures a row of the experiments table shows.
ROW_KEYS = ("runs", "duration_s", "energy_kwh", "energy_low_kwh", "energy_high_kwh",
            "emissions_kg", "emissions_low_kg", "emissions_high_kg", "emissions_unknown_runs",
            "bounds")  # fmt: skip


def footprint_of(totals: dict[str, Any]) -> dict[str, Any] | None:
    """Embodied emissions, LLM calls and SCI of a summary where it carries them: the report's
    ``footprint`` block (``summarise_footprint``'s shape: ``embodied``, ``llm``, ``sci``), or
    those three keys at its top level; None where the summary has neither."""
    if isinstance(totals.get("footprint"), dict):
        return totals["footprint"]
    found = {k: totals[k] for k in ("embodied", "llm", "sci") if isinstance(totals.get(k), dict)}
    return found or None


def experiments_compared(
    groups: list[dict[str, Any]],
    experiments: list[Any],
    project_names: dict[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Each experiment's summary within the page's filter (``groups``: the page's summary's
    ``experiment_pk`` groups, the figures ``/api/v1/experiments/{id}/summary`` gives), the
    experiments with runs only; labelled "project / experiment" when they come from several
    projects (``project_names``)."""
    by_id = {g["group"]: g for g in groups}
    out = []
    for experiment in experiments:
        total = by_id.get(str(experiment.id))
        if total is None or not total["runs"]:
            continue
        label = experiment.name
        if project_names is not None:
            label = f"{project_names.get(experiment.project_id, '?')} / {experiment.name}"
        row = {k: total.get(k) for k in ROW_KEYS}
        row.update(
            id=experiment.id,
            name=experiment.name,
            label=label,
            project_id=experiment.project_id,
            footprint=footprint_of(total),
        )
        out.append(row)
    out.sort(key=lambda r: r["label"])
    return out


def where_and_mix(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs' places on the map and their zones' energy mix, by the report's functions."""
    from ...report.geo import run_places
    from ...report.mix import runs_mix, zone_of

    places = run_places(rows)
    mix = runs_mix((zone_of(r["zone"], r["country"]), r["energy_kwh"]) for r in rows)
    return {"places": places, "mix": mix}


def map_chart(rows: list[dict[str, Any]], places: dict[str, Any]) -> dict[str, Any] | None:
    figure = report_charts.world_map({"runs": rows, "places": places})
    return figures.wrapped(
        "chart-map", "Grid intensity by country, and where the runs ran", figure, wide=True
    )


def mix_chart(mix: dict[str, Any]) -> dict[str, Any] | None:
    return figures.wrapped(
        "chart-mix",
        "Renewable and carbon-free shares of the runs' grids (%)",
        report_charts.energy_mix({"mix": mix}),
    )


def exports(base: str, since: datetime | None, until: datetime | None) -> dict[str, str]:
    """Links to the CSV and JSON export of the page's runs, with its date range."""
    query = {k: v.date().isoformat() for k, v in (("since", since), ("until", until)) if v}
    tail = f"?{urlencode(query)}" if query else ""
    return {fmt: f"{base}/export.{fmt}{tail}" for fmt in ("csv", "json")}


def page_query(period: str, since: datetime | None, until: datetime | None) -> dict[str, str]:
    """What a page was asked for (its period and date range), to keep in its links."""
    query = {"period": period}
    query.update({k: v.date().isoformat() for k, v in (("since", since), ("until", until)) if v})
    return query


def listed_runs(
    db: Session, f: RunFilter, before: int | None, query: dict[str, Any]
) -> tuple[list[Any], list[int], dict[str, Any]]:
    """(the runs the page's table lists: the newest ``RUNS_LISTED``, or the next older ones
    than run ``before``; the ids of the newest runs the charts draw; the table's links to
    older runs and back to the newest, keeping the page's ``query``). A page's table stays
    the same size however many runs it has, and says where the rest are."""
    newest = dashboard.runs_brief(db, f, MAX_DRAWN)
    if before is None:
        found = newest[: RUNS_LISTED + 1]
    else:
        found = dashboard.runs_brief(db, f, RUNS_LISTED + 1, before=before)
    listed = found[:RUNS_LISTED]
    kept = {k: v for k, v in query.items() if v}
    older = listed[-1].id if len(found) > RUNS_LISTED else None
    pages = {
        "older": f"?{urlencode({**kept, 'before': older})}" if older is not None else None,
        "newest": (f"?{urlencode(kept)}" if kept else "?") if before is not None else None,
    }
    return listed, [r.id for r in newest], pages


def runs_page(
    db: Session,
    f: RunFilter,
    period: str,
    experiments: list[Any],
    newest: list[int],
    project_names: dict[int, str] | None = None,
) -> dict[str, Any]:
    """What a team, project or experiment page shows of its runs: totals, the experiments
    compared, and the charts (over time, scatter, components, locations, intensity, map, mix).
    The totals and groupings are of every run; the scatter, map and mix draw the runs compared:
    the newest ``MAX_DRAWN`` of ``newest`` (run ids, newest first), as the API compares at most
    as many, so that a page's cost stops growing with its runs."""
    from .data import _components, _over_time

    # One summary for every chart: its groupings come from one pass over the runs.
    bys = (period, "location", "intensity_source") + (("experiment_pk",) if experiments else ())
    all_of = summaries.grouped(db, f, bys)
    total = {k: v for k, v in all_of.items() if k != "groupings"}
    groups = all_of["groupings"]
    drawn = newest[:MAX_DRAWN]
    rows = summaries.compare(db, replace(f, run_ids=drawn)) if drawn else []
    seen = where_and_mix(rows)
    compared = experiments_compared(groups.get("experiment_pk", []), experiments, project_names)
    charts = [
        figures.experiments(compared) if compared else None,
        figures.runs_scatter(rows),
        _over_time({"groups": groups[period]}, period),
        _components(total),
        figures.by_location(groups["location"]),
        figures.intensity_by(groups["intensity_source"]),
        mix_chart(seen["mix"]),
        map_chart(rows, seen["places"]),
    ]
    return {
        "totals": total,
        "runs_drawn": len(rows),
        "footprint": footprint_of(total),
        "experiments": compared,
        "locations": [
            {
                k: g.get(k)
                for k in (
                    "group",
                    "runs",
                    "energy_kwh",
                    "emissions_kg",
                    "emissions_low_kg",
                    "emissions_high_kg",
                )
            }
            for g in groups["location"]
        ],
        "places": seen["places"],
        "mix": seen["mix"],
        "charts": [c for c in charts if c is not None],
        "map": any(c is not None and c["id"] == "chart-map" for c in charts),
    }


def experiments_for(db: Session, project_ids: list[int]) -> list[Any]:
    return dashboard.experiments_of(db, project_ids, MAX_EXPERIMENTS)
