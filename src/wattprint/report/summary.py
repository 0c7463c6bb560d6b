"""Summaries of ``emissions.csv`` files: wattprint's own and CodeCarbon's, read by column name.

Every row of such a file is a cumulative record of a run (wattprint's flush rows have status
"running"), so a run counts once, with its last row (latest timestamp; the later row in the file
on a tie). A column a file lacks (an older CodeCarbon) is unknown, never zero.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .whatif import RegionOption

GROUPINGS = ("project", "experiment", "run", "day")
COMPONENTS = ("cpu", "gpu", "ram")
#: The parts of a machine's energy, each with its column. The platform (board, fans, storage, PSU
#: losses) is estimated by wattprint's power model; it is not part of ``energy_consumed``.
PARTS = {"cpu": "cpu_energy", "gpu": "gpu_energy", "ram": "ram_energy",
         "platform": "platform_energy_kwh"}  # fmt: skip
#: What ``summarise(details=True)`` adds for the HTML page; ``--json`` leaves them out.
DETAIL_KEYS = ("runs", "regions")
#: Grids to set non-cloud runs' energy against, from low- to high-carbon (keys of zones.csv).
REFERENCE_ZONES = ("SE", "FR", "GB", "DE", "US", "IN", "ZA")
#: The fewest columns a CodeCarbon file has had, in every version.
_REQUIRED = ("timestamp", "project_name", "duration", "emissions")


@dataclass
class Run:
    """The last row of a run, parsed."""

    run_id: str
    file: str
    kind: str  # "wattprint" or "codecarbon"
    timestamp: datetime
    row: dict[str, str]
    order: int = 0

    @property
    def instant(self) -> datetime:
        """For ordering: aware times in UTC, naive ones (CodeCarbon's) taken as UTC."""
        ts = self.timestamp
        return ts.astimezone(timezone.utc).replace(tzinfo=None) if ts.tzinfo else ts

    def num(self, column: str) -> float | None:
        value = (self.row.get(column) or "").strip()
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None  # "nan" in a file is unknown too

    def text(self, column: str) -> str:
        return (self.row.get(column) or "").strip()

    @property
    def project(self) -> str:
        return self.text("project_name") or "(none)"

    @property
    def experiment(self) -> str:
        return self.text("experiment_name") or self.text("experiment_id") or "(none)"


def _parse_time(value: str, where: str) -> datetime:
    value = value.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: timestamp {value!r} is not an ISO date-time") from None


def parse_since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since {value!r} is not an ISO date (YYYY-MM-DD)") from None


def find_files(paths: list[Path]) -> list[Path]:
    """The CSV files named, a folder meaning its ``emissions*.csv`` (not the tasks file)."""
    if not paths:
        paths = [Path("emissions.csv")]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            # Tasks files (wattprint's emissions_tasks.csv, CodeCarbon's
            # emissions_<experiment>_<run>.csv) describe parts of runs: a folder means its runs.
            found = sorted(p for p in path.glob("emissions*.csv") if not _is_tasks_file(p))
            if not found:
                raise ValueError(f"{path}: no emissions*.csv in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return files


def _is_tasks_file(path: Path) -> bool:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader([f.readline()]), [])
    except (OSError, UnicodeDecodeError):
        return False  # read_runs says what is wrong with it
    return "task_name" in header


def read_runs(files: list[Path]) -> list[Run]:
    """The last row of every run in ``files``."""
    last: dict[str, Run] = {}
    order = 0
    for path in files:
        try:
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                header = reader.fieldnames or []
                kind = _kind(path, header)
                for line, row in enumerate(reader, start=2):
                    order += 1
                    if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                        continue
                    if None in row:
                        raise ValueError(f"{path}:{line}: more fields than the header has")
                    ts = _parse_time(row.get("timestamp") or "", f"{path}:{line}")
                    run_id = (row.get("run_id") or "").strip() or f"{path}:{line}"
                    run = Run(run_id, str(path), kind, ts, row, order)
                    old = last.get(run_id)
                    if old is None or (run.instant, order) >= (old.instant, old.order):
                        last[run_id] = run
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text CSV file") from None
    return list(last.values())


def _kind(path: Path, header: list[str]) -> str:
    names = set(header)
    if "task_name" in names:
        raise ValueError(f"{path}: a tasks file; report reads the runs' emissions.csv")
    if "wattprint_version" in names and "status" in names:
        return "wattprint"
    missing = [c for c in _REQUIRED if c not in names]
    if missing or not ("run_id" in names or "experiment_id" in names):
        raise ValueError(
            f"{path}: neither a wattprint nor a CodeCarbon emissions CSV "
            f"(missing columns: {', '.join(missing) or 'run_id'})"
        )
    return "codecarbon"


def _group_key(run: Run, by: str) -> str:
    if by == "project":
        return run.project
    if by == "experiment":
        return run.experiment
    if by == "run":
        return run.run_id
    return run.timestamp.date().isoformat()


def _sum_known(values: list[float | None]) -> tuple[float | None, int]:
    """The sum of the known values (None if none is known) and how many are unknown."""
    known = [v for v in values if v is not None]
    return (sum(known) if known else None), len(values) - len(known)


def summarise_group(key: str, runs: list[Run]) -> dict[str, Any]:
    from .equivalents import equivalents

    out: dict[str, Any] = {"group": key, "runs": len(runs)}
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
    emissions: dict[str, Any] = {"kg": kg, "unknown_runs": unknown, "low_kg": None,
                                 "high_kg": None, "bounds": ""}  # fmt: skip
    lows = [r.num("emissions_low_kg") for r in runs]
    highs = [r.num("emissions_high_kg") for r in runs]
    unbounded = sum(1 for lo, hi in zip(lows, highs, strict=True) if lo is None or hi is None)
    if unbounded == 0 and runs:
        emissions["low_kg"] = sum(v for v in lows if v is not None)
        emissions["high_kg"] = sum(v for v in highs if v is not None)
        emissions["bounds"] = "from the runs' bounds"
    else:
        cc = sum(1 for r in runs if r.kind == "codecarbon")
        why = f"{cc} CodeCarbon run(s) have none" if cc else f"{unbounded} run(s) have none"
        emissions["bounds"] = f"no bounds: {why}"
    out["emissions"] = emissions

    machine: dict[str, Any] = {}
    for column, name in (("machine_energy_kwh", "energy_kwh"),
                         ("machine_emissions_kg", "emissions_kg")):  # fmt: skip
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
    sources = sorted({r.text("intensity_source") or ("codecarbon (not stated)"
                      if r.kind == "codecarbon" else "unknown") for r in runs})  # fmt: skip
    kinds = sorted({r.text("intensity_kind") or "unknown" for r in runs})
    out["intensity"] = {
        "g_per_kwh": grams / kwh if kwh > 0 else None,
        "sources": sources,
        "kinds": kinds,
    }
    methods: dict[str, list[str]] = {}
    for c in COMPONENTS:
        methods[c] = sorted({r.text(f"{c}_method") or
                             ("codecarbon (not stated)" if r.kind == "codecarbon" else "unknown")
                             for r in runs})  # fmt: skip
    out["methods"] = methods

    # Equivalents, with the car figure of the country that emitted the most.
    by_country: dict[str, float] = defaultdict(float)
    for r in runs:
        by_country[r.text("country_iso_code").upper()] += r.num("emissions") or 0.0
    country = max(by_country, key=lambda k: by_country[k]) if by_country else ""
    out["country"] = country or None
    out["equivalents"] = [
        {"label": e.label, "amount": e.amount, "unit": e.unit, "factor_g": e.factor_g,
         "year": e.year, "source": e.source, "license": e.license, "note": e.note}
        for e in equivalents(kg or 0.0, country or None)
    ]  # fmt: skip
    out["elsewhere"] = _elsewhere(runs)
    out["at_another_time"] = _at_another_time(runs)
    return out


def _at_another_time(runs: list[Run]) -> dict[str, Any] | None:
    """What starting each run at its zone's cleanest typical-day time would have saved."""
    from .whatif import runs_at_another_time

    return runs_at_another_time([
        (r.text("intensity_zone"), r.timestamp - timedelta(seconds=r.num("duration") or 0.0),
         r.num("duration") or 0.0, r.num("energy_consumed") or 0.0)
        for r in runs if r.timestamp.tzinfo is not None
    ])  # fmt: skip


def _elsewhere(runs: list[Run]) -> list[dict[str, Any]]:
    """For cloud runs, per provider: the same IT energy in the provider's lowest-carbon region."""
    from .whatif import region_options

    out = []
    for provider, group in sorted(_cloud_runs(runs).items()):
        it_kwh, actual = _it_energy(group)
        try:
            options = region_options(provider, it_kwh)
        except ValueError as exc:
            out.append({"provider": provider, "runs": len(group), "note": str(exc)})
            continue
        if not options:
            continue
        best = options[0]
        out.append(
            {
                "provider": best.provider,
                "runs": len(group),
                "regions": sorted({r.text("cloud_region") for r in group}),
                "actual_kg": actual,
                "it_energy_kwh": it_kwh,
                "best_region": best.region,
                "label": best.label,
                "pue": best.pue,
                "intensity_g_per_kwh": best.intensity.value,
                "intensity_source": best.intensity.source,
                "kg": best.emissions_kg,
            }
        )
    return out


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
        "run_name": run.text("run_name"), "file": run.file, "source": run.kind,
        "status": run.text("status") or "unknown",
        "end": run.instant.isoformat(sep=" ", timespec="seconds"),  # UTC
        "duration_s": run.num("duration"),
    }  # fmt: skip
    for key, column in (("energy_kwh", "energy_consumed"), ("energy_low_kwh", "energy_low_kwh"),
                        ("energy_high_kwh", "energy_high_kwh"), ("emissions_kg", "emissions"),
                        ("emissions_low_kg", "emissions_low_kg"),
                        ("emissions_high_kg", "emissions_high_kg")):  # fmt: skip
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
            out.append({"kind": "cloud", "provider": provider, "runs": len(group),
                        "note": str(exc), "options": []})  # fmt: skip
            continue
        own = set()
        for r in group:
            found = tables.cloud_region(provider, r.text("cloud_region"))
            own.add(found.region if found else r.text("cloud_region"))
        out.append({
            "kind": "cloud", "provider": tables.normalise_provider(provider) or provider,
            "runs": len(group), "own_regions": sorted(own), "it_energy_kwh": it_kwh,
            "actual_kg": actual,
            "options": [{"label": o.label, "region": o.region, "own": o.region in own,
                         "pue": o.pue, "intensity_g_per_kwh": o.intensity.value,
                         "source": o.intensity.source, "kg": o.emissions_kg}
                        for o in _pick(options, own)],
        })  # fmt: skip
    in_cloud = {id(r) for group in cloud.values() for r in group}
    rest = [r for r in runs if id(r) not in in_cloud and r.num("energy_consumed") is not None]
    if rest:
        kwh = sum(r.num("energy_consumed") or 0.0 for r in rest)
        actual, unknown = _sum_known([r.num("emissions") for r in rest])
        # A Location with no place at all gets the world average.
        grids = [annual(Location())] + [annual(Location(zone=z)) for z in REFERENCE_ZONES]
        names = {"WORLD": "world average"}
        out.append({
            # "as run" only where every run says its emissions: else it would not compare
            "kind": "grid", "runs": len(rest), "energy_kwh": kwh,
            "actual_kg": actual if not unknown else None, "actual_unknown_runs": unknown,
            "options": [{"label": names.get(it.zone) or _zone_name(it.zone), "zone": it.zone,
                         "intensity_g_per_kwh": it.value, "year": it.year,
                         "source": it.source, "kg": kwh * it.value / 1000.0}
                        for it in grids],
        })  # fmt: skip
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
    if by not in GROUPINGS:
        raise ValueError(f"--by {by!r}: use one of {', '.join(GROUPINGS)}")
    since_day = parse_since(since)
    files = find_files(paths)
    runs = read_runs(files)
    if since_day is not None:
        runs = [r for r in runs if r.timestamp.date() >= since_day]
    groups: dict[str, list[Run]] = defaultdict(list)
    for r in sorted(runs, key=lambda r: (r.instant, r.order)):
        groups[_group_key(r, by)].append(r)
    out = {
        "by": by,
        "since": since_day.isoformat() if since_day else None,
        "files": [str(f) for f in files],
        "groups": [summarise_group(k, v) for k, v in sorted(groups.items())],
        "total": summarise_group("total", runs) if runs else None,
    }
    if details:
        timeline = sorted(runs, key=lambda r: (r.instant, r.order))
        out["runs"] = [run_row(r, _group_key(r, by)) for r in timeline]
        out["regions"] = compare_regions(timeline)
    return out
