"""The HTML report in a real browser (Debian's chromium through Playwright): the map draws its
countries, the US states, Canadian provinces and Australian states from the geometry in the
page, every chart draws, the project selector shows one project's charts, and the page asks
for nothing outside itself (no request, and no CSP refusal or other error in the console).

Needs ``chromium`` (``apt-get install -y chromium``; .ci/run installs it) and the ``playwright``
package (the test extra); no browser download is involved.
"""

from __future__ import annotations

import shutil

import pytest

from tests.report.test_report_html import make_page
from tests.report.test_report_html_views import folder  # noqa: F401 - the fixture
from wattprint.carbon import tables

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="apt-get install -y chromium")


def chart_div(page, name: str, view: str) -> str:
    return page.evaluate(
        """([name, view]) => {
             const data = JSON.parse(document.getElementById("wattprint-charts").textContent);
             return data.figures.find(f => f.chart === name && f.view === view).id;
           }""",
        [name, view],
    )


def test_page_draws_everything_offline(folder, tmp_path):  # noqa: F811
    make_page(tmp_path, str(folder))
    target = tmp_path / "report.html"
    requests: list[str] = []
    problems: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(target.as_uri())
        world = chart_div(page, "world_map", "all")
        page.wait_for_selector(f"#{world} path.choroplethlocation", timeout=20_000)
        countries = page.locator(f"#{world} path.choroplethlocation").count()
        markers = page.locator(f"#{world} .scattergeo path.point").count()
        states = page.evaluate(
            """(id) => {
                 const t = document.getElementById(id).data.find(t => t.meta === "subnational");
                 return {z: Object.fromEntries(t.locations.map((k, i) => [k, t.z[i]])),
                         shapes: typeof t.geojson === "object" ? t.geojson.features.length : 0};
               }""",
            world,
        )
        power = chart_div(page, "power_over_time", "all")
        lines = page.locator(f"#{power} .scatterlayer .trace").count()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

        vision = chart_div(page, "power_over_time", "project-1")
        assert page.locator(f"#{vision} .main-svg").count() == 0  # hidden: not drawn yet
        page.select_option("#wattprint-view", "project-1")
        page.wait_for_selector(f"#{vision} .main-svg", timeout=10_000)
        all_hidden = page.eval_on_selector('[data-view="all"]', "el => el.hidden")
        vision_shown = page.eval_on_selector('[data-view="project-1"]', "el => !el.hidden")
        browser.close()
    shapes = 51 + 13 + 7  # US states, Canadian provinces and territories, Australian states
    assert countries > 150 + shapes  # drawn from the topology in the page, and the zones' shapes
    assert states["shapes"] == shapes  # the zones' shapes from the page, put in place of their name
    assert states["z"]["US-STATE-TX"] == tables.zone("US-STATE-TX").intensity_g_per_kwh
    assert states["z"]["CA-ON"] == tables.zone("CA-ON").intensity_g_per_kwh
    assert states["z"]["AU-VIC"] == tables.zone("AU-VIC").intensity_g_per_kwh
    assert markers == 3  # FR, DE and aws us-west-2; the run with no place is not marked
    assert lines >= 2  # cpu and ram of the run with a journal
    assert all_hidden and vision_shown
    assert [u for u in requests if not u.startswith(("file://", "data:", "blob:"))] == []
    assert problems == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
