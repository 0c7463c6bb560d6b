"""``wattprint detect``, ``wattprint intensity`` and ``wattprint recover``: small commands about
this machine, saying what wattprint would do here and tidying up after runs killed here."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import units


def _probe_dict(probe: Any, chosen: bool) -> dict[str, Any]:
    return {
        "name": probe.name,
        "usable": probe.usable,
        "chosen": chosen,
        "reason": probe.reason,
        "fix": probe.fix,
    }


def detect_data() -> dict[str, Any]:
    """Meters per component, and the location and intensity a tracker would use, as data."""
    import wattprint

    from ..carbon.context import setup
    from ..config import load_settings

    settings = load_settings({})  # the user's files and WATTPRINT_* variables apply
    found = wattprint.detect(gpu_ids=settings.gpu_ids, tracking_mode=settings.tracking_mode)
    components = {
        name: {
            "method": choice.method,
            "devices": [d for p in choice.chosen if p.meter for d in p.meter.devices],
            "tried": [_probe_dict(p, p in choice.chosen) for p in choice.tried],
        }
        for name, choice in found.components.items()
    }
    carbon = setup(settings)
    try:
        now = datetime.now(timezone.utc).timestamp()
        intensity = carbon.timeline.at(now)
        return {
            "components": components,
            "location": asdict(carbon.location),
            "location_note": carbon.announcement,
            "intensity": asdict(intensity),
            "pue": carbon.pue,
            "pue_source": carbon.pue_source,
            "wue_l_per_kwh": carbon.wue_l_per_kwh,
            "wue_source": carbon.wue_source,
        }
    finally:
        carbon.close()


def detect(as_json: bool) -> int:
    data = detect_data()
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Meters", title_justify="left")
    for column in ("component", "source", "", "why"):
        table.add_column(column)
    nothing = [
        {"name": "-", "chosen": False, "usable": False, "reason": "nothing to try", "fix": None}
    ]
    for name, c in data["components"].items():
        for i, p in enumerate(c["tried"] or nothing):
            if p["chosen"]:
                mark = "[green]chosen[/]"
            else:
                mark = "usable" if p["usable"] else "[red]not usable[/]"
            why = p["reason"]
            if p["fix"] and not p["usable"]:
                why += f"\n[bold]fix:[/] {p['fix']}"
            table.add_row(name if i == 0 else "", p["name"], mark, why)
    console.print(table)
    loc, it = data["location"], data["intensity"]
    where = loc["zone"] or loc["country"] or "unknown"
    detail = f": {loc['detail']}" if loc["detail"] else ""
    console.print(f"[bold]Location[/]: {where} ({loc['source']}{detail})")
    console.print(
        f"[bold]Intensity now[/]: {units.intensity(it['value'])} [{units.number(it['low'])} - "
        f"{units.intensity(it['high'])}] "
        f"({it['kind']}, {it['zone']}) from {it['source']}"
    )
    console.print(f"[bold]PUE[/]: {data['pue']:g} ({data['pue_source']})")
    if data["location_note"]:
        console.print(f"[yellow]note[/]: {data['location_note']}")
    return 0


def intensity(
    country: str | None,
    zone: str | None,
    cloud: str | None,
    region: str | None,
    at: str | None,
    as_json: bool,
) -> int:
    from ..carbon.context import setup
    from ..config import load_settings_with

    if cloud and not region:
        raise ValueError("--cloud needs --region (the provider's region code)")
    when = datetime.now(timezone.utc)
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise ValueError(
                f"--at {at!r} is not an ISO time, e.g. 2026-01-15T18:00+00:00"
            ) from None
        if when.tzinfo is None:
            raise ValueError(f"--at {at!r} needs a UTC offset, e.g. 2026-01-15T18:00+00:00")
    settings = load_settings_with(
        {"country": country, "zone": zone, "cloud_provider": cloud, "cloud_region": region}
    )
    carbon = setup(settings)  # the tracker's own path: files, WATTPRINT_*, site file, providers
    try:
        location = carbon.location
        try:
            it = carbon.timeline.at(when.timestamp())
        except (OverflowError, ValueError, OSError):  # outside the calendar: the annual figure
            it = carbon.timeline.base
    finally:
        carbon.close()
    data = {"at": when.isoformat(), "location": asdict(location), "intensity": asdict(it)}
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    where = location.zone or location.country or "world"
    print(
        f"{units.intensity(it.value)} [{units.number(it.low)} - {units.intensity(it.high)}] "
        f"for {where} at "
        f"{when.isoformat(timespec='minutes')}"
    )
    print(f"  kind: {it.kind}; zone: {it.zone}; year: {it.year or '-'}; basis: {it.basis or '-'}")
    print(f"  source: {it.source}")
    print(f"  location: {location.source}" + (f" ({location.detail})" if location.detail else ""))
    return 0


def recover(folder: Path, as_json: bool) -> int:
    """Write the rows of killed runs in ``folder``, then send them where the settings say."""
    from .. import _log
    from ..config import load_settings
    from ..tracker import recover as recover_runs

    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder (give the output_dir of the runs)")
    # The settings load first: a bad one is said before anything is written. The folder
    # given wins over the files' output_dir, since the webhook's spool lives beside the rows.
    settings = load_settings({"output_dir": str(folder)})
    _log.setup(settings.log_level)
    results = recover_runs(folder)
    if results:
        from ..sinks import pass_on_recovered

        pass_on_recovered(settings, results, _log.warn_once)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "run_id": r.run_id,
                        "project_name": r.project_name,
                        "duration_s": r.duration_s,
                        "status": r.status,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    elif results:
        for r in results:
            print(f"recovered {r.run_id} ({r.project_name}): {r.duration_s:.1f} s, interrupted")
    else:
        print(f"no interrupted run in {folder}")
    return 0
