"""The summaries added up in SQL hold the report's rules: the same figures as the report's own
summariser on each run (``reference_summary``), on runs chosen to catch a wrong rule, and the
rules themselves checked by hand. Runs known only by their intervals are counted, in progress."""

from __future__ import annotations

import json

import pytest

from tests.fakes.serverkit import app, client, database_url, envelope, full_record, interval, world  # noqa: F401
from tests.server.test_server_summaries import same
from wattprint import records
from wattprint.server import db, summaries
from wattprint.server.store import RunFilter

DETAIL = json.dumps(
    {"openai/gpt-4o-mini": {"calls": 2, "kwh": 0.001}, "mistral/small": {"calls": 1}}
)


def _record(run: str, day: int, **changes):
    """A finished run's one row, with a footprint; ``changes`` make it a tricky one."""
    base = dict(
        timestamp=f"2026-03-0{day}T12:00:00+00:00",
        status="finished",
        emissions=0.02,
        emissions_low_kg=0.01,
        emissions_high_kg=0.04,
        energy_consumed=0.1,
        energy_low_kwh=0.08,
        energy_high_kwh=0.12,
        on_cloud="N",
        cloud_provider="",
        country_iso_code="FRA",
        intensity_source="electricitymaps",
        pue=1.0,
        embodied_kg=0.005,
        embodied_low_kg=0.003,
        embodied_high_kg=0.008,
        embodied_method="boavizta",
        units=100.0,
        functional_unit="1000 inferences",
        llm_calls=0,
        llm_emissions_kg=None,
        llm_emissions_low_kg=None,
        llm_emissions_high_kg=None,
        llm_energy_kwh=None,
        llm_detail="",
    )
    base.update(changes)
    return {
        "type": "wattprint.record",
        "version": 1,
        "key": f"{run}:1",
        "record": full_record(run, 1, **base),
    }


TRICKY = {
    "whole": {},
    "no-bounds": {"emissions_low_kg": None, "energy_high_kwh": None, "cpu_energy_low_kwh": None},
    "unknown-emissions": {"emissions": None, "intensity_source": ""},
    "negative-energy": {"energy_consumed": -1.0, "gpu_energy": -0.5, "duration": -3.0},
    "llm": {"llm_calls": 3, "llm_emissions_kg": 0.001, "llm_emissions_low_kg": 0.0005,
            "llm_emissions_high_kg": 0.002, "llm_energy_kwh": 0.004, "llm_detail": DETAIL},
    "embodied-unbounded": {"embodied_low_kg": None, "embodied_method": "archetype"},
    "no-embodied": {"embodied_kg": None, "embodied_low_kg": None, "embodied_high_kg": None},
    "other-unit": {"functional_unit": "images", "units": 7.0, "status": "failed"},
    "no-units": {"units": None, "functional_unit": ""},
    "cloud": {"on_cloud": "Y", "cloud_provider": "gcp", "cloud_region": "europe-west1",
              "pue": 1.1, "country_iso_code": "BEL"},
}  # fmt: skip


def _codecarbon(run: str) -> dict:
    cc = {c: None for c in records.CODECARBON_COLUMNS}
    cc.update(
        timestamp="2026-03-03T09:00:00",
        run_id=run,
        project_name="p",
        duration=60.0,
        emissions=0.002,
        energy_consumed=0.01,
        cpu_energy=0.006,
        ram_energy=0.004,
        country_iso_code="DEU",
        on_cloud="N",
        pue=1.0,
    )
    return {"type": "wattprint.record", "version": 1, "key": f"{run}:0", "record": cc}


@pytest.fixture
def tricky(world):
    sent = [_record(run, 1 + n % 4, **changes) for n, (run, changes) in enumerate(TRICKY.items())]
    sent.append(_codecarbon("cc"))
    # A run in progress that has sent only intervals: the newest (by time) is its total.
    sent += [
        interval(
            "live",
            seq,
            energy_consumed=0.01 * seq,
            emissions=0.002 * seq,
            emissions_low_kg=0.001 * seq,
            emissions_high_kg=0.004 * seq,
            duration=10.0 * seq,
        )
        for seq in (1, 3, 2)
    ]
    assert world.send(sent).json()["rejected"] == 0
    # The other project (no team) of the organization, for the team/project groupings.
    other = [_record("gpt-run", 2, intensity_source="ember")]
    assert world.send(other, who="token_gpt").json()["created"] == 1
    return world


FILTERS = {"project": lambda w: RunFilter(project_id=w.ids["project"]),
           "organization": lambda w: RunFilter(organization_id=w.ids["org_a"]),
           "team": lambda w: RunFilter(team_id=w.ids["team"]),
           "finished": lambda w: RunFilter(project_id=w.ids["project"], status="finished"),
           "empty": lambda w: RunFilter(project_id=w.ids["project_b"])}  # fmt: skip


@pytest.mark.parametrize("level", sorted(FILTERS))
def test_sql_summaries_are_the_reports_summariser_on_each_run(app, tricky, level, monkeypatch):
    f = FILTERS[level](tricky)
    reference = summaries.reference_grouped

    def not_here(*_args):
        raise AssertionError("these runs are summarised in SQL, not by the fallback")

    monkeypatch.setattr(summaries, "reference_grouped", not_here)
    with db.transaction(app.state.sessions) as s:
        for by in (None, *summaries.GROUPINGS):
            same(summaries.summary(s, f, by), summaries.reference_summary(s, f, by), str(by))
        # several groupings share one cube of the facets and every grouping's keys
        every = summaries.GROUPINGS + summaries.PAGE_GROUPINGS  # the pages' too
        for bys in (("week", "team", "project", "location"), every):
            same(summaries.grouped(s, f, bys), reference(s, f, bys), f"grouped {bys}")


def test_the_rules_hold_by_hand(app, tricky):
    """Figures worked out from the rows sent, not from either summariser."""
    with db.transaction(app.state.sessions) as s:
        got = summaries.summary(s, RunFilter(project_id=tricky.ids["project"]))
    runs = len(TRICKY) + 2  # and the CodeCarbon run and the run in progress
    assert got["runs"] == runs and got["in_progress_runs"] == 1
    # unknown, never zero: the run without emissions is counted as unknown, not as 0
    assert got["emissions_unknown_runs"] == 1
    known = [0.02] * (len(TRICKY) - 1) + [0.002, 0.006]  # the live run's newest interval
    assert got["emissions_kg"] == pytest.approx(sum(known))
    # a negative energy is not a quantity: unknown too
    assert got["energy_unknown_runs"] == 1
    assert got["energy_kwh"] == pytest.approx(0.1 * (len(TRICKY) - 1) + 0.01 + 0.03)
    assert got["by_component"]["gpu"]["unknown_runs"] >= 1
    # bounds only when every run has them (one run has none, nor has the CodeCarbon run)
    assert got["emissions_low_kg"] is None and got["emissions_high_kg"] is None
    assert got["energy_low_kwh"] is None and got["by_component"]["cpu"]["low_kwh"] is None
    assert got["bounds"] == "no bounds: 1 CodeCarbon run(s) have none"
    water = 0.001 * (1 + records.COLUMNS.index("water_consumed")) * 2  # full_record's, seq 1
    assert got["water"]["unknown_runs"] == 2  # CodeCarbon's row says none, nor does the live run
    assert got["water"]["litres"] == pytest.approx(water * len(TRICKY), rel=1e-6)
    assert got["statuses"]["running"] == 1 and got["statuses"]["failed"] == 1
    embodied = got["footprint"]["embodied"]
    assert embodied["kg"] == pytest.approx(0.005 * (len(TRICKY) - 1))
    assert embodied["low_kg"] is None  # one run's embodied has no low bound
    assert embodied["unknown_runs"] == 3  # no-embodied, CodeCarbon's, the live run
    assert embodied["methods"] == ["archetype", "boavizta"]
    llm = got["footprint"]["llm"]
    assert (llm["calls"], llm["kg"], llm["energy_kwh"]) == (3, pytest.approx(0.001), 0.004)
    assert (llm["low_kg"], llm["high_kg"]) == (pytest.approx(0.0005), pytest.approx(0.002))
    assert llm["models"] == {"mistral/small": 1, "openai/gpt-4o-mini": 2}
    sci = got["footprint"]["sci"]
    assert sci["g_per_unit"] is None and sci["note"].startswith("mixed functional units")
    assert sci["runs_without_units"] == 3


def test_sci_over_runs_of_one_unit(app, tricky):
    """Without the run of another unit: (E x I + M) per R by hand, with its bounds."""
    with db.transaction(app.state.sessions) as s:
        f = RunFilter(project_id=tricky.ids["project"], status="finished")
        sci = summaries.summary(s, f)["footprint"]["sci"]
    counted = [run for run, ch in TRICKY.items() if ch.get("units", 100.0) == 100.0]
    assert sci["runs"] == len(counted) and sci["functional_unit"] == "1000 inferences"
    # the run without emissions makes the score unknown: never a score that leaves it out
    assert sci["g_per_unit"] is None and "unknown" in sci["note"]
    with db.transaction(app.state.sessions) as s:
        whole = summaries.summary(s, RunFilter(run_ids=_ids(s, tricky, ["whole", "llm"])))
    sci = whole["footprint"]["sci"]
    operational, embodied, remote = 0.04, 0.01, 0.001
    assert sci["g_per_unit"] == pytest.approx((operational + embodied + remote) * 1000 / 200)
    assert sci["low_g_per_unit"] == pytest.approx((0.02 + 0.006 + 0.0005) * 1000 / 200)
    assert sci["high_g_per_unit"] == pytest.approx((0.08 + 0.016 + 0.002) * 1000 / 200)


def _ids(s, world, names):
    from sqlalchemy import select

    from wattprint.server.models import Run

    query = select(Run.id).where(
        Run.project_id == world.ids["project"], Run.client_run_id.in_(names)
    )
    return list(s.scalars(query))


def test_a_run_known_only_by_its_intervals_is_counted_in_progress(world):
    c, h, p = world.client, world.h("viewer"), world.ids["project"]
    url = f"/api/v1/projects/{p}/summary"
    sent = [
        interval("live", seq, energy_consumed=0.01 * seq, emissions=0.002 * seq)
        for seq in (1, 2, 3)
    ]
    assert world.send(sent).json()["created"] == 3
    got = c.get(url, headers=h).json()
    assert (got["runs"], got["in_progress_runs"], got["statuses"]) == (1, 1, {"running": 1})
    assert got["emissions_kg"] == pytest.approx(0.006)  # the newest cumulative, not a sum
    assert got["energy_kwh"] == pytest.approx(0.03)
    assert got["emissions_low_kg"] is None  # its intervals carry none here
    by_day = c.get(url, params={"by": "day"}, headers=h).json()["groups"]
    assert [(g["group"], g["runs"], g["in_progress_runs"]) for g in by_day] == [
        ("2026-03-01", 1, 1)
    ]
    run_id = c.get("/api/v1/runs", params={"project_id": p}, headers=h).json()["items"][0]["id"]
    compared = c.get("/api/v1/runs/compare", params={"ids": str(run_id)}, headers=h).json()
    assert compared["runs"][0]["in_progress"] is True
    # Its row arrives: counted by the row from then on, no longer in progress.
    assert world.send([envelope("live", 4, emissions=0.5)]).json()["created"] == 1
    got = c.get(url, headers=h).json()
    assert (got["runs"], got["in_progress_runs"]) == (1, 0)
    assert got["emissions_kg"] == pytest.approx(0.5)


def test_a_timestamp_sql_cannot_read_a_day_from_is_grouped_as_the_report_does(app, world):
    """ISO 8601's basic form (no dashes): the report's summariser groups it by its date."""
    sent = [_record("basic", 1, timestamp="20260305T120000+00:00"), _record("plain", 2)]
    assert world.send(sent).json()["created"] == 2
    got = world.client.get(
        f"/api/v1/projects/{world.ids['project']}/summary",
        params={"by": "day"},
        headers=world.h("viewer"),
    ).json()
    assert [g["group"] for g in got["groups"]] == ["2026-03-02", "2026-03-05"]
    assert got["footprint"]["embodied"]["kg"] == pytest.approx(0.01)


class _Reading(dict):
    """A row that notes every column read of it."""

    def __init__(self, row, read):
        super().__init__(row)
        self.read = read

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.parametrize(
    "changes",
    [{}, {"on_cloud": "Y", "cloud_provider": "aws", "cloud_region": "us-east-1"},
     {"started_at": "", "duration": 90.0}, {"project_name": "", "experiment_name": ""}],
)  # fmt: skip
def test_runs_compared_read_the_columns_the_reports_run_row_reads(changes):
    """``compare`` gives the report's Run only ``COMPARED`` of a row: exactly what
    ``run_row`` reads, so its rows are the ones the whole record would give."""
    from wattprint.report.summary import Run, run_row

    full = full_record("r-1", 3, **changes)
    read: set[str] = set()
    run = Run(_Reading(full, read), file="server", order=0)  # its constructor reads some
    run.row = _Reading(run.row, read)
    whole = run_row(run, "g")
    assert read <= set(summaries.COMPARED), read - set(summaries.COMPARED)
    narrow = Run({c: full[c] for c in summaries.COMPARED}, file="server", order=0)
    assert run_row(narrow, "g") == whole


def test_rows_that_differ_only_by_their_grouping_keys_share_their_labels_not_their_sums():
    """``rollup.row_labels`` names each kind of run once: the same as ``labels`` row by row,
    however the rows differ (a day, a status, whether the runs know embodied emissions)."""
    from wattprint.server import rollup

    names = [*rollup._LABELLED, "day", "n", "v_emissions", "it_kwh", "k_embodied_kg"]
    index = {name: i for i, name in enumerate(names)}
    base = dict.fromkeys(names, "")
    base.update(from_interval=False, source="wattprint", wattprint_version="1.0",
                status="finished", embodied_method="ccf", functional_unit="token",
                has_units=1, on_cloud="Y", cloud_provider="aws", cloud_region="eu-west-3",
                day="2026-03-01", n=2, v_emissions=0.5, it_kwh=1.0, k_embodied_kg=2)  # fmt: skip
    variants = [
        {},
        {"day": "2026-03-02", "n": 3, "v_emissions": 0.7, "it_kwh": 2.0},
        {"day": "2026-03-03", "k_embodied_kg": 0},
        {"status": "failed"},
        {"has_units": 0},
        {"from_interval": True, "source": "codecarbon"},
    ]
    rows = [tuple({**base, **v}[name] for name in names) for v in variants]
    label = rollup.row_labels(index)
    got = [label(row) for row in rows]
    assert got == [rollup.labels(row, index) for row in rows]
    assert (got[0]["n"], got[1]["n"], got[1]["emissions"], got[1]["it_kwh"]) == (2, 3, 0.7, 2.0)
    assert (got[0]["embodied_method"], got[2]["embodied_method"]) == ("ccf", None)
    assert (got[3]["status"], got[4]["functional_unit"], got[5]["kind"]) == (
        "failed",
        None,
        "wattprint",
    )
