"""The team, experiment, map and run pages over HTTP: their charts hold the summaries' and the
report's numbers (read from the page data), exports are the API's, another organization's pages
answer 404."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.fakes.dashkit import sign_in_as
from tests.fakes.pageskit import RUNS, TASKS, seed
from tests.fakes.serverkit import app, client, database_url, envelope, world  # noqa: F401


@pytest.fixture
def ids(world):  # noqa: F811
    return seed(world)


def _chart(page, chart_id):
    found = [c for c in page["charts"] if c["id"] == chart_id]
    assert found, f"no {chart_id} in {[c['id'] for c in page['charts']]}"
    return found[0]


def test_project_page_compares_its_experiments_with_bounds(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "viewer")
    page = client.get(f"/project/{world.ids['project']}?format=json").json()
    rows = {e["label"]: e for e in page["experiments"]}
    assert sorted(rows) == ["baseline", "tuned"]  # "default" has no runs: not compared
    for name, run_ids in (("baseline", ["r-fr"]), ("tuned", ["r-aws", "r-gb"])):
        api = client.get(
            f"/api/v1/experiments/{ids['exp:' + name]}/summary", headers=world.h("viewer")
        ).json()
        for key in ("runs", "energy_kwh", "emissions_kg", "emissions_low_kg", "emissions_high_kg"):
            assert rows[name][key] == api[key], (name, key)
        assert rows[name]["emissions_kg"] == pytest.approx(
            sum(RUNS[r]["emissions"] for r in run_ids)
        )
    bars = _chart(page, "chart-experiments")["traces"][0]
    assert bars["x"] == ["baseline", "tuned"]
    assert bars["y"] == pytest.approx([0.05, 0.9])
    assert bars["error_y"]["array"] == pytest.approx([0.01, 0.12])  # high - value
    assert bars["error_y"]["arrayminus"] == pytest.approx([0.01, 0.12])
    html = client.get(f"/project/{world.ids['project']}").text
    assert f'href="/experiment/{ids["exp:tuned"]}"' in html


def test_scatter_colours_runs_by_status_or_location(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "viewer")
    page = client.get(f"/project/{world.ids['project']}?format=json").json()
    scatter = _chart(page, "chart-scatter")
    trace = scatter["traces"][0]
    points = sorted(zip(trace["x"], trace["y"], strict=True))
    assert points == sorted((RUNS[r]["duration"], RUNS[r]["emissions"]) for r in RUNS)
    by_status = scatter["colour_by"]["status"]
    assert trace["marker"]["color"] == by_status["colours"]  # drawn by status first
    assert {i["name"]: i["runs"] for i in by_status["legend"]} == {"completed": 2, "failed": 1}
    by_place = scatter["colour_by"]["location"]
    assert len(by_place["legend"]) == 3 and len(set(by_place["colours"])) == 3
    failed = trace["x"].index(3600.0)
    assert "failed" in trace["text"][failed] and "us-east-1" in trace["text"][failed]
    assert by_status["colours"][failed] != by_status["colours"][trace["x"].index(600.0)]


def test_breakdowns_by_location_intensity_and_component(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "viewer")
    project = world.ids["project"]
    page = client.get(f"/project/{project}?format=json").json()
    api = client.get(
        f"/api/v1/projects/{project}/summary?by=location", headers=world.h("viewer")
    ).json()
    where = _chart(page, "chart-locations")["traces"]
    assert where[0]["y"] == [g["group"] for g in api["groups"]]
    assert where[0]["x"] == [g["energy_kwh"] for g in api["groups"]]
    assert sum(where[1]["x"]) == pytest.approx(0.95)
    intensity = _chart(page, "chart-intensity")["traces"][0]
    means = dict(zip(intensity["y"], intensity["x"], strict=True))
    assert means["ember"] == pytest.approx(50.0)  # 0.05 kg / 1.0 kWh
    assert means["electricitymaps"] == pytest.approx(900 / 2.77)  # (0.8 + 0.1) kg / 2.77 kWh
    parts = _chart(page, "chart-components")["traces"][0]
    assert parts["y"] == [page["totals"]["by_component"][p]["kwh"] for p in parts["x"]]
    over_time = _chart(page, "chart-over-time")["traces"][0]
    assert over_time["x"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert over_time["y"] == pytest.approx([0.05, 0.8, 0.1])


def test_team_page_counts_its_projects_runs_only(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "viewer")
    team = world.ids["team"]
    page = client.get(f"/team/{team}?format=json").json()
    api = client.get(f"/api/v1/teams/{team}/summary", headers=world.h("viewer")).json()
    assert page["totals"]["runs"] == api["runs"] == 3  # not r-gpt: project gpt has no team
    assert page["totals"]["emissions_kg"] == api["emissions_kg"]
    assert [p["name"] for p in page["projects"]] == ["bert"]
    labels = [e["label"] for e in page["experiments"]]
    assert labels == ["bert / baseline", "bert / tuned"]
    assert sorted(r["run_id"] for r in page["runs"]) == ["r-aws", "r-fr", "r-gb"]
    html = client.get(f"/team/{team}").text
    assert "Experiments compared" in html and f"/team/{team}/export.csv" in html
    org = client.get(f"/org/{world.ids['org_a']}").text
    assert f'href="/team/{team}"' in org and f'href="/org/{world.ids["org_a"]}/map"' in org


def test_experiment_page(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "viewer")
    page = client.get(f"/experiment/{ids['exp:tuned']}?format=json").json()
    assert page["experiment"]["name"] == "tuned" and page["totals"]["runs"] == 2
    assert page["totals"]["emissions_low_kg"] == pytest.approx(0.78)
    scatter = _chart(page, "chart-scatter")["traces"][0]
    assert sorted(scatter["x"]) == [1800.0, 3600.0]
    assert client.get(f"/experiment/{ids['exp:tuned']}").status_code == 200


def test_exports_are_the_apis_in_the_pages_range(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "viewer")
    h = world.h("viewer")
    team, experiment, run = world.ids["team"], ids["exp:tuned"], ids["run:r-gb"]
    pairs = ((f"/team/{team}/export.csv", f"/api/v1/teams/{team}/export?format=csv"),
             (f"/experiment/{experiment}/export.json",
              f"/api/v1/experiments/{experiment}/export?format=json"),
             (f"/run/{run}/export.csv", f"/api/v1/runs/{run}/export?format=csv"))  # fmt: skip
    for page_url, api_url in pairs:
        page, api = client.get(page_url), client.get(api_url, headers=h)
        assert page.status_code == 200 and page.text == api.text, page_url
    assert "r-gb" in client.get(f"/run/{run}/export.csv").text
    ranged = client.get(f"/team/{team}?format=json&since=2026-03-02").json()
    assert ranged["exports"]["csv"] == f"/team/{team}/export.csv?since=2026-03-02"
    assert ranged["totals"]["runs"] == 2
    rows = client.get(ranged["exports"]["json"]).json()
    assert sorted({r["run_id"] for r in rows}) == ["r-aws", "r-gb"]  # what the page shows
    assert client.get(f"/team/{team}/export.xml").status_code == 400


def test_run_page_lists_its_tasks(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "viewer")
    page = client.get(f"/run/{ids['run:r-gb']}?format=json").json()
    tasks = {t["name"]: t for t in page["tasks"]}
    assert sorted(tasks) == ["eval", "train"]
    for name, figures in TASKS.items():
        assert tasks[name]["duration_s"] == figures["duration"]
        assert tasks[name]["emissions_kg"] == figures["emissions"]
        assert tasks[name]["emissions_low_kg"] == figures["emissions_low_kg"]  # None: unknown
    assert page["totals"]["emissions_kg"] == RUNS["r-gb"]["emissions"]  # tasks not added in
    html = client.get(f"/run/{ids['run:r-gb']}").text
    assert 'id="tasks"' in html and "train" in html
    assert f'<a href="/experiment/{ids["exp:tuned"]}" id="experiment-link">tuned</a>' in html


def test_run_page_what_ifs_are_the_reports(client, world, ids):  # noqa: F811
    from wattprint.carbon.location import Location
    from wattprint.report.whatif import region_options, time_option

    sign_in_as(client, world, "viewer")
    gb = client.get(f"/run/{ids['run:r-gb']}?format=json").json()
    grid = gb["elsewhere"][0]
    assert grid["kind"] == "grid" and grid["energy_kwh"] == 0.5
    for option in grid["options"]:
        assert option["kg"] == pytest.approx(0.5 * option["intensity_g_per_kwh"] / 1000)
    bars = _chart(gb, "chart-elsewhere-0")["traces"][0]
    assert "as run (from the files)" in bars["y"][0]
    hours = gb["at_another_hour"]
    assert hours["zone"] == "GB" and hours["started"] == "2026-03-03 09:00"
    start = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)
    best = time_option(Location(zone="GB"), 0.5, 0.5, start)
    assert hours["best_start"] == best.start.strftime("%Y-%m-%d %H:%M")
    assert hours["saving_kg"] == pytest.approx(best.saving_kg)
    drawn = _chart(gb, "chart-hours")["traces"][0]
    assert len(drawn["x"]) == 24 and drawn["x"][0] == hours["started"]
    assert min(drawn["y"]) == pytest.approx(0.5 * best.intensity / 1000)
    assert drawn["y"][0] == pytest.approx(0.5 * best.intensity_at_once / 1000)
    aws = client.get(f"/run/{ids['run:r-aws']}?format=json").json()
    cloud = aws["elsewhere"][0]
    assert cloud["kind"] == "cloud" and cloud["provider"] == "aws"
    assert cloud["own_regions"] == ["us-east-1"]
    assert cloud["it_energy_kwh"] == pytest.approx(2.0)
    cheapest = region_options("aws", 2.0)[0]
    assert cloud["options"][0]["region"] == cheapest.region
    assert cloud["options"][0]["kg"] == pytest.approx(cheapest.emissions_kg)
    assert any(o["own"] for o in cloud["options"])
    fr = client.get(f"/run/{ids['run:r-fr']}?format=json").json()
    assert fr["at_another_hour"] is None  # FR has no hourly profile in the tables


def test_run_page_energy_mix_and_footprint(client, world, ids):  # noqa: F811
    from wattprint.report.mix import zone_mix

    sign_in_as(client, world, "viewer")
    page = client.get(f"/run/{ids['run:r-gb']}?format=json").json()
    gb = zone_mix("GB")
    assert page["mix"]["renewable_pct"] == gb.renewable_pct
    assert page["mix"]["carbon_free_pct"] == gb.carbon_free_pct
    mix = _chart(page, "chart-mix")["traces"]
    assert [t["x"] for t in mix] == [[gb.renewable_pct], [gb.carbon_free_pct]]
    f = page["footprint"]
    assert f["embodied"]["kg"] == 0.02 and f["embodied"]["methods"] == ["boavizta"]
    assert f["sci"]["functional_unit"] == "images"
    assert f["sci"]["g_per_unit"] == pytest.approx((0.1 + 0.02) * 1000 / 100)
    assert f["sci"]["low_g_per_unit"] == pytest.approx((0.08 + 0.01) * 1000 / 100)
    html = client.get(f"/run/{ids['run:r-gb']}").text
    assert 'id="sci"' in html and "g CO2eq per images" in html
    plain = client.get(f"/run/{ids['run:r-fr']}?format=json").json()["footprint"]
    assert plain["embodied"]["kg"] is None and plain["sci"]["g_per_unit"] is None


def test_map_marks_the_organizations_energy_by_place(client, world, ids):  # noqa: F811
    from wattprint.report.geo import country_intensities

    sign_in_as(client, world, "viewer")
    page = client.get(f"/org/{world.ids['org_a']}/map?format=json").json()
    assert page["map"] is True and page["runs"] == 4  # bert's three and gpt's one
    choropleth, states, marks = _chart(page, "chart-map")["traces"]
    assert states["meta"] == "subnational" and "US-STATE-CA" in states["locations"]
    countries = country_intensities()
    assert choropleth["locations"] == [c["iso3"] for c in countries]
    assert choropleth["z"] == [c["g_per_kwh"] for c in countries]
    energy = {p["what"]: p["energy_kwh"] for p in page["places"]["points"]}
    assert energy["aws us-east-1"] == pytest.approx(2.27)
    assert energy["centre of zone FR"] == pytest.approx(2.0)  # r-fr and r-gpt
    assert len(marks["lat"]) == len(page["places"]["points"]) == 3
    html = client.get(f"/org/{world.ids['org_a']}/map").text
    assert '<script src="/static/world_110m.js"></script>' in html
    js = client.get("/static/world_110m.js")
    assert js.status_code == 200 and "max-age=31536000" in js.headers["cache-control"]
    assert js.text.startswith("window.PlotlyGeoAssets") and '"world_110m"' in js.text
    assert '<script src="/static/subnational.js"></script>' in html
    shapes = client.get("/static/subnational.js")
    assert shapes.status_code == 200 and "max-age=31536000" in shapes.headers["cache-control"]
    assert f'window.WattprintGeo["{states["geojson"]}"]=' in shapes.text
    assert '"id":"US-STATE-TX"' in shapes.text


def test_project_page_shows_footprint_totals_where_the_summary_has_them(client, world, ids):  # noqa: F811
    """The organization/project summaries gain embodied/SCI/LLM totals (issue 11): the page
    shows them when present and says nothing false when they are not."""
    from wattprint.server.pages.collection import footprint_of

    assert footprint_of({"runs": 1}) is None
    block = {"embodied": {"kg": 1.0}, "llm": {"calls": 0}, "sci": {"g_per_unit": None}}
    assert footprint_of({"footprint": block}) == block
    assert footprint_of(dict(block, runs=1)) == block
    sign_in_as(client, world, "viewer")
    page = client.get(f"/project/{world.ids['project']}?format=json").json()
    assert page["footprint"] == footprint_of(page["totals"])


def test_another_organizations_new_pages_answer_404(client, world, ids):  # noqa: F811
    sign_in_as(client, world, "outsider")
    for path in (
        f"/team/{world.ids['team']}",
        f"/experiment/{ids['exp:tuned']}",
        f"/org/{world.ids['org_a']}/map",
        f"/team/{world.ids['team']}/export.csv",
        f"/experiment/{ids['exp:tuned']}/export.json",
        f"/run/{ids['run:r-gb']}/export.csv",
        "/team/999999",
        "/experiment/999999",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/experiment/{ids['exp:exp']}").status_code == 200  # their own
    client.cookies.clear()
    assert client.get(f"/team/{world.ids['team']}", follow_redirects=False).status_code == 303
    assert client.get(f"/experiment/{ids['exp:tuned']}").status_code == 404  # not public


def test_a_run_with_intervals_only_has_a_page_without_what_ifs(client, world, ids):  # noqa: F811
    from tests.fakes.serverkit import interval

    assert world.send([interval("r-bare", 1), interval("r-bare", 2)]).status_code == 200
    sign_in_as(client, world, "viewer")
    runs = client.get(
        "/api/v1/runs", params={"project_id": world.ids["project"]}, headers=world.h("viewer")
    ).json()["items"]
    bare = next(r["id"] for r in runs if r["client_run_id"] == "r-bare")
    page = client.get(f"/run/{bare}?format=json").json()
    assert page["tasks"] == [] and page["elsewhere"] == [] and page["at_another_hour"] is None
    assert page["footprint"] is None and page["mix"] is None
    assert len(_chart(page, "chart-power")["traces"][0]["x"]) == 2
    assert client.get(f"/run/{bare}").status_code == 200


def test_a_public_projects_experiment_page_is_anyones_without_exports(client, world, ids):  # noqa: F811
    csrf = sign_in_as(client, world, "manager")
    project = world.ids["project"]
    client.post(f"/project/{project}/admin/public", data={"public": "on", "csrf": csrf})
    client.cookies.clear()
    page = client.get(f"/experiment/{ids['exp:tuned']}?format=json").json()
    assert page["totals"]["runs"] == 2 and page["exports"] is None
    html = client.get(f"/experiment/{ids['exp:tuned']}").text
    assert "export.csv" not in html
    assert (
        client.get(f"/experiment/{ids['exp:tuned']}/export.csv", follow_redirects=False).status_code
        == 303
    )  # exports need a session
    assert client.get(f"/team/{world.ids['team']}", follow_redirects=False).status_code == 303


def test_the_scatter_draws_the_newest_runs_only_and_says_so(client, world, ids, monkeypatch):  # noqa: F811
    from wattprint.server.pages import collection

    monkeypatch.setattr(collection, "MAX_DRAWN", 2)
    sign_in_as(client, world, "viewer")
    page = client.get(f"/project/{world.ids['project']}?format=json").json()
    assert page["totals"]["runs"] == 3 and page["runs_drawn"] == 2
    newest = sorted(RUNS, key=lambda r: ids[f"run:{r}"])[-2:]
    drawn = _chart(page, "chart-scatter")["traces"][0]
    assert sorted(drawn["x"]) == sorted(RUNS[r]["duration"] for r in newest)
    html = client.get(f"/project/{world.ids['project']}").text
    assert "draw the newest 2 of the 3 runs" in html
    monkeypatch.setattr(collection, "MAX_DRAWN", 500)
    assert 'id="runs-drawn"' not in client.get(f"/project/{world.ids['project']}").text


def test_pages_add_up_water_from_the_summaries_not_from_a_listing_of_runs(  # noqa: F811
    client, world, ids, monkeypatch
):
    from tests.fakes.serverkit import full_record
    from wattprint.server import dashboard

    sign_in_as(client, world, "viewer")
    dry = world.send([envelope("r-dry", 0, experiment_name="tuned", water_consumed=None)])
    assert dry.status_code == 200, dry.text
    listed, real = [], dashboard.runs_list

    def first_only(db, f, limit=1000):  # as if the pages' listings stopped at one run
        listed.append(limit)
        return real(db, f, limit)[:1]

    monkeypatch.setattr(dashboard, "runs_list", first_only)
    wet = sum(full_record(run_id, 0)["water_consumed"] for run_id in RUNS)
    pages = (("org", "organizations", world.ids["org_a"]), ("team", "teams", world.ids["team"]),
             ("project", "projects", world.ids["project"]),
             ("experiment", "experiments", ids["exp:tuned"]))  # fmt: skip
    for page, api in ((f"/{p}/{i}", f"{a}/{i}") for p, a, i in pages):
        water = client.get(f"{page}?format=json").json()["water"]
        summary = client.get(f"/api/v1/{api}/summary", headers=world.h("viewer")).json()
        assert water == summary["water"], page
        assert water["unknown_runs"] == 1, page  # r-dry: unknown, not zero
    assert water["litres"] == pytest.approx(
        sum(full_record(r, 0)["water_consumed"] for r in ("r-aws", "r-gb"))
    )
    org = client.get(f"/org/{world.ids['org_a']}?format=json").json()["water"]
    # Organization A: bert's three runs and gpt's (r-fr's record) beside r-dry.
    assert org["litres"] == pytest.approx(wet + full_record("r-fr", 0)["water_consumed"])
    assert max(listed) <= 1000  # no listing of every run to add them up


@pytest.mark.parametrize("page_of", ["project", "team", "experiment"])
def test_a_pages_runs_table_lists_a_page_of_runs_and_links_to_the_older(  # noqa: F811
    client, world, ids, monkeypatch, page_of
):
    from wattprint.server.pages import collection

    monkeypatch.setattr(collection, "RUNS_LISTED", 1)
    sign_in_as(client, world, "viewer")
    where = {
        "project": f"/project/{world.ids['project']}",
        "team": f"/team/{world.ids['team']}",
        "experiment": f"/experiment/{ids['exp:tuned']}",
    }[page_of]
    first = client.get(f"{where}?format=json&period=week").json()
    everyone = first["totals"]["runs"]
    assert everyone > 1, "the seed needs more runs than a page lists"
    listed, page, pages = [], first, 0
    while True:
        ids_here = [r["id"] for r in page["runs"]]
        assert ids_here == sorted(ids_here, reverse=True) and len(ids_here) == 1
        listed += ids_here
        pages += 1
        older = page["runs_pages"]["older"]
        if pages > 1:
            assert page["runs_pages"]["newest"] == "?period=week"
        if older is None:
            break
        assert "period=week" in older and f"before={ids_here[-1]}" in older
        page = client.get(f"{where}{older}&format=json").json()
    assert sorted(listed, reverse=True) == listed and len(set(listed)) == everyone == pages
    assert len(first["charts"]) == len(page["charts"])  # the charts draw every run either way
    html = client.get(where).text
    assert 'id="runs-older"' in html and f"(1 of {everyone}, newest first)" in html
    assert client.get(f"{where}?before=soon").status_code == 422
