"""The dashboard in a real browser: Playwright driving Debian's chromium against a server on
127.0.0.1. Screenshots of every page go to test-artifacts/dashboard/ (git-ignored)."""

from __future__ import annotations

import re
import time
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

from tests.fakes.dashkit import seed  # noqa: E402
from tests.fakes.serverkit import World, envelope, interval  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server (uvicorn in a thread) on SQLite, seeded, with users who have passwords."""
    from fastapi.testclient import TestClient

    from wattprint.server import db, store
    from wattprint.server.app import create_app
    from wattprint.server.settings import load_settings

    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'server.sqlite3'}"
    app = create_app(load_settings({}, database_url=url), migrate_schema=True)
    with TestClient(app) as client:
        world = World.make(app, client)
        runs = seed(world)
    with db.transaction(app.state.sessions) as s:
        for who in ("owner", "viewer", "manager"):
            store.get(s, store.User, world.ids[f"user_{who}"]).password_hash = __import__(
                "wattprint.server.security", fromlist=["x"]
            ).hash_password(PASSWORD)
    with served(app) as base:
        yield {"base": base, "world": world, "runs": runs, "app": app}


@pytest.fixture(scope="module")
def browser():
    yield from chromium(ARTIFACTS)


class Watched:
    """A page with its console errors and every request's host recorded."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] | None = None) -> None:
        self.context = browser.new_context(viewport=viewport or {"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "request", lambda r: self.hosts.add(re.sub(r"^\w+://([^/:]+).*", r"\1", r.url))
        )

    def open(self, path: str, shot: str) -> Any:
        answer = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle") if "/run/" not in path else None
        self.page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
        return answer

    def data(self) -> dict[str, Any]:
        return self.page.evaluate("JSON.parse(document.getElementById('page-data').textContent)")

    def chart(self, chart_id: str) -> list[dict[str, Any]]:
        """The traces plotly drew (its div's data), not the page data."""
        return self.page.evaluate(
            f"Array.from(document.getElementById('{chart_id}').data, "
            "t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))"
        )

    def sign_in(self, email: str) -> None:
        self.page.goto(self.base + "/signin")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.keyboard.press("Enter")  # the keyboard alone signs in
        self.page.wait_for_load_state("networkidle")

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.hosts <= {"127.0.0.1"}, self.hosts


def test_every_page_with_its_charts_numbers(server, browser):
    w, runs = server["world"], server["runs"]
    ids = w.ids
    v = Watched(browser, server["base"])
    v.open("/signin", "signin")
    v.sign_in("owner@example.org")
    assert v.page.url.endswith(f"/org/{ids['org_a']}")
    v.page.screenshot(path=str(ARTIFACTS / "organization.png"), full_page=True)
    org = v.data()
    drawn = v.chart("chart-projects")[0]
    assert drawn["y"] == ["bert"] and drawn["x"] == [pytest.approx(0.512)]
    assert org["totals"]["emissions_kg"] == pytest.approx(0.512)
    assert [r["run_id"] for r in org["in_progress"]] == ["r-live"]
    v.open(f"/org/{ids['org_a']}?period=week", "organization-week")
    v.open(f"/project/{ids['project']}", "project")
    scatter = v.chart("chart-scatter")[0]
    points = sorted(zip(scatter["x"], scatter["y"], strict=True))
    assert points == [(3.0, 0.002), (60.0, 0.01), (3600.0, 0.5)]
    components = v.data()["totals"]["by_component"]
    assert v.chart("chart-components")[0]["y"] == [
        components[p]["kwh"] for p in ("cpu", "gpu", "ram", "platform")
    ]
    v.open(f"/run/{runs['r-big']}", "run")
    v.page.wait_for_selector("#chart-power .main-svg")
    assert "intensity source" in v.page.content()
    v.open(f"/org/{ids['org_a']}/admin", "organization-admin")
    v.open(f"/project/{ids['project']}/admin", "project-admin")
    phone = Watched(browser, server["base"], {"width": 390, "height": 844})
    phone.sign_in("owner@example.org")
    phone.open(f"/project/{ids['project']}", "project-phone")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    v.clean()
    phone.clean()


def test_a_viewer_sees_no_administration_and_other_organizations_are_404(server, browser):
    ids = server["world"].ids
    v = Watched(browser, server["base"])
    v.sign_in("viewer@example.org")
    assert v.page.locator("#admin-link").count() == 0
    v.open(f"/project/{ids['project']}", "project-as-viewer")
    assert v.page.locator("#admin-link").count() == 0
    assert v.open(f"/org/{ids['org_a']}/admin", "admin-as-viewer").status == 403
    assert v.open(f"/org/{ids['org_b']}", "other-organization").status == 404
    assert v.open(f"/project/{ids['project_b']}", "other-project").status == 404
    assert v.page.locator("h1").inner_text() == "404"
    v.errors = [e for e in v.errors if "403" not in e and "404" not in e]  # the answers asked for
    v.clean()


def test_create_and_revoke_a_token_then_ingest_is_refused(server, browser):
    import httpx

    ids = server["world"].ids
    v = Watched(browser, server["base"])
    v.sign_in("manager@example.org")
    v.open(f"/project/{ids['project']}/admin", "tokens")
    v.page.fill("#token-name", "from-the-browser")
    v.page.click("#create-token")
    token = v.page.locator("#new-token").inner_text()
    v.page.screenshot(path=str(ARTIFACTS / "token-created.png"), full_page=True)
    headers = {"Authorization": f"Bearer {token}"}
    url = server["base"] + "/api/v1/records"
    assert httpx.post(url, json=[envelope("r-browser", 0)], headers=headers).status_code == 200
    v.open(f"/project/{ids['project']}/admin", "tokens-before-revoke")
    v.page.get_by_role("button", name="Revoke from-the-browser").click()
    v.page.wait_for_load_state("networkidle")
    assert httpx.post(url, json=[envelope("r-browser", 1)], headers=headers).status_code == 401
    v.clean()


def test_a_live_run_page_updates_while_intervals_arrive(server, browser):
    import httpx

    w, runs = server["world"], server["runs"]
    v = Watched(browser, server["base"])
    v.sign_in("viewer@example.org")
    v.open(f"/run/{runs['r-live']}", "run-live")
    v.page.wait_for_selector("#chart-power .main-svg")
    before = len(v.chart("chart-power")[0]["x"])
    headers = {"Authorization": f"Bearer {w.tokens['token_ingest']}"}
    for seq in (10, 11):
        sent = httpx.post(
            server["base"] + "/api/v1/records",
            headers=headers,
            json=[interval("r-live", seq, cpu_power=70.0 + seq)],
        )
        assert sent.status_code == 200
    # Polled from here: wait_for_function evaluates a string, which the page's CSP forbids.
    deadline = time.monotonic() + 15
    while len(v.chart("chart-power")[0]["x"]) < before + 2 and time.monotonic() < deadline:
        v.page.wait_for_timeout(200)
    assert v.chart("chart-power")[0]["y"][-2:] == [80.0, 81.0]
    v.page.screenshot(path=str(ARTIFACTS / "run-live-updated.png"), full_page=True)
    v.clean()


def test_the_home_page_marks_a_run_not_heard_from_for_long(server, browser):
    from datetime import timedelta

    from wattprint.server import db
    from wattprint.server.models import Run, utcnow

    runs, sessions = server["runs"], server["app"].state.sessions
    with db.transaction(sessions) as s:  # as if r-live's process had died 30 minutes ago
        run = s.get(Run, runs["r-live"])
        was, run.last_seen = run.last_seen, utcnow() - timedelta(minutes=30)
    try:
        v = Watched(browser, server["base"])
        v.sign_in("viewer@example.org")
        table = "#live-runs"
        deadline = time.monotonic() + 15  # live.js redraws the list from the stream
        while v.page.get_attribute(table, "data-updates") == "0" and time.monotonic() < deadline:
            v.page.wait_for_timeout(200)
        assert v.page.get_attribute(table, "data-updates") != "0"
        row = v.page.locator(f'{table} tr[data-run-id="{runs["r-live"]}"]')
        cells = row.evaluate("r => Array.from(r.cells, c => c.textContent.trim())")
        assert row.get_attribute("class") == "stale" and row.get_attribute("data-stale") == "true"
        assert cells[1].startswith("not heard from since ") and cells[1].endswith("(30 min ago)")
        assert cells[5:] == ["unknown", "unknown"]  # no power "now" for a silent run
        assert "1 not heard from lately" in v.page.inner_text("#live-state")
        v.page.screenshot(path=str(ARTIFACTS / "organization-stale-run.png"), full_page=True)
        v.clean()
    finally:
        with db.transaction(sessions) as s:
            s.get(Run, runs["r-live"]).last_seen = was
