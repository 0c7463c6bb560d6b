"""Where records go besides the CSV: the sinks that a run's settings turn on.

A sink is an object of the ``Sink`` protocol below:

* ``write(result)``: every row the core writes (``flush()``, ``stop()``, a task's end, where
  ``result.task_name`` is set). Called in the caller's thread: a sink that talks to the network
  queues here and sends from a thread of its own, so that ``stop()`` never waits on a server.
* ``close()``: when the run has ended, after its last write.

and may also have (looked up with ``getattr``; ``LiveSink``, ``UpdatingSink`` and
``RecoveringSink`` spell them out for a type checker):

* ``live(snapshot)``: once at open. ``snapshot()`` returns the run's cumulative result
  as of its last sampling interval (None once the run has ended), built when called and at most
  once per interval. Sinks that show live values (a scrape, a periodic export) call it when
  asked, so that a tracker with such a sink pays per scrape, not per sample.
* ``update(result)``: every sampling interval, in the sampling thread, for sinks whose
  ``wants_updates`` is true. It must not block. (No sink needs it now; ``live`` is cheaper.)
* ``recovered(result)``: the final row of another run, killed before it stopped,
  that this run's start (or ``wattprint recover``, through ``pass_on_recovered``) recovered
  from its journal (``status`` "interrupted"). Row sinks (logger, webhook, server:
  ``ROW_SINKS``) pass it on; per-run sinks (Prometheus, OTel) have nothing to show for it.

Each sink lives in its own module, whose ``open(settings, meta)`` returns it, and imports its
library only when its setting turns it on; the core pays nothing for sinks nobody asked for. A
sink that fails is logged once and never reaches the user's program.
"""

from __future__ import annotations

from typing import Protocol

# Typing names only: sinks.csv is imported at every start, and this package with it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..records import RunResult


class Sink(Protocol):
    """Where a run's rows go besides the CSV (see the module's docstring)."""

    def write(self, result: RunResult) -> None: ...

    def close(self) -> None: ...


class LiveSink(Sink, Protocol):
    def live(self, snapshot: Callable[[], RunResult | None]) -> None: ...


class UpdatingSink(Sink, Protocol):
    wants_updates: bool

    def update(self, result: RunResult) -> None: ...


class RecoveringSink(Sink, Protocol):
    def recovered(self, result: RunResult) -> None: ...


#: setting -> (is it on?, module under wattprint.sinks, the package it needs, the extra that has it)
_SINKS: dict[str, tuple[Callable[[Any], bool], str, str | None, str | None]] = {
    "prometheus": (
        lambda s: s.prometheus_port is not None or s.prometheus_pushgateway is not None,
        "prometheus",
        "prometheus_client",
        "prometheus",
    ),
    "otel": (lambda s: s.otel_endpoint is not None, "otel", "opentelemetry.sdk", "otel"),
    "logger": (lambda s: bool(s.log_records), "log", None, None),
    "webhook": (lambda s: s.webhook_url is not None, "webhook", None, None),
    "server": (lambda s: s.server_url is not None, "server", None, None),
}


#: Sinks that pass on a killed run's recovered row (the others show one live run's values), and
#: that ``wattprint recover`` therefore opens on its own.
ROW_SINKS = ("logger", "webhook", "server")


def enabled(settings: Any) -> list[str]:
    """The sinks these settings turn on."""
    return [name for name, (on, *_rest) in _SINKS.items() if on(settings)]


def check(settings: Any) -> None:
    """Fail before anything is measured when a sink's package is not installed."""
    from importlib.util import find_spec

    for name in enabled(settings):
        _, _, package, extra = _SINKS[name]
        if package is not None and find_spec(package.split(".")[0]) is None:
            raise ValueError(
                f"the {name} sink needs the {package} package: pip install 'wattprint[{extra}]'"
            )


class Sinks:
    """The sinks of one run; every call is guarded so that a sink's failure stays here."""

    def __init__(self, sinks: dict[str, Sink], warn: Callable[[str, str], None]) -> None:
        self._sinks = sinks
        self._warn = warn
        self.wants_updates = any(getattr(s, "wants_updates", False) for s in sinks.values())

    def __bool__(self) -> bool:
        return bool(self._sinks)

    def _each(self, method: str, *args: Any) -> None:
        for name, sink in self._sinks.items():
            fn = getattr(sink, method, None)
            if fn is None:
                continue
            try:
                fn(*args)
            except Exception as exc:  # a sink must never break a run
                self._warn(
                    f"sink:{name}:{method}",
                    f"the {name} sink failed in {method}() ({type(exc).__name__}: {exc}); "
                    "the run goes on and the CSV has every row",
                )

    def update(self, result: RunResult) -> None:
        for name, sink in self._sinks.items():
            if getattr(sink, "wants_updates", False):
                try:
                    sink.update(result)  # type: ignore[attr-defined]
                except Exception as exc:
                    self._warn(f"sink:{name}:update", f"the {name} sink failed: {exc}")

    def write(self, result: RunResult) -> None:
        self._each("write", result)

    def recovered(self, result: RunResult) -> None:
        self._each("recovered", result)

    def close(self) -> None:
        self._each("close")


def open_sinks(
    settings: Any,
    meta: dict[str, Any],
    warn: Callable[[str, str], None],
    snapshot: Callable[[], RunResult | None] | None = None,
    only: list[str] | None = None,
) -> Sinks:
    """The sinks ``settings`` turn on, opened for the run described by ``meta``.

    Each sink module has ``open(settings, meta)`` returning the sink object; ``snapshot`` goes
    to the sinks that have ``live()``; ``only`` limits them to those named.
    """
    import importlib

    sinks: dict[str, Sink] = {}
    for name in enabled(settings):
        if only is not None and name not in only:
            continue
        module = importlib.import_module(f"{__name__}.{_SINKS[name][1]}")
        try:
            sink = module.open(settings, meta)
            if snapshot is not None and hasattr(sink, "live"):
                sink.live(snapshot)
            sinks[name] = sink
        except Exception as exc:
            warn(
                f"sink-open:{name}",
                f"the {name} sink could not start ({type(exc).__name__}: {exc}); "
                "the run is measured without it",
            )
    return Sinks(sinks, warn)


def pass_on_recovered(
    settings: Any, results: list[RunResult], warn: Callable[[str, str], None]
) -> None:
    """Give rows recovered outside a run (``wattprint recover``) to the row sinks ``settings``
    turn on, as a tracker's start does with the rows it recovers.

    Each row goes through a sink opened for its own run, so that closing it waits (bounded) for
    that row's delivery; what is not delivered waits in the sink's spool.
    """
    names = [name for name in enabled(settings) if name in ROW_SINKS]
    for result in results:
        if names:
            sinks = open_sinks(settings, {"run_id": result.run_id}, warn, only=names)
            sinks.recovered(result)
            sinks.close()
