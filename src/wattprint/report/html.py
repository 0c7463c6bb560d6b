"""``wattprint report --html OUT``: one self-contained page that opens with no network.

plotly.js comes inlined from the ``plotly`` package (the ``html`` extra), verbatim; the page's
own markup links, loads and imports nothing, and its Content-Security-Policy tells the browser
to refuse any fetch, font, frame or remote image, should anything try. The charts' data is one
JSON block that a short script hands to plotly.js. Text from the CSVs is escaped for HTML, and
the JSON so that no ``</script>`` in a project name can end its block.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import charts, html_footprint
from .summary import PARTS

INSTALL = "pip install 'wattprint[html]'"
#: Scripts and styles only from this page itself; images only as data (plotly's PNG/SVG export).
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; base-uri 'none'; form-action 'none'"
)
#: plotly.js options: no link, button or logo that leads to plotly's servers.
CONFIG = {
    "displaylogo": False,  # the logo links to plotly.com
    "showSendToCloud": False,  # plotly.js 4 offers "send to Chart Studio" unless told not to
    "showEditInChartStudio": False,  # the same in plotly.js 2 (plotly.py 5), with showLink
    "showLink": False,
    "plotlyServerURL": "",
    "typesetMath": False,  # "$x$" in a project name is text; MathJax is not on the page anyway
    "responsive": True,
    "toImageButtonOptions": {"format": "svg", "filename": "wattprint-chart"},  # for papers
}
CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1b1b1b;max-width:1100px;margin:2rem auto;padding:0 1.25rem}
h1{font-size:1.6rem;margin:0 0 .3rem}
h2{font-size:1.2rem;margin:2.2rem 0 .6rem;border-bottom:1px solid #ddd;padding-bottom:.25rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
.meta,.caption,.note,footer{color:#555;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e5e5e5;text-align:right;vertical-align:top}
th{border-bottom:2px solid #bbb}
th:first-child,td:first-child,td.text,th.text{text-align:left}
tr.total td{font-weight:600;border-top:2px solid #bbb}
footer{margin-top:2.5rem;border-top:1px solid #ddd;padding-top:.75rem}
[hidden]{display:none!important}
.views{margin:1rem 0;font-size:.95rem}
.views select{font:inherit;padding:.2rem .4rem}
@media print{body{margin:0;max-width:none}section{break-inside:avoid}}
"""
BOOT = """(function () {
  "use strict";
  var page = JSON.parse(document.getElementById("wattprint-charts").textContent);
  if (page.topojson) {  // the map's geometry, where plotly.js looks before fetching it
    window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
    window.PlotlyGeoAssets.topojson[page.topojsonName] = page.topojson;
  }
  var drawn = {};
  function draw(view) {  // a hidden chart would be drawn at the wrong size: draw on showing
    page.figures.forEach(function (f) {
      if (f.view !== view) return;
      if (drawn[f.id]) { Plotly.Plots.resize(f.id); return; }
      drawn[f.id] = true;
      f.data.forEach(function (t) {  // sub-national shapes, named in the trace: put in place
        if (page.geojson && t.geojson === page.geojsonName) t.geojson = page.geojson;
      });
      Plotly.newPlot(f.id, f.data, f.layout, page.config);
    });
  }
  var select = document.getElementById("wattprint-view");
  function show() {
    var view = select ? select.value : "all";
    document.querySelectorAll("[data-view]").forEach(function (el) {
      el.hidden = el.getAttribute("data-view") !== view;
    });
    draw(view);
  }
  if (select) select.addEventListener("change", show);
  show();
})();"""


def plotly_js() -> str:
    """plotly.js, minified, from the plotly package; ValueError saying what to install."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise ValueError(f"--html needs the plotly package: {INSTALL}") from None
    js = get_plotlyjs()
    if "</script" in js.lower():  # it would end the inline <script> early
        raise ValueError("this plotly version's plotly.js cannot be inlined in a page")
    return js


def check_target(path: Path) -> Path:
    """``path`` if a file can be written there; ValueError for a folder or a missing folder."""
    if path.is_dir():
        raise ValueError(f"--html {path}: is a folder; name the HTML file to write")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ValueError(f"--html {path}: the folder {parent} does not exist")
    return path


def write_page(path: Path, data: dict[str, Any], js: str | None = None) -> None:
    """Write the page for ``summarise(..., details=True)``'s ``data``, atomically."""
    text = render(data, plotly_js() if js is None else js)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.absolute().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp's 0600 would hide the page from a team
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _script_json(value: Any) -> str:
    # Inside <script> only "</" and "<!--" are dangerous; escaping < > & as JSON \u escapes
    # keeps the text valid JSON that no browser reads as markup.
    text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _kwh(value: float | None) -> str:
    from ..units import energy_text

    return energy_text(value) if value is not None else "?"


def _kg(value: float | None) -> str:
    from ..units import mass_text

    return mass_text(value)


def _duration(seconds: float) -> str:
    from .. import units

    return units.duration(seconds)


def _table(head: list[str], rows: list[tuple[list[str], str]], text_cols: int = 1) -> str:
    """Cells are already escaped; ``text_cols`` leftmost columns are left-aligned text."""
    th = "".join(
        f"<th{' class=text' if i < text_cols else ''}>{h}</th>" for i, h in enumerate(head)
    )
    body = "".join(
        f"<tr{f' class={cls}' if cls else ''}>"
        + "".join(
            f"<td{' class=text' if i < text_cols else ''}>{c}</td>" for i, c in enumerate(cells)
        )
        + "</tr>"
        for cells, cls in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = list(data["groups"])
    if data["total"] and len(rows) > 1:
        rows.append(data["total"])
    return rows


def _totals(data: dict[str, Any]) -> str:
    from .. import units

    e = html.escape
    rows = []
    for g in _rows(data):
        m, it = g["emissions"], g["intensity"]
        span = (
            f"{_kg(m['low_kg'])} to {_kg(m['high_kg'])}"
            if m["low_kg"] is not None
            else "none in the files"
        )
        cells = [e(g["group"]), str(g["runs"]), _duration(g["duration_s"])]
        cells += [_kwh(g["energy"][p]["kwh"]) for p in PARTS]
        g_kwh = units.number(it["g_per_kwh"]) if it["g_per_kwh"] is not None else "?"
        cells += [_kwh(g["energy"]["total"]["kwh"]), _kg(m["kg"]), span, g_kwh]
        rows.append((cells, "total" if g is data["total"] else ""))
    head = [e(data["by"]), "runs", "time", *PARTS, "energy", "CO2e", "CO2e range", "g/kWh"]
    notes = []
    for g in data["groups"]:
        for p in (*PARTS, "total"):
            n = g["energy"][p]["unknown_runs"]
            if n:
                what = "energy_consumed" if p == "total" else f"{p} energy"
                notes.append(f"{e(g['group'])}: {what} unknown in {n} of {g['runs']} run(s)")
    note = (
        "<p class=note>Unknown values (a column or value the file lacks) are left out of "
        "the sums and the charts, never counted as zero: " + "; ".join(notes) + ".</p>"
        if notes
        else ""
    )
    return _table(head, rows) + note


def _how(data: dict[str, Any]) -> str:
    e = html.escape
    rows = []
    for g in _rows(data):
        mach = g["machine"]
        machine = (
            f"{_kwh(mach['energy_kwh'])}, {_kg(mach['emissions_kg'])}"
            if mach["energy_kwh"] is not None
            else "not estimated"
        )
        it = g["intensity"]
        cells = [e(g["group"]), e(g["emissions"]["bounds"]), machine,
                 e("; ".join(it["sources"])), e(", ".join(it["kinds"])),
                 e("; ".join(f"{c}: {', '.join(v)}" for c, v in g["methods"].items()))]  # fmt: skip
        rows.append((cells, "total" if g is data["total"] else ""))
    head = [e(data["by"]), "CO2e bounds", "whole machine", "intensity source", "kind", "methods"]
    return _table(head, rows, text_cols=6)


def _equivalents(total: dict[str, Any]) -> str:
    e = html.escape
    from .. import units

    scaled = [units.equivalent(q["amount"], q["unit"], q["label"]) for q in total["equivalents"]]
    rows = [
        (
            [
                e(amount),
                e(label),
                f"{units.mass(q['factor_g'] / 1000)} CO2e per {e(q['unit'])}",
                e(str(q["year"])),
                e(q["source"])
                + (f" <span class=note>({e(q['note'])})</span>" if q["note"] else ""),
                e(q["license"]),
            ],
            "",
        )
        for q, (amount, label) in zip(total["equivalents"], scaled, strict=True)
    ]
    head = ["amount", "of", "factor", "year", "source", "license"]
    return f"<p>The {_kg(total['emissions']['kg'])} CO2e of these runs is about:</p>" + _table(
        head, rows, text_cols=6
    )


def _region_caption(block: dict[str, Any]) -> str:
    e = html.escape
    if block["kind"] == "cloud":
        if "note" in block:
            return f"<p class=note>{e(block['provider'])}: {e(block['note'])}</p>"
        return (
            f"<h3>{e(block['provider'])}: had its {block['runs']} run(s) used another "
            "region</h3><p class=caption>The same IT energy "
            f"({_kwh(block['it_energy_kwh'])}, without PUE) at each region's PUE and annual "
            f"grid intensity; the runs ran in {e(', '.join(block['own_regions']))}. Shown: "
            "the lowest-carbon regions, the runs' own and the highest-carbon ones.</p>"
        )
    return (
        "<h3>The other runs' energy on other grids</h3><p class=caption>The same energy "
        f"({_kwh(block['energy_kwh'])} as the files record it, PUE included) of "
        f"{block['runs']} non-cloud run(s) at the annual average intensity of reference "
        "grids, low- to high-carbon, and the world average. 'as run' is what the files "
        "report, at the intensity the runs used.</p>"
    )


CAPTIONS = {
    "emissions_over_time": ("Emissions over time", "Cumulative CO2e of each {by} at the end of "
                            "each run (UTC). The band is the range from the runs' low and high "
                            "bounds; a {by} whose runs carry no bounds (CodeCarbon files) has "
                            "no band."),
    "energy_by_component": ("Energy by component", "CPU, GPU and RAM as the files record them "
                            "(before PUE), and the platform (board, fans, storage, power supply "
                            "losses), which wattprint estimates and energy_consumed leaves out. "
                            "A part the files do not record has no bar."),
    "runs_compared": ("Runs compared", "Energy (energy_consumed, PUE included) and CO2e of "
                      "each run, oldest first. Error bars run from the low to the high bound; "
                      "runs without bounds (CodeCarbon files) are drawn lighter with none."),
}  # fmt: skip


def _sections(data: dict[str, Any], chart: Any) -> list[str]:
    """The sections of one view (every project, or one) of ``summarise(details=True)``."""
    e = html.escape
    sections: list[str] = []
    if data["by"] == "run":
        sections.append(f"<section><h2>Runs</h2>{_runs(data)}</section>")
    sections.append(f"<section><h2>Totals by {e(data['by'])}</h2>{_totals(data)}</section>")
    footprint = html_footprint.section(data, _rows(data))
    if footprint:
        sections.append(footprint)
    for name, (title, caption) in CAPTIONS.items():
        body = chart(
            name,
            getattr(charts, name)(data),
            f"<p class=caption>{caption.format(by=e(data['by']))}</p>",
        )
        if body:
            sections.append(f"<section><h2>{title}</h2>{body}</section>")
    power = chart("power_over_time", charts.power_over_time(data), _power_caption(data))
    if power:
        sections.append(f"<section><h2>Power over time</h2>{power}</section>")
    sections.append(f"<section><h2>Energy mix of the grids</h2>{_mix(data, chart)}</section>")
    where = chart("world_map", charts.world_map(data), _map_caption(data))
    if where:
        sections.append(f"<section><h2>Where the runs ran</h2>{where}</section>")
    parts = [_region(b, chart) for b in data["regions"]]
    if any(parts):
        sections.append("<section><h2>Had it run elsewhere</h2>" + "".join(parts) + "</section>")
    sections.append(f"<section><h2>How the numbers were obtained</h2>{_how(data)}</section>")
    sections.append(f"<section><h2>In everyday terms</h2>{_equivalents(data['total'])}</section>")
    return sections


def _runs(data: dict[str, Any]) -> str:
    """``--by run``: which run each id is."""
    e = html.escape
    rows = [
        (
            [
                e(g["group"]),
                e(g["project"] or "-"),
                e(g["experiment"] or "-"),
                e(g["start"] or "unknown"),
                e(", ".join(g["locations"])),
                e(", ".join(g["statuses"])),
            ],
            "",
        )
        for g in data["groups"]
    ]
    head = ["run", "project", "experiment", "started (UTC)", "location", "status"]
    return _table(head, rows, text_cols=6)


def _power_caption(data: dict[str, Any]) -> str:
    runs = data.get("power") or []
    damaged = sum(r["damaged"] for r in runs)
    more = (
        f" The {len(runs)} latest runs that have a journal are in the menu."
        if len(runs) > 1
        else ""
    )
    skipped = f" {damaged} damaged journal line(s) were skipped." if damaged else ""
    return (
        "<p class=caption>Average power of each component between two intervals of the run's "
        "journal (.wattprint/&lt;run_id&gt;.jsonl beside its CSV), with each component's "
        f"method; a gap where a component's energy was not known.{more}{skipped}</p>"
    )


def _mix(data: dict[str, Any], chart: Any) -> str:
    e = html.escape
    mix = data["mix"]
    body = chart("energy_mix", charts.energy_mix(data))
    lines = []
    if mix["renewable_pct"] is not None:
        lines.append(
            f"Weighted by the runs' energy, {mix['renewable_pct']:.0f} % of it came from "
            f"renewable sources and {mix['carbon_free_pct']:.0f} % was carbon-free "
            "(renewables and nuclear), going by the zones' yearly averages."
        )
    for z in mix["zones"]:
        if z["renewable_pct"] is None:
            lines.append(f"{e(z['name'])}: {z['runs']} run(s), {e(z['note'])}.")
    sources = sorted({(z["source"], z["license"]) for z in mix["zones"] if z["source"]})
    if sources:
        lines.append(
            "Source: "
            + "; ".join(f"{e(s)} ({e(lic)})" for s, lic in sources)
            + ". Contains Electricity Maps data."
        )
    return body + "".join(f"<p class=caption>{line}</p>" for line in lines)


def _map_caption(data: dict[str, Any]) -> str:
    from .geo import MAP_NOTE

    unplaced = data["places"]["unplaced_runs"]
    missing = f" {unplaced} run(s) say nowhere and are not marked." if unplaced else ""
    return (
        "<p class=caption>Countries by the annual grid intensity wattprint uses for them "
        "(Electricity Maps' country zone, else Ember's country figure); a marker for each place "
        "the runs ran (its area grows with their emissions): the run's coordinates, else its "
        f"cloud region, else the centre of its grid zone.{missing} {html.escape(MAP_NOTE)}</p>"
    )


def render(data: dict[str, Any], js: str, now: datetime | None = None) -> str:
    """The page, as text, for ``summarise(..., details=True)``'s ``data``: every project, and
    with several projects a selector that shows one at a time (each view is the summary of
    that project's runs alone, ``data["projects"]``)."""
    from .._version import __version__
    from .geo import GEOJSON_NAME, TOPOJSON_NAME, subnational_geojson, world_topology

    e = html.escape
    now = now or datetime.now(timezone.utc)
    files = data["files"]
    # The file's name in the title; the full paths in the line under it.
    where = e(Path(files[0]).name) if len(files) == 1 else f"{len(files)} files"
    since = f" since {e(data['since'])}" if data["since"] else ""
    figures: list[dict[str, Any]] = []
    views = [("all", "every project", data)]
    projects = sorted((data.get("projects") or {}).items())
    views += [(f"project-{i}", name, view) for i, (name, view) in enumerate(projects)]
    blocks: list[str] = []
    footprints: dict[str, Any] = {}  # per view, per group: what the footprint tables show
    for view_id, _, view in views:

        def chart(
            name: str, figure: dict[str, Any] | None, caption: str = "", view_id: str = view_id
        ) -> str:
            if figure is None:
                return ""
            figures.append(
                {"id": f"chart-{len(figures)}", "chart": name, "view": view_id, **figure}
            )
            return (
                f'<div id="chart-{len(figures) - 1}" class=chart></div>'
                f"<noscript><p class=note>The chart needs JavaScript.</p></noscript>{caption}"
            )

        if view["total"]:
            sections = _sections(view, chart)
            footprints[view_id] = html_footprint.figures(_rows(view))
        else:
            sections = [f"<p>No runs{since} in {e(', '.join(files))}.</p>"]
        hidden = "" if view_id == "all" else " hidden"
        blocks.append(f'<div data-view="{view_id}"{hidden}>{"".join(sections)}</div>')
    selector = ""
    if len(views) > 1:
        options = "".join(f'<option value="{v}">{e(name)}</option>' for v, name, _ in views)
        selector = (
            f'<p class=views><label for="wattprint-view">Show: </label>'
            f'<select id="wattprint-view">{options}</select></p>'
        )
    runs = data["runs"]
    span = f"; runs from {runs[0]['end']} to {runs[-1]['end']} UTC" if runs else ""
    meta = (
        f"{e(', '.join(files))}, by {e(data['by'])}{since}{span}. Generated "
        f"{now.strftime('%Y-%m-%d %H:%M')} UTC by wattprint {e(__version__)}."
    )
    # "footprint": per view, per group, the figures the footprint tables show (none are charts).
    content: dict[str, Any] = {"config": CONFIG, "figures": figures, "footprint": footprints}
    if any(f.get("topojson") for f in figures):
        content.update(topojsonName=TOPOJSON_NAME, topojson=world_topology())
    if any(f.get("geojson") for f in figures):
        content.update(geojsonName=GEOJSON_NAME, geojson=subnational_geojson())
    payload = _script_json(content)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wattprint report: {where}, by {e(data["by"])}{since}</title>
<style>{CSS}</style>
<script>{js}</script>
</head><body>
<header><h1>Energy and CO2e: {where}</h1><p class=meta>{meta}</p>{selector}</header>
{"".join(blocks)}
<footer><p>{FOOTNOTE}</p></footer>
<script type="application/json" id="wattprint-charts">{payload}</script>
<script>{BOOT}</script>
</body></html>
"""


def _region(block: dict[str, Any], chart: Any) -> str:
    figure = charts.regions(block)
    if figure is None and "note" not in block:
        return ""
    return _region_caption(block) + chart("regions", figure)


FOOTNOTE = (
    "How these numbers were obtained: energy is what the runs' CSV files record, each part "
    "with its method (a hardware counter such as rapl or nvml-counter where there is one, else "
    "a power model, labelled as such); CO2e is that energy times the carbon intensity of the "
    "grid where and when the runs ran, with the source and kind shown above. The low and high "
    "figures are ranges that the true value lies in as far as the meters and tables allow, not "
    "confidence intervals. CodeCarbon files carry no bounds and no methods, so their runs are "
    "shown without ranges. The what-if figures use annual averages and are estimates, not "
    "measurements. Times are UTC; CodeCarbon's, which carry no time zone, are taken as UTC."
)
