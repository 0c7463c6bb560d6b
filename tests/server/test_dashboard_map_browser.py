"""The map in a real browser: US states, Canadian provinces and Australian states drawn over the
countries from the package's own shapes, a run in a US state and one in a province marked
there, on the map page and embedded in the organization's home; nothing requested beyond
127.0.0.1, no console error. Screenshots go to test-artifacts/dashboard-map/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes.browserkit import chromium, served
from tests.server.test_dashboard_browser import PASSWORD, Watched

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")

from tests.fakes.serverkit import World, envelope  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard-map"


def _somewhere(run_id: str, zone: str, country: str) -> dict[str, Any]:
    """A finished run whose only place is its grid zone (no coordinates, not on a cloud)."""
    return envelope(
        run_id, 0, status="finished", intensity_zone=zone, country_iso_code=country,
        on_cloud="N", latitude=None, longitude=None, cloud_provider="", cloud_region="",
        energy_consumed=1.5, emissions=0.3,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fastapi.testclient import TestClient

    from wattprint.server import db, security, store
    from wattprint.server.app import create_app
    from wattprint.server.settings import load_settings

    url = f"sqlite:///{tmp_path_factory.mktemp('map') / 'server.sqlite3'}"
    app = create_app(load_settings({}, database_url=url), migrate_schema=True)
    with TestClient(app) as client:
        world = World.make(app, client)
        sent = world.send(
            [
                _somewhere("r-texas", "US-STATE-TX", "USA"),
                _somewhere("r-fr", "FR", "FRA"),
                _somewhere("r-quebec", "CA-QC", "CAN"),
            ]
        )
        assert sent.status_code == 200, sent.text
    with db.transaction(app.state.sessions) as s:
        user = store.get(s, store.User, world.ids["user_viewer"])
        user.password_hash = security.hash_password(PASSWORD)
    with served(app) as base:
        yield {"base": base, "world": world}


@pytest.fixture(scope="module")
def browser():
    yield from chromium(ARTIFACTS)


DRAWN = """Array.from(document.getElementById('chart-map').data, t => ({
  meta: t.meta, locations: Array.from(t.locations || []), z: Array.from(t.z || []),
  lat: Array.from(t.lat || []), lon: Array.from(t.lon || []),
  shapes: t.geojson && typeof t.geojson === 'object' ? t.geojson.features.length : t.geojson
}))"""


def _check_map(v: Watched) -> None:
    from wattprint.carbon import tables
    from wattprint.report import geo

    v.page.wait_for_selector("#chart-map .main-svg")
    traces = {t["meta"]: t for t in v.page.evaluate(DRAWN)}
    states = traces["subnational"]
    z = dict(zip(states["locations"], states["z"], strict=True))
    assert z["US-STATE-TX"] == tables.zone("US-STATE-TX").intensity_g_per_kwh
    assert z["US-STATE-CA"] == tables.zone("US-STATE-CA").intensity_g_per_kwh
    for key in ("CA-QC", "CA-AB", "AU-NSW", "AU-TAS"):  # Electricity Maps' yearly figures
        assert z[key] == tables.zone(key).intensity_g_per_kwh, key
    shapes = len(geo.subnational_geojson()["features"])
    assert shapes == 51 + 13 + 7  # US states, Canadian provinces, Australian states
    assert states["shapes"] == shapes  # the shapes were put in place of their name, not fetched
    countries = dict(zip(traces["intensity"]["locations"], traces["intensity"]["z"], strict=True))
    assert countries["FRA"] == tables.zone_for_country("FRA").intensity_g_per_kwh
    marks = set(zip(traces["runs"]["lat"], traces["runs"]["lon"], strict=True))
    assert geo.shape_centres()["US-STATE-TX"] in marks  # the Texas run, marked in Texas
    quebec = tables.zone("CA-QC")
    assert (quebec.latitude, quebec.longitude) in marks  # the Québec run, at its zone's centre
    drawn = v.page.evaluate("document.querySelectorAll('#chart-map .choroplethlocation').length")
    assert drawn >= len(countries) + shapes
    note = v.page.inner_text("#map-note")
    assert "Drawn below country level: US states" in note
    assert "Canadian provinces and territories and Australian states" in note


def test_the_map_page_draws_us_states_and_marks_a_run_there(server, browser):
    v = Watched(browser, server["base"])
    v.sign_in("viewer@example.org")
    v.open(f"/org/{server['world'].ids['org_a']}/map", "map")
    _check_map(v)
    v.page.screenshot(path=str(ARTIFACTS / "map.png"), full_page=True)
    v.clean()


def test_the_organization_home_embeds_the_map(server, browser):
    v = Watched(browser, server["base"])
    v.sign_in("viewer@example.org")
    assert v.page.url.endswith(f"/org/{server['world'].ids['org_a']}")
    v.page.wait_for_selector("#chart-map[data-drawn='true']")
    _check_map(v)
    assert "3 runs" in v.page.inner_text("#chart-map-state")
    v.page.screenshot(path=str(ARTIFACTS / "organization.png"), full_page=True)
    v.clean()
