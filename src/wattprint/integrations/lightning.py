"""PyTorch Lightning: a ``Callback`` (extra ``wattprint[lightning]``).

    from wattprint.integrations.lightning import WattprintCallback

    callback = WattprintCallback(project_name="resnet", country="FRA")  # or tracker=Tracker(...)
    trainer = lightning.pytorch.Trainer(callbacks=[callback], logger=CSVLogger("logs"))
    trainer.fit(model, data)
    callback.result                # the final RunResult

What it does, measuring on each node's local rank 0 (one tracker per node) and logging on the
global-zero process only (``trainer.is_global_zero``):

- ``on_fit_start``: starts the tracker (a tracker already running is read, not stopped); the
  run covers all of ``fit``: sanity check, training and validation.
- every ``log_every_n_steps`` optimizer steps (the trainer's setting unless given) and at the end
  of each training epoch: logs the metrics, cumulative since ``fit`` began, to every logger of the
  trainer (``logger.log_metrics(metrics, step=trainer.global_step)``).
- ``on_fit_end``: stops the tracker and logs the final figures.
- ``on_exception``: stops the tracker with status ``failed`` (``interrupted`` on Ctrl-C) and logs
  the figures so far.

Metric names: ``wattprint/energy_kwh``, ``wattprint/energy_low_kwh``,
``wattprint/energy_high_kwh``, ``wattprint/energy_cpu_kwh``, ``wattprint/energy_gpu_kwh``,
``wattprint/energy_ram_kwh``, ``wattprint/power_w``, ``wattprint/emissions_kg``,
``wattprint/emissions_low_kg``, ``wattprint/emissions_high_kg``; what cannot be measured is
absent, never 0 (see :mod:`wattprint.integrations._common`).

``callback.co2_eq_emissions`` is the Hugging Face Hub's model-card metadata for the run, for a
model pushed to the Hub (``huggingface_hub.metadata_update(repo_id, {"co2_eq_emissions": ...})``).
When MLflow has an active run and the trainer has no ``MLFlowLogger``, the metrics are logged to
that run too (``mlflow=False`` turns that off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lightning.pytorch import Callback

from ._common import PREFIX, Session, SessionProperties, co2_eq_emissions, status_for, warn

if TYPE_CHECKING:
    from lightning.pytorch import LightningModule, Trainer

    from ..records import RunResult
    from ..tracker import Tracker

__all__ = ["WattprintCallback"]


class WattprintCallback(SessionProperties, Callback):
    """Track ``Trainer.fit`` and log its energy and emissions through the trainer's loggers.

    ``tracker``: a Tracker to use; or tracker settings as keyword arguments. ``prefix``: of the
    metric names. ``log_every_n_steps``: how often to log during an epoch (the trainer's
    ``log_every_n_steps`` by default). ``training_type``: for ``co2_eq_emissions``
    ("pre-training" or "fine-tuning"). ``mlflow``: log to the active MLflow run (True), never
    (False), or when no MLFlowLogger does (None).
    """

    def __init__(
        self,
        tracker: Tracker | None = None,
        *,
        prefix: str = PREFIX,
        log_every_n_steps: int | None = None,
        training_type: str | None = None,
        mlflow: bool | None = None,
        **settings: Any,
    ) -> None:
        if log_every_n_steps is not None and log_every_n_steps < 1:
            raise ValueError(f"log_every_n_steps must be 1 or more, not {log_every_n_steps}")
        self._session = Session(tracker, settings, prefix, mlflow)
        self.log_every_n_steps = log_every_n_steps
        self.training_type = training_type
        self.co2_eq_emissions: dict[str, Any] | None = None
        self._logged_step = -1

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if getattr(trainer, "local_rank", 0 if trainer.is_global_zero else 1) != 0:
            return
        self.co2_eq_emissions = None
        self._logged_step = -1
        self._session.begin()

    def on_train_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = trainer.global_step
        every = self.log_every_n_steps or max(1, trainer.log_every_n_steps)
        if step != self._logged_step and step % every == 0:
            self._log(trainer, self._session.peek())

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.global_step != self._logged_step:
            self._log(trainer, self._session.peek())

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._end(trainer, "finished")

    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        self._end(trainer, status_for(exception))

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage == "fit":
            self._end(trainer, "finished")  # a no-op unless on_fit_end was skipped

    def _end(self, trainer: Trainer, status: str) -> None:
        if not self._session.active:
            return
        result = self._session.end(status)
        self._log(trainer, result, final=True)
        if result is not None and status == "finished":
            self.co2_eq_emissions = co2_eq_emissions(result, self.training_type)

    def _log(self, trainer: Trainer, result: RunResult | None, final: bool = False) -> None:
        if result is None:  # not measuring: another rank, or the tracker did not start
            return
        if not trainer.is_global_zero:  # this node's figures are in its record
            return
        step = trainer.global_step
        self._logged_step = step
        values = self._session.metrics(result)
        covered = False
        for logger in trainer.loggers:
            covered = covered or type(logger).__name__ == "MLFlowLogger"
            try:
                logger.log_metrics(values, step=step)
            except Exception as exc:  # one logger's trouble is not the training's
                warn(f"log to {type(logger).__name__}", exc)
        self._session.log_mlflow(result, step, final=final, covered=covered)
