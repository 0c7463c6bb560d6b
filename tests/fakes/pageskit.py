"""Seeded runs for the team, experiment, run what-if, map and mix pages' tests (HTTP and
browser): runs in real places (a French grid, an AWS region, the British grid), in two
experiments of project "bert" (team "core"), one with tasks and embodied/SCI figures."""

from __future__ import annotations

from typing import Any

from tests.fakes.serverkit import World, envelope, interval

#: Every footprint column empty unless a run says otherwise (full_record fills every column).
NO_FOOTPRINT = {
    c: None
    for c in (
        "embodied_kg",
        "embodied_low_kg",
        "embodied_high_kg",
        "units",
        "sci_g_per_unit",
        "sci_low_g_per_unit",
        "sci_high_g_per_unit",
        "llm_calls",
        "llm_energy_kwh",
        "llm_energy_low_kwh",
        "llm_energy_high_kwh",
        "llm_emissions_kg",
        "llm_emissions_low_kg",
        "llm_emissions_high_kg",
        "llm_detail",
    )
}
NO_FOOTPRINT.update(embodied_method="", functional_unit="")
NOWHERE = {
    "latitude": None,
    "longitude": None,
    "region": "",
    "cloud_provider": "",
    "cloud_region": "",
    "on_cloud": "N",
    "started_at": None,
}

#: run id -> what its record says (the figures the tests expect back).
RUNS: dict[str, dict[str, Any]] = {
    "r-fr": dict(experiment_name="baseline", status="completed", duration=600.0,
                 energy_consumed=1.0, energy_low_kwh=0.9, energy_high_kwh=1.1, emissions=0.05,
                 emissions_low_kg=0.04, emissions_high_kg=0.06, country_iso_code="FRA",
                 country_name="France", intensity_zone="FR", intensity_source="ember",
                 timestamp="2026-03-01T10:10:00+00:00", pue=1.0),
    "r-aws": dict(experiment_name="tuned", status="failed", duration=3600.0,
                  energy_consumed=2.27, energy_low_kwh=2.0, energy_high_kwh=2.5, emissions=0.8,
                  emissions_low_kg=0.7, emissions_high_kg=0.9, country_iso_code="USA",
                  country_name="United States", intensity_zone="US-MIDA-PJM",
                  intensity_source="electricitymaps", on_cloud="Y", cloud_provider="aws",
                  cloud_region="us-east-1", pue=1.135, timestamp="2026-03-02T11:00:00+00:00"),
    "r-gb": dict(experiment_name="tuned", status="completed", duration=1800.0,
                 energy_consumed=0.5, energy_low_kwh=0.45, energy_high_kwh=0.55, emissions=0.1,
                 emissions_low_kg=0.08, emissions_high_kg=0.12, country_iso_code="GBR",
                 country_name="United Kingdom", intensity_zone="GB",
                 intensity_source="electricitymaps", timestamp="2026-03-03T09:30:00+00:00",
                 pue=1.0, embodied_kg=0.02, embodied_low_kg=0.01, embodied_high_kg=0.03,
                 embodied_method="boavizta", units=100.0, functional_unit="images"),
}  # fmt: skip
TASKS = {
    "train": dict(duration=1200.0, energy_consumed=0.4, emissions=0.08, emissions_low_kg=0.06,
                  emissions_high_kg=0.1),
    "eval": dict(duration=300.0, energy_consumed=0.05, emissions=0.01, emissions_low_kg=None,
                 emissions_high_kg=None),
}  # fmt: skip


def record_of(run_id: str, seq: int = 0, **more: Any) -> dict[str, Any]:
    return envelope(run_id, seq, **(NO_FOOTPRINT | NOWHERE | RUNS[run_id] | more))


def seed(world: World) -> dict[str, Any]:
    """The three runs in project "bert", a task-less run in "gpt" (no team) and one in
    organization B; returns the server's ids of runs ("run:<id>") and experiments ("exp:<name>")."""
    sent = world.send(
        [record_of(run_id) for run_id in RUNS]
        + [
            record_of("r-gb", seq, task_name=name, **figures)
            for seq, (name, figures) in enumerate(TASKS.items(), start=1)
        ]
        + [interval("r-gb", seq, cpu_power=20.0 + seq) for seq in range(1, 4)]
    )
    assert sent.status_code == 200, sent.text
    gpt = world.send(
        [envelope("r-gpt", 0, **(NO_FOOTPRINT | NOWHERE | RUNS["r-fr"]))], who="token_gpt"
    )
    assert gpt.status_code == 200, gpt.text
    other = world.send([envelope("r-other", 0, status="completed")], who="token_b")
    assert other.status_code == 200, other.text
    ids: dict[str, Any] = {}
    for project, who in (("project", "owner"), ("project_b", "outsider")):
        found = world.client.get(
            "/api/v1/runs", params={"project_id": world.ids[project]}, headers=world.h(who)
        )
        assert found.status_code == 200, found.text
        ids.update({f"run:{r['client_run_id']}": r["id"] for r in found.json()["items"]})
        listed = world.client.get(
            "/api/v1/experiments", params={"project_id": world.ids[project]}, headers=world.h(who)
        )
        ids.update(
            {
                f"exp:{e['name']}": e["id"]
                for e in listed.json()["items"]
                if project == "project" or e["name"] != "default"
            }
        )
    return ids
