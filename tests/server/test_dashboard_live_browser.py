"""The live pages in a real browser, fed by a REAL tracked subprocess: ``wattprint server`` and
``wattprint run --server-url ... -- python -c <busy loop>`` both started as a user starts them,
chromium watching the organization home and the run page update while the run's intervals
arrive (read from the pages' DOM and chart data, not pixels, and checked against what the
server stored). Then a personal token made and revoked in the browser. Screenshots go to
test-artifacts/dashboard-live/ (git-ignored)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.browserkit import CHROMIUM, chromium

if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium (apt-get install -y chromium; .ci/run does)", allow_module_level=True
    )
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
pytest.importorskip("fastapi", reason="the server extra is not installed")

import httpx  # noqa: E402

from tests.fakes.serverproc import EMAIL, PASSWORD, ServerProcess  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard-live"
MAX_WORK_S = 240  # the tracked command works until the test says stop (a file), or this
INTERVAL_S = "0.05"  # the tracker's floor: many intervals, sent together every few seconds
BUSY = (
    "import os, sys, time\nend = time.time() + float(sys.argv[2])\nx = 0\n"
    "while time.time() < end and not os.path.exists(sys.argv[1]):\n    x += 1\n"
)
LIVE_ROWS = (
    "Array.from(document.querySelectorAll('#live-runs tbody tr[data-run-id]'), "
    "r => ({id: Number(r.dataset.runId), power: r.dataset.powerW, "
    "cells: Array.from(r.cells, c => c.textContent.trim())}))"
)
POWER_X = "Array.from(document.getElementById('chart-power').data[0].x || [])"
POWER_Y = "Array.from(document.getElementById('chart-power').data, t => Array.from(t.y || []))"


def wait(condition: Any, timeout: float, what: str, page: Any = None) -> Any:
    """Poll ``condition`` (from here: the CSP forbids wait_for_function's string eval)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path / "server")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser():
    yield from chromium(ARTIFACTS)


class Tab:
    """A signed-in page, with its console errors and every request's host recorded."""

    def __init__(self, context: Any, base: str) -> None:
        self.page = context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "request", lambda r: self.hosts.add(re.sub(r"^\w+://([^/:]+).*", r"\1", r.url))
        )

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.hosts <= {"127.0.0.1"}, self.hosts


def _track(server: ServerProcess, folder: Path, stop: Path) -> subprocess.Popen[str]:
    folder.mkdir()
    command = [sys.executable, "-m", "wattprint", "run", "--server-url", server.url,
               "--server-token", server.made["token"], "--interval", INTERVAL_S,
               "--country", "FRA", "--output-dir", str(folder), "--",
               sys.executable, "-c", BUSY, str(stop), str(MAX_WORK_S)]  # fmt: skip
    return subprocess.Popen(
        command,
        env=server.env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stored_intervals(server: ServerProcess, run_id: int) -> list[dict[str, Any]]:
    return server.get(f"/api/v1/runs/{run_id}/intervals", limit=500)["items"]


def _total(interval: dict[str, Any]) -> float | None:
    known = [
        interval[c]
        for c in ("cpu_power", "gpu_power", "ram_power", "platform_power_w")
        if interval[c] is not None
    ]
    return sum(known) if known else None


def sign_in(tab: Tab) -> None:
    tab.page.goto(tab.base + "/signin")
    tab.page.fill("#email", EMAIL)
    tab.page.fill("#password", PASSWORD)
    tab.page.keyboard.press("Enter")  # the keyboard alone signs in
    try:
        tab.page.wait_for_url(re.compile(r"/org/\d+$"), timeout=90_000)  # Argon2, a busy machine
    except Exception:
        tab.shot("sign-in-failed")
        raise


def test_the_organization_home_and_run_page_follow_a_real_tracked_run(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    home = Tab(context, server.url)
    sign_in(home)
    assert home.page.evaluate(LIVE_ROWS) == []  # nothing runs yet
    stop = tmp_path / "stop"
    tracked = _track(server, tmp_path / "run", stop)
    try:
        # The run appears on the home page (no reload) with its current power...
        rows = wait(
            lambda: home.page.evaluate(LIVE_ROWS), 60, "the run on the home page", home.page
        )
        (row,) = rows
        run_id = row["id"]
        updates = int(home.page.get_attribute("#live-runs", "data-updates"))
        home.shot("organization-live")
        # ... and it changes as the next intervals arrive.
        wait(
            lambda: int(home.page.get_attribute("#live-runs", "data-updates")) > updates,
            60,
            "a second update of the home page",
            home.page,
        )
        (later,) = home.page.evaluate(LIVE_ROWS)
        assert later["id"] == run_id and later["cells"][2:5] != row["cells"][2:5]  # newer figures
        assert later["cells"][1] == "last heard less than a minute ago"  # live, not stale
        home.shot("organization-live-updated")
        stored = _stored_intervals(server, run_id)
        shown = [r for r in (row, later) if r["id"] == run_id and r["power"]]
        assert shown, "the home page showed no power for the run"
        totals = [_total(i) for i in stored]
        for r in shown:  # each power shown is one the run sent (the latest, when shown)
            assert any(t is not None and abs(float(r["power"]) - t) < 1e-9 for t in totals), (
                r,
                totals[-5:],
            )
        # The run page: its power chart grows without reload while intervals arrive.
        run = Tab(context, server.url)
        run.page.goto(f"{server.url}/run/{run_id}")
        run.page.wait_for_selector("#chart-power .main-svg")
        assert run.page.locator("#live").inner_text() == "live"
        before = len(run.page.evaluate(POWER_X))
        grown = wait(
            lambda: (n := len(run.page.evaluate(POWER_X))) > before and n,
            60,
            "the run page's power chart to grow",
            run.page,
        )
        run.shot("run-live")
        drawn = run.page.evaluate(POWER_Y)[0]  # cpu
        stored = _stored_intervals(server, run_id)
        assert drawn == [i["cpu_power"] for i in stored][: len(drawn)]
        assert grown > before and len(drawn) == grown
        stop.touch()  # the tracked command ends; wattprint sends the run's last row
        assert tracked.wait(timeout=120) == 0, tracked.stdout.read()
        # The end: the run page says so, the home page no longer lists it.
        wait(
            lambda: run.page.locator("#run-status").inner_text() == "finished",
            30,
            "the run page to say finished",
            run.page,
        )
        run.shot("run-finished")
        wait(lambda: home.page.evaluate(LIVE_ROWS) == [], 30, "the home page to empty", home.page)
        home.shot("organization-after-the-run")
        final = server.get(f"/api/v1/runs/{run_id}")
        assert final["status"] == "finished" and final["emissions_count"] >= 1
        assert len(_stored_intervals(server, run_id)) >= len(drawn)
    finally:
        if tracked.poll() is None:
            tracked.kill()
            tracked.wait()
    home.clean()
    run.clean()


def test_a_personal_token_made_in_the_browser_works_until_revoked_there(server, browser):
    tab = Tab(browser.new_context(), server.url)
    sign_in(tab)
    tab.page.click("#tokens-link")
    tab.page.fill("#token-name", "from-the-browser")
    tab.page.click("#create-token")
    token = tab.page.locator("#new-token").inner_text()
    tab.shot("personal-token-created")
    me = f"{server.url}/api/v1/users/me"
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(me, headers=headers).json()["email"] == EMAIL
    tab.page.goto(server.url + "/account/tokens")
    listed = tab.page.evaluate(
        "Array.from(document.querySelectorAll('#personal-tokens tbody "
        "tr'), r => Array.from(r.cells, c => c.textContent.trim()))"
    )
    assert token not in str(listed)  # shown once
    used = next(r for r in listed if r[0] == "from-the-browser")
    assert re.match(r"\d{4}-\d\d-\d\dT", used[3]), used  # its last use, just now
    tab.page.get_by_role("button", name="Revoke from-the-browser").click()
    tab.page.wait_for_load_state("networkidle")
    tab.shot("personal-token-revoked")
    assert httpx.get(me, headers=headers).status_code == 401
    tab.clean()


def test_teams_are_administered_in_the_browser(server, browser):
    """Create a team, add a member, move the project into it, then delete it (the name typed):
    the browser's forms, checked through the API."""
    server.wattprint(
        "server",
        "user",
        "add",
        "ada@example.org",
        "--password-stdin",
        stdin="another long password\n",
    )
    org = server.made["organization_id"]
    added = httpx.post(
        f"{server.url}/api/v1/organizations/{org}/members",
        headers=server.headers,
        json={"email": "ada@example.org", "role": "viewer"},
    )
    assert added.status_code == 201, added.text
    tab = Tab(browser.new_context(), server.url)
    sign_in(tab)
    tab.page.click("#admin-link")
    tab.page.click("#teams-link")
    tab.page.fill("#team-name", "vision")
    tab.page.click("#create-team")
    tab.page.wait_for_load_state("load")
    teams = {t["name"]: t["id"] for t in server.get("/api/v1/teams", organization_id=org)["items"]}
    assert set(teams) == {"core", "vision"}
    vision = teams["vision"]
    tab.page.select_option(f"#add-member-{vision}", label="ada@example.org (viewer)")
    tab.page.get_by_role("button", name="Add to vision").click()
    tab.page.wait_for_load_state("load")
    members = server.get(f"/api/v1/teams/{vision}/members")
    assert [m["email"] for m in members] == ["ada@example.org"]
    project = server.made["project_id"]
    tab.page.select_option(f"#team-of-{project}", label="vision")
    tab.page.get_by_role("button", name="Move bert").click()
    tab.page.wait_for_load_state("load")
    assert server.get(f"/api/v1/projects/{project}")["team_id"] == vision
    tab.shot("teams-admin")
    tab.page.locator(f"#team-{vision} summary").click()
    tab.page.fill(f"#confirm-{vision}", "not the name")
    tab.page.get_by_role("button", name="Delete vision and its projects").click()
    tab.page.wait_for_load_state("load")
    assert "nothing was deleted" in tab.page.content()
    assert server.get(f"/api/v1/projects/{project}")["team_id"] == vision
    tab.page.go_back()
    tab.page.locator(f"#team-{vision} summary").click()
    tab.page.fill(f"#confirm-{vision}", "vision")
    tab.page.get_by_role("button", name="Delete vision and its projects").click()
    tab.page.wait_for_load_state("load")
    tab.shot("teams-admin-after-delete")
    gone = httpx.get(f"{server.url}/api/v1/projects/{project}", headers=server.headers)
    assert gone.status_code == 404  # the project went with its team, as the page warned
    tab.errors = [e for e in tab.errors if "400" not in e]  # the refusal asked for
    tab.clean()
