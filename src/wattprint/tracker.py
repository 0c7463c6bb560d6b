"""Tracker: start, stop, flush, tasks; one sampling thread that never touches the user's code.

Every figure comes from meter reads at the edges of what is measured: a run's intervals, a
flush, a task. Counter meters are exact over any such interval; the sampling thread only sets
the time resolution of the journal, and polls the meters that integrate power.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import threading
import time

# Only what a sampling thread needs is imported with the module: settings, records and the
# carbon layer load when a Tracker is built, meters when it starts. A program that imports
# wattprint and never tracks pays next to nothing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path
    from typing import Any, TypeVar

    from .config import Settings
    from .records import RunResult, TaskResult

    F = TypeVar("F", bound=Callable[..., Any])

CSV_NAME = "emissions.csv"
TASKS_CSV_NAME = "emissions_tasks.csv"
J_PER_KWH = 3.6e6
#: The most stop() waits for the sampler and the last meter reads: a meter that stalls past it
#: costs the energy after its last reading (labelled), never the user's program its time.
STOP_WAIT_S = 5.0


def _logs() -> Any:
    from . import _log

    return _log


def _rows() -> Any:
    from .sinks import csv

    return csv


def _now() -> datetime:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).astimezone()


def exit_status(exc_type: type[BaseException] | None, exc: BaseException | None = None) -> str:
    """How a ``with`` block ended, as a run status: Ctrl-C is an interruption, not a failure,
    and ``sys.exit(0)`` (or ``sys.exit()``) is a program that finished."""
    if exc_type is None:
        return "finished"
    if issubclass(exc_type, KeyboardInterrupt):
        return "interrupted"
    if issubclass(exc_type, SystemExit):
        code = exc.code if isinstance(exc, SystemExit) else None
        return "finished" if code in (None, 0) else "failed"
    return "failed"


class _Component:
    """Cumulative energy of one component, as last read."""

    __slots__ = ("meters", "method", "devices", "energy_j", "low_j", "high_j", "note", "failed",
                 "base")  # fmt: skip

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


class _Run:
    """Everything one run carries between start() and stop()."""

    def __init__(self, run_id: str, started_at: datetime, t0: float, meta: dict[str, Any],
                 detection: Any, components: dict[str, _Component], carbon: Any,
                 csv_path: Path | None, tasks_csv_path: Path | None, root: Path,
                 notes: list[str]) -> None:  # fmt: skip
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
        self.emissions_g: float | None = 0.0
        self.emissions_low_g: float | None = 0.0
        self.emissions_high_g: float | None = 0.0
        self.emissions_marginal_g: float | None = 0.0 if carbon.marginal is not None else None
        self.machine_g: float | None = 0.0  # the whole machine, platform included
        self.machine_low_g: float | None = 0.0
        self.machine_high_g: float | None = 0.0
        self.last_machine: tuple[float | None, float | None, float | None] = (0.0, 0.0, 0.0)
        self.last_total: tuple[float | None, float | None, float | None] = (0.0, 0.0, 0.0)
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
        self.sinks: Any = None  # wattprint.sinks.Sinks, when a setting turns one on
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


class _TaskBlock:
    """``with tracker.task(name):`` -- a task that ends with the block, failed if it raised."""

    def __init__(self, tracker: Tracker, name: str) -> None:
        self._tracker = tracker
        self._name = name

    def __enter__(self) -> Tracker:
        self._tracker.start_task(self._name)
        return self._tracker

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        status = exit_status(exc_type, exc)
        try:
            self._tracker.stop_task(self._name, status)
        except (ValueError, RuntimeError):  # the run was stopped inside the block
            pass


class Tracker:
    """Measures the energy and emissions of the code run between ``start()`` and ``stop()``.

    Settings not given here come from ``WATTPRINT_*`` environment variables, the project file
    ``.wattprint.ini``, the user file, then the defaults. Invalid values raise ``ValueError``.
    """

    #: Set before start() when the run was moved in time (a carbon.shift.ShiftInfo): its
    #: records then say from when to when, and the estimated saving.
    shift: Any = None

    def __init__(
        self,
        project_name: str | None = None,
        experiment_name: str | None = None,
        run_name: str | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        output_file: str | os.PathLike[str] | None = None,
        interval_s: float | None = None,
        gpu_ids: Any = None,
        country: str | None = None,
        region: str | None = None,
        cloud_provider: str | None = None,
        cloud_region: str | None = None,
        zone: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        intensity_g_per_kwh: float | None = None,
        pue: float | None = None,
        wue: float | None = None,
        log_level: str | None = None,
        save_csv: bool | None = None,
        tracking_mode: str | None = None,
        cpu_model: str | None = None,
        cpu_power_w: str | float | None = None,
        ram_power_w: str | float | None = None,
        gpu_power_w: str | float | None = None,
        cloud_metadata: bool | None = None,
        ip_geolocation: bool | None = None,
        live_provider: str | None = None,
        electricitymaps_token: str | None = None,
        watttime_username: str | None = None,
        watttime_password: str | None = None,
        prometheus_port: int | None = None,
        prometheus_pushgateway: str | None = None,
        otel_endpoint: str | None = None,
        log_records: bool | None = None,
        logger_name: str | None = None,
        webhook_url: str | None = None,
        webhook_token: str | None = None,
        server_url: str | None = None,
        server_token: str | None = None,
        idle_policy: str | None = None,
        sync_gpu: Any = None,
        hardware_lifetime_years: float | None = None,
        cloud_instance_type: str | None = None,
        functional_unit: str | None = None,
        functional_units: float | None = None,
        track_llm_calls: bool | None = None,
    ) -> None:
        # Paths stay as given: the settings turn them into text or say what is wrong.
        arguments = {k: v for k, v in locals().items() if k != "self"}
        # A function waits for the GPU at each edge itself; the settings keep only its name.
        self._sync_fn: Callable[[], Any] | None = sync_gpu if callable(sync_gpu) else None
        if self._sync_fn is not None:
            arguments["sync_gpu"] = "on"
        from .config import load_settings

        self.settings: Settings = load_settings(arguments)
        _logs().setup(self.settings.log_level)
        self._check_location()
        if self._sinks_on():
            from .sinks import check

            check(self.settings)  # a sink's missing package fails here, not mid-run
        self._lock = threading.RLock()  # guards meters and run state
        self._lifecycle = threading.Lock()  # serialises start and stop
        self._run: _Run | None = None
        self.result: RunResult | None = None
        #: Where this run's rows go (the last run's, once stopped); None when not saved. Not
        #: always output_file: a file of another tool's there is stepped around.
        self.csv_path: Path | None = None
        # A distributed job's rank that is not its node's local rank 0: the node's rank 0
        # measures the devices the job holds there, so this one measures nothing.
        self.bystander = False

    def _check_location(self) -> None:
        """An explicit location that names nothing fails here, before anything is measured."""
        s = self.settings
        explicit = (s.region, s.zone, s.cloud_provider, s.cloud_region, s.latitude)
        if not any(v is not None for v in explicit):
            return  # country alone was checked with the settings
        from .carbon.location import locate

        locate(s.country, s.region, s.zone, s.cloud_provider, s.cloud_region, s.latitude,
               s.longitude)  # fmt: skip

    def _sinks_on(self) -> bool:
        s = self.settings
        return bool(s.prometheus_port or s.prometheus_pushgateway or s.otel_endpoint
                    or s.log_records or s.webhook_url or s.server_url)  # fmt: skip

    # -- public API ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._run is not None

    @property
    def run_id(self) -> str | None:
        run = self._run
        return run.run_id if run else (self.result.run_id if self.result else None)

    def start(self) -> Tracker:
        with self._lifecycle:
            if self._run is not None:
                _logs().logger.warning("tracker already running (run %s)", self._run.run_id)
                return self
            if self._not_measuring_rank():
                return self
            self._sync_gpu()
            run = self._open_run()
            self.csv_path = run.csv_path
            with self._lock:
                self._run = run
            run.thread = threading.Thread(
                target=self._loop, args=(run,), name="wattprint-sampler", daemon=True
            )
            run.thread.start()
        return self

    def stop(self, status: str = "finished") -> RunResult | None:
        """End the run and write its row. Harmless when not running: returns the last result.

        Never raises and returns within about ``STOP_WAIT_S``: a meter that stalls, a full disk
        or a fault of wattprint's own is said once and leaves the best row that can be made.
        """
        deadline = time.monotonic() + STOP_WAIT_S
        if self._run is not None:
            self._sync_gpu()  # work launched inside the run is the run's
        with self._lifecycle:
            # The sampler holds the lock while it reads meters; a stalled one must not hold
            # stop() too. Taking the run without the lock is safe: the sampler checks, under
            # the lock, that its run is still the tracker's before each update.
            locked = self._lock.acquire(timeout=STOP_WAIT_S)
            run, self._run = self._run, None
            if locked:
                self._lock.release()
            if run is None:
                return self.result
            run.stop_event.set()
            if run.thread is not None and run.thread is not threading.current_thread():
                run.thread.join(_left(deadline))
            locked = self._lock.acquire(timeout=_left(deadline))
            try:
                self.result = self._close_run(run, status, deadline, locked)
            except Exception as exc:  # nothing may escape into the user's program
                if run.journal is not None:
                    run.journal.close()  # not alive any more: the next tracker here recovers it
                _logs().warn_once(
                    f"stop:{type(exc).__name__}",
                    f"could not finish run {run.run_id} ({type(exc).__name__}: {exc}); "
                    "its last recorded interval is recovered by the next tracker started here",
                )
            finally:
                if locked:
                    self._lock.release()
                else:  # the old lock stays with the stalled sampler; later calls take a new one
                    self._lock = threading.RLock()
            return self.result

    def flush(self) -> RunResult | None:
        """The run's cumulative result so far, also written as a row; the run goes on.
        None on a distributed job's rank that does not measure (see ``bystander``)."""
        if self.bystander:
            return None
        with self._lock:
            run = self._require_run("flush()")
            self._read(run)
            if run.journal is not None:
                self._journal(run)
            result = self._result(run, "running")
            self._write_row(run.csv_path, result)
            if run.sinks:
                run.sinks.write(result)
            return result

    def add_units(self, n: float = 1.0) -> None:
        """Count ``n`` more units of work (the functional unit, for the SCI score) as done."""
        import math

        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n < 0:
            raise ValueError(f"add_units needs a finite number of units, 0 or more, not {n!r}")
        run = self._require_run("add_units()")
        with self._lock:
            run.units = (run.units or 0.0) + float(n)

    def peek(self) -> RunResult | None:
        """The run's cumulative result so far, written nowhere (for live views)."""
        if self.bystander:
            return None
        with self._lock:
            run = self._require_run("peek()")
            self._read(run)
            return self._result(run, "running")

    def start_task(self, name: str) -> None:
        if self.bystander:
            return None
        self._sync_gpu()  # what ran before the task is not the task's
        with self._lock:
            run = self._require_run(f"start_task({name!r})")
            if name in run.tasks:
                raise ValueError(f"task {name!r} is already running; stop it or use another name")
            self._read(run)
            run.tasks[name] = (self._state(run), run.t)

    def stop_task(self, name: str, status: str = "finished") -> TaskResult | None:
        if self.bystander:
            return None
        self._sync_gpu()  # the task's kernels still running are the task's
        with self._lock:
            run = self._require_run(f"stop_task({name!r})")
            if name not in run.tasks:
                running = ", ".join(repr(t) for t in run.tasks) or "none"
                raise ValueError(f"task {name!r} is not running (running tasks: {running})")
            return self._end_task(run, name, status)

    def task(self, name: str) -> _TaskBlock:
        """A task as a ``with`` block: ``with tracker.task("load data"): ...``."""
        return _TaskBlock(self, name)

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(exit_status(exc_type, exc))

    # -- run lifecycle ------------------------------------------------------------------------

    def _not_measuring_rank(self) -> bool:
        """True (and said once) on a distributed job's rank other than its node's local rank 0."""
        from .attribution.cluster import placement

        where = placement(os.environ)
        self.bystander = not where.measures
        if self.bystander:
            _logs().logger.info(
                "rank %s (local rank %s) does not measure: local rank 0 of node %s measures the "
                "devices this job holds there",
                where.rank,
                where.local_rank,
                where.node,
            )
        return self.bystander

    def _sync_gpu(self) -> None:
        """Wait for GPU work in flight so that an edge reads counters after it (sync_gpu)."""
        from .attribution.sync import synchronize

        try:
            synchronize(self.settings.sync_gpu, self._sync_fn)
        except Exception as exc:  # the user's function or the framework failed: say it, go on
            _logs().warn_once(f"sync-gpu:{type(exc).__name__}",
                              f"sync_gpu could not wait for the GPU ({type(exc).__name__}: {exc}); "
                              "edges are read without waiting")  # fmt: skip

    def _require_run(self, what: str) -> _Run:
        if self._run is None:
            raise RuntimeError(f"{what} needs a running tracker: call start() first")
        return self._run

    def _open_run(self) -> _Run:
        from pathlib import Path

        from .carbon.context import setup
        from .meters.base import ProbeContext
        from .meters.detect import probe_all
        from .meters.user import user_power
        from .records import COLUMNS, TASK_COLUMNS

        s = self.settings
        # Absolute now: the program may chdir before stop(), and the run's files stay put.
        output_dir = Path(s.output_dir).absolute()
        recovered = self._recover(output_dir) if s.save_csv else []
        # In process and job mode the meters measure the machine; attribution charges the share.
        ctx = ProbeContext(
            gpu_ids=s.gpu_ids, tracking_mode="machine", warn=_logs().warn_once, shared={},
            cpu_model=s.cpu_model, power=user_power(s),
        )  # fmt: skip
        detection = probe_all(ctx)
        carbon = setup(s, live=lambda location: self._live_feed(s, location))
        if carbon.announcement:
            loc = carbon.location
            _logs().warn_once(f"location:{loc.source}:{loc.detail}", carbon.announcement)
        notes: list[str] = detection.notes()
        components: dict[str, _Component] = {}
        for name, choice in detection.components.items():
            meters = choice.meters
            devices = tuple(d for m in meters for d in m.devices)
            comp = _Component(meters, choice.method, devices)
            if not meters:
                missing = [p for p in choice.tried if getattr(p, "present", False)]
                if missing:  # the hardware is there but nothing measures it: not a zero
                    comp.energy_j = comp.low_j = comp.high_j = None
                    comp.method = "not-estimated" if name == "platform" else "unmeasured"
                    comp.note = missing[0].reason
            components[name] = comp
        attribution = self._attribution(ctx, components)
        run_id = _uuid4()
        started = _now()
        machine = self._machine(ctx, components)
        csv_path = tasks_path = None
        if s.save_csv:
            csv_path = self._csv_path(output_dir / s.output_file, COLUMNS)  # absolute wins
            tasks_path = self._csv_path(output_dir / TASKS_CSV_NAME, TASK_COLUMNS)
        from . import journal

        meta = journal.meta_for(run_id, s.public(), machine, carbon, started,
                                str(csv_path or ""), str(output_dir))  # fmt: skip
        meta["devices"] = {name: list(c.devices) for name, c in components.items()}
        meta["attribution"] = {**attribution.meta(), "sync_gpu": self._sync_label()}
        meta.update(self._footprint_meta(ctx, components, carbon, machine))
        if self.shift is not None:  # moved in time by `wattprint wait` or @carbon_aware
            from dataclasses import asdict

            meta["shift"] = asdict(self.shift)
        _baseline(components)  # the run's energy starts now, not when the meters opened
        run = _Run(
            run_id=run_id,
            started_at=started,
            t0=time.monotonic(),
            meta=meta,
            detection=detection,
            components=components,
            carbon=carbon,
            csv_path=csv_path,
            tasks_csv_path=tasks_path,
            root=ctx.root,
            notes=notes,
        )
        run.shared = ctx.shared
        run.attribution = attribution
        if self._sinks_on():
            from .sinks import open_sinks

            run.sinks = open_sinks(s, meta, _logs().warn_once, lambda: self._snapshot(run))
            for result in recovered:  # killed runs' last rows: a receiver learns how they ended
                run.sinks.recovered(result)
        from .meters.procfs import cpu_busy_total

        run.cpu_start = run.cpu_now = cpu_busy_total(ctx.root)
        self._footprint_start(run)
        self._memory(run)
        if s.save_csv:
            try:
                run.journal = journal.Journal(output_dir, run_id, meta)
            except Exception as exc:  # the journal is a safety net: never a reason to fail
                from .sinks.csv import full, say_write_failure

                if full(exc):
                    say_write_failure(output_dir / journal.FOLDER, exc)
                    return run
                _logs().warn_once(
                    f"journal:{output_dir}",
                    f"cannot write the run's time series under {output_dir}: {exc}. "
                    "The run is measured but a crash would lose it; check output_dir.",
                )
        return run

    def _close_run(self, run: _Run, status: str, deadline: float, locked: bool) -> RunResult:
        """The run's last reading, its tasks' rows, its row, then its journal closed."""
        try:
            end = self._final_state(run, deadline, locked)
            for name in list(run.tasks):
                self._end_task(run, name, status, end)
            result = self._build(run, end, status)
            written = self._write_row(run.csv_path, result)
            if run.sinks:
                run.sinks.write(result)
            self._end_journal(run, end, status, written, result)
        finally:
            for closer in (run.detection.close, run.carbon.close,
                           run.sinks.close if run.sinks is not None else None,
                           run.llm.close if run.llm is not None else None):  # fmt: skip
                if closer is not None:
                    try:
                        closer()
                    except Exception as exc:
                        _logs().warn_once(f"close:{type(exc).__name__}", f"at stop(): {exc}")
        return result

    def _final_state(self, run: _Run, deadline: float, locked: bool) -> dict[str, Any]:
        """The run's state after one last reading of every meter, within the deadline.

        The reading runs in a thread of its own so that a meter that does not answer costs
        the rest of the deadline, not the user's program: the row then has the state as of
        the reading before, the stalled component labelled and its upper bound dropped.
        """
        if not locked:  # the sampler is stuck inside a reading, holding the lock
            state = dict(run.last_state) if run.last_state else self._state(run)
            return _stalled(run, state, _reading_component(run.thread))
        before = self._state(run)
        failure: list[BaseException] = []
        done = threading.Event()

        def last_reading() -> None:
            try:
                self._update(run)
                self._memory(run)
            except BaseException as exc:  # said below, from stop()'s thread
                failure.append(exc)
            finally:
                done.set()

        reader = threading.Thread(target=last_reading, name="wattprint-stop", daemon=True)
        reader.start()
        if not done.wait(_left(deadline)):
            return _stalled(run, before, _reading_component(reader))
        if failure:
            return _accounting_failed(run, self._state(run), failure[0])
        return self._state(run)

    def _build(self, run: _Run, state: dict[str, Any], status: str) -> RunResult:
        from .journal import build_result

        return build_result(run.meta, state, status)

    def _end_journal(self, run: _Run, end: dict[str, Any], status: str, written: bool,
                     result: RunResult) -> None:  # fmt: skip
        """Close the journal once the row is on disk; else leave it for the next tracker here."""
        journal = run.journal
        if journal is None:
            return
        try:
            journal.interval(dict(end))
        except (OSError, ValueError) as exc:
            _rows().say_write_failure(journal.path, exc)
        if not written:
            journal.close()  # ".running", no longer alive: the next recovery here writes it
            return
        try:
            journal.end(status)
        except OSError as exc:  # the row is written; recovery will find it and close this
            _rows().say_write_failure(journal.path, exc)

    def _recover(self, output_dir: Path) -> list[RunResult]:
        from .recovery import recover_quietly

        return recover_quietly(output_dir)

    # -- measuring ----------------------------------------------------------------------------

    def _loop(self, run: _Run) -> None:
        polls = [
            m.poll_interval_s
            for c in run.components.values()
            for m in c.meters
            if m.poll_interval_s
        ]
        poll_every = min(polls) if polls else math.inf
        interval = self.settings.interval_s
        next_sample = run.t0 + interval
        next_poll = run.t0 + poll_every
        while True:
            wait = max(0.0, min(next_sample, next_poll) - time.monotonic())
            if run.stop_event.wait(wait):
                return
            now = time.monotonic()
            try:
                with self._lock:
                    if run is not self._run:
                        return
                    if now >= next_poll:
                        self._poll(run)
                    if now >= next_sample:
                        self._update(run)
                        if run.journal is not None:
                            self._journal(run)
                        if run.sinks is not None and run.sinks.wants_updates:
                            # RAM in use stays as last read: /proc/meminfo is for rows only.
                            run.sinks.update(self._result(run, "running", memory=False))
            except Exception as exc:  # nothing may escape into the user's program
                _logs().warn_once(
                    f"sampler:{type(exc).__name__}",
                    f"sampling failed ({type(exc).__name__}: {exc}); measurement goes on",
                )
            if now >= next_poll:
                next_poll += poll_every * max(1, math.floor((now - next_poll) / poll_every) + 1)
            if now >= next_sample:
                next_sample += interval * max(1, math.floor((now - next_sample) / interval) + 1)

    def _read(self, run: _Run) -> None:
        """``_update`` from the user's thread (flush, peek, tasks): a fault of wattprint's own
        is said once, under the sampler's key, and the figures stay as of the last reading."""
        try:
            self._update(run)
        except Exception as exc:
            _logs().warn_once(
                f"sampler:{type(exc).__name__}",
                f"reading the meters failed ({type(exc).__name__}: {exc}); the figures are "
                "those of the last reading that succeeded",
            )

    def _poll(self, run: _Run) -> None:
        for name, comp in run.components.items():
            if comp.failed:
                continue
            for meter in comp.meters:
                if meter.poll_interval_s:
                    try:
                        meter.poll()
                    except Exception as exc:
                        self._fail(name, comp, exc, run)
                        break

    def _fail(self, name: str, comp: _Component, exc: Exception, run: _Run) -> None:
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

    def _update(self, run: _Run) -> None:
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
                    energy, low, high, method, gap = (
                        r.energy_j,
                        r.low_j,
                        r.high_j,
                        r.method,
                        r.gap_s,
                    )
                else:
                    readings = [m.read() for m in meters]
                    energy = sum(r.energy_j for r in readings)
                    low = sum(r.low_j for r in readings)
                    high = sum(r.high_j for r in readings)
                    method = "+".join(dict.fromkeys(r.method for r in readings))
                    gap = sum(r.gap_s for r in readings)
            except Exception as exc:
                self._fail(name, comp, exc, run)
                continue
            base = comp.base
            comp.energy_j, comp.low_j, comp.high_j = energy - base[0], low - base[1], high - base[2]
            comp.method = method
            gap -= base[3]
            if gap > 0:
                comp.note = f"{gap:.1f} s not covered by the counter, estimated within bounds"
            if name == "gpu":
                self._gpu_utilization(run, meters)
        run.t = time.monotonic()
        run.wall = time.time()
        # The CPU model has just read /proc/stat: reuse its figures rather than read it twice.
        cpu_meters = run.components["cpu"].meters
        shared = getattr(cpu_meters[0], "last_ticks", None) if len(cpu_meters) == 1 else None
        if shared is None:
            from .meters.procfs import cpu_busy_total

            shared = cpu_busy_total(run.root)
        run.cpu_now = shared or run.cpu_now
        self._account_emissions(run)

    @staticmethod
    def _gpu_utilization(run: _Run, meters: list[Any]) -> None:
        from .meters.base import utilization_percent

        for m in meters:
            util = utilization_percent(m)
            if util is not None:
                run.gpu_util_sum += util
                run.gpu_util_n += 1

    def _memory(self, run: _Run) -> None:
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

    def _account_emissions(self, run: _Run) -> None:
        # Each stretch of energy is multiplied by the intensity valid for it: the timeline
        # splits the stretch at hour boundaries and uses a live value where one is fresh.
        value, it_low, it_high = run.carbon.timeline.mean(run.accounted_at, run.wall)
        run.accounted_at = run.wall
        factor = run.pue / J_PER_KWH
        # CodeCarbon's figure (CPU + GPU + RAM), then the whole machine (+ platform).
        measured = [
            c for n, c in run.components.items() if n != "platform" and c.energy_j is not None
        ]
        total = sum(c.energy_j for c in measured if c.energy_j is not None)
        low = _sum_or_none([c.low_j for c in measured])
        high = _sum_or_none([c.high_j for c in measured])
        prev = run.last_total
        if run.emissions_g is not None and prev[0] is not None:
            run.emissions_g += (total - prev[0]) * factor * value
        run.emissions_low_g = _add(run.emissions_low_g, low, prev[1], factor * it_low)
        run.emissions_high_g = _add(run.emissions_high_g, high, prev[2], factor * it_high)
        platform = run.components.get("platform")
        if platform is not None and platform.energy_j is not None:
            m_total = total + platform.energy_j
            m_low = None if low is None or platform.low_j is None else low + platform.low_j
            m_high = None if high is None or platform.high_j is None else high + platform.high_j
            mprev = run.last_machine
            run.machine_g = _add(run.machine_g, m_total, mprev[0], factor * value)
            run.machine_low_g = _add(run.machine_low_g, m_low, mprev[1], factor * it_low)
            run.machine_high_g = _add(run.machine_high_g, m_high, mprev[2], factor * it_high)
            run.last_machine = (m_total, m_low, m_high)
        if run.emissions_marginal_g is not None and prev[0] is not None:
            m = run.carbon.marginal_at(run.wall)
            if m is not None:
                run.emissions_marginal_g += (total - prev[0]) * factor * m
        run.last_total = (total, low, high)

    def _state(self, run: _Run) -> dict[str, Any]:
        util: dict[str, float | None] = {
            "cpu": None,
            "gpu": run.gpu_util_sum / run.gpu_util_n if run.gpu_util_n else None,
            "ram": run.ram_percent,
            "ram_used_gb": run.ram_used_gb,
        }
        if run.cpu_start and run.cpu_now and run.cpu_now[1] > run.cpu_start[1]:
            busy = run.cpu_now[0] - run.cpu_start[0]
            util["cpu"] = 100.0 * busy / (run.cpu_now[1] - run.cpu_start[1])
        return {
            "t": run.wall,
            "duration_s": run.t - run.t0,
            "components": {name: c.state() for name, c in run.components.items()},
            "emissions_g": run.emissions_g,
            "emissions_low_g": run.emissions_low_g,
            "emissions_high_g": run.emissions_high_g,
            "emissions_marginal_g": run.emissions_marginal_g,
            "machine_g": run.machine_g,
            "machine_low_g": run.machine_low_g,
            "machine_high_g": run.machine_high_g,
            "intensity_kinds": sorted(run.carbon.timeline.kinds),
            "shares": run.attribution.state() if run.attribution is not None else {},
            "util": util,
            "notes": run.notes + self._carbon_notes(run),
            **self._footprint_state(run),
        }

    @staticmethod
    def _footprint_state(run: _Run) -> dict[str, Any]:
        """The state's units, process share and LLM calls, only where there are any."""
        out: dict[str, Any] = {}
        if run.units is not None:
            out["units"] = run.units
        if run.process_cpu_s is not None:
            out["share"] = {"process_cpu_s": run.process_cpu_s}
        if run.llm is not None:
            out["llm"] = run.llm.snapshot()
        return out

    def _footprint_meta(self, ctx: Any, components: dict[str, _Component], carbon: Any,
                        machine: Any) -> dict[str, Any]:  # fmt: skip
        """The run's embodied rate (found once) and functional unit, for every row."""
        s = self.settings
        meta: dict[str, Any] = {
            "functional_unit": s.functional_unit,
            "functional_units": s.functional_units,
        }
        try:
            from .embodied.model import estimate
            from .meters.procfs import cpu_info

            info = cpu_info(ctx.root)
            models = [m for meter in components["gpu"].meters
                      for m in getattr(meter, "gpu_models", ())]  # fmt: skip
            found = estimate(info.model, info.sockets, info.threads, machine.ram_total_gb,
                             models, virtual=info.virtual,
                             cloud_provider=carbon.location.cloud_provider,
                             instance_type=s.cloud_instance_type)  # fmt: skip
            for warning in found.warnings:
                _logs().warn_once(f"embodied:{warning[:60]}", warning)
            meta["embodied"] = found.per_hour(s.hardware_lifetime_years)
        except Exception as exc:  # a missing figure is said, never a reason to fail
            _logs().warn_once("embodied:error", f"embodied emissions not estimated: {exc}")
            meta["embodied"] = None
        return meta

    def _footprint_start(self, run: _Run) -> None:
        s = self.settings
        if s.tracking_mode == "process":
            import psutil

            from .embodied.share import process_tree_cpu_s

            run.process = psutil.Process()
            run.process_cpu_s0 = process_tree_cpu_s(run.process)
        if s.track_llm_calls:
            from .llm import start_collecting

            run.llm = start_collecting(_logs().warn_once)

    @staticmethod
    def _carbon_notes(run: _Run) -> list[str]:
        live = run.carbon.live
        if live is not None and live.error and "live" not in run.carbon.timeline.kinds:
            return [
                f"live intensity from {live.source} unavailable ({live.error}); offline figure used"
            ]
        return []

    def _journal(self, run: _Run) -> None:
        state = self._state(run)
        run.last_state = state  # what stop() writes if a stalled meter holds the lock
        try:
            run.journal.interval(state)
        except OSError as exc:
            _rows().say_write_failure(run.journal.path, exc)
        except ValueError:
            pass  # closed by a stop() that did not wait for a stalled meter

    def _snapshot(self, run: _Run) -> RunResult | None:
        """The run as of its last interval, for a scrape or an export: no meter is read, and
        the result is built once per interval however often it is asked for. None once the
        run has ended, or when the lock stays taken (a stop in progress): the caller keeps
        what it last saw."""
        if not self._lock.acquire(timeout=1.0):
            return None
        try:
            if run is not self._run:
                return None
            if run.snapshot is None or run.snapshot[0] != run.t:
                run.snapshot = (run.t, self._result(run, "running", memory=False))
            return run.snapshot[1]
        finally:
            self._lock.release()

    def _result(self, run: _Run, status: str, memory: bool = True) -> RunResult:
        from .journal import build_result

        if memory:
            self._memory(run)
        return build_result(run.meta, self._state(run), status)

    def _end_task(
        self, run: _Run, name: str, status: str, end: dict[str, Any] | None = None
    ) -> TaskResult:
        """A task's row. ``end``: the state it ends at (stop() reads the meters once for all)."""
        from .journal import build_result

        start, t_start = run.tasks.pop(name)
        if end is None:
            self._read(run)
            self._memory(run)
            end = self._state(run)
        delta = dict(end)
        delta["duration_s"] = end["duration_s"] - (t_start - run.t0)
        delta["components"] = {
            c: {**s, **{k: _sub(s[k], start["components"][c][k]) for k in
                        ("energy_j", "low_j", "high_j")}}
            for c, s in end["components"].items()
        }  # fmt: skip
        for key in ("emissions_g", "emissions_low_g", "emissions_high_g", "emissions_marginal_g",
                    "machine_g", "machine_low_g", "machine_high_g"):  # fmt: skip
            delta[key] = _sub(end[key], start[key])
        before = start.get("shares", {})
        delta["shares"] = {
            c: [v - w for v, w in zip(pair, before.get(c, (0.0, 0.0)), strict=False)]
            for c, pair in end.get("shares", {}).items()
        }
        if "units" in end:  # the task's own units of work and LLM calls, not the run's
            delta["units"] = end["units"] - start.get("units", 0.0)
        if "llm" in end:
            from .llm import subtract

            delta["llm"] = subtract(end["llm"], start.get("llm") or {})
        if "process_cpu_s" in end.get("share", {}):
            before = (start.get("share") or {}).get("process_cpu_s", 0.0)
            delta["share"] = {
                **end["share"],
                "process_cpu_s": end["share"]["process_cpu_s"] - before,
            }
        result = build_result(run.meta, delta, status, task_name=name)
        self._write_row(run.tasks_csv_path, result)
        if run.sinks:
            run.sinks.write(result)
        return result

    # -- output -------------------------------------------------------------------------------

    def _csv_path(self, wanted: Path, columns: tuple[str, ...]) -> Path | None:
        from .sinks.csv import path_for

        return path_for(wanted, columns)

    def _write_row(self, path: Path | None, result: RunResult) -> bool:
        return _rows().write_row(path, result)

    def _live_feed(self, s: Settings, location: Any) -> Any:
        """A live intensity feed with its own thread, when the user asked for one."""
        if s.live_provider is None:
            return None
        from .carbon.live import open_feed

        return open_feed(s, location, warn=_logs().warn_once)

    def _attribution(self, ctx: Any, components: dict[str, _Component]) -> Any:
        """Where the job sits; in process and job mode, meters wrapped to charge its share."""
        from .attribution.setup import attribute, locate

        s = self.settings
        att = locate(ctx.root, ctx.env, ctx.pid)
        if s.tracking_mode == "machine":
            att.gpu_method = "machine" if components["gpu"].meters else ""
            return att
        from .meters.cpu_model import machine_model

        info, curve = machine_model(ctx)
        # A part the model does not estimate apart (an unknown CPU's platform) has no idle
        # figure of its own: it is folded into the CPU's.
        idle = {n: curve.component(n, 0.0) for n in ("cpu", "ram", "platform")}
        idle_w = {n: w[0] for n, w in idle.items() if w is not None}
        if attribute(att, s.tracking_mode, s.idle_policy, components, ctx.root, ctx.pid,
                     info.threads, idle_w, ctx.shared, _logs().warn_once):  # fmt: skip
            att.gpu_method = self._gpu_scope(att, components)
        else:
            att.gpu_method = "machine" if components["gpu"].meters else ""
        return att

    def _gpu_scope(self, att: Any, components: dict[str, _Component]) -> str:
        """How the GPUs are charged: held whole, or the job's share of GPUs shared with others."""
        gpu = components.get("gpu")
        if gpu is None or not gpu.meters:
            return ""
        from .attribution.gpu import share_gpus
        from .attribution.setup import track_gpu_share

        method = share_gpus(att, gpu, self.settings.tracking_mode, _logs().warn_once)
        track_gpu_share(att, gpu)
        return method

    def _sync_label(self) -> str:
        from .attribution.sync import label

        return "callable" if self._sync_fn is not None else label(self.settings.sync_gpu)

    def _machine(self, ctx: Any, components: dict[str, _Component]) -> Any:
        from .meters.procfs import cpu_info, meminfo_kib
        from .records import Machine

        info = cpu_info(ctx.root)
        uname = os.uname() if hasattr(os, "uname") else None
        os_name = f"{uname.sysname}-{uname.release}-{uname.machine}" if uname else sys.platform
        gpu_count, gpu_models = 0, []
        for meter in components["gpu"].meters:
            gpu_count += getattr(meter, "gpu_count", 0)
            gpu_models.extend(getattr(meter, "gpu_models", ()))
        models = sorted(set(gpu_models))
        kib = meminfo_kib(ctx.root).get("MemTotal", 0)
        return Machine(
            os=os_name,
            python_version=".".join(map(str, sys.version_info[:3])),
            cpu_count=info.threads,
            cpu_model=self.settings.cpu_model or info.model,  # the user's, where given
            gpu_count=gpu_count,
            gpu_model=", ".join(
                f"{gpu_models.count(m)} x {m}" if gpu_models.count(m) > 1 else m for m in models
            ),
            ram_total_gb=kib * 1024 / 1e9,
        )


def recover(output_dir: str | os.PathLike[str]) -> list[RunResult]:
    """Write the final row of every run in ``output_dir`` whose process died before stopping
    (see ``wattprint.recovery.recover``)."""
    from .recovery import recover

    return recover(output_dir)


def _baseline(components: dict[str, _Component]) -> None:
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


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _reading_component(thread: threading.Thread | None) -> str | None:
    """The component a thread is reading now, from its stack: the sampling tick stays as is."""
    frames = getattr(sys, "_current_frames", dict)()
    frame = frames.get(thread.ident) if thread is not None else None
    while frame is not None:
        if frame.f_code.co_name in ("_update", "_poll") and isinstance(
            frame.f_locals.get("name"), str
        ):
            return frame.f_locals["name"]
        frame = frame.f_back
    return None


def _stalled(run: _Run, state: dict[str, Any], name: str | None) -> dict[str, Any]:
    """``state`` with the component whose meter stalled (all measured ones if unknown) labelled:
    its energy after its last reading is not counted, so it has no upper bound."""
    names = [name] if name else [n for n, c in run.components.items() if c.meters]
    note = f"its meter did not answer within {STOP_WAIT_S:g} s at stop(); energy after the last reading is not counted"  # noqa: E501
    components = dict(state["components"])
    for n in names:
        if n in components:
            part = dict(components[n])
            part.update(high_j=None, method=f"{part.get('method', 'none')}+stalled", note=note)
            components[n] = part
    notes = [*state.get("notes", ()), *(f"{n}: {note}" for n in names)]
    _logs().warn_once(f"stop-stalled:{','.join(names)}", f"{', '.join(names)}: {note}")
    return {**state, "components": components, "emissions_high_g": None,
            "machine_high_g": None, "notes": notes}  # fmt: skip


def _accounting_failed(run: _Run, state: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    note = (f"emission accounting failed at stop() ({type(exc).__name__}: {exc}); emissions "
            "after the last interval are not counted")  # fmt: skip
    # The sampler's key: a fault it already met and said is not said again.
    _logs().warn_once(f"sampler:{type(exc).__name__}", note)
    return {**state, "emissions_high_g": None, "machine_high_g": None,
            "notes": [*state.get("notes", ()), note]}  # fmt: skip


def _uuid4() -> str:
    # The uuid module imports platform (~4 ms); a random UUID is sixteen random bytes.
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _sum_or_none(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _add(acc: float | None, now: float | None, before: float | None, k: float) -> float | None:
    if acc is None or now is None or before is None:
        return None
    return acc + (now - before) * k


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def track(fn: Any = None, **settings: Any) -> Any:
    """Track each call of a function: ``@track`` or ``@track(project_name=...)``.

    Every call is its own run; the last call's result is at ``function.last_result``.
    """
    from .config import load_settings

    load_settings(settings)  # bad settings fail at decoration time, not at the first call

    import inspect  # here, not at import: it costs milliseconds

    def decorate(func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                tracker = Tracker(**settings)
                try:
                    with tracker:
                        return await func(*args, **kwargs)
                finally:
                    async_wrapper.last_result = tracker.result  # type: ignore[attr-defined]

            async_wrapper.last_result = None  # type: ignore[attr-defined]
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            tracker = Tracker(**settings)
            try:
                with tracker:
                    return func(*args, **kwargs)
            finally:
                wrapper.last_result = tracker.result  # type: ignore[attr-defined]

        wrapper.last_result = None  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    if fn is not None:
        if not callable(fn):
            raise TypeError("use @track or @track(setting=value, ...)")
        return decorate(fn)
    return decorate
