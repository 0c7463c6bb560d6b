"""``wattprint plan`` and ``wattprint wait``: when (and where) to run, and waiting for it.

``plan`` prints the best start, the same job started at once and the saving; ``wait`` waits for
that start (or for the intensity to fall below ``--below``) and then runs the command exactly as
``wattprint run`` does, with the shift in its record. Ctrl-C while waiting runs nothing.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..units import energy_text, mass_text


@dataclass
class PlanOptions:
    duration: str
    within: str | None = "24h"
    deadline: str | None = None
    zone: str | None = None
    country: str | None = None
    cloud: str | None = None
    regions: str | None = None
    energy_kwh: float | None = None
    power_w: float | None = None
    provider: str | None = None


def _deadline(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--deadline {text!r} is not an ISO 8601 time: write it like 2025-06-01T18:00+02:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"--deadline {text!r} needs a UTC offset, e.g. {text}+00:00")
    return moment


def make_plan(options: PlanOptions, now: datetime | None = None) -> Any:
    from ..carbon.planning import plan

    regions = (
        [r.strip() for r in options.regions.split(",") if r.strip()] if options.regions else None
    )
    return plan(
        options.duration,
        within=options.within,
        deadline=_deadline(options.deadline),
        zone=options.zone,
        country=options.country,
        cloud=options.cloud,
        regions=regions,
        energy_kwh=options.energy_kwh,
        power_w=options.power_w,
        provider=options.provider,
        now=now,
    )


def _when(moment: datetime, asked: datetime) -> str:
    wait_s = (moment - asked).total_seconds()
    hours, minutes = divmod(round(wait_s / 60), 60)
    soon = "now" if wait_s < 60 else f"in {hours} h {minutes:02d} min"
    return f"{moment.strftime('%a %d %b %H:%M')} UTC ({soon})"


def describe(chosen: Any) -> list[str]:
    """The plan in a few lines of plain text."""
    b, n = chosen.best, chosen.now
    hours = chosen.duration_s / 3600
    f = chosen.forecasts[b.place]
    lines = [
        f"Best start for a {hours:g} h job: {_when(b.start, chosen.asked_at)} at {b.place}, "
        f"until {b.end.strftime('%H:%M')} UTC",
        f"  expected {b.intensity:.0f} g/kWh [{b.low:.0f}-{b.high:.0f}] ({f.kind}, {f.signal})"
        f" vs {n.intensity:.0f} g/kWh [{n.low:.0f}-{n.high:.0f}] if started now at {n.place}:"
        f" {-chosen.saving_pct:+.0f} %",
    ]
    if chosen.saving_kg is not None:
        kg, low, high = chosen.saving_kg
        lines.append(
            f"  emissions {mass_text(b.emissions_kg)} vs {mass_text(n.emissions_kg)} now "
            f"({energy_text(chosen.energy_kwh)}): saves {mass_text(kg)} [{mass_text(low)} - "
            f"{mass_text(high)}] CO2eq"
        )
    if chosen.options:
        lines.append("  next best:")
        for o in chosen.options:
            kg = f", {mass_text(o.emissions_kg)}" if o.emissions_kg is not None else ""
            lines.append(
                f"    {_when(o.start, chosen.asked_at)} at {o.place}: {o.intensity:.0f} g/kWh "
                f"[{o.low:.0f}-{o.high:.0f}]{kg}"
            )
    lines += [f"  note: {note}" for note in chosen.notes]
    return lines


def plan_command(options: PlanOptions, as_json: bool = False) -> int:
    chosen = make_plan(options)
    if as_json:
        print(json.dumps(chosen.to_dict(), indent=2))
    else:
        print("\n".join(describe(chosen)))
    return 0


def _live(options: PlanOptions, below: float | None) -> Callable[[datetime], float | None] | None:
    """With a provider and a threshold: the provider's value now, asked again at each poll
    through one client, so its cache (five minutes) spares the provider; None otherwise."""
    if options.provider is None or below is None:
        return None
    from datetime import timedelta

    from ..carbon.forecasts import forecast, make_client
    from ..carbon.location import locate

    client = make_client(options.provider)
    where = locate(zone=options.zone, country=options.country)

    def current(moment: datetime) -> float | None:
        point = forecast(
            where, moment, moment + timedelta(hours=1), provider=options.provider, client=client
        ).at(moment)
        return None if point is None else point.value

    return current


def _counting_down(
    sleep: Callable[[float], None], clock: Callable[[], float], until: datetime, err: Any
) -> Callable[[float], None]:
    """``sleep``, with the time left shown on one rewritten line when ``err`` is a terminal."""
    isatty = getattr(err, "isatty", None)
    if not (isatty and isatty()):
        return sleep

    def sleep_and_say(seconds: float) -> None:
        left = max(0, round((until.timestamp() - clock()) / 60))
        err.write(
            f"\r  {left // 60} h {left % 60:02d} min left until {until.strftime('%H:%M')} UTC "
        )
        err.flush()
        sleep(seconds)

    return sleep_and_say


def wait_command(
    options: PlanOptions,
    command: list[str],
    tracker_options: dict[str, Any],
    below: float | None = None,
    json_file: Any = None,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    run: Callable[..., int] | None = None,
    err: Any = None,
) -> int:
    """Wait for the planned start (or ``below``), then run ``command`` tracked; its exit code.

    ``clock``, ``sleep`` and ``run`` are for tests: nothing here sleeps but through ``sleep``.
    """
    from ..carbon.planning import shift_info, wait_for
    from ..tracker import Tracker

    err = err or sys.stderr
    if not command:
        raise ValueError(
            "nothing to run: give the command after --, e.g. wattprint wait "
            "--duration 3h -- python train.py"
        )
    from .run import check_json_file

    check_json_file(json_file)  # like bad settings: said now, not after hours of waiting
    tracker = Tracker(**tracker_options)  # bad settings fail now, not after hours of waiting
    chosen = make_plan(options, now=datetime.fromtimestamp(clock(), timezone.utc))
    print("\n".join(describe(chosen)), file=err)
    until = f" or until the intensity is at or below {below:g} g/kWh" if below is not None else ""
    print(
        f"wattprint: waiting for {chosen.best.start.isoformat(timespec='minutes')}{until}; "
        "Ctrl-C cancels without running anything",
        file=err,
        flush=True,
    )
    try:
        outcome = wait_for(
            chosen,
            below=below,
            current=_live(options, below),
            clock=clock,
            sleep=_counting_down(sleep, clock, chosen.best.start, err),
        )
    except KeyboardInterrupt:
        print("wattprint: cancelled while waiting; nothing was run", file=err, flush=True)
        return 130
    if getattr(err, "isatty", lambda: False)():
        print(file=err)  # end the countdown line
    tracker.shift = shift_info(chosen, outcome)
    why = "the planned window" if outcome.reason == "window" else f"below {below:g} g/kWh"
    print(
        f"wattprint: starting at {outcome.started_at.isoformat(timespec='minutes')} ({why})",
        file=err,
        flush=True,
    )
    if run is None:
        from .run import run
    return run(command, tracker_options, json_file, tracker=tracker)
