"""A run's live state, and the sampling that advances it: meters read, powers polled, emissions
accounted (``accounting``), and the loop of the sampling thread.

Nothing here takes the tracker's lock or writes a file: the tracker calls these under its lock,
and its ``tick`` (given to ``loop``) says what a sample writes.
"""

from __future__ import annotations

import math
import sys
import threading
import time

from .accounting import Emissions, cpu_utilization, stalled, without_upper_bounds
from .units import J_PER_KWH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path
    from typing import Any

    from .records import RunResult
    from .sinks import Sinks


class Component:
    """Cumulative energy of one component, as last read."""

    __slots__ = (
        "meters",
        "method",
        "devices",
        "energy_j",
        "low_j",
        "high_j",
        "note",
        "failed",
        "base",
    )

    def __init__(self, meters: list[Any], method: str, devices: tuple[str, ...]) -> None:
        self.meters = meters
        self.method = method
        self.devices = devices
        self.energy_j: float | None = 0.0
        self.low_j: float | None = 0.0
        self.high_j: float | None = 0.0
        self.note: str | None = None
        self.failed = False
        # The meters' reading when the run started: they open during detection, before it.
        self.base = (0.0, 0.0, 0.0, 0.0)  # energy, low, high, gap_s

    def state(self) -> dict[str, Any]:
        return {
            "energy_j": self.energy_j,
            "low_j": self.low_j,
            "high_j": self.high_j,
            "method": self.method,
            "note": self.note,
        }


class Run:
    """Everything one run carries between start() and stop()."""

    def __init__(
        self,
        run_id: str,
        started_at: datetime,
        t0: float,
        meta: dict[str, Any],
        detection: Any,
        components: dict[str, Component],
        carbon: Any,
        csv_path: Path | None,
        tasks_csv_path: Path | None,
        root: Path,
        notes: list[str],
    ) -> None:
        self.run_id = run_id
        self.started_at = started_at
        self.t0 = t0
        self.meta = meta
        self.detection = detection
        self.components = components
        self.carbon = carbon
        self.pue = carbon.pue
        self.csv_path = csv_path
        self.tasks_csv_path = tasks_csv_path
        self.root = root
        self.notes = notes
        self.journal: Any = None
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.emissions = Emissions(marginal=carbon.marginal is not None)
        self.cpu_start: tuple[float, float] | None = None
        self.cpu_now: tuple[float, float] | None = None
        self.gpu_util_sum = 0.0
        self.gpu_util_n = 0
        self.ram_percent: float | None = None
        self.ram_used_gb: float | None = None
        self.t = t0  # monotonic time of the last update
        self.wall = time.time()  # of the last update, seconds since the epoch
        self.accounted_at = self.wall  # emissions are counted up to here
        self.tasks: dict[str, tuple[dict[str, Any], float]] = {}
        self.shared: dict[str, Any] | None = None  # the meters' per-update readings
        self.sinks: Sinks | None = None  # when a setting turns one on
        self.snapshot: tuple[float, RunResult] | None = None  # (t, result) for live sinks
        self.last_state: dict[str, Any] | None = None  # as last written to the journal
        self.attribution: Any = None  # wattprint.attribution.setup.Attribution
        # The rest of the footprint, read once per row (never per sample): units of work done
        # (add_units), the process tree's CPU seconds for its share of the machine's embodied
        # emissions in process mode, and the LLM API calls made during the run.
        self.units: float | None = None
        self.process: Any = None
        self.process_cpu_s0: float | None = None
        self.process_cpu_s: float | None = None
        self.llm: Any = None  # wattprint.llm.Collector, when track_llm_calls is on


def _logs() -> Any:
    from . import _log

    return _log


# -- the sampling thread ----------------------------------------------------------------------


def loop(run: Run, interval_s: float, tick: Callable[[Run, bool, bool], bool]) -> None:
    """The sampling thread: ``tick(run, poll, sample)`` at each poll of the meters that
    integrate power and each sampling interval, until the run's stop event (or ``tick`` returns
    False: the run is no longer the tracker's). A fault in ``tick`` is said once, and
    measurement goes on."""
    polls = [
        m.poll_interval_s for c in run.components.values() for m in c.meters if m.poll_interval_s
    ]
    poll_every = min(polls) if polls else math.inf
    next_sample = run.t0 + interval_s
    next_poll = run.t0 + poll_every
    while True:
        wait = max(0.0, min(next_sample, next_poll) - time.monotonic())
        if run.stop_event.wait(wait):
            return
        now = time.monotonic()
        try:
            if not tick(run, now >= next_poll, now >= next_sample):
                return
        except Exception as exc:  # nothing may escape into the user's program
            _logs().warn_once(
                f"sampler:{type(exc).__name__}",
                f"sampling failed ({type(exc).__name__}: {exc}); measurement goes on",
            )
        if now >= next_poll:
            next_poll += poll_every * max(1, math.floor((now - next_poll) / poll_every) + 1)
        if now >= next_sample:
            next_sample += interval_s * max(1, math.floor((now - next_sample) / interval_s) + 1)


# -- reading the meters -----------------------------------------------------------------------
# read_meters and poll_meters keep the component being read in a local named ``name``:
# reading_component finds it there when a meter stalls.


def baseline(components: dict[str, Component]) -> None:
    """Each component's reading now, which its later readings start from. A meter that fails
    here starts from zero; its next reading says what is wrong."""
    for comp in components.values():
        try:
            readings = [m.read() for m in comp.meters]
        except Exception:
            continue
        comp.base = (
            sum(r.energy_j for r in readings),
            sum(r.low_j for r in readings),
            sum(r.high_j for r in readings),
            sum(r.gap_s for r in readings),
        )


def poll_meters(run: Run) -> None:
    for name, comp in run.components.items():
        if comp.failed:
            continue
        for meter in comp.meters:
            if meter.poll_interval_s:
                try:
                    meter.poll()
                except Exception as exc:
                    fail(name, comp, exc, run)
                    break


def fail(name: str, comp: Component, exc: Exception, run: Run) -> None:
    elapsed = time.monotonic() - run.t0
    comp.failed = True
    comp.high_j = None  # what happens from now on is not measured: no upper bound
    comp.method += "+error"
    comp.note = (
        f"{comp.method.split('+')[0]} failed {elapsed:.1f} s into the run "
        f"({type(exc).__name__}: {exc}); energy after that is not counted"
    )
    run.notes.append(f"{name}: {comp.note}")
    _logs().warn_once(f"meter-failed:{name}", f"{name} meter: {comp.note}")


def read_meters(run: Run) -> None:
    """Read every meter and advance the run's cumulative state to now.

    This is the sampling hot path: one meter per component is the common case and gets
    no intermediate lists or generators.
    """
    if run.shared is not None:
        run.shared.clear()
    for name, comp in run.components.items():
        meters = comp.meters
        if comp.failed or not meters:
            continue
        try:
            if len(meters) == 1:
                r = meters[0].read()
                energy, low, high, method, gap = r.energy_j, r.low_j, r.high_j, r.method, r.gap_s
            else:
                readings = [m.read() for m in meters]
                energy = sum(r.energy_j for r in readings)
                low = sum(r.low_j for r in readings)
                high = sum(r.high_j for r in readings)
                method = "+".join(dict.fromkeys(r.method for r in readings))
                gap = sum(r.gap_s for r in readings)
        except Exception as exc:
            fail(name, comp, exc, run)
            continue
        base = comp.base
        comp.energy_j, comp.low_j, comp.high_j = energy - base[0], low - base[1], high - base[2]
        comp.method = method
        gap -= base[3]
        if gap > 0:
            comp.note = f"{gap:.1f} s not covered by the counter, estimated within bounds"
        if name == "gpu":
            _gpu_utilization(run, meters)
    run.t = time.monotonic()
    run.wall = time.time()
    # The CPU model has just read /proc/stat: reuse its figures rather than read it twice.
    cpu_meters = run.components["cpu"].meters
    shared = getattr(cpu_meters[0], "last_ticks", None) if len(cpu_meters) == 1 else None
    if shared is None:
        from .meters.procfs import cpu_busy_total

        shared = cpu_busy_total(run.root)
    run.cpu_now = shared or run.cpu_now
    account(run)


def read_quietly(run: Run) -> None:
    """``read_meters`` from the user's thread (flush, peek, tasks): a fault of wattprint's own
    is said once, under the sampler's key, and the figures stay as of the last reading."""
    try:
        read_meters(run)
    except Exception as exc:
        _logs().warn_once(
            f"sampler:{type(exc).__name__}",
            f"reading the meters failed ({type(exc).__name__}: {exc}); the figures are "
            "those of the last reading that succeeded",
        )


def _gpu_utilization(run: Run, meters: list[Any]) -> None:
    from .meters.base import utilization_percent

    for m in meters:
        util = utilization_percent(m)
        if util is not None:
            run.gpu_util_sum += util
            run.gpu_util_n += 1


def read_memory(run: Run) -> None:
    """RAM in use, for the record. Read when a row is written, not on every sample."""
    from .meters.procfs import meminfo_kib

    mem = meminfo_kib(run.root)
    if "MemTotal" in mem and "MemAvailable" in mem:
        used = mem["MemTotal"] - mem["MemAvailable"]
        run.ram_percent = 100.0 * used / mem["MemTotal"]
        run.ram_used_gb = used * 1024 / 1e9
    if run.process is not None:  # process mode: its share of the machine, per row
        from .embodied.share import process_tree_cpu_s

        now = process_tree_cpu_s(run.process)
        if now is not None and run.process_cpu_s0 is not None:
            run.process_cpu_s = now - run.process_cpu_s0


def account(run: Run) -> None:
    """The emissions of the energy measured since the last update."""
    # Each stretch of energy is multiplied by the intensity valid for it: the timeline
    # splits the stretch at hour boundaries and uses a live value where one is fresh.
    intensity = run.carbon.timeline.mean(run.accounted_at, run.wall)
    run.accounted_at = run.wall
    parts = [
        (c.energy_j, c.low_j, c.high_j)
        for n, c in run.components.items()
        if n != "platform" and c.energy_j is not None
    ]
    platform = run.components.get("platform")
    em = run.emissions
    em.account(
        parts,
        (platform.energy_j, platform.low_j, platform.high_j) if platform is not None else None,
        run.pue / J_PER_KWH,
        intensity,
        run.carbon.marginal_at(run.wall) if em.marginal_g is not None else None,
    )


# -- the run's state --------------------------------------------------------------------------


def state(run: Run) -> dict[str, Any]:
    """The run's cumulative state: what the journal holds and rows are built from."""
    util: dict[str, float | None] = {
        "cpu": cpu_utilization(run.cpu_start, run.cpu_now),
        "gpu": run.gpu_util_sum / run.gpu_util_n if run.gpu_util_n else None,
        "ram": run.ram_percent,
        "ram_used_gb": run.ram_used_gb,
    }
    return {
        "t": run.wall,
        "duration_s": run.t - run.t0,
        "components": {name: c.state() for name, c in run.components.items()},
        **run.emissions.state(),
        "intensity_kinds": sorted(run.carbon.timeline.kinds),
        "shares": run.attribution.state() if run.attribution is not None else {},
        "util": util,
        "notes": run.notes + _carbon_notes(run),
        **_footprint_state(run),
    }


def _carbon_notes(run: Run) -> list[str]:
    live = run.carbon.live
    if live is not None and live.error and "live" not in run.carbon.timeline.kinds:
        why = f"live intensity from {live.source} unavailable ({live.error})"
        return [f"{why}; offline figure used"]
    return []


def _footprint_state(run: Run) -> dict[str, Any]:
    """The state's units, process share and LLM calls, only where there are any."""
    out: dict[str, Any] = {}
    if run.units is not None:
        out["units"] = run.units
    if run.process_cpu_s is not None:
        out["share"] = {"process_cpu_s": run.process_cpu_s}
    if run.llm is not None:
        out["llm"] = run.llm.snapshot()
    return out


# -- the last reading, at stop() --------------------------------------------------------------


def final_state(run: Run, deadline: float, locked: bool, wait_s: float) -> dict[str, Any]:
    """The run's state after one last reading of every meter, within the deadline.

    The reading runs in a thread of its own so that a meter that does not answer costs
    the rest of the deadline, not the user's program: the row then has the state as of
    the reading before, the stalled component labelled and its upper bound dropped.
    ``locked``: whether stop() holds the tracker's lock (else the sampler is stuck inside a
    reading, holding it); ``wait_s``: stop()'s wait, for the label.
    """
    if not locked:
        before = dict(run.last_state) if run.last_state else state(run)
        return _stalled(run, before, reading_component(run.thread), wait_s)
    before = state(run)
    failure: list[BaseException] = []
    done = threading.Event()

    def last_reading() -> None:
        try:
            read_meters(run)
            read_memory(run)
        except BaseException as exc:  # said below, from stop()'s thread
            failure.append(exc)
        finally:
            done.set()

    reader = threading.Thread(target=last_reading, name="wattprint-stop", daemon=True)
    reader.start()
    if not done.wait(left(deadline)):
        return _stalled(run, before, reading_component(reader), wait_s)
    if failure:
        return _accounting_failed(state(run), failure[0])
    return state(run)


def left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def reading_component(thread: threading.Thread | None) -> str | None:
    """The component a thread is reading now, from its stack: the sampling tick stays as is."""
    frames: dict[int | None, Any] = getattr(sys, "_current_frames", dict)()
    frame = frames.get(thread.ident) if thread is not None else None
    while frame is not None:
        if frame.f_code.co_name in ("read_meters", "poll_meters") and isinstance(
            frame.f_locals.get("name"), str
        ):
            return frame.f_locals["name"]
        frame = frame.f_back
    return None


def _stalled(run: Run, before: dict[str, Any], name: str | None, wait_s: float) -> dict[str, Any]:
    """``before`` with the component whose meter stalled (all measured ones if unknown)
    labelled: its energy after its last reading is not counted, so it has no upper bound."""
    names = [name] if name else [n for n, c in run.components.items() if c.meters]
    note = f"its meter did not answer within {wait_s:g} s at stop(); energy after the last reading is not counted"  # noqa: E501
    _logs().warn_once(f"stop-stalled:{','.join(names)}", f"{', '.join(names)}: {note}")
    return stalled(before, names, note)


def _accounting_failed(last: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    note = (
        f"emission accounting failed at stop() ({type(exc).__name__}: {exc}); emissions "
        "after the last interval are not counted"
    )
    # The sampler's key: a fault it already met and said is not said again.
    _logs().warn_once(f"sampler:{type(exc).__name__}", note)
    return without_upper_bounds(last, [note])
