"""Keras 3: a ``keras.callbacks.Callback`` (extra ``wattprint[keras]``), any backend.

    from wattprint.integrations.keras import WattprintCallback

    callback = WattprintCallback(project_name="mnist", country="FRA")  # or tracker=Tracker(...)
    history = model.fit(x, y, epochs=10, callbacks=[callback])
    history.history["wattprint/emissions_kg"]   # one cumulative value per epoch
    callback.result                              # the final RunResult

What it does:

- ``on_train_begin``: starts the tracker (a tracker already running is read, not stopped).
- ``on_epoch_end``: adds the metrics, cumulative since ``fit`` began, to the epoch's ``logs``, so
  that ``History``, the progress bar, ``CSVLogger``, ``TensorBoard`` and the other callbacks
  placed after this one see them.
- ``on_train_end``: stops the tracker; ``callback.result`` has the final figures (the same as
  the last epoch's values, plus the end of ``fit``) and ``callback.co2_eq_emissions`` the
  Hugging Face Hub's model-card metadata.

Metric names: ``wattprint/energy_kwh``, ``wattprint/energy_low_kwh``,
``wattprint/energy_high_kwh``, ``wattprint/energy_cpu_kwh``, ``wattprint/energy_gpu_kwh``,
``wattprint/energy_ram_kwh``, ``wattprint/power_w``, ``wattprint/emissions_kg``,
``wattprint/emissions_low_kg``, ``wattprint/emissions_high_kg``; what cannot be measured is
absent, never 0 (see :mod:`wattprint.integrations._common`).

A ``fit`` that raises: Keras calls no callback then, so the run stays open until the next
``fit`` with this callback begins or Python exits, and is then recorded as ``failed``
(``interrupted`` after Ctrl-C). To record it at once, wrap ``fit``:
``with callback: model.fit(..., callbacks=[callback])``.

Keras runs callbacks in one process; under a multi-worker distribution strategy, give the
callback to the chief worker only. When MLflow has an active run, the metrics are logged to it
too at each epoch (``mlflow=False`` turns that off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras

from ._common import PREFIX, Session, SessionProperties, co2_eq_emissions, status_for

if TYPE_CHECKING:
    from ..tracker import Tracker

__all__ = ["WattprintCallback"]


class WattprintCallback(SessionProperties, keras.callbacks.Callback):
    """Track ``model.fit`` and add its energy and emissions to each epoch's logs.

    ``tracker``: a Tracker to use; or tracker settings as keyword arguments. ``prefix``: of the
    metric names. ``training_type``: for ``co2_eq_emissions`` ("pre-training" or
    "fine-tuning"). ``mlflow``: log to the active MLflow run (True or None), or not (False).
    """

    def __init__(
        self,
        tracker: Tracker | None = None,
        *,
        prefix: str = PREFIX,
        training_type: str | None = None,
        mlflow: bool | None = None,
        **settings: Any,
    ) -> None:
        super().__init__()
        self._session = Session(tracker, settings, prefix, mlflow)
        self.training_type = training_type
        self.co2_eq_emissions: dict[str, Any] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.co2_eq_emissions = None
        self._session.begin()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        result = self._session.peek()
        if result is None:
            return
        if logs is not None:
            logs.update(self._session.metrics(result))
        self._session.log_mlflow(result, epoch)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        session = self._session
        if not session.active:
            return
        result = session.end("finished")
        if result is not None:
            session.log_mlflow(result, None, final=True)
            self.co2_eq_emissions = co2_eq_emissions(result, self.training_type)

    # ``with callback: model.fit(...)``: a fit that raises is recorded at once.

    def __enter__(self) -> WattprintCallback:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None and self._session.active:
            self._session.end(status_for(exc))
