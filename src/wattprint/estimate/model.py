"""Whole-machine power at a CPU utilization, split into CPU, RAM and platform, with bounds.

The model
---------
Wall power at active idle and at full load is each a sum of coefficient x term, fitted by
``tools/fit_power_model.py`` to SPECpower_ssj2008 results (the coefficients, their provenance
and the residual quantiles are in ``data/power_model.json``)::

    watts(point) = platform(g) + S x socket(g) + S x TDP x cpu(g) + M x ram(g)

S is the number of sockets, TDP the CPU table's TDP per socket (W), M the memory (GB), and each
coefficient a non-negative piecewise-linear function of the hardware generation g: the CPU's
launch year, log2 of the threads per socket, and (at full load) how many threads per socket the
part has for its year. A term is written as a product of factors: ``S``, ``P`` (S x TDP), ``M``,
``T`` (threads), ``tYYYY`` (a tent over the launch year peaking at YYYY), ``qN`` (a tent over
log2 threads per socket peaking at N) and ``rK`` (a tent over log2 threads per socket minus the
calibration trend for the launch year, peaking at the K-th of ``rel_nodes``).

Three variants, by what the CPU table knows about the brand string (``wattprint.hardware``):

* ``tdp-year``: TDP and launch year;
* ``tdp``: TDP but no launch year (generation from threads per socket only);
* ``threads``: unknown CPU, or a generic name ("Intel Xeon Processor", "Common KVM
  processor"): ``T x cpu(g)`` instead of ``S x TDP x cpu(g)``.

Components: the TDP (or thread) terms are the CPU, the memory terms the RAM, the constant and
per-socket terms the platform (board, fans, storage, PSU losses, voltage regulators). That is
the regression's attribution of wall power, each part with its share of PSU losses; nothing in
SPECpower measures the parts separately.

Where the fit cannot tell the platform from the CPU, the platform is *not estimated* (None),
never 0 W: in the ``threads`` variant (an unknown CPU, and so every VM share) the per-socket
terms stand in for the missing TDP and count as the CPU, so the board's per-socket share is
already inside the CPU figure; the variant's remaining constant terms are added to the CPU too
(the machine total stays the fit's). A variant whose platform terms are all zero for a machine
(no platform term fitted for its generation) says so the same way.

Bounds
------
At idle and at full load the bounds are the estimate times the 5th and 95th percentiles of
measured / predicted over the calibration systems, each predicted by a fit that saw no system
with its CPU model (leave one CPU model out), per variant: an unknown CPU gets the wider
percentiles of the threads-only fit. Each component gets the machine's relative bounds: the
residual cannot be attributed to a part, so do not add the parts' bounds as if independent.

Between idle and full load the estimate is linear in utilization. SPECpower curves measured in
10 % steps stray from that line by up to about a fifth of the idle-to-full range (above it at
low load on some servers, below it at mid load on others); the bounds between the two points
are widened by the largest such deviations seen (``load_shape`` in the JSON), so they are not
linear in utilization.
"""

from __future__ import annotations

import json
import math
from collections import namedtuple
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

TYPE_CHECKING = False  # annotations are strings here
if TYPE_CHECKING:
    from typing import Any

MODEL_PATH = Path(__file__).parent / "data" / "power_model.json"
METHOD = "specpower-model"
COMPONENTS = ("cpu", "ram", "platform")
#: Said with an estimate whose platform is not separated from the CPU (see the docstring).
NOT_ESTIMATED = (
    "platform not estimated: for this CPU the SPECpower fit cannot tell the board, fans and "
    "power supply from the CPU, so the CPU figure includes them"
)
POINTS = ("idle", "full")


# namedtuples, not dataclasses or typing.NamedTuple: cheaper to create at import
ComponentPower = namedtuple("ComponentPower", "watts low_w high_w basis")
ComponentPower.__doc__ = "One component's power in watts, its bounds, and what it rests on."
_Point = namedtuple("_Point", "watts ratio_low ratio_high")  # one of idle / full load


class PowerEstimate(NamedTuple):
    """Whole-machine wall power at one utilization, and its split into components (watts).

    ``platform_w`` and its bounds are None where the fit cannot separate the platform from the
    CPU (see the module's docstring): the CPU figure then carries it, and ``machine_w`` is
    still the whole machine.
    """

    machine_w: float
    machine_low_w: float
    machine_high_w: float
    cpu_w: float
    cpu_low_w: float
    cpu_high_w: float
    ram_w: float
    ram_low_w: float
    ram_high_w: float
    platform_w: float | None
    platform_low_w: float | None
    platform_high_w: float | None
    load: float
    method: str
    model: str  # "tdp-year", "tdp" or "threads": the variant of the fit that was used
    cpu_row: Any  # the CPU table row used (wattprint.hardware.CpuSpec), or None
    cpu_basis: str
    ram_basis: str
    platform_basis: str
    notes: tuple[str, ...]

    @property
    def components(self) -> dict[str, ComponentPower]:
        return {
            "cpu": ComponentPower(self.cpu_w, self.cpu_low_w, self.cpu_high_w, self.cpu_basis),
            "ram": ComponentPower(self.ram_w, self.ram_low_w, self.ram_high_w, self.ram_basis),
            "platform": ComponentPower(
                self.platform_w, self.platform_low_w, self.platform_high_w, self.platform_basis
            ),
        }


@lru_cache(maxsize=1)
def load_model(path: str | None = None) -> dict[str, Any]:
    """The fitted coefficients (parsed once per process)."""
    with open(path or MODEL_PATH, encoding="utf-8") as f:
        model = json.load(f)
    if model.get("format") != 1:
        raise ValueError(f"{path or MODEL_PATH}: unsupported power model format")
    return model


def tent(x: float, node: float, nodes: list[float]) -> float:
    """Piecewise-linear basis: 1 at ``node``, falling to 0 at the neighbouring nodes (and
    staying 1 beyond the first and the last node)."""
    j = nodes.index(node)
    if x <= node:
        if j == 0:
            return 1.0
        left = nodes[j - 1]
        return max(0.0, (x - left) / (node - left))
    if j == len(nodes) - 1:
        return 1.0
    right = nodes[j + 1]
    return max(0.0, (right - x) / (right - node))


def _factor(factor: str, values: dict[str, float], settings: dict[str, Any]) -> float:
    if factor in values:
        return values[factor]
    kind, arg = factor[0], factor[1:]
    if kind == "t" and arg.isdigit() and "year" in values:
        return tent(values["year"], int(arg), settings["year_nodes"])
    if kind == "q" and arg.isdigit():
        return tent(values["log2tps"], int(arg), settings["tps_nodes"])
    if kind == "r" and arg.isdigit() and "rel" in values:
        nodes = settings["rel_nodes"]
        return tent(values["rel"], nodes[int(arg)], nodes)
    raise ValueError(f"power model term factor {factor!r} cannot be evaluated here")


def features(
    terms: list[list[str]],
    settings: dict[str, Any],
    *,
    sockets: int,
    threads: int,
    memory_gb: float,
    tdp_w: float | None,
    year: float | None,
) -> list[float]:
    """Values of ``terms`` for one machine (the fitting script uses this very function)."""
    log2tps = math.log2(max(1.0, threads / sockets))
    tps_nodes = settings["tps_nodes"]
    values = {
        "1": 1.0,
        "S": float(sockets),
        "T": float(threads),
        "M": float(memory_gb),
        "log2tps": min(max(log2tps, tps_nodes[0]), tps_nodes[-1]),
    }
    if tdp_w is not None:
        values["P"] = float(sockets) * float(tdp_w)
    if year is not None:
        values["year"] = year
        a, b = settings["tps_trend"]
        rel_nodes = settings["rel_nodes"]
        rel = log2tps - (a + b * (year - settings["tps_trend_year"]))
        values["rel"] = min(max(rel, rel_nodes[0]), rel_nodes[-1])
    out = []
    for name, _ in terms:
        v = 1.0
        for factor in name.split("*"):
            v *= _factor(factor, values, settings)
        out.append(v)
    return out


def clamp_year(year: float, settings: dict[str, Any]) -> float:
    return min(max(year, float(settings["year_min"])), float(settings["year_max"]))


def _interp(xs: list[float], ys: list[float], x: float) -> float:
    if x <= xs[0]:
        return ys[0]
    for i in range(1, len(xs)):
        if x <= xs[i]:
            t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + (ys[i] - ys[i - 1]) * t
    return ys[-1]


class MachineCurve:
    """The estimate for one machine at any utilization (build once, evaluate per interval)."""

    __slots__ = (
        "idle",
        "full",
        "model",
        "cpu_row",
        "bases",
        "notes",
        "_loads",
        "_below",
        "_above",
        "_memo",
        "platform_estimated",
    )

    def __init__(
        self,
        idle: _Point,
        full: _Point,
        model: str,
        cpu_row: Any,
        bases: dict[str, str],
        notes: tuple[str, ...],
        shape: dict[str, Any],
    ) -> None:
        self.idle, self.full, self.model, self.cpu_row = idle, full, model, cpu_row
        self.bases, self.notes = bases, notes
        self._loads = [float(x) for x in shape["loads"]]
        self._below = [float(x) for x in shape["below"]]
        self._above = [float(x) for x in shape["above"]]
        self._memo: tuple[float, float, float] = (-1.0, 0.0, 0.0)
        self.platform_estimated = bool(idle.watts["platform"] or full.watts["platform"])

    def widening(self, load: float) -> tuple[float, float]:
        """How far below and above the idle-full line a measured curve may lie at ``load``,
        as shares of the idle-to-full range (0 at idle and at full load)."""
        # The CPU, RAM and platform meters ask in turn for the same load on every update.
        memo = self._memo
        if memo[0] == load:
            return memo[1], memo[2]
        below, above = (
            _interp(self._loads, self._below, load),
            _interp(self._loads, self._above, load),
        )
        self._memo = (load, below, above)
        return below, above

    def component(self, name: str, load: float) -> tuple[float, float, float] | None:
        """(watts, low, high) of one component at utilization ``load`` in [0, 1]; None for a
        platform the fit does not estimate separately (``platform_estimated``)."""
        if name == "platform" and not self.platform_estimated:
            return None
        u = min(1.0, max(0.0, load))
        i, f = self.idle.watts[name], self.full.watts[name]
        i_lo, f_lo = i * self.idle.ratio_low, f * self.full.ratio_low
        i_hi, f_hi = i * self.idle.ratio_high, f * self.full.ratio_high
        below, above = self.widening(u)
        span = abs(f - i)
        watts = i + (f - i) * u
        low = max(0.0, i_lo + (f_lo - i_lo) * u - below * span)
        high = i_hi + (f_hi - i_hi) * u + above * span
        return watts, min(low, watts), max(high, watts)

    def at(self, load: float) -> PowerEstimate:
        """The estimate at utilization ``load``: the busy share of all hardware threads, 0-1."""
        if load != load:  # NaN
            raise ValueError("load must be a number between 0 and 1, not NaN")
        notes = self.notes
        if load < 0.0 or load > 1.0:
            notes = (*notes, f"load {load:g} outside [0, 1]: clamped")
        u = min(1.0, max(0.0, float(load)))
        cpu, ram, platform = (self.component(name, u) for name in COMPONENTS)
        if platform is None:
            notes = (*notes, NOT_ESTIMATED)
        p = platform or (None, None, None)
        rest = platform or (0.0, 0.0, 0.0)
        return PowerEstimate(
            machine_w=cpu[0] + ram[0] + rest[0],
            machine_low_w=cpu[1] + ram[1] + rest[1],
            machine_high_w=cpu[2] + ram[2] + rest[2],
            cpu_w=cpu[0],
            cpu_low_w=cpu[1],
            cpu_high_w=cpu[2],
            ram_w=ram[0],
            ram_low_w=ram[1],
            ram_high_w=ram[2],
            platform_w=p[0],
            platform_low_w=p[1],
            platform_high_w=p[2],
            load=u,
            method=METHOD,
            model=self.model,
            cpu_row=self.cpu_row,
            cpu_basis=self.bases["cpu"],
            ram_basis=self.bases["ram"],
            platform_basis=self.bases["platform"],
            notes=notes,
        )


def _check(sockets: int, threads: int, memory_gb: float) -> None:
    if isinstance(sockets, bool) or not isinstance(sockets, int) or sockets < 1:
        raise ValueError(f"sockets must be a whole number >= 1, not {sockets!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a whole number >= 1, not {threads!r}")
    if not (isinstance(memory_gb, (int, float)) and math.isfinite(memory_gb) and memory_gb >= 0):
        raise ValueError(f"memory_gb must be a number >= 0, not {memory_gb!r}")


def resolve_cpu(cpu_model: str) -> tuple[Any, str | None]:
    """The CPU table row for a brand string, or (None, why it cannot be used)."""
    from ..hardware import find_cpu, is_generic_cpu

    name = (cpu_model or "").strip()
    if not name:
        return None, "no CPU model name"
    if is_generic_cpu(name):
        return None, f"generic CPU name {name!r} (a virtual machine's, or no model number)"
    row = find_cpu(name)
    if row is None:
        return None, f"CPU {name!r} is not in wattprint's CPU table"
    if not row.tdp_w:
        return None, f"wattprint's CPU table has no TDP for {row.model}"
    return row, None


def _outside(
    settings: dict[str, Any],
    sockets: int,
    threads: int,
    memory_gb: float,
    tdp_w: float | None,
    year: float | None,
) -> list[str]:
    """Notes for a machine unlike every calibration server (the model extrapolates)."""
    out = []
    tps = threads / sockets
    if not settings["tps_min"] <= tps <= settings["tps_max"]:
        out.append(
            f"{tps:g} threads per socket, outside the calibration servers' "
            f"{settings['tps_min']:g}-{settings['tps_max']:g}: extrapolated"
        )
    if sockets > settings["sockets_max"]:
        out.append(f"more sockets than any calibration system ({settings['sockets_max']})")
    if memory_gb > settings["memory_gb_max"]:
        out.append(f"more memory than any calibration system ({settings['memory_gb_max']:g} GB)")
    if tdp_w is not None and not settings["tdp_min_w"] <= tdp_w <= settings["tdp_max_w"]:
        out.append(
            f"TDP {tdp_w:g} W outside the calibration CPUs' "
            f"{settings['tdp_min_w']:g}-{settings['tdp_max_w']:g} W: extrapolated"
        )
    if year is not None:
        a, b = settings["tps_trend"]
        rel = math.log2(max(1.0, tps)) - (a + b * (year - settings["tps_trend_year"]))
        lo, hi = settings["rel_nodes"][0], settings["rel_nodes"][-1]
        if not lo <= rel <= hi:
            out.append(
                "threads per socket far from the calibration servers of its launch year "
                "(a desktop or laptop part, or a partial view of the machine): extrapolated"
            )
    return out


def variant_for(cpu_row: Any) -> str:
    """The variant of the fit that describes a machine with this CPU table row (or None)."""
    if cpu_row is None:
        return "threads"
    return "tdp-year" if cpu_row.launch_year else "tdp"


def build_curve(
    cpu_row: Any,
    sockets: int,
    threads: int,
    memory_gb: float,
    *,
    model: dict[str, Any] | None = None,
    unknown_reason: str | None = None,
) -> MachineCurve:
    """The curve for a machine whose CPU table row is already resolved (None: unknown CPU).

    ``model`` replaces the shipped coefficients (the benchmark passes refitted ones).
    """
    _check(sockets, threads, memory_gb)
    model = model or load_model()
    settings = model["settings"]
    name = variant_for(cpu_row)
    notes: list[str] = []
    year: float | None = None
    if name == "tdp-year":
        launch = float(cpu_row.launch_year)
        year = clamp_year(launch, settings)
        if year != launch:
            notes.append(
                f"launch year {launch:g} outside the calibration years "
                f"{settings['year_min']}-{settings['year_max']}: treated as {year:g}"
            )
    elif name == "tdp":
        notes.append(
            f"no launch year for {cpu_row.model} in the CPU table: generation judged from "
            "threads per socket, wider bounds"
        )
    else:
        notes.append(
            f"{unknown_reason or 'unknown CPU'}: estimated from {threads} threads, {sockets} "
            "socket(s) and memory, with the wider bounds of that fit"
        )
    variant = model["models"][name]
    tdp_w = float(cpu_row.tdp_w) if cpu_row is not None else None
    points = []
    for point in POINTS:
        fit = variant[point]
        x = features(
            fit["terms"],
            settings,
            sockets=sockets,
            threads=threads,
            memory_gb=memory_gb,
            tdp_w=tdp_w,
            year=year,
        )
        watts = dict.fromkeys(COMPONENTS, 0.0)
        for (_, component), coef, value in zip(fit["terms"], fit["coef"], x, strict=True):
            watts[component] += coef * value
        if name == "threads":  # the per-socket terms are the CPU here: the platform is in it
            watts["cpu"] += watts["platform"]
            watts["platform"] = 0.0
        points.append(_Point(watts, float(fit["ratio_low"]), float(fit["ratio_high"])))
    notes += _outside(settings, sockets, threads, memory_gb, tdp_w, year)
    if cpu_row is not None:
        cpu_basis = f"{sockets} x {cpu_row.model}, TDP {cpu_row.tdp_w:g} W"
        if year is not None:
            cpu_basis += f", {cpu_row.launch_year}"
    else:
        cpu_basis = f"unknown CPU, {threads} threads, board and power supply included"
    fitted = f"SPECpower fit ({name})"
    bases = {
        "cpu": f"{cpu_basis}; {fitted}",
        "ram": f"{memory_gb:g} GB; {fitted}",
        "platform": f"board, fans, storage, PSU losses, {sockets} socket(s); {fitted}",
    }
    curve = MachineCurve(
        points[0], points[1], name, cpu_row, bases, tuple(notes), model["load_shape"]
    )
    if not curve.platform_estimated:
        bases["platform"] = f"not estimated: included in the CPU figure; {fitted}"
    return curve


_CACHE: dict[tuple[str, int, int, float], MachineCurve] = {}


def machine_curve(cpu_model: str, sockets: int, threads: int, memory_gb: float) -> MachineCurve:
    """The estimate for a machine at every utilization; ``.at(load)`` gives one point.

    Build it once per machine: the CPU lookup and the coefficients are resolved here, and
    ``.at()`` / ``.component()`` are a few dozen arithmetic operations.
    """
    _check(sockets, threads, memory_gb)
    key = (cpu_model, sockets, threads, float(memory_gb))
    curve = _CACHE.get(key)
    if curve is None:
        row, why = resolve_cpu(cpu_model)
        curve = build_curve(row, sockets, threads, memory_gb, unknown_reason=why)
        if len(_CACHE) < 64:
            _CACHE[key] = curve
    return curve


def machine_power(
    cpu_model: str, sockets: int, threads: int, memory_gb: float, load: float
) -> PowerEstimate:
    """Whole-machine wall power at utilization ``load`` (0 to 1), split into CPU, RAM and
    platform, each with bounds.

    ``cpu_model`` is the brand string (/proc/cpuinfo "model name", or a SPECpower "CPU
    Description"), ``sockets`` the number of CPU packages, ``threads`` all hardware threads of
    the machine, ``memory_gb`` its installed memory in GB.
    """
    return machine_curve(cpu_model, sockets, threads, memory_gb).at(load)


def component_split(
    cpu_model: str, sockets: int, threads: int, memory_gb: float, load: float
) -> dict[str, ComponentPower]:
    """CPU, RAM and platform power at ``load``, each with its bounds and basis.

    For the tracker: ``cpu`` and ``ram`` where no counter measures them, ``platform`` always
    (nothing measures it). Each part's bounds are the machine's relative bounds; the parts'
    errors are shared, so the machine's bounds are not the sum of independent parts' bounds
    (summing the lows and the highs, as here, gives exactly the machine's).
    """
    return machine_power(cpu_model, sockets, threads, memory_gb, load).components
