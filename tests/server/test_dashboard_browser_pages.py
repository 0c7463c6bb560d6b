"""The team, project, experiment, run and map pages in a real browser (Playwright driving
Debian's chromium against a server on 127.0.0.1): the charts plotly drew hold the page data's
numbers, the map draws from the packaged geometry, the scatter's colouring switches from the
keyboard, nothing leaves the server, the console stays clean. Screenshots go to
test-artifacts/dashboard-pages/ (git-ignored)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.browserkit import CHROMIUM, chromium, served

if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium (apt-get install -y chromium; .ci/run does)", allow_module_level=True
    )
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
pytest.importorskip("fastapi", reason="the server extra is not installed")

from tests.fakes.pageskit import RUNS, seed  # noqa: E402
from tests.fakes.serverkit import World  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard-pages"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server (uvicorn in a thread) on SQLite, seeded, with users who have passwords."""
    from fastapi.testclient import TestClient

    from wattprint.server import db, security, store
    from wattprint.server.app import create_app
    from wattprint.server.settings import load_settings

    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'server.sqlite3'}"
    app = create_app(load_settings({}, database_url=url), migrate_schema=True)
    with TestClient(app) as client:
        world = World.make(app, client)
        ids = seed(world)
    with db.transaction(app.state.sessions) as s:
        for who in ("viewer", "outsider"):
            user = store.get(s, store.User, world.ids[f"user_{who}"])
            user.password_hash = security.hash_password(PASSWORD)
    with served(app) as base:
        yield {"base": base, "world": world, "ids": ids}


@pytest.fixture(scope="module")
def browser():
    yield from chromium(ARTIFACTS)


class Visit:
    """A signed-in page whose console errors and requested hosts are recorded."""

    def __init__(self, browser: Any, base: str, who: str, width: int = 1366) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "request", lambda r: self.hosts.add(re.sub(r"^\w+://([^/:]+).*", r"\1", r.url))
        )
        self.page.goto(base + "/signin")
        self.page.fill("#email", f"{who}@example.org")
        self.page.fill("#password", PASSWORD)
        self.page.keyboard.press("Enter")
        self.page.wait_for_load_state("networkidle")

    def open(self, path: str, shot: str) -> Any:
        answer = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
        return answer

    def data(self) -> dict[str, Any]:
        return self.page.evaluate("JSON.parse(document.getElementById('page-data').textContent)")

    def drawn(self, chart_id: str) -> list[dict[str, Any]]:
        """The traces plotly drew (its div's data): names, x, y, marker colours, lat/lon."""
        return self.page.evaluate(
            f"Array.from(document.getElementById('{chart_id}').data, t => ({{name: t.name, "
            "x: Array.from(t.x || []), y: Array.from(t.y || []), lat: Array.from(t.lat || []), "
            "locations: Array.from(t.locations || []), "
            "color: t.marker && Array.isArray(t.marker.color) ? t.marker.color : null}))"
        )

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.hosts <= {"127.0.0.1"}, self.hosts


def test_project_team_and_experiment_pages_draw_their_numbers(server, browser):
    w, ids = server["world"], server["ids"]
    v = Visit(browser, server["base"], "viewer")
    v.open(f"/project/{w.ids['project']}", "project")
    bars = v.drawn("chart-experiments")[0]
    assert bars["x"] == ["baseline", "tuned"] and bars["y"] == pytest.approx([0.05, 0.9])
    scatter = v.drawn("chart-scatter")[0]
    assert sorted(zip(scatter["x"], scatter["y"], strict=True)) == sorted(
        (RUNS[r]["duration"], RUNS[r]["emissions"]) for r in RUNS
    )
    colours = next(c for c in v.data()["charts"] if c["id"] == "chart-scatter")["colour_by"]
    assert scatter["color"] == colours["status"]["colours"]
    # The keyboard alone switches the colouring: focus the control, pick "location".
    v.page.focus("#chart-scatter-colour")
    v.page.keyboard.press("ArrowDown")
    v.page.wait_for_selector("#chart-scatter[data-coloured='location']")
    assert v.drawn("chart-scatter")[0]["color"] == colours["location"]["colours"]
    legend = v.page.locator("#chart-scatter-legend li").all_inner_texts()
    assert len(legend) == 3 and any("us-east-1" in item for item in legend)
    v.page.screenshot(path=str(ARTIFACTS / "project-by-location.png"), full_page=True)
    v.open(f"/team/{w.ids['team']}", "team")
    assert v.drawn("chart-experiments")[0]["x"] == ["bert / baseline", "bert / tuned"]
    assert v.page.locator("#experiments tbody tr").count() == 2
    v.open(f"/experiment/{ids['exp:tuned']}", "experiment")
    assert sorted(v.drawn("chart-scatter")[0]["x"]) == [1800.0, 3600.0]
    phone = Visit(browser, server["base"], "viewer", width=390)
    phone.open(f"/team/{w.ids['team']}", "team-phone")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    v.clean()
    phone.clean()


def test_run_page_tasks_what_ifs_and_mix(server, browser):
    ids = server["ids"]
    v = Visit(browser, server["base"], "viewer")
    v.open(f"/run/{ids['run:r-gb']}", "run-what-ifs")
    data = v.data()
    assert v.page.locator("#tasks tbody tr").count() == 2
    hours = v.drawn("chart-hours")[0]
    assert hours["y"] == pytest.approx(
        [h["emissions_kg"] for h in data["at_another_hour"]["hours"]]
    )
    grids = v.drawn("chart-elsewhere-0")[0]
    options = data["elsewhere"][0]["options"]
    assert len(grids["x"]) == len(options) + 1  # "as run" first
    mix = v.drawn("chart-mix")
    assert [t["x"] for t in mix] == [
        [data["mix"]["renewable_pct"]],
        [data["mix"]["carbon_free_pct"]],
    ]
    assert v.page.locator("#sci").inner_text().startswith("1.2 g CO2eq per images")
    v.open(f"/run/{ids['run:r-aws']}", "run-cloud-regions")
    regions = v.drawn("chart-elsewhere-0")[0]
    assert any("us-east-1" in y and "where it ran" in y for y in regions["y"])
    v.clean()


def test_map_draws_from_the_packaged_geometry(server, browser):
    w = server["world"]
    v = Visit(browser, server["base"], "viewer")
    v.open(f"/org/{w.ids['org_a']}/map", "map")
    v.page.wait_for_selector("#chart-map .choroplethlocation")
    countries = v.page.locator("#chart-map .choroplethlocation").count()
    assert countries > 150, f"{countries} countries drawn"  # the topology was there
    # Centred on Greenwich: plotly.js 4 leaves the world's rotation unset unless told.
    geo = "document.getElementById('chart-map')._fullLayout.geo"
    assert v.page.evaluate(f"{geo}.projection.rotation.lon") == 0
    choropleth, states, marks = v.drawn("chart-map")  # countries, US states, the runs
    assert choropleth["locations"] == v.data()["charts"][0]["traces"][0]["locations"]
    assert "US-STATE-CA" in states["locations"]
    assert sorted(marks["lat"]) == sorted(p["latitude"] for p in v.data()["places"]["points"])
    assert v.page.locator("#places tbody tr").count() == 3
    v.clean()


def test_another_organizations_pages_are_404_in_the_browser(server, browser):
    w, ids = server["world"], server["ids"]
    v = Visit(browser, server["base"], "outsider")
    for path, shot in (
        (f"/team/{w.ids['team']}", "team-as-outsider"),
        (f"/experiment/{ids['exp:tuned']}", "experiment-as-outsider"),
        (f"/org/{w.ids['org_a']}/map", "map-as-outsider"),
    ):
        assert v.open(path, shot).status == 404, path
        assert v.page.locator("h1").inner_text() == "404"
    assert v.open(f"/experiment/{ids['exp:exp']}", "own-experiment").status == 200
    v.errors = [e for e in v.errors if "404" not in e]  # the answers asked for
    v.clean()
