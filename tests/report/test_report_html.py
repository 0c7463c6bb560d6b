"""``wattprint report --html``: one page that opens offline, whose charts carry the figures that
``summarise()`` computes, for wattprint's and CodeCarbon's files; the missing-plotly error, text
from the CSV that tries to end a script, and an OUT that cannot be written."""

from __future__ import annotations

import csv
import html
import json
import math
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs, get_plotlyjs_version
from typer.testing import CliRunner

from tests.report import test_report
from wattprint.carbon import countries, tables
from wattprint.cli import app
from wattprint.records import CODECARBON_COLUMNS
from wattprint.report.charts import run_labels
from wattprint.report.equivalents import factors
from wattprint.report.summary import REFERENCE_ZONES, summarise
from wattprint.report.whatif import region_options

runner = CliRunner()
# The fixtures of test_report.py: a real Tracker run on the fake machine, a CodeCarbon file.
wattprint_csv = test_report.wattprint_csv
codecarbon_csv = test_report.codecarbon_csv


class Page(HTMLParser):
    """The page's tags with their attributes, script and style contents, and text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._open: tuple[str, dict[str, str | None], list[str]] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs), [])

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[0] == tag:
            _, attrs, parts = self._open
            if tag == "script":
                self.scripts.append((attrs, "".join(parts)))
            else:
                self.styles.append("".join(parts))
            self._open = None

    def handle_data(self, data: str) -> None:
        (self._open[2] if self._open else self.text).append(data)


def assert_offline(text: str) -> Page:
    """Nothing the page loads or links points outside it.

    "http(s)://" strings remain, all inert: inside plotly.js, inlined verbatim (checked below),
    the XML/SVG namespace names (www.w3.org: identifiers, never fetched), licence and comment
    links, and the URLs that only map and geo traces (tiles, styles, glyphs, topojson) or the
    Chart Studio export and the logo link use; the page draws no tile map, its world map's
    topology is in the page where plotly.js looks before fetching (``charts()`` checks), its
    plotly config turns the export and the logo off, and its CSP forbids any fetch anyway. In
    the text, an equivalent's source cites a web page as plain text, not as a link.
    """
    page = Page(text)
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed", "base", "a", "source")
        for name, value in attrs.items():
            assert name not in ("src", "href", "srcset", "action", "poster", "data", "background")
            assert "://" not in (value or ""), (tag, name, value)
    assert all("url(" not in css and "@import" not in css for css in page.styles)
    (csp,) = [
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert "default-src 'none'" in csp and "connect-src" not in csp and "http" not in csp
    (bundle, data, boot) = [body for _, body in page.scripts]
    assert bundle == get_plotlyjs()  # verbatim: only plotly's own strings, see above
    assert f"plotly.js v{get_plotlyjs_version()}" in bundle
    for script in (data, boot):
        assert "http" not in script and "<" not in script  # < is \u003c in the JSON
    assert all("<!--" not in body for _, body in page.scripts)
    for url in re.findall(r"https?://[^\s;,)]+", "".join(page.text)):
        assert any(url in f.source for f in factors().values()), url
    return page


def charts(text: str) -> dict[str, Any]:
    page = Page(text)
    (payload,) = [body for a, body in page.scripts if a.get("id") == "wattprint-charts"]
    data = json.loads(payload)
    config = data["config"]
    assert config["displaylogo"] is False and config["showSendToCloud"] is False
    assert config["plotlyServerURL"] == "" and config["showLink"] is False
    types = {t["type"] for f in data["figures"] for t in f["data"]}
    # No tile map (its styles and tiles are URLs). The geo map's topology is in the page, under
    # the name plotly.js would fetch it by, so plotly.js never fetches it.
    assert types <= {"bar", "scatter", "choropleth", "scattergeo"}
    if types & {"choropleth", "scattergeo"}:
        assert data["topojsonName"] == "world_110m"
        assert {"countries", "land"} <= set(data["topojson"]["objects"])
        for f in data["figures"]:
            if "geo" in f["layout"]:
                geo = f["layout"]["geo"]
                assert (geo["scope"], geo["resolution"]) == ("world", 110)
                assert not any(
                    geo.get(f"show{x}")
                    for x in ("coastlines", "ocean", "lakes", "rivers", "subunits")
                )
    return data


def figure(data: dict[str, Any], name: str, view: str = "all") -> dict[str, Any]:
    (found,) = [f for f in data["figures"] if f["chart"] == name and f["view"] == view]
    return found


def traces(fig: dict[str, Any], meta: str) -> list[dict[str, Any]]:
    return [t for t in fig["data"] if t.get("meta") == meta]


def scaled(values: list[float], fig: dict[str, Any], axis: str = "y") -> list[float]:
    factor = fig["units"][axis][0]
    return [v * factor for v in values]


def make_page(tmp_path: Path, *args: str) -> tuple[Any, str]:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", *args, "--html", str(out)])
    assert result.exit_code == 0, result.output
    return result, out.read_text("utf-8")


def test_wattprint_run_page_through_the_entry_point(wattprint_csv, tmp_path):
    out = tmp_path / "page.html"
    done = subprocess.run(
        [sys.executable, "-m", "wattprint", "report", str(wattprint_csv), "--html", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert "CO2eq" in done.stdout and done.stdout.strip().endswith(f"wrote {out}")
    text = out.read_text("utf-8")
    assert_offline(text)
    data = charts(text)
    summary = summarise([wattprint_csv], details=True)
    groups = {g["group"]: g for g in summary["groups"]}
    last = test_report.last_rows(wattprint_csv)

    over_time = figure(data, "emissions_over_time")
    for trace in traces(over_time, "kg"):
        g = groups[html.unescape(trace["name"])]
        rows = [r for r in summary["runs"] if r["group"] == g["group"]]
        assert scaled(trace["y"], over_time) == pytest.approx(
            list(accumulate(float(last[r["run_id"]]["emissions"]) for r in rows))
        )
        assert scaled(trace["y"], over_time)[-1] == pytest.approx(g["emissions"]["kg"])
        assert trace["x"] == [r["end"] for r in rows]
    lows, highs = traces(over_time, "low"), traces(over_time, "high")
    assert len(lows) == len(highs) == 2  # a band for each project: every run has bounds
    for low, high, g in zip(lows, highs, summary["groups"], strict=True):
        assert scaled(low["y"], over_time)[-1] == pytest.approx(g["emissions"]["low_kg"])
        assert scaled(high["y"], over_time)[-1] == pytest.approx(g["emissions"]["high_kg"])

    parts = figure(data, "energy_by_component")
    assert {t["name"] for t in parts["data"]} >= {"cpu", "ram", "platform"}
    for trace in parts["data"]:
        expected = [g["energy"][trace["name"]]["kwh"] for g in summary["groups"]]
        assert [html.unescape(x) for x in trace["x"]] == list(groups)
        got = [None if v is None else v * parts["units"]["y"][0] for v in trace["y"]]
        assert got == pytest.approx(expected)
    cpu = traces(parts, "cpu")[0]
    assert cpu["y"][0] * parts["units"]["y"][0] == pytest.approx(
        sum(float(r["cpu_energy"]) for r in last.values() if r["project_name"] == "alpha")
    )

    compared = figure(data, "runs_compared")
    labels = dict(zip(run_labels(summary["runs"]), summary["runs"], strict=True))
    for key, low, high, axis in (
        ("energy_kwh", "energy_low_kwh", "energy_high_kwh", "y"),
        ("emissions_kg", "emissions_low_kg", "emissions_high_kg", "y2"),
    ):
        (trace,) = traces(compared, key)  # every run has bounds: one trace, with error bars
        factor = compared["units"][axis][0]
        assert len(trace["x"]) == 3
        for x, y, plus, minus in zip(
            trace["x"],
            trace["y"],
            trace["error_y"]["array"],
            trace["error_y"]["arrayminus"],
            strict=True,
        ):
            run = labels[x]
            assert y * factor == pytest.approx(run[key])
            assert (y + plus) * factor == pytest.approx(run[high])
            assert (y - minus) * factor == pytest.approx(run[low])
        column = {"energy_kwh": "energy_consumed", "emissions_kg": "emissions"}[key]
        assert [labels[x][key] for x in trace["x"]] == pytest.approx(
            [float(last[labels[x]["run_id"]][column]) for x in trace["x"]]
        )

    (block,) = summary["regions"]  # not on a cloud: the energy on reference grids
    (grid,) = [f for f in data["figures"] if f["chart"] == "regions" and f["view"] == "all"]
    energy = sum(float(r["energy_consumed"]) for r in last.values())
    expected = [countries.world().intensity_g_per_kwh] + [
        tables.zone(z).intensity_g_per_kwh for z in REFERENCE_ZONES
    ]
    assert [o["kg"] for o in block["options"]] == pytest.approx(
        [energy * i / 1000 for i in expected]
    )
    bars = grid["data"][0]
    assert html.unescape(bars["y"][0]) == "as run (from the files)"
    assert scaled(bars["x"], grid, "x") == pytest.approx(
        [summary["total"]["emissions"]["kg"]] + [o["kg"] for o in block["options"]]
    )
    assert "not confidence intervals" in text and "rapl" in text


def test_codecarbon_page_has_no_ranges_and_the_cloud_what_if(codecarbon_csv, tmp_path):
    result, text = make_page(tmp_path, str(codecarbon_csv), "--json")
    plain = runner.invoke(app, ["report", str(codecarbon_csv), "--json"])
    assert json.loads(result.stdout) == json.loads(plain.stdout)  # the same JSON with --html
    assert_offline(text)
    data = charts(text)
    summary = summarise([codecarbon_csv], details=True)
    (g,) = summary["groups"]

    over_time = figure(data, "emissions_over_time")
    assert not traces(over_time, "low") and not traces(over_time, "high")  # no band
    (line,) = traces(over_time, "kg")
    assert scaled(line["y"], over_time) == pytest.approx([0.01, 0.21])

    parts = figure(data, "energy_by_component")
    assert {t["name"] for t in parts["data"]} == {"cpu", "gpu", "ram"}  # no platform column
    for trace in parts["data"]:
        assert scaled(trace["y"], parts) == pytest.approx([g["energy"][trace["name"]]["kwh"]])

    compared = figure(data, "runs_compared")
    assert all("error_y" not in t for t in compared["data"])  # none, rather than zero-width
    (energy,) = traces(compared, "energy_kwh")
    assert "no bounds" in energy["name"]
    assert scaled(energy["y"], compared) == pytest.approx([0.025, 0.5])
    (kg,) = traces(compared, "emissions_kg")
    assert scaled(kg["y"], compared, "y2") == pytest.approx([0.01, 0.2])

    cloud, grid = summary["regions"]
    assert cloud["provider"] == "aws" and cloud["own_regions"] == ["us-east-1"]
    everywhere = {o.region: o for o in region_options("aws", 0.5)}
    for o in cloud["options"]:
        assert o["kg"] == pytest.approx(everywhere[o["region"]].emissions_kg)
    assert cloud["options"][0]["kg"] == pytest.approx(g["elsewhere"][0]["kg"])  # the best
    assert [o["region"] for o in cloud["options"] if o["own"]] == ["us-east-1"]
    assert 3 < len(cloud["options"]) <= 12 and cloud["actual_kg"] == pytest.approx(0.2)
    aws, ref = [f for f in data["figures"] if f["chart"] == "regions"]
    bars = aws["data"][0]
    assert scaled(bars["x"], aws, "x") == pytest.approx([0.2] + [o["kg"] for o in cloud["options"]])
    assert any("us-east-1" in y and "where it ran" in y for y in bars["y"])
    assert grid["energy_kwh"] == pytest.approx(0.025) and grid["actual_kg"] == pytest.approx(0.01)
    assert scaled(ref["data"][0]["x"], ref, "x")[0] == pytest.approx(0.01)

    assert "none in the files" in text
    assert "CodeCarbon files carry no bounds" in text and "codecarbon (not stated)" in text


def test_missing_plotly_is_one_line_saying_what_to_install(codecarbon_csv, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly now fails
    monkeypatch.setitem(sys.modules, "plotly.offline", None)
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(codecarbon_csv), "--html", str(out)])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("wattprint: ") and "pip install 'wattprint[html]'" in line
    assert not out.exists() and result.stdout == ""


def test_report_without_html_does_not_import_plotly(codecarbon_csv):
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom wattprint.cli import app\n"
        "assert CliRunner().invoke(app, ['report', sys.argv[1]]).exit_code == 0\n"
        "print('plotly' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(codecarbon_csv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


EVIL = "</script><script>alert(1)</script>"


def test_text_from_the_csv_cannot_end_a_script_or_become_markup(tmp_path):
    path = tmp_path / "emissions.csv"
    names = (EVIL, "<b>bold</b> & <a href='x'>co</a>")
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CODECARBON_COLUMNS)
        writer.writeheader()
        for i, name in enumerate(names):
            writer.writerow(dict(test_report.CC_ROW, project_name=name, run_id=f"r{i}"))
    _, text = make_page(tmp_path, str(path))
    assert "<script>alert(1)" not in text and "<b>bold" not in text
    page = assert_offline(text)  # still three scripts, no <a>, no href
    assert f">{html.escape(EVIL)}</td>" in text
    data = charts(text)
    parts = figure(data, "energy_by_component")
    # plotly.js reads tags in labels, so it gets them escaped, and shows them as written
    assert sorted(html.unescape(x) for x in parts["data"][0]["x"]) == sorted(names)
    assert all("<" not in x for x in parts["data"][0]["x"])
    assert EVIL in "".join(page.text)


def test_out_must_be_a_file_in_an_existing_folder(codecarbon_csv, tmp_path):
    for out, message in ((tmp_path, "is a folder"), (tmp_path / "nope" / "r.html", "not exist")):
        result = runner.invoke(app, ["report", str(codecarbon_csv), "--html", str(out)])
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert message in line and line.startswith("wattprint: --html ")
    out = tmp_path / "r.html"
    out.write_text("old")  # not a report: kept unless --force
    result = runner.invoke(app, ["report", str(codecarbon_csv), "--html", str(out)])
    assert result.exit_code == 2 and "--force" in result.stderr and out.read_text() == "old"
    result = runner.invoke(app, ["report", str(codecarbon_csv), "--html", str(out), "--force"])
    assert result.exit_code == 0 and result.stdout.strip().endswith(f"wrote {out}")
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cc", "r.html"]  # no temp file left
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_no_runs_gives_a_page_without_charts(codecarbon_csv, tmp_path):
    _, text = make_page(tmp_path, str(codecarbon_csv), "--since", "2030-01-01")
    assert_offline(text)
    assert charts(text)["figures"] == [] and "No runs since 2030-01-01" in text


def test_non_finite_values_are_unknown_not_nan_in_the_page(tmp_path):
    path = tmp_path / "emissions.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CODECARBON_COLUMNS)
        writer.writeheader()
        writer.writerow(dict(test_report.CC_ROW, gpu_energy="nan"))
    _, text = make_page(tmp_path, str(path))
    parts = figure(charts(text), "energy_by_component")  # json.loads would take NaN
    assert "NaN" not in text.split("wattprint-charts", 1)[1]
    assert {t["name"] for t in parts["data"]} == {"cpu", "ram"}
    assert not math.isnan(parts["data"][0]["y"][0])
