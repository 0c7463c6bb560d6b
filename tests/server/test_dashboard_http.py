"""The dashboard over plain HTTP: sessions, CSRF, permissions, page data, badge, live stream."""

from __future__ import annotations

import pytest

from tests.fakes.dashkit import form_csrf, seed, sign_in_as
from tests.fakes.serverkit import app, client, database_url, envelope, interval, world  # noqa: F401
from wattprint.server.pages import session


@pytest.fixture
def seeded(world):  # noqa: F811
    return seed(world)


def test_first_run_page_says_how_to_create_the_first_user(client):  # noqa: F811
    page = client.get("/")
    assert page.status_code == 200
    assert "wattprint server user add EMAIL --admin" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def _real_user(app, email="real@example.org", password="correct horse"):  # noqa: F811
    from wattprint.server import db, store

    with db.transaction(app.state.sessions) as s:
        user = store.create_user(s, email, password, False)
        org = store.create_organization(s, "Real", "", user.id)
        return org.id


def test_sign_in_sets_a_strict_httponly_cookie_and_sign_out_revokes_it(app, client):  # noqa: F811
    org_id = _real_user(app)
    form = client.get("/signin")
    csrf = form_csrf(form.text)
    refused = client.post(
        "/signin", data={"email": "real@example.org", "password": "correct horse"}
    )
    assert refused.status_code == 403  # no CSRF token: nothing happens
    wrong = client.post(
        "/signin", data={"email": "real@example.org", "password": "nope", "csrf": csrf}
    )
    assert wrong.status_code == 401 and "wrong e-mail or password" in wrong.text
    done = client.post(
        "/signin",
        data={"email": "real@example.org", "password": "correct horse", "csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    cookie = done.headers["set-cookie"]
    assert session.COOKIE in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == f"/org/{org_id}"
    token = client.cookies.get(session.COOKIE)
    out = client.post("/signout", data={"csrf": session.csrf_for(token)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(session.COOKIE, token)  # the old cookie, replayed
    again = client.get(f"/org/{org_id}", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/signin"


def test_sign_in_is_rate_limited_with_the_api(app, client):  # noqa: F811
    _real_user(app)
    app.state.login_limiter.attempts = 2
    csrf = form_csrf(client.get("/signin").text)
    for _ in range(2):
        bad = {"email": "real@example.org", "password": "x", "csrf": csrf}
        assert client.post("/signin", data=bad).status_code == 401
    blocked = client.post(
        "/signin", data={"email": "real@example.org", "password": "correct horse", "csrf": csrf}
    )
    assert blocked.status_code == 429 and "too many failed sign-ins" in blocked.text
    api = client.post(
        "/api/v1/auth/token", json={"email": "real@example.org", "password": "correct horse"}
    )
    assert api.status_code == 429  # one limit for both ways in


def test_pages_need_a_session(client, world, seeded):  # noqa: F811
    for path in (f"/org/{world.ids['org_a']}", f"/project/{world.ids['project']}/admin"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/signin", path
    assert client.get(f"/project/{world.ids['project']}").status_code == 404  # not public


def test_another_organizations_pages_answer_404(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "outsider")
    for path in (
        f"/org/{world.ids['org_a']}",
        f"/project/{world.ids['project']}",
        f"/run/{seeded['r-big']}",
        f"/project/{world.ids['project']}/admin",
        f"/org/{world.ids['org_a']}/admin",
        f"/project/{world.ids['project']}/export.csv",
        f"/run/{seeded['r-live']}/events",
        f"/badge/projects/{world.ids['project']}.svg",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/run/{seeded['r-other']}").status_code == 200  # their own


def test_a_viewer_sees_no_administration(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "viewer")
    home = client.get(f"/org/{world.ids['org_a']}")
    assert home.status_code == 200 and 'id="admin-link"' not in home.text
    project = client.get(f"/project/{world.ids['project']}")
    assert project.status_code == 200 and 'id="admin-link"' not in project.text
    assert client.get(f"/org/{world.ids['org_a']}/admin").status_code == 403
    assert client.get(f"/project/{world.ids['project']}/admin").status_code == 403
    sign_in_as(client, world, "manager")
    assert 'id="admin-link"' in client.get(f"/org/{world.ids['org_a']}").text


def test_forms_without_the_sessions_csrf_token_change_nothing(client, world, seeded):  # noqa: F811
    csrf = sign_in_as(client, world, "owner")
    project = world.ids["project"]
    before = client.get(f"/project/{project}/admin?format=json").json()["tokens"]
    for token in (None, "0" * 64, session.csrf_for(world.tokens["manager"])):
        body = {"name": "sneaky", "scopes": "ingest"} | ({"csrf": token} if token else {})
        assert client.post(f"/project/{project}/admin/tokens", data=body).status_code == 403
        revoke = f"/project/{project}/admin/tokens/{before[0]['id']}/revoke"
        assert client.post(revoke, data={"csrf": token or ""}).status_code == 403
        public = client.post(f"/project/{project}/admin/public", data={"public": "on"})
        assert public.status_code == 403
    assert client.get(f"/project/{project}/admin?format=json").json()["tokens"] == before
    assert client.post("/signout", data={"csrf": csrf[:-1] + "x"}).status_code == 403


def test_a_token_made_on_the_page_ingests_until_revoked(client, world, seeded):  # noqa: F811
    csrf = sign_in_as(client, world, "manager")
    project = world.ids["project"]
    made = client.post(
        f"/project/{project}/admin/tokens", data={"name": "ci", "scopes": "ingest", "csrf": csrf}
    )
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    import re

    token = re.search(r'id="new-token">(wpt_[^<]+)<', made.text).group(1)
    listed = client.get(f"/project/{project}/admin?format=json").json()["tokens"]
    assert token not in str(listed)  # shown once, never listed
    row = next(t for t in listed if t["name"] == "ci")
    headers = {"Authorization": f"Bearer {token}"}
    sent = client.post("/api/v1/records", json=[envelope("r-ci", 0)], headers=headers)
    assert sent.status_code == 200
    revoked = client.post(
        f"/project/{project}/admin/tokens/{row['id']}/revoke",
        data={"csrf": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    refused = client.post("/api/v1/records", json=[envelope("r-ci", 1)], headers=headers)
    assert refused.status_code == 401


def test_page_data_equals_the_apis_summary(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "viewer")
    project = world.ids["project"]
    page = client.get(f"/project/{project}?format=json").json()
    api = client.get(f"/api/v1/projects/{project}/summary", headers=world.h("viewer")).json()
    for key in ("runs", "energy_kwh", "emissions_kg", "emissions_low_kg", "emissions_high_kg"):
        assert page["totals"][key] == api[key], key
    scatter = next(c for c in page["charts"] if c["id"] == "chart-scatter")["traces"][0]
    assert sorted(zip(scatter["x"], scatter["y"], strict=True)) == [
        (3.0, 0.002),
        (60.0, 0.01),
        (3600.0, 0.5),
    ]
    assert page["totals"]["equivalents"], "the report's equivalents, with their sources"
    assert all(e["source"] for e in page["totals"]["equivalents"])
    org = client.get(f"/org/{world.ids['org_a']}?format=json&period=month").json()
    assert [r["run_id"] for r in org["in_progress"]] == ["r-live"]
    assert org["in_progress"][0]["power_w"]["gpu"] == 103.0  # its newest interval
    assert org["biggest_runs"][0]["run_id"] == "r-big"
    where = next(c for c in org["charts"] if c["id"] == "chart-locations")["traces"][0]
    assert sum(where["x"]) == pytest.approx(2.06)  # every run's energy, by location
    run = client.get(f"/run/{seeded['r-live']}?format=json").json()
    power = next(c for c in run["charts"] if c["id"] == "chart-power")["traces"]
    assert [t["name"] for t in power] == ["cpu", "gpu", "ram", "platform"]
    assert power[0]["y"] == [11.0, 12.0, 13.0] and power[3]["y"] == [None, None, None]
    assert client.get(f"/org/{world.ids['org_a']}?period=year").status_code == 400


def test_export_is_the_apis(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "viewer")
    project = world.ids["project"]
    page = client.get(f"/project/{project}/export.csv")
    api = client.get(f"/api/v1/projects/{project}/export?format=csv", headers=world.h("viewer"))
    assert page.status_code == 200 and page.text == api.text and "r-big" in page.text
    assert client.get(f"/project/{project}/export.xml").status_code == 400


def test_badge_and_public_page_only_when_the_project_is_public(client, world, seeded):  # noqa: F811
    project = world.ids["project"]
    assert client.get(f"/badge/projects/{project}.svg").status_code == 404
    csrf = sign_in_as(client, world, "manager")
    client.post(f"/project/{project}/admin/public", data={"public": "on", "csrf": csrf})
    client.cookies.clear()
    badge = client.get(f"/badge/projects/{project}.svg")
    assert badge.status_code == 200 and badge.headers["content-type"].startswith("image/svg")
    assert "CO2eq" in badge.text and ">512 g<" in badge.text  # 0.01 + 0.5 + 0.002 kg
    public = client.get(f"/project/{project}")
    assert public.status_code == 200 and 'id="admin-link"' not in public.text
    assert "export.csv" not in public.text  # exports need a session
    assert client.get(f"/project/{world.ids['project2']}").status_code == 404


def test_plotly_is_served_from_the_package_with_a_long_cache(client):  # noqa: F811
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and "max-age=31536000" in js.headers["cache-control"]
    assert len(js.content) > 1_000_000
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


def test_pages_carry_the_security_headers_and_the_api_does_not(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "viewer")
    page = client.get(f"/org/{world.ids['org_a']}")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" in client.get("/signin").headers
    # The API's JSON (and Swagger UI under /api/) goes without them.
    assert "content-security-policy" not in client.get("/api/v1/health").headers


def test_the_live_stream_sends_new_intervals_then_ends(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "viewer")
    run = seeded["r-live"]
    first = client.get(f"/run/{run}?format=json").json()["last_interval_id"]
    world.send([interval("r-live", 4, cpu_power=42.0), envelope("r-live", 1, status="completed")])
    with client.stream("GET", f"/run/{run}/events", params={"after": first}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    assert "event: intervals" in text and '"cpu": [42.0]' in text
    assert "event: ended" in text and '"completed"' in text


def test_the_project_page_totals_are_wattprint_reports_on_the_same_rows(
    client,
    world,
    seeded,
    tmp_path,  # noqa: F811
):
    """The page's totals equal `wattprint report`'s summary of the project's exported CSV."""
    from wattprint.report.summary import read_runs, summarise_group

    sign_in_as(client, world, "viewer")
    project = world.ids["project"]
    csv_file = tmp_path / "emissions.csv"
    csv_file.write_text(client.get(f"/project/{project}/export.csv").text)
    report = summarise_group("total", read_runs([csv_file]))
    page = client.get(f"/project/{project}?format=json").json()["totals"]
    assert page["runs"] == report["runs"] == 3
    assert page["energy_kwh"] == pytest.approx(report["energy"]["total"]["kwh"])
    assert page["emissions_kg"] == pytest.approx(report["emissions"]["kg"])
    assert page["emissions_low_kg"] == pytest.approx(report["emissions"]["low_kg"])
    assert page["emissions_high_kg"] == pytest.approx(report["emissions"]["high_kg"])
    assert [e["amount"] for e in page["equivalents"]] == pytest.approx(
        [e["amount"] for e in report["equivalents"]]
    )


def test_a_date_range_narrows_the_organization_page(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "viewer")
    org = world.ids["org_a"]
    every = client.get(f"/org/{org}?format=json&since=&until=").json()["totals"]["runs"]
    later = client.get(f"/org/{org}?format=json&since=2030-01-01").json()["totals"]["runs"]
    assert (every, later) == (3, 0)
    bad = client.get(f"/org/{org}?since=yesterday")
    assert bad.status_code == 400 and "use a date such as" in bad.text


def test_grouped_is_summary_by_each_grouping_at_once(app, world, seeded):  # noqa: F811
    from wattprint.server import db, summaries
    from wattprint.server.store import RunFilter

    f = RunFilter(organization_id=world.ids["org_a"])
    bys = ("day", "team", "project", "location", "intensity_source")
    with db.transaction(app.state.sessions) as s:
        together = summaries.grouped(s, f, bys)
        for by in bys:
            assert together["groupings"][by] == summaries.summary(s, f, by)["groups"], by
        assert together["emissions_kg"] == summaries.summary(s, f)["emissions_kg"]
        with pytest.raises(ValueError, match="use one of"):
            summaries.grouped(s, f, ("year",))
