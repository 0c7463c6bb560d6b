"""OpenTelemetry metrics over OTLP/HTTP (protobuf), for Logfire and most observability backends.

Turned on by ``otel_endpoint``: a collector's base URL (``http://localhost:4318``), to which
``/v1/metrics`` is added, or the full metrics URL (ending in ``/v1/metrics``), used as is.

Each run has a ``MeterProvider`` of its own (never the global one: the application's own
OpenTelemetry setup is left alone) with a ``PeriodicExportingMetricReader`` and the OTLP/HTTP
exporter, so the standard ``OTEL_*`` variables apply: ``OTEL_EXPORTER_OTLP_HEADERS`` (or
``..._METRICS_HEADERS``) for credentials, ``OTEL_METRIC_EXPORT_INTERVAL`` (default 60 s),
``OTEL_EXPORTER_OTLP_TIMEOUT``, ``OTEL_EXPORTER_OTLP_COMPRESSION``,
``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE``, ``OTEL_RESOURCE_ATTRIBUTES`` and
``OTEL_SERVICE_NAME`` (``service.name`` is ``wattprint`` unless they say otherwise).

Instruments are observable: they read the run's latest result when the reader collects, in the
reader's own thread. ``close()`` shuts the provider down (one last export of the final figures)
from a daemon thread and waits for it at most ``CLOSE_WAIT_S``. Names (``wattprint.energy`` in
J, ``wattprint.power`` in W, ...) and attributes: see ``wattprint.sinks._series``.
"""

from __future__ import annotations

import threading
from typing import Any

from ._series import QUANTITIES, RunState

CLOSE_WAIT_S = 5.0
METRICS_PATH = "/v1/metrics"


def endpoint_url(setting: str) -> str:
    """The OTLP/HTTP metrics URL for the ``otel_endpoint`` setting."""
    url = setting.rstrip("/")
    return url if url.endswith(METRICS_PATH) else url + METRICS_PATH


def resource() -> Any:
    from opentelemetry.sdk.resources import Resource

    from .._version import __version__

    found = Resource.create({"service.version": __version__})
    name = str(found.attributes.get("service.name", ""))
    if not name or name.startswith("unknown_service"):
        found = found.merge(Resource({"service.name": "wattprint"}))
    return found


class OtelSink:
    def __init__(self, settings: Any, meta: dict[str, Any], reader: Any = None) -> None:
        from opentelemetry.sdk.metrics import MeterProvider

        self.run_id = meta["run_id"]
        self.state = RunState()
        self.endpoint = endpoint_url(settings.otel_endpoint)
        self.exporter: Any = None
        if reader is None:  # tests may pass an InMemoryMetricReader
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            self.exporter = _exporter(self.endpoint)
            reader = PeriodicExportingMetricReader(self.exporter)
        self.reader = reader
        self.provider = MeterProvider(
            metric_readers=[reader], resource=resource(), shutdown_on_exit=False
        )
        from .._version import __version__

        meter = self.provider.get_meter("wattprint", __version__)
        for key, quantity in QUANTITIES.items():
            if quantity.counter:
                create = meter.create_observable_counter
            else:
                create = meter.create_observable_gauge
            create(
                quantity.otel,
                callbacks=[self._callback(key)],
                unit=quantity.unit,
                description=quantity.help,
            )

    def _callback(self, key: str) -> Any:
        from opentelemetry.metrics import Observation

        def observe(options: Any) -> list[Any]:
            rows = self.state.samples()
            return [Observation(value, labels) for k, labels, value in rows if k == key]

        return observe

    def live(self, snapshot: Any) -> None:
        self.state.source = snapshot  # each export asks for the run as of its last interval

    def write(self, result: Any) -> None:
        self.state.see(result)

    def close(self) -> None:
        done = threading.Event()

        def shutdown() -> None:
            try:
                self.provider.shutdown()  # the reader exports one last time
            finally:
                done.set()

        threading.Thread(target=shutdown, name="wattprint-otel-close", daemon=True).start()
        if done.wait(CLOSE_WAIT_S):
            if self.exporter is None or self.exporter.last_ok is not False:
                return
            why = "it refused them or could not be reached"
        else:
            why = f"no answer within {CLOSE_WAIT_S:g} s"
        from .._log import warn_once

        warn_once(
            f"otel-close:{self.endpoint}",
            f"the OTLP endpoint {self.endpoint} did not take run {self.run_id}'s final "
            f"metrics ({why}); the CSV has every row",
        )


def _exporter(endpoint: str) -> Any:
    """The OTLP/HTTP exporter, remembering whether its last export went through."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics.export import MetricExportResult

    class Exporter(OTLPMetricExporter):
        last_ok: bool | None = None

        def export(
            self, metrics_data: Any, timeout_millis: float | None = 10_000, **kwargs: Any
        ) -> Any:
            outcome = super().export(metrics_data, timeout_millis, **kwargs)
            self.last_ok = outcome == MetricExportResult.SUCCESS
            return outcome

    return Exporter(endpoint=endpoint)


def open(settings: Any, meta: dict[str, Any]) -> OtelSink:
    return OtelSink(settings, meta)
