"""Tracker: start, stop, flush, tasks; one sampling thread that never touches the user's code.

Every figure comes from meter reads at the edges of what is measured: a run's intervals, a
flush, a task. Counter meters are exact over any such interval; the sampling thread only sets
the time resolution of the journal, and polls the meters that integrate power.

The Tracker keeps the lifecycle (when things happen, under which lock); the rest is elsewhere:
``assembly`` builds a run, ``sampling`` reads its meters and holds its state, ``accounting``
turns energy into emissions, ``sinks.csv`` writes its rows, ``recovery`` finishes killed runs.
"""

from __future__ import annotations

import functools
import os
import threading
import time

from . import sampling
from .accounting import task_delta
from .units import J_PER_KWH  # noqa: F401  (kept for callers)

# Only what a sampling thread needs is imported with the module: settings, records and the
# carbon layer load when a Tracker is built, meters when it starts. A program that imports
# wattprint and never tracks pays next to nothing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any, TypeVar

    from .config import Settings
    from .records import RunResult, TaskResult
    from .sampling import Run

    F = TypeVar("F", bound=Callable[..., Any])

#: The most stop() waits for the sampler and the last meter reads: a meter that stalls past it
#: costs the energy after its last reading (labelled), never the user's program its time.
STOP_WAIT_S = 5.0


def _logs() -> Any:
    from . import _log

    return _log


def _rows() -> Any:
    from .sinks import csv

    return csv


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
        self._run: Run | None = None
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

        locate(
            s.country, s.region, s.zone, s.cloud_provider, s.cloud_region, s.latitude, s.longitude
        )

    def _sinks_on(self) -> bool:
        from .sinks import enabled  # the one list of which settings turn a sink on

        return bool(enabled(self.settings))

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
                target=sampling.loop,
                args=(run, self.settings.interval_s, self._tick),
                name="wattprint-sampler",
                daemon=True,
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
                run.thread.join(sampling.left(deadline))
            locked = self._lock.acquire(timeout=sampling.left(deadline))
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
            sampling.read_quietly(run)
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
            sampling.read_quietly(run)
            return self._result(run, "running")

    def start_task(self, name: str) -> None:
        if self.bystander:
            return None
        self._sync_gpu()  # what ran before the task is not the task's
        with self._lock:
            run = self._require_run(f"start_task({name!r})")
            if name in run.tasks:
                raise ValueError(f"task {name!r} is already running; stop it or use another name")
            sampling.read_quietly(run)
            run.tasks[name] = (sampling.state(run), run.t)

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
            _logs().warn_once(
                f"sync-gpu:{type(exc).__name__}",
                f"sync_gpu could not wait for the GPU ({type(exc).__name__}: {exc}); "
                "edges are read without waiting",
            )

    def _open_run(self) -> Run:
        from .assembly import open_run

        return open_run(
            self.settings, self._sync_label(), self.shift, self._snapshot, self._sinks_on()
        )

    def _require_run(self, what: str) -> Run:
        if self._run is None:
            raise RuntimeError(f"{what} needs a running tracker: call start() first")
        return self._run

    def _close_run(self, run: Run, status: str, deadline: float, locked: bool) -> RunResult:
        """The run's last reading, its tasks' rows, its row, then its journal closed."""
        try:
            end = sampling.final_state(run, deadline, locked, STOP_WAIT_S)
            for name in list(run.tasks):
                self._end_task(run, name, status, end)
            result = self._build(run.meta, end, status)
            written = self._write_row(run.csv_path, result)
            if run.sinks:
                run.sinks.write(result)
            self._end_journal(run, end, status, written, result)
        finally:
            for closer in (
                run.detection.close,
                run.carbon.close,
                run.sinks.close if run.sinks is not None else None,
                run.llm.close if run.llm is not None else None,
            ):
                if closer is not None:
                    try:
                        closer()
                    except Exception as exc:
                        _logs().warn_once(f"close:{type(exc).__name__}", f"at stop(): {exc}")
        return result

    def _end_journal(
        self, run: Run, end: dict[str, Any], status: str, written: bool, result: RunResult
    ) -> None:
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

    # -- sampling -----------------------------------------------------------------------------

    def _tick(self, run: Run, poll: bool, sample: bool) -> bool:
        """One turn of the sampling thread, under the lock; False once the run has ended."""
        with self._lock:
            if run is not self._run:
                return False
            if poll:
                sampling.poll_meters(run)
            if sample:
                sampling.read_meters(run)
                if run.journal is not None:
                    self._journal(run)
                if run.sinks is not None and run.sinks.wants_updates:
                    # RAM in use stays as last read: /proc/meminfo is for rows only.
                    run.sinks.update(self._result(run, "running", memory=False))
        return True

    def _journal(self, run: Run) -> None:
        state = sampling.state(run)
        run.last_state = state  # what stop() writes if a stalled meter holds the lock
        try:
            run.journal.interval(state)
        except OSError as exc:
            _rows().say_write_failure(run.journal.path, exc)
        except ValueError:
            pass  # closed by a stop() that did not wait for a stalled meter

    def _snapshot(self, run: Run) -> RunResult | None:
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

    def _result(self, run: Run, status: str, memory: bool = True) -> RunResult:
        if memory:
            sampling.read_memory(run)
        return self._build(run.meta, sampling.state(run), status)

    @staticmethod
    def _build(meta: dict[str, Any], state: dict[str, Any], status: str, **task: Any) -> Any:
        from .results import build_result

        return build_result(meta, state, status, **task)

    def _end_task(
        self, run: Run, name: str, status: str, end: dict[str, Any] | None = None
    ) -> TaskResult:
        """A task's row. ``end``: the state it ends at (stop() reads the meters once for all)."""
        start, t_start = run.tasks.pop(name)
        if end is None:
            sampling.read_quietly(run)
            sampling.read_memory(run)
            end = sampling.state(run)
        delta = task_delta(start, end, t_start - run.t0)
        result = self._build(run.meta, delta, status, task_name=name)
        self._write_row(run.tasks_csv_path, result)
        if run.sinks:
            run.sinks.write(result)
        return result

    # -- output -------------------------------------------------------------------------------

    def _write_row(self, path: Path | None, result: RunResult) -> bool:
        return _rows().write_row(path, result)

    def _sync_label(self) -> str:
        from .attribution.sync import label

        return "callable" if self._sync_fn is not None else label(self.settings.sync_gpu)


def recover(output_dir: str | os.PathLike[str]) -> list[RunResult]:
    """Write the final row of every run in ``output_dir`` whose process died before stopping
    (see ``wattprint.recovery.recover``)."""
    from .recovery import recover

    return recover(output_dir)


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
