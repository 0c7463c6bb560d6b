"""What the framework callbacks share: the metrics they log, the model-card metadata, a session.

Metrics (:data:`METRICS`), logged under a prefix (``wattprint/`` unless told otherwise), are
cumulative since training began: a logging step shows the run so far (``Tracker.peek()``, which
writes nothing), the end of training the final figures (``Tracker.stop()``). A component that
could not be measured, or that the machine does not have (no GPU), is absent, never logged as 0;
so are bounds and emissions that are unknown.

In a distributed job one process per node measures: the node's local rank 0, which measures
the devices the job holds on that node (a 4-node job reports 4 nodes, joined by
``wattprint report --by job``). The global rank 0 alone logs metrics; other processes do nothing.
"""

from __future__ import annotations

import atexit
import sys
from typing import TYPE_CHECKING, Any

from .. import _log

# What a result logs lives in ._metrics (the mlflow module imports it alone); re-exported for the
# framework callbacks.
from ._metrics import (  # noqa: F401
    METRICS,
    PREFIX,
    co2_eq_emissions,
    hardware_text,
    location_text,
    metrics,
    source,
)

if TYPE_CHECKING:
    from ..records import RunResult
    from ..tracker import Tracker

# -- one tracked training run -------------------------------------------------------------------


def status_for(exc: BaseException | None) -> str:
    from ..tracker import exit_status

    return exit_status(None if exc is None else type(exc), exc)


class SessionProperties:
    """What every callback exposes of its session: ``callback.tracker``, ``callback.result``."""

    _session: Session

    @property
    def tracker(self) -> Tracker:
        return self._session.tracker

    @property
    def result(self) -> RunResult | None:
        """The last training's final result (None before the first one ends)."""
        return self._session.result


class Session:
    """The tracker behind a callback, and the run it measures for one training.

    ``begin()`` starts the tracker, unless it is already running: then the run is the owner's,
    the callback only reads it and ``end()`` leaves it running (its final figures are the
    owner's ``stop()``). Nothing here raises into the training loop: a failure is one warning
    and training goes on, unmeasured.

    A run still going when the interpreter exits (the training raised and the framework does
    not say so) is stopped then, as ``failed`` (``interrupted`` after Ctrl-C).
    """

    def __init__(
        self,
        tracker: Tracker | None,
        settings: dict[str, Any],
        prefix: str = PREFIX,
        mlflow: bool | None = None,
    ) -> None:
        if tracker is not None and settings:
            names = ", ".join(sorted(settings))
            raise TypeError(f"give a Tracker or tracker settings, not both (got {names})")
        if tracker is None:
            from ..tracker import Tracker

            tracker = Tracker(**settings)  # bad settings fail here, before any training
        self.tracker = tracker
        self.prefix = prefix
        self.mlflow = mlflow
        self.owned = False
        self.active = False
        self.result: RunResult | None = None

    def begin(self) -> bool:
        """Start measuring; False when it could not start (said in a warning)."""
        if self.active:
            _log.logger.warning(
                "wattprint: training began again before the previous one ended (it raised?); "
                "the previous run is recorded as failed"
            )
            self.end("failed")
        self.result = None
        try:
            if self.tracker.running:
                self.owned = False
            else:
                self.tracker.start()
                self.owned = True
                atexit.register(self._at_exit)
        except Exception as exc:
            warn("start", exc)
            return False
        self.active = True
        return True

    def peek(self) -> RunResult | None:
        """The run so far; None when not measuring."""
        if not self.active:
            return None
        try:
            return self.tracker.peek()
        except Exception as exc:
            warn("peek", exc)
            return None

    def end(self, status: str = "finished") -> RunResult | None:
        """Stop measuring (if this session started the tracker) and keep the final result."""
        if not self.active:
            return self.result
        self.active = False
        try:
            if self.owned:
                atexit.unregister(self._at_exit)
                self.result = self.tracker.stop(status)
            else:
                self.result = self.tracker.peek()
        except Exception as exc:
            warn("stop", exc)
        return self.result

    def metrics(self, result: RunResult | None) -> dict[str, float]:
        return {} if result is None else metrics(result, self.prefix)

    def log_mlflow(
        self, result: RunResult | None, step: int | None, final: bool = False, covered: bool = False
    ) -> None:
        """Log to the active MLflow run, if there is one (then MLflow is already imported).

        ``self.mlflow``: True always, False never, None unless ``covered``: the framework sends
        the callback's metrics to MLflow already (its own MLflow logger).
        """
        if result is None or self.mlflow is False or (self.mlflow is None and covered):
            return
        if "mlflow" not in sys.modules:
            return
        try:
            from .mlflow import active_run_id, log_to_mlflow

            if active_run_id() is not None:
                log_to_mlflow(result, prefix=self.prefix, step=step, tags=final)
        except Exception as exc:
            warn("mlflow", exc)

    def _at_exit(self) -> None:
        last = getattr(sys, "last_type", None)  # set when an uncaught exception ended Python
        interrupted = isinstance(last, type) and issubclass(last, KeyboardInterrupt)
        self.end("interrupted" if interrupted else "failed")


def warn(what: str, exc: Exception) -> None:
    _log.warn_once(
        f"integration-{what}:{type(exc).__name__}",
        f"wattprint callback could not {what} ({type(exc).__name__}: {exc}); training goes on",
    )
