"""Fit wattprint's whole-machine power model to SPECpower_ssj2008 results.

Usage (needs numpy and scipy, e.g. ``pip install -e '.[bench]'``; the package itself does not)::

    python tools/fit_power_model.py [--shared PATH]  # write estimate/data/power_model.json
    python tools/fit_power_model.py --check          # exit 1 if the committed file is stale
    python tools/fit_power_model.py --report         # also print the fit's diagnostics

Input: ``<shared>/specpower/calibration.csv`` (wall power of 579 servers at 100 % load and at
active idle, with CPU description, chips, threads and memory). Each system's CPU description is
looked up in ``wattprint.hardware``'s CPU table for its TDP, vendor and launch year: the runtime
knows a machine only through the same table, so the fit sees what the runtime will see. No
measured power of any CPU model is kept: the output is coefficients on features.

The model (``wattprint.estimate.model`` evaluates it): for each of active idle and full load,

    wall watts = platform(g) + S x socket(g) + S x TDP x cpu(g) + M x ram(g)

with S sockets, TDP the table's TDP per socket in W, M memory in GB, and each coefficient a
non-negative piecewise-linear function (a sum of "tents") of the hardware generation g, read
from the CPU's launch year (nodes at the first and last calibration launch years and
``INNER_NODES``), from log2 of the threads per socket (``TPS_NODES``; 4 threads per socket in
2008, 256 in 2023), or from log2 threads per socket minus its trend for the launch year
(``REL_NODES``). Three variants, by what the runtime knows about the CPU:

``tdp-year``  TDP and launch year. Idle: the constant, socket, TDP and memory coefficients over
              the year, the socket and TDP ones also over threads per socket. Full load: the
              TDP coefficient over the year and the relative threads per socket (an entry part,
              Xeon E3 or E-2xxx, has few threads for its year and draws well under its TDP),
              the others over the year.
``tdp``       TDP, no launch year: every coefficient over threads per socket.
``threads``   unknown or generic CPU: threads x cpu(g) instead of S x TDP x cpu(g), every
              coefficient over threads per socket; fitted on every system, whatever its CPU,
              since any CPU can be unknown to the runtime.

The terms were chosen by leave-one-CPU-model-out error on this file (a handful of candidate
sets were compared; ``benchmarks/specpower.py`` reruns the final choice nested, bounds included).

Fit: least absolute *relative* error (a 60 W and a 6 kW server count alike, and the odd
data-entry error, such as a 2 GB 8-socket server, does not pull the fit), every coefficient
>= 0 so that every component is >= 0 for every machine; iteratively reweighted non-negative
least squares (scipy's NNLS).

Components: the TDP terms are the CPU, the memory terms the RAM, the constant and per-socket
terms the platform (board, fans, storage, PSU losses, voltage regulators); for an unknown CPU
the thread and per-socket terms stand in for the TDP and are the CPU. This is the regression's
attribution of wall power (each part includes its share of PSU losses), not a measurement of
each part: SPECpower measures the wall only.

Bounds: each system is predicted by a fit without any system of its CPU model (leave one CPU
model out); the 5th and 95th percentiles of measured / predicted over all systems are the low
and high factors, per variant and per point.

The load shape between idle and full load comes from the published 10 %-step curves in
``LOAD_CURVES`` (see there).

Output is deterministic: coefficients rounded to 6 significant digits, keys in a fixed order,
UTF-8, ``\\n`` line endings, no timestamp.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from wattprint.estimate import model as runtime  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "data"
CALIBRATION = "specpower/calibration.csv"
OUTPUT = REPO / "src" / "wattprint" / "estimate" / "data" / "power_model.json"

# Interior nodes of the piecewise-linear year functions; the first and last nodes are the
# earliest and latest launch years of the calibration CPUs.
INNER_NODES = (2016, 2021)
# Nodes of the piecewise-linear functions of log2(threads per socket), the generation proxy
# where the launch year is not known (4 threads per socket in 2008, 256 in 2023).
TPS_NODES = (1, 3, 5, 7, 9)
# Nodes over log2(threads per socket) minus its linear trend over launch years (fitted to the
# calibration CPUs' threads and years; no power data): -3 is a part with 1/8 of its year's
# typical threads per socket.
REL_NODES = (-3.0, -1.5, 0.0, 1.5)
TREND_YEAR = 2016
QUANTILES = (0.05, 0.95)
# IRLS for the least absolute relative error: at most this many steps; relative errors below
# the floor weigh as much as the floor (keeps the weights finite).
IRLS_STEPS = 100
IRLS_FLOOR = 0.01

SPEC_LICENSE = (
    "SPECpower_ssj2008 results are published by the Standard Performance Evaluation "
    "Corporation at https://www.spec.org/power_ssj2008/results/ with no open data license; "
    "they are used here under SPEC's Fair Use Rule (https://www.spec.org/fairuse.html): only "
    "coefficients fitted to them are shipped, no result is redistributed. SPEC(R) and "
    "SPECpower_ssj(R) are registered trademarks of the Standard Performance Evaluation "
    "Corporation."
)


def terms_for(variant: str, point: str, settings: dict[str, Any]) -> list[list[str]]:
    """[term, component] per variant and point; the runtime evaluates the same names.

    ``tYYYY`` is a tent over the launch year peaking at YYYY, ``qN`` one over log2(threads per
    socket) peaking at N, ``rK`` one over log2(threads per socket) minus the calibration
    CPUs' trend for the launch year, peaking at ``REL_NODES[K]``. A sum of tents with
    coefficients >= 0 is a non-negative piecewise-linear function.
    """
    year = [f"t{n}" for n in settings["year_nodes"]]
    tps = [f"q{n}" for n in settings["tps_nodes"]]
    rel = [f"r{k}" for k in range(len(settings["rel_nodes"]))]
    if variant == "tdp-year":
        if point == "full":
            # An entry part (few threads per socket for its year: Xeon E3, E-2xxx) draws well
            # under its TDP at full load; the relative term sees that, the absolute one not.
            sockets, cpu = year, year + rel
        else:
            sockets, cpu = year + tps, year + tps
        out = [[t, "platform"] for t in year]
        out += [[f"S*{t}", "platform"] for t in sockets]
        out += [[f"P*{t}", "cpu"] for t in cpu]
        out += [[f"M*{t}", "ram"] for t in year]
        return out
    if variant == "tdp":
        per, sockets = "P", "platform"
    elif variant == "threads":
        # No TDP: the per-socket terms stand in for it, so they count as the CPU.
        per, sockets = "T", "cpu"
    else:
        raise ValueError(variant)
    out = [[t, "platform"] for t in tps]
    out += [[f"S*{t}", sockets] for t in tps]
    out += [[f"{per}*{t}", "cpu"] for t in tps]
    out += [[f"M*{t}", "ram"] for t in tps]
    return out


VARIANTS = ("tdp-year", "tdp", "threads")


# Published SPECpower_ssj2008 power curves (average active power in W at active idle, then at
# target loads 10 %, 20 %, ..., 100 %), as transcribed from the SPEC result pages into the power
# models of CloudSim (GPL-3.0, the class named) and of projects built on it. Facts taken from
# SPEC's results, named by their result page where the transcription gives it. They set how far
# a real curve strays from the straight line between idle and full load; the levels are not used.
LOAD_CURVES: list[tuple[str, list[float]]] = [
    ("HP ProLiant ML110 G4, Xeon 3040 (CloudSim PowerModelSpecPowerHpProLiantMl110G4Xeon3040)",
     [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117]),
    ("HP ProLiant ML110 G5, Xeon 3075 (CloudSim PowerModelSpecPowerHpProLiantMl110G5Xeon3075)",
     [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135]),
    ("IBM x3250, Xeon X3470 (CloudSim PowerModelSpecPowerIbmX3250XeonX3470)",
     [41.6, 46.7, 52.3, 57.9, 65.4, 73.0, 80.7, 89.5, 99.6, 105, 113]),
    ("IBM x3250, Xeon X3480, power_ssj2008-20101001-00297",
     [42.3, 46.7, 49.7, 55.4, 61.8, 69.3, 76.1, 87.0, 96.1, 106, 113]),
    ("IBM x3550, Xeon X5670 (CloudSim PowerModelSpecPowerIbmX3550XeonX5670)",
     [66, 107, 120, 131, 143, 156, 173, 191, 211, 229, 247]),
    ("IBM x3550, Xeon X5675, power_ssj2008-20110406-00368",
     [58.4, 98, 109, 118, 128, 140, 153, 170, 189, 205, 222]),
    ("Fujitsu PRIMERGY TX1330 M3, Xeon E3-1230 v6, power_ssj2008-20170315-00746",
     [12.4, 16.7, 19.4, 21.4, 23.4, 26.1, 29.7, 34.8, 41, 47.1, 51.2]),
    ("Supermicro 1022G-NTF, Opteron 6380 HE, power_ssj2008-20121015-00557",
     [77.9, 115, 137, 158, 181, 205, 230, 256, 275, 293, 308]),
    ("DEPO Race X340H, Core i5-4570, power_ssj2008-20141023-00677",
     [83.2, 88.2, 94.3, 101, 107, 112, 117, 120, 124, 128, 131]),
    ("Dell PowerEdge R830, power_ssj2008-20160705-00737",
     [86.4, 181, 215, 253, 287, 315, 340, 377, 421, 483, 562]),
    ("Dell PowerEdge R740, power_ssj2008-20170829-00780",
     [52.3, 129, 147, 170, 195, 224, 255, 292, 344, 408, 457]),
    ("Dell PowerEdge R640, power_ssj2008-20170829-00781",
     [55, 125, 151, 176, 202, 232, 261, 301, 357, 421, 469]),
    ("Dell PowerEdge R940, power_ssj2008-20171010-00789",
     [106, 245, 292, 336, 383, 437, 502, 583, 694, 820, 915]),
    ("Fujitsu PRIMERGY RX300 S4, power_ssj2008-20080116-00034",
     [166, 179, 191, 200, 212, 224, 235, 245, 252, 259, 265]),
    ("Supermicro 6025B-TR+, Xeon E5345, power_ssj2008-20080115-00026",
     [220, 235, 249, 261, 273, 286, 298, 309, 319, 327, 334]),
    ("Supermicro 6025B-TR+, power_ssj2008-20080115-00030",
     [216, 221, 227, 235, 245, 258, 270, 282, 294, 307, 315]),
    ("HP ProLiant DL360 G7 (a CloudSim-based project's PowerModelDL360G7)",
     [54.6, 87.8, 98.5, 107, 115, 123, 131, 140, 153, 165, 178]),
    ("Dell PowerEdge R240 (a CloudSim-based project's PowerModelSpecPowerDellPowerEdgeR240)",
     [20.0, 25.1, 28.5, 32.3, 36.6, 41.7, 47.5, 55.9, 67.2, 81.0, 93.1]),
    ("IBM System x3200 M2, power_ssj2008-20110124-00340",
     [75.2, 78.2, 84.1, 89.6, 94.9, 100, 105, 109, 112, 115, 117]),
]  # fmt: skip


# ------------------------------------------------------------------------------------------
# the calibration systems


@dataclass
class System:
    vendor: str  # hardware vendor (for the report only)
    system: str
    cpu: str  # SPECpower "CPU Description", trailing commas removed
    sockets: int
    threads: int
    memory_gb: float
    full_w: float
    idle_w: float
    published: str  # "Mon-YYYY"
    row: Any = None  # the CPU table row, or None
    why: str | None = None  # why the CPU is unknown
    group: str = ""  # the CPU model, for leave-one-CPU-model-out
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def published_year(self) -> int:
        return int(self.published[-4:])


def cpu_group(description: str, row: Any) -> str:
    """The CPU model a system counts under for leave-one-model-out."""
    if row is not None:
        return f"table:{row.model}"
    key = re.sub(r"\((?:r|tm)\)|®|™|\bcpu\b|\bprocessor\b|[,]", " ", description.lower())
    return "text:" + " ".join(key.split())


def read_systems(path: Path, resolve: Callable[[str], tuple[Any, str | None]]) -> list[System]:
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            desc = r["CPU Description"].strip().rstrip(",").strip()
            row, why = resolve(desc)
            s = System(
                vendor=r["Hardware Vendor"],
                system=r["System"],
                cpu=desc,
                sockets=int(r["Chips"]),
                threads=int(r["Total Threads"]),
                memory_gb=float(r["Total Memory (GB)"]),
                full_w=float(r["avg. watts @ 100%"]),
                idle_w=float(r["avg. watts @ active idle"]),
                published=r["Published"].strip(),
                row=row,
                why=why,
            )
            s.group = cpu_group(desc, row)
            out.append(s)
    return out


def default_resolve(description: str) -> tuple[Any, str | None]:
    return runtime.resolve_cpu(description)


# ------------------------------------------------------------------------------------------
# the fit


def quantile(values: Iterable[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    v = sorted(values)
    k = (len(v) - 1) * q
    lo = math.floor(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def settings_for(systems: list[System]) -> dict[str, Any]:
    with_year = [s for s in systems if s.row is not None and s.row.launch_year]
    years = [s.row.launch_year for s in with_year]
    first, last = (min(years), max(years)) if years else (INNER_NODES[0], INNER_NODES[-1])
    nodes = sorted({first, *(n for n in INNER_NODES if first < n < last), last})
    # least-squares line of log2(threads per socket) over launch year (X only, no power)
    xs = [float(s.row.launch_year - TREND_YEAR) for s in with_year]
    ys = [math.log2(s.threads / s.sockets) for s in with_year]
    mx, my = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    slope = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.fsum(
        (x - mx) ** 2 for x in xs
    )
    return {
        "year_min": first,
        "year_max": last,
        "year_nodes": nodes,
        "tps_nodes": list(TPS_NODES),
        "tps_trend": [sig(my - slope * mx, 4), sig(slope, 4)],
        "tps_trend_year": TREND_YEAR,
        "rel_nodes": list(REL_NODES),
        "sockets_max": max(s.sockets for s in systems),
        "tps_min": min(s.threads / s.sockets for s in systems),
        "tps_max": max(s.threads / s.sockets for s in systems),
        "memory_gb_max": max(s.memory_gb for s in systems),
        "tdp_min_w": min(s.row.tdp_w for s in systems if s.row is not None),
        "tdp_max_w": max(s.row.tdp_w for s in systems if s.row is not None),
    }


def variant_of(s: System) -> str:
    """The variant the runtime uses for this system's CPU."""
    if s.row is None:
        return "threads"
    return "tdp-year" if s.row.launch_year else "tdp"


def members(variant: str, s: System) -> bool:
    """Which systems each variant is fitted on: all those the runtime could describe so."""
    if variant == "threads":
        return True  # any CPU may be unknown to the runtime
    if variant == "tdp":
        return s.row is not None
    return s.row is not None and bool(s.row.launch_year)


def row_features(terms: list[list[str]], s: System, settings: dict[str, Any]) -> list[float]:
    """Term values of one system, from what the runtime would know about it."""
    row = s.row
    year = None
    if row is not None and row.launch_year:
        year = runtime.clamp_year(float(row.launch_year), settings)
    return runtime.features(
        terms,
        settings,
        sockets=s.sockets,
        threads=s.threads,
        memory_gb=s.memory_gb,
        tdp_w=row.tdp_w if row is not None else None,
        year=year,
    )


def measured(s: System, point: str) -> float:
    return s.full_w if point == "full" else s.idle_w


class Fitter:
    """Least absolute relative error, coefficients >= 0, for every variant and point.

    ``coefficients(variant, point, mask)`` minimizes sum |predicted / measured - 1| over the
    systems in ``mask`` subject to every coefficient >= 0, by iteratively reweighted
    non-negative least squares (weights 1 / max(|relative error|, IRLS_FLOOR), at most
    IRLS_STEPS steps, stopping when no coefficient moves by more than 1e-7 of its size).
    The absolute error suits a median-error goal and is not pulled by the odd data-entry
    error (a 1 GB server), and the constraint keeps each component >= 0 for every machine.

    ``fit(exclude)`` fits without the excluded CPU models (the benchmark's outer fold) and
    derives the bounds from a leave-one-CPU-model-out over what remains.
    """

    POINTS = ("idle", "full")

    def __init__(self, systems: list[System], settings: dict[str, Any]) -> None:
        np = _numpy()
        self.systems = systems
        self.settings = settings
        self.terms: dict[tuple[str, str], list[list[str]]] = {}
        self.rows: dict[str, Any] = {}  # variant -> indices into systems
        self.groups: dict[str, Any] = {}
        self.x: dict[tuple[str, str], Any] = {}  # design matrices
        self.y: dict[tuple[str, str], Any] = {}
        for variant in VARIANTS:
            idx = [i for i, s in enumerate(systems) if members(variant, s)]
            self.rows[variant] = np.array(idx)
            self.groups[variant] = np.array([systems[i].group for i in idx])
            for point in self.POINTS:
                terms = terms_for(variant, point, settings)
                self.terms[(variant, point)] = terms
                self.x[(variant, point)] = np.array(
                    [row_features(terms, systems[i], settings) for i in idx]
                )
                self.y[(variant, point)] = np.array([measured(systems[i], point) for i in idx])

    def coefficients(self, variant: str, point: str, mask: Any) -> Any:
        np = _numpy()
        from scipy.optimize import nnls

        a = self.x[(variant, point)][mask] / self.y[(variant, point)][mask][:, None]
        scale = np.sqrt((a * a).sum(axis=0))
        scale[scale == 0] = 1.0
        a = a / scale
        ones = np.ones(len(a))
        weights = ones
        beta = None
        for _ in range(IRLS_STEPS):
            root = np.sqrt(weights)
            new, _ = nnls(a * root[:, None], root, maxiter=50 * a.shape[1])
            if beta is not None and np.max(np.abs(new - beta)) <= 1e-7 * max(1.0, np.max(beta)):
                beta = new
                break
            beta = new
            weights = 1.0 / np.maximum(np.abs(a @ beta - ones), IRLS_FLOOR)
        return beta / scale

    def held_out_ratios(
        self, variant: str, point: str, exclude: frozenset[str]
    ) -> dict[int, float]:
        """System -> measured / predicted, each CPU model predicted by a fit without it."""
        np = _numpy()
        groups = self.groups[variant]
        keep = ~np.isin(groups, list(exclude)) if exclude else np.ones(len(groups), bool)
        out: dict[int, float] = {}
        for g in sorted(set(groups[keep].tolist())):
            coef = self.coefficients(variant, point, keep & (groups != g))
            for k in np.flatnonzero(groups == g):
                pred = float(self.x[(variant, point)][k] @ coef)
                m = float(self.y[(variant, point)][k])
                out[int(self.rows[variant][k])] = m / pred if pred > 0 else math.inf
        return out

    def fit(
        self, exclude: frozenset[str] = frozenset(), variants: Iterable[str] = VARIANTS
    ) -> dict[str, Any]:
        np = _numpy()
        models: dict[str, Any] = {}
        for variant in variants:
            groups = self.groups[variant]
            keep = ~np.isin(groups, list(exclude)) if exclude else np.ones(len(groups), bool)
            entry: dict[str, Any] = {}
            for point in self.POINTS:
                coef = self.coefficients(variant, point, keep)
                ratios = list(self.held_out_ratios(variant, point, exclude).values())
                errors = [abs(1.0 / r - 1.0) * 100 for r in ratios]
                entry[point] = {
                    "terms": self.terms[(variant, point)],
                    "coef": [sig(float(c)) for c in coef],
                    "ratio_low": sig(quantile(ratios, QUANTILES[0]), 4),
                    "ratio_high": sig(quantile(ratios, QUANTILES[1]), 4),
                    "n_systems": len(ratios),
                    "n_cpu_models": len(set(groups[keep].tolist())),
                    "held_out_median_abs_error_pct": sig(quantile(errors, 0.5), 3),
                    "held_out_p90_abs_error_pct": sig(quantile(errors, 0.9), 3),
                }
            models[variant] = entry
        return models


def _numpy():
    try:
        import numpy
        import scipy  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "tools/fit_power_model.py needs numpy and scipy: pip install -e '.[bench]'"
        ) from exc
    return numpy


def sig(x: float, digits: int = 6) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def load_shape() -> dict[str, Any]:
    """Largest deviations of measured curves from the idle-full line, per 10 % step."""
    loads = [i / 10 for i in range(11)]
    below = [0.0] * 11
    above = [0.0] * 11
    for _, p in LOAD_CURVES:
        idle, full = p[0], p[-1]
        span = full - idle
        for k in range(1, 10):
            dev = (p[k] - (idle + span * loads[k])) / span
            below[k] = max(below[k], -dev)
            above[k] = max(above[k], dev)
    return {
        "loads": loads,
        "below": [sig(v, 3) for v in below],
        "above": [sig(v, 3) for v in above],
        "unit": "share of the idle-to-full range",
        "n_curves": len(LOAD_CURVES),
        "method": (
            "largest deviation below and above the straight line between active idle and full "
            "load, over published SPECpower_ssj2008 curves measured in 10 % steps; linear "
            "between steps"
        ),
        "curves": [name for name, _ in LOAD_CURVES],
    }


def _cpu_table_sha256() -> str:
    from wattprint import hardware

    return hashlib.sha256(Path(hardware.CPU_TABLE).read_bytes()).hexdigest()


def provenance(path: Path, systems: list[System]) -> dict[str, Any]:
    def month(s: System) -> tuple[int, int]:
        names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
        return s.published_year, names.index(s.published[:3]) + 1

    first = min(systems, key=month)
    last = max(systems, key=month)
    known = [s for s in systems if s.row is not None]
    sources = sorted({str(getattr(s.row, "source", "")) for s in known} - {""})
    licenses = sorted({str(getattr(s.row, "license", "")) for s in known} - {""})
    return {
        "source": "SPECpower_ssj2008 published results, calibration part (split by CPU model)",
        "source_file": CALIBRATION,
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "license": SPEC_LICENSE,
        "n_systems": len(systems),
        "n_cpu_models": len({s.group for s in systems}),
        "n_systems_cpu_in_table": len(known),
        "n_systems_with_launch_year": sum(1 for s in known if s.row.launch_year),
        "published_first": first.published,
        "published_last": last.published,
        "cpu_table": "wattprint.hardware.find_cpu (TDP, launch year)",
        "cpu_table_file": "src/wattprint/meters/data/cpus.csv",
        "cpu_table_sha256": _cpu_table_sha256(),
        "cpu_table_sources": sources,
        "cpu_table_licenses": licenses,
        "fit": (
            "least absolute relative error |predicted/measured - 1| with every coefficient "
            ">= 0 (iteratively reweighted non-negative least squares), one fit per variant and "
            "per point (active idle, 100 % load)"
        ),
        "bounds": (
            f"ratio_low/ratio_high: {QUANTILES[0]:g} and {QUANTILES[1]:g} quantiles of "
            "measured/predicted, each system predicted by a fit without its CPU model "
            "(leave-one-CPU-model-out); components share the machine's relative bounds"
        ),
        "generated_by": "tools/fit_power_model.py",
    }


def build(shared: Path, resolve=default_resolve) -> tuple[dict[str, Any], list[System]]:
    path = shared / CALIBRATION
    if not path.is_file():
        raise SystemExit(f"{path} is missing; point --shared at the folder with the raw data")
    systems = read_systems(path, resolve)
    settings = settings_for(systems)
    fitter = Fitter(systems, settings)
    model = {
        "format": 1,
        "method": runtime.METHOD,
        "provenance": provenance(path, systems),
        "settings": settings,
        "models": fitter.fit(),
        "load_shape": load_shape(),
    }
    return model, systems


def dumps(model: dict[str, Any]) -> str:
    """JSON with one line per scalar list (a term, a coefficient vector) and per key."""

    def fmt(obj: Any, depth: int) -> str:
        pad, inner = " " * depth, " " * (depth + 1)
        if isinstance(obj, dict):
            items = [f"{inner}{json.dumps(k)}: {fmt(v, depth + 1)}" for k, v in obj.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
            items = [inner + fmt(v, depth + 1) for v in obj]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json.dumps(obj, ensure_ascii=False)

    return fmt(model, 0) + "\n"


def report(model: dict[str, Any], systems: list[System]) -> str:
    lines = []
    unknown: dict[str, int] = {}
    for s in systems:
        if s.row is None:
            unknown[f"{s.cpu} ({s.why})"] = unknown.get(f"{s.cpu} ({s.why})", 0) + 1
    lines.append(f"{len(systems)} systems, {len(unknown)} CPU descriptions not in the table:")
    lines += [f"  {n:3d} x {k}" for k, n in sorted(unknown.items())]
    for name, v in model["models"].items():
        for point in ("idle", "full"):
            f = v[point]
            lines.append(
                f"{name:9s} {point:4s}: n={f['n_systems']:3d} models={f['n_cpu_models']:3d} "
                f"held-out median |err| {f['held_out_median_abs_error_pct']:5.1f} % "
                f"p90 {f['held_out_p90_abs_error_pct']:5.1f} % "
                f"bounds x[{f['ratio_low']:.3f}, {f['ratio_high']:.3f}]"
            )
    lines.append("non-zero coefficients (W per unit of the term at the tent's peak):")
    for name, v in model["models"].items():
        for point in ("idle", "full"):
            f = v[point]
            parts = [f"{t}={c:.3g}" for (t, _), c in zip(f["terms"], f["coef"], strict=True) if c]
            lines.append(f"  {name} {point}: " + " ".join(parts))
    # The split for every calibration system, summed: how the fit attributes wall power.
    lines.append("share of the calibration systems' estimated wall power per component:")
    for point, load in (("idle", 0.0), ("full", 1.0)):
        totals = dict.fromkeys(runtime.COMPONENTS, 0.0)
        for s in systems:
            est = runtime.build_curve(s.row, s.sockets, s.threads, s.memory_gb, model=model)
            e = est.at(load)
            for c in runtime.COMPONENTS:
                totals[c] += getattr(e, f"{c}_w")
        whole = sum(totals.values())
        lines.append(
            f"  {point}: " + ", ".join(f"{c} {100 * w / whole:.0f} %" for c, w in totals.items())
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    ap.add_argument("--report", action="store_true", help="print the fit's diagnostics")
    ap.add_argument("--out", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    model, systems = build(args.shared)
    text = dumps(model)
    if args.report:
        print(report(model, systems))
    if args.check:
        current = args.out.read_text("utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is stale: run python tools/fit_power_model.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
