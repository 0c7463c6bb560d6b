"""Summaries of runs: ONE summariser for the terminal report, the HTML page and the server.

A ``Run`` is a run's last row, as a plain mapping of column -> value (text, as a CSV has it, or
numbers, as a database has them), read by the record's column spec (``wattprint.records``).
``report.read`` makes them from CSV files; the server makes them from its rows. The rules live
here, once:

* unknown, never zero: a column a run lacks (an older CodeCarbon), an empty cell, a value that
  is not a number, not finite, or negative where a quantity cannot be (energy, time, mass) is
  unknown; a total counts the runs whose value is unknown instead of adding 0 for them;
* bounds only when every run has them: a group's low/high emissions are the sums of its runs'
  bounds when each run has both, else none, and the reason is said.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..records import BY_NAME, parse_value

if TYPE_CHECKING:
    from .whatif import RegionOption

GROUPINGS = ("project", "experiment", "run", "day", "job")
COMPONENTS = ("cpu", "gpu", "ram")
#: The parts of a machine's energy, each with its column. The platform (board, fans, storage, PSU
#: losses) is estimated by wattprint's power model; it is not part of ``energy_consumed``.
PARTS = {
    "cpu": "cpu_energy",
    "gpu": "gpu_energy",
    "ram": "ram_energy",
    "platform": "platform_energy_kwh",
}
#: What ``summarise(details=True)`` adds for the HTML page; ``--json`` leaves them out.
DETAIL_KEYS = ("runs", "regions", "power", "mix", "places", "projects")
#: Runs whose power over time the page draws at most (the latest ones that have a journal).
POWER_RUNS = 20
#: Grids to set non-cloud runs' energy against, from low- to high-carbon (keys of zones.csv).
REFERENCE_ZONES = ("SE", "FR", "GB", "DE", "US", "IN", "ZA")
#: Numeric columns that may be negative; every other quantity (energy, power, time, mass,
#: intensity, PUE, counts, percentages) is unknown when negative.
SIGNED = frozenset({"longitude", "latitude"})


class Run:
    """A run's last row: ``Run({"run_id": ..., "timestamp": ..., "emissions": "0.1", ...})``.

    ``row`` maps column names to text (a CSV's cells) or numbers and datetimes (a database's);
    ``kind`` is "wattprint" or "codecarbon" (by default: whether it has a wattprint_version).
    ValueError when the row has no run id (and no ``default_id``) or no valid timestamp.
    """

    def __init__(
        self,
        row: Mapping[str, Any],
        *,
        file: str = "",
        kind: str | None = None,
        order: int = 0,
        default_id: str | None = None,
    ) -> None:
        self.row = dict(row)
        self.file = file
        self.order = order
        self.line = 0  # the row's line in its file, where it has one
        self.kind = kind or ("wattprint" if self.text("wattprint_version") else "codecarbon")
        run_id = self.text("run_id") or default_id
        if not run_id:
            raise ValueError("a row without a run_id")
        self.run_id = run_id
        self.timestamp = _timestamp(self.row.get("timestamp"))
        self.instant = _utc(self.timestamp)

    def __repr__(self) -> str:
        return f"Run({self.run_id!r}, {self.kind}, {self.timestamp.isoformat()})"

    def num(self, column: str) -> float | None:
        """The column as a number; None where unknown (see the module's rules). KeyError for
        a name the record's spec does not have: the summariser reads only the spec's columns."""
        spec = BY_NAME[column]
        value = self.row.get(column)
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            number: float | None = float(value)
        elif isinstance(value, str):
            number = parse_value(spec, value) if spec.kind != "text" else _float(value)
        else:
            number = None
        if number is None or not math.isfinite(number):
            return None
        if number < 0 and column not in SIGNED:
            return None
        return float(number)

    def invalid(self) -> list[str]:
        """The numeric columns that have a value which is not a valid one (counted unknown)."""
        return [
            name
            for name, value in self.row.items()
            if name in BY_NAME
            and BY_NAME[name].kind in ("float", "int")
            and value is not None
            and str(value).strip() != ""
            and self.num(name) is None
        ]

    def text(self, column: str) -> str:
        BY_NAME[column]  # noqa: B018 - a name outside the spec is a bug here, not an empty cell
        value = self.row.get(column)
        return "" if value is None else str(value).strip()

    @property
    def project(self) -> str:
        return self.text("project_name") or "(none)"

    @property
    def experiment(self) -> str:
        return self.text("experiment_name") or self.text("experiment_id") or "(none)"

    @property
    def start(self) -> datetime | None:
        """When the run started: its ``started_at``, else its end less its duration; None when
        that is not a date (a duration longer than the calendar)."""
        started = self.row.get("started_at")
        if started not in (None, ""):
            try:
                return _timestamp(started)
            except ValueError:
                pass  # a damaged cell: the end and the duration still say it
        try:
            return self.timestamp - timedelta(seconds=self.num("duration") or 0.0)
        except OverflowError:
            return None

    @property
    def on_cloud(self) -> bool:
        return self.text("on_cloud").upper() in ("Y", "YES", "TRUE", "1")

    @property
    def location(self) -> str:
        """Where the run ran, as its row says: the cloud region, else the grid zone, the
        country and the region; "unknown" when the row says nothing."""
        cloud = " ".join(x for x in (self.text("cloud_provider"), self.text("cloud_region")) if x)
        on_cloud = self.on_cloud
        zone = self.text("intensity_zone")
        country = self.text("country_name") or self.text("country_iso_code")
        region = self.text("region")
        place = ", ".join(x for x in (country, region) if x)
        parts = [cloud if on_cloud and cloud else "", zone if zone and zone != place else "", place]
        text = " · ".join(p for p in parts if p)
        return text or "unknown"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value or "").strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"timestamp {text[:40]!r} is not an ISO date-time") from None


def _utc(ts: datetime) -> datetime:
    """For ordering: aware times in UTC, naive ones (CodeCarbon's) taken as UTC."""
    if ts.tzinfo is None:
        return ts
    try:
        return ts.astimezone(timezone.utc).replace(tzinfo=None)
    except (OverflowError, ValueError):  # year 1 east of UTC, year 9999 west of it
        raise ValueError(f"timestamp {ts.isoformat()} is out of range in UTC") from None


def parse_since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since {value!r} is not an ISO date (YYYY-MM-DD)") from None


def find_files(paths: list[Path]) -> list[Path]:
    from .read import find_files

    return find_files(paths)


def read_runs(files: list[Path]) -> list[Run]:
    from .read import read_runs

    return read_runs(files)


def _group_key(run: Run, by: str) -> tuple[str, ...]:
    """What the runs of one group share. An experiment belongs to its project: two projects'
    experiments of the same name are two groups."""
    if by == "project":
        return (run.project,)
    if by == "experiment":
        return (run.project, run.experiment)
    if by == "run":
        return (run.run_id,)
    if by == "job":  # a distributed job's nodes, each its own run, joined; else the run alone
        return (run.text("job_id") or f"run {run.run_id}",)
    return (run.timestamp.date().isoformat(),)


def group_label(key: tuple[str, ...]) -> str:
    """The group's name as shown: ``project / experiment`` for experiments."""
    return " / ".join(key)


def _sum_known(values: list[float | None]) -> tuple[float | None, int]:
    """The sum of the known values (None if none is known, or if it overflows) and how many
    are unknown."""
    known = [v for v in values if v is not None]
    try:
        total = math.fsum(known) if known else None
    except OverflowError:
        total = None
    if total is not None and not math.isfinite(total):
        total = None
    return total, len(values) - len(known)


def equivalents_of(kg: float | None, country: str | None) -> list[dict[str, Any]]:
    """A group's equivalents (the car figure of ``country``), as the summaries give them."""
    from .equivalents import equivalents

    return [
        {
            "label": e.label,
            "amount": e.amount,
            "unit": e.unit,
            "factor_g": e.factor_g,
            "year": e.year,
            "source": e.source,
            "license": e.license,
            "note": e.note,
        }
        for e in equivalents(kg or 0.0, country)
    ]


def summarise_group(key: str, runs: list[Run]) -> dict[str, Any]:
    out: dict[str, Any] = {"group": key, "runs": len(runs)}
    out.update(_labels(runs))
    out["statuses"] = dict(sorted(Counter(r.text("status") or "unknown" for r in runs).items()))
    out["sources"] = dict(sorted(Counter(r.kind for r in runs).items()))
    duration, _ = _sum_known([r.num("duration") for r in runs])
    out["duration_s"] = duration or 0.0
    energy: dict[str, Any] = {}
    for c, column in PARTS.items():
        total, unknown = _sum_known([r.num(column) for r in runs])
        energy[c] = {"kwh": total, "unknown_runs": unknown}
    total, unknown = _sum_known([r.num("energy_consumed") for r in runs])
    energy["total"] = {"kwh": total, "unknown_runs": unknown}
    out["energy"] = energy

    kg, unknown = _sum_known([r.num("emissions") for r in runs])
    emissions: dict[str, Any] = {
        "kg": kg,
        "unknown_runs": unknown,
        "low_kg": None,
        "high_kg": None,
        "bounds": "",
    }
    lows = [r.num("emissions_low_kg") for r in runs]
    highs = [r.num("emissions_high_kg") for r in runs]
    unbounded = sum(1 for lo, hi in zip(lows, highs, strict=True) if lo is None or hi is None)
    low, _ = _sum_known(lows)
    high, _ = _sum_known(highs)
    if unbounded == 0 and runs and low is not None and high is not None:
        emissions["low_kg"], emissions["high_kg"] = low, high
        emissions["bounds"] = "from the runs' bounds"
    else:
        cc = sum(1 for r in runs if r.kind == "codecarbon")
        why = f"{cc} CodeCarbon run(s) have none" if cc else f"{unbounded} run(s) have none"
        emissions["bounds"] = f"no bounds: {why}"
    out["emissions"] = emissions

    machine: dict[str, Any] = {}
    for column, name in (
        ("machine_energy_kwh", "energy_kwh"),
        ("machine_emissions_kg", "emissions_kg"),
    ):
        values = [r.num(column) for r in runs]
        total, unknown = _sum_known(values)
        machine[name] = total
        machine[f"{name}_unknown_runs"] = unknown
    out["machine"] = machine

    # Energy-weighted mean intensity: grams over kWh, for the runs that have both.
    grams = kwh = 0.0
    for r in runs:
        e, m = r.num("energy_consumed"), r.num("emissions")
        if e is not None and m is not None and e > 0:
            grams += m * 1000.0
            kwh += e
    sources = sorted(
        {
            r.text("intensity_source")
            or ("codecarbon (not stated)" if r.kind == "codecarbon" else "unknown")
            for r in runs
        }
    )
    kinds = sorted({r.text("intensity_kind") or "unknown" for r in runs})
    out["intensity"] = {
        "g_per_kwh": grams / kwh if kwh > 0 and math.isfinite(grams / kwh) else None,
        "sources": sources,
        "kinds": kinds,
    }
    methods: dict[str, list[str]] = {}
    for c in COMPONENTS:
        methods[c] = sorted(
            {
                r.text(f"{c}_method")
                or ("codecarbon (not stated)" if r.kind == "codecarbon" else "unknown")
                for r in runs
            }
        )
    out["methods"] = methods

    # Equivalents, with the car figure of the country that emitted the most.
    by_country: dict[str, float] = defaultdict(float)
    for r in runs:
        by_country[r.text("country_iso_code").upper()] += r.num("emissions") or 0.0
    country = max(by_country, key=lambda k: by_country[k]) if by_country else ""
    out["country"] = country or None
    out["equivalents"] = equivalents_of(kg, country or None)
    out["elsewhere"] = _elsewhere(runs)
    out["at_another_time"] = _at_another_time(runs)
    from .footprint import summarise_footprint

    out["footprint"] = summarise_footprint(runs)  # beside the emissions, never in them
    return out


def _start_utc(run: Run) -> datetime | None:
    """The run's start in UTC (naive), or None when it is not known or not a UTC date."""
    try:
        return _utc(run.start) if run.start is not None else None
    except ValueError:
        return None


def _text(when: datetime | None) -> str | None:
    return when.isoformat(sep=" ", timespec="seconds") if when is not None else None


def _labels(runs: list[Run]) -> dict[str, Any]:
    """What tells a group's runs apart from others': its project and experiment (None when
    its runs have several), when its first run started (UTC) and where its runs ran."""
    projects = {r.project for r in runs}
    experiments = {r.experiment for r in runs}
    starts = [_start_utc(r) for r in runs]
    first = min((x for x in starts if x is not None), default=None)
    return {
        "project": projects.pop() if len(projects) == 1 else None,
        "experiment": experiments.pop() if len(experiments) == 1 else None,
        "run_names": sorted({r.text("run_name") for r in runs if r.text("run_name")}),
        "start": _text(first),
        "locations": sorted({r.location for r in runs}),
    }


def _at_another_time(runs: list[Run]) -> dict[str, Any] | None:
    """What starting each run at its zone's cleanest typical-day time would have saved."""
    from .whatif import runs_at_another_time

    return runs_at_another_time(
        [
            (
                r.text("intensity_zone"),
                r.timestamp - timedelta(seconds=r.num("duration") or 0.0),
                r.num("duration") or 0.0,
                r.num("energy_consumed") or 0.0,
            )
            for r in runs
            if r.timestamp.tzinfo is not None
        ]
    )


def _elsewhere(runs: list[Run]) -> list[dict[str, Any]]:
    """For cloud runs, per provider: the same IT energy in the provider's lowest-carbon region."""
    out = []
    for provider, group in sorted(_cloud_runs(runs).items()):
        it_kwh, actual = _it_energy(group)
        regions = {r.text("cloud_region") for r in group}
        entry = cheapest_region(provider, len(group), regions, it_kwh, actual)
        if entry is not None:
            out.append(entry)
    return out


def cheapest_region(
    provider: str, runs: int, regions: set[str], it_kwh: float, actual: float
) -> dict[str, Any] | None:
    """One provider's runs (their regions, IT energy in kWh and emissions in kg) set against
    the provider's lowest-carbon region; None when no region of it has a known intensity."""
    from .whatif import region_options

    try:
        options = region_options(provider, it_kwh)
    except ValueError as exc:
        return {"provider": provider, "runs": runs, "note": str(exc)}
    if not options:
        return None
    best = options[0]
    return {
        "provider": best.provider,
        "runs": runs,
        "regions": sorted(regions),
        "actual_kg": actual,
        "it_energy_kwh": it_kwh,
        "best_region": best.region,
        "label": best.label,
        "pue": best.pue,
        "intensity_g_per_kwh": best.intensity.value,
        "intensity_source": best.intensity.source,
        "kg": best.emissions_kg,
    }


def _cloud_runs(runs: list[Run]) -> dict[str, list[Run]]:
    per: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        if r.text("on_cloud").upper() in ("Y", "YES", "TRUE", "1") and r.text("cloud_provider"):
            per[r.text("cloud_provider").lower()].append(r)
    return per


def _it_energy(runs: list[Run]) -> tuple[float, float]:
    """The runs' IT energy (kWh, without their PUE) and their emissions (kg)."""
    it_kwh = actual = 0.0
    for r in runs:
        # energy_consumed includes the PUE, as CodeCarbon's does
        it_kwh += (r.num("energy_consumed") or 0.0) / (r.num("pue") or 1.0)
        actual += r.num("emissions") or 0.0
    return it_kwh, actual


def run_row(run: Run, group: str) -> dict[str, Any]:
    """One run's figures for the charts; None where its file does not say."""
    row: dict[str, Any] = {
        "run_id": run.run_id, "group": group, "project": run.project,
        "experiment": run.experiment, "run_name": run.text("run_name"), "file": run.file,
        "source": run.kind, "location": run.location,
        "start": _text(_start_utc(run)),  # UTC
        "zone": run.text("intensity_zone"), "country": run.text("country_iso_code").upper(),
        "latitude": run.num("latitude"), "longitude": run.num("longitude"),
        "cloud_provider": run.text("cloud_provider") if run.on_cloud else "",
        "cloud_region": run.text("cloud_region") if run.on_cloud else "",
        "status": run.text("status") or "unknown",
        "end": run.instant.isoformat(sep=" ", timespec="seconds"),  # UTC
        "duration_s": run.num("duration"),
    }  # fmt: skip
    for key, column in (
        ("energy_kwh", "energy_consumed"),
        ("energy_low_kwh", "energy_low_kwh"),
        ("energy_high_kwh", "energy_high_kwh"),
        ("emissions_kg", "emissions"),
        ("emissions_low_kg", "emissions_low_kg"),
        ("emissions_high_kg", "emissions_high_kg"),
    ):
        row[key] = run.num(column)
    row["parts_kwh"] = {c: run.num(column) for c, column in PARTS.items()}
    return row


def _pick(options: list[RegionOption], own: set[str]) -> list[RegionOption]:
    """Several regions, not all 30 to 60: the lowest-carbon ones, the runs' own, the highest."""
    if len(options) <= 12:
        return options
    keep = options[:6] + [o for o in options if o.region in own] + options[-3:]
    return sorted({o.region: o for o in keep}.values(), key=lambda o: (o.emissions_kg, o.region))


def compare_regions(runs: list[Run]) -> list[dict[str, Any]]:
    """Had the runs run elsewhere: cloud runs in other regions of their provider (each region's
    annual intensity and PUE); the other runs' energy at reference grids' annual averages."""
    from ..carbon import tables
    from ..carbon.grid import annual
    from ..carbon.location import Location
    from .whatif import region_options

    out: list[dict[str, Any]] = []
    cloud = _cloud_runs(runs)
    for provider, group in sorted(cloud.items()):
        it_kwh, actual = _it_energy(group)
        try:
            options = region_options(provider, it_kwh)
        except ValueError as exc:
            out.append(
                {
                    "kind": "cloud",
                    "provider": provider,
                    "runs": len(group),
                    "note": str(exc),
                    "options": [],
                }
            )
            continue
        own = set()
        for r in group:
            found = tables.cloud_region(provider, r.text("cloud_region"))
            own.add(found.region if found else r.text("cloud_region"))
        out.append(
            {
                "kind": "cloud",
                "provider": tables.normalise_provider(provider) or provider,
                "runs": len(group),
                "own_regions": sorted(own),
                "it_energy_kwh": it_kwh,
                "actual_kg": actual,
                "options": [
                    {
                        "label": o.label,
                        "region": o.region,
                        "own": o.region in own,
                        "pue": o.pue,
                        "intensity_g_per_kwh": o.intensity.value,
                        "source": o.intensity.source,
                        "kg": o.emissions_kg,
                    }
                    for o in _pick(options, own)
                ],
            }
        )
    in_cloud = {id(r) for group in cloud.values() for r in group}
    rest = [r for r in runs if id(r) not in in_cloud and r.num("energy_consumed") is not None]
    if rest:
        kwh = sum(r.num("energy_consumed") or 0.0 for r in rest)
        actual, unknown = _sum_known([r.num("emissions") for r in rest])
        # A Location with no place at all gets the world average.
        grids = [annual(Location())] + [annual(Location(zone=z)) for z in REFERENCE_ZONES]
        names = {"WORLD": "world average"}
        out.append(
            {
                # "as run" only where every run says its emissions: else it would not compare
                "kind": "grid",
                "runs": len(rest),
                "energy_kwh": kwh,
                "actual_kg": actual if not unknown else None,
                "actual_unknown_runs": unknown,
                "options": [
                    {
                        "label": names.get(it.zone) or _zone_name(it.zone),
                        "zone": it.zone,
                        "intensity_g_per_kwh": it.value,
                        "year": it.year,
                        "source": it.source,
                        "kg": kwh * it.value / 1000.0,
                    }
                    for it in grids
                ],
            }
        )
    return out


def _zone_name(key: str) -> str:
    from ..carbon import tables

    zone = tables.zone(key)
    return f"{zone.name} ({key})" if zone else key


def summarise(
    paths: list[Path], by: str = "project", since: str | None = None, *, details: bool = False
) -> dict[str, Any]:
    """Everything ``wattprint report`` shows, as plain data; with ``details``, also each run
    (``runs``) and the region comparison (``regions``) that the HTML page draws."""
    from .read import find_files, read_runs

    if by not in GROUPINGS:
        raise ValueError(f"--by {by!r}: use one of {', '.join(GROUPINGS)}")
    since_day = parse_since(since)
    files = find_files(paths)
    out = summarise_runs(read_runs(files), by, since_day, details=details)
    out["files"] = [str(f) for f in files]
    return out


def summarise_runs(
    runs: list[Run],
    by: str = "project",
    since: date | None = None,
    *,
    details: bool = False,
    per_project: bool = True,
) -> dict[str, Any]:
    """``summarise`` of runs from any source (``files`` empty): groups, total, and with
    ``details`` what the HTML page draws (see ``_details``) and, when the runs are of several
    projects and ``per_project``, the same for each project alone (``projects``)."""
    if by not in GROUPINGS:
        raise ValueError(f"by {by!r}: use one of {', '.join(GROUPINGS)}")
    if since is not None:
        runs = [r for r in runs if r.timestamp.date() >= since]
    groups: dict[tuple[str, ...], list[Run]] = defaultdict(list)
    timeline = sorted(runs, key=lambda r: (r.instant, r.order))
    for r in timeline:
        groups[_group_key(r, by)].append(r)
    out: dict[str, Any] = {
        "by": by,
        "since": since.isoformat() if since else None,
        "files": [],
        "groups": [summarise_group(group_label(k), v) for k, v in sorted(groups.items())],
        "total": summarise_group("total", runs) if runs else None,
    }
    if by == "job":  # which nodes (and how many ranks) each job's total joins
        for group in out["groups"]:
            members = groups[(group["group"],)]  # a job's key is its one label
            group["nodes"] = sorted({r.text("node") or "unknown" for r in members})
            sizes = {r.num("world_size") for r in members} - {None}
            group["world_size"] = int(max(sizes)) if sizes else None
    if details:
        journals: dict[str, Any] = {}  # each journal read once for every view
        out.update(_details(timeline, by, journals))
        projects = sorted({r.project for r in timeline})
        if per_project and len(projects) > 1:
            out["projects"] = {}
            for p in projects:
                view = summarise_runs(
                    [r for r in timeline if r.project == p], by, per_project=False
                )
                view.update(_details([r for r in timeline if r.project == p], by, journals))
                out["projects"][p] = _finite(view)
    return _finite(out)


def _details(timeline: list[Run], by: str, journals: dict[str, Any]) -> dict[str, Any]:
    """What the HTML page draws besides the groups: each run, the region comparison, the power
    over time of the latest runs that have a journal, the zones' energy mix, the runs' places.
    ``journals`` keeps the power series read so far, by journal path."""
    from .geo import run_places
    from .mix import runs_mix, zone_of
    from .power import journal_path, power_series

    rows = [run_row(r, group_label(_group_key(r, by))) for r in timeline]
    power = []
    for r, row in zip(reversed(timeline), reversed(rows), strict=True):
        if len(power) >= POWER_RUNS:
            break
        path = journal_path(r.file, r.run_id) if r.file else None
        if path is not None and str(path) not in journals:
            journals[str(path)] = power_series(path)
        series = journals[str(path)] if path is not None else None
        if series is not None:
            power.append(
                {
                    "run_id": r.run_id,
                    "project": r.project,
                    "experiment": r.experiment,
                    "start": row["start"],
                    "journal": str(path),
                    **series,
                }
            )
    mix = runs_mix((zone_of(row["zone"], row["country"]), row["energy_kwh"]) for row in rows)
    return {
        "runs": rows,
        "regions": compare_regions(timeline),
        "power": power[::-1],
        "mix": mix,
        "places": run_places(rows),
    }


def _finite(data: Any) -> Any:
    """Figures derived from huge (but finite) inputs can overflow: such a figure is unknown."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    return data
