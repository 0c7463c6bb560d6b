"""Seeded data and signed-in clients for the dashboard's tests (HTTP and browser)."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.serverkit import World, envelope, interval
from wattprint.server.pages import session


def seed(world: World) -> dict[str, Any]:
    """Two finished runs and one in progress (with intervals) in project "bert"; one run in
    organization B's project. Returns the runs' server ids by name."""
    sent = world.send(
        [
            envelope(
                "r-small",
                0,
                status="completed",
                duration=60.0,
                emissions=0.01,
                emissions_low_kg=0.008,
                emissions_high_kg=0.012,
                energy_consumed=0.05,
                energy_low_kwh=0.04,
                energy_high_kwh=0.06,
            ),
            envelope(
                "r-big",
                0,
                status="completed",
                duration=3600.0,
                emissions=0.5,
                emissions_low_kg=0.4,
                emissions_high_kg=0.6,
                energy_consumed=2.0,
                energy_low_kwh=1.6,
                energy_high_kwh=2.4,
            ),
            envelope(
                "r-live",
                0,
                status="running",
                duration=3.0,
                emissions=0.002,
                emissions_low_kg=0.001,
                emissions_high_kg=0.003,
                energy_consumed=0.01,
                energy_low_kwh=0.008,
                energy_high_kwh=0.012,
            ),
        ]
        + [
            interval(
                "r-live",
                seq,
                cpu_power=10.0 + seq,
                gpu_power=100.0 + seq,
                ram_power=3.0,
                platform_power_w=None,
            )
            for seq in range(1, 4)
        ]
    )
    assert sent.status_code == 200, sent.text
    other = world.send([envelope("r-other", 0, status="completed")], who="token_b")
    assert other.status_code == 200, other.text
    runs = world.client.get(
        "/api/v1/runs", params={"project_id": world.ids["project"]}, headers=world.h("owner")
    )
    assert runs.status_code == 200, runs.text
    ids = {r["client_run_id"]: r["id"] for r in runs.json()["items"]}
    other_runs = world.client.get(
        "/api/v1/runs", params={"project_id": world.ids["project_b"]}, headers=world.h("outsider")
    ).json()["items"]
    ids["r-other"] = other_runs[0]["id"]
    return ids


def sign_in_as(client: Any, world: World, who: str) -> str:
    """Use ``who``'s personal token as the session cookie; returns the forms' CSRF token."""
    client.cookies.clear()
    client.cookies.set(session.COOKIE, world.tokens[who])
    return session.csrf_for(world.tokens[who])


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)
