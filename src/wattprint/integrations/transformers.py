"""Hugging Face Transformers: a ``TrainerCallback`` (extra ``wattprint[transformers]``).

    from wattprint.integrations.transformers import WattprintCallback

    callback = WattprintCallback(project_name="bert", country="FRA")   # or tracker=Tracker(...)
    trainer = Trainer(model, args, train_dataset=...)
    callback.attach(trainer)       # or Trainer(..., callbacks=[callback]), see below
    trainer.train()
    callback.result                # the final RunResult
    callback.co2_eq_emissions      # the Hub's model-card metadata, a dict

What it does, measuring on each node's main process (``state.is_local_process_zero``: one
tracker per node) and logging on the job's main process only (``state.is_world_process_zero``):

- ``on_train_begin``: starts the tracker (a tracker already running is read, not stopped).
- ``on_log``: adds the metrics, cumulative since training began, to the ``logs`` of every
  logging step (and evaluation during training), so they reach ``trainer.state.log_history``, the
  progress bar and the ``report_to`` integrations. The last log of training, the summary with
  ``train_runtime`` and ``train_loss``, ends the run and carries the final figures (they are also
  in ``trainer.train().metrics``).
- ``on_train_end``: ends the run if the summary did not, and writes the model-card metadata
  ``co2_eq_emissions`` into ``<output_dir>/README.md``, merged into the card's existing metadata
  (the rest of the card is kept): ``emissions`` (grams of CO2eq), ``source`` (wattprint's version
  and the methods), ``training_type`` (``fine-tuning`` when the model was loaded from a
  checkpoint, else ``pre-training``, or as given), ``geographical_location`` and
  ``hardware_used``, as https://huggingface.co/docs/hub/model-cards-co2 documents them.

Metric names: ``wattprint/energy_kwh``, ``wattprint/energy_low_kwh``,
``wattprint/energy_high_kwh``, ``wattprint/energy_cpu_kwh``, ``wattprint/energy_gpu_kwh``,
``wattprint/energy_ram_kwh``, ``wattprint/power_w``, ``wattprint/emissions_kg``,
``wattprint/emissions_low_kg``, ``wattprint/emissions_high_kg``; what cannot be measured is
absent, never 0 (see :mod:`wattprint.integrations._common`).

``attach(trainer)`` is the complete way in. The ``Trainer`` calls its callbacks in order and puts
``callbacks=[...]`` after the ``report_to`` integrations, which would then log each step before
the metrics are added; ``attach`` puts the callback first. It also records a training that raises
as ``failed`` (``interrupted`` on Ctrl-C): the ``Trainer`` calls no callback then. Without it, such
a run is ended as failed when the next training begins or when Python exits. And it keeps
``co2_eq_emissions`` in the card that ``trainer.create_model_card()`` and
``trainer.push_to_hub()`` write anew (they replace README.md); without it, call
``callback.write_model_card(args.output_dir)`` after them, or pass ``callback.co2_eq_emissions``
to ``huggingface_hub.metadata_update`` or ``ModelCardData(co2_eq_emissions=...)``.

When MLflow has an active run and ``report_to`` does not include ``"mlflow"`` (or the callback
is not attached, so MLflow's callback would miss the metrics), they are logged to that run too.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from .. import _log
from ._common import PREFIX, Session, SessionProperties, co2_eq_emissions, status_for

if TYPE_CHECKING:
    from transformers import Trainer, TrainerControl, TrainerState, TrainingArguments

    from ..tracker import Tracker

__all__ = ["WattprintCallback", "write_model_card"]


class WattprintCallback(SessionProperties, TrainerCallback):
    """Track a ``Trainer``'s training; log energy and emissions; write the model-card metadata.

    ``tracker``: a Tracker to use; or tracker settings as keyword arguments
    (``project_name=``, ``country=``, ...). ``prefix``: of the metric names. ``model_card``:
    write ``co2_eq_emissions`` into ``<output_dir>/README.md`` at the end of training.
    ``training_type``: for the card; by default inferred from the model. ``mlflow``: log to
    the active MLflow run (True), never (False), or when nothing else does (None).
    """

    def __init__(
        self,
        tracker: Tracker | None = None,
        *,
        prefix: str = PREFIX,
        model_card: bool = True,
        training_type: str | None = None,
        mlflow: bool | None = None,
        **settings: Any,
    ) -> None:
        self._session = Session(tracker, settings, prefix, mlflow)
        self.model_card = model_card
        self.training_type = training_type
        self.co2_eq_emissions: dict[str, Any] | None = None
        self._attached = False
        self._model: Any = None

    # -- wiring ---------------------------------------------------------------------------------

    def attach(self, trainer: Trainer) -> WattprintCallback:
        """Add this callback to ``trainer`` as its first callback (see the module's doc)."""
        callbacks = trainer.callback_handler.callbacks
        if self in callbacks:
            callbacks.remove(self)
        callbacks.insert(0, self)
        if getattr(trainer, "_wattprint_callback", None) is self:
            return self
        trainer._wattprint_callback = self  # type: ignore[attr-defined]
        self._attached = True
        train = trainer.train
        create_model_card = trainer.create_model_card

        @functools.wraps(train)
        def tracked_train(*args: Any, **kwargs: Any) -> Any:
            try:
                return train(*args, **kwargs)
            except BaseException as exc:
                self._fail(exc)
                raise

        @functools.wraps(create_model_card)
        def create_card_keeping_emissions(*args: Any, **kwargs: Any) -> Any:
            out = create_model_card(*args, **kwargs)
            if self.co2_eq_emissions and trainer.is_world_process_zero():
                self.write_model_card(trainer.args.output_dir)
            return out

        trainer.train = tracked_train  # type: ignore[method-assign]
        trainer.create_model_card = create_card_keeping_emissions  # type: ignore[method-assign]
        return self

    def _fail(self, exc: BaseException) -> None:
        if self._session.active:
            self._session.end(status_for(exc))

    # -- Trainer events -------------------------------------------------------------------------

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if not state.is_local_process_zero:
            return
        self.co2_eq_emissions = None
        self._model = kwargs.get("model")
        self._session.begin()

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        session = self._session
        if not state.is_local_process_zero or logs is None or not session.active:
            return
        final = "train_runtime" in logs and "train_loss" in logs  # the summary of train()
        result = session.end("finished") if final else session.peek()
        if not state.is_world_process_zero:
            return  # this node's figures are in its record; the job's logs are rank 0's
        values = session.metrics(result)
        logs.update(values)
        history = state.log_history
        if history and history[-1].get("step") == state.global_step:
            history[-1].update(values)  # the Trainer appended a copy of logs before this call
        covered = self._attached and _reports_to_mlflow(args)
        session.log_mlflow(result, state.global_step, final=final, covered=covered)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if not state.is_local_process_zero:
            return
        session = self._session
        if session.active:  # the summary log did not come (or was not recognised)
            result = session.end("finished")
            if state.is_world_process_zero:
                covered = self._attached and _reports_to_mlflow(args)
                session.log_mlflow(result, state.global_step, final=True, covered=covered)
        result = session.result
        if result is None or not state.is_world_process_zero:
            return
        model = kwargs.get("model") or self._model
        self._model = None
        self.co2_eq_emissions = co2_eq_emissions(
            result, self.training_type or _training_type(model)
        )
        if self.co2_eq_emissions is None:
            _log.logger.warning("wattprint: no emissions measured; the model card is left as is")
            return
        if self.model_card and args.output_dir:
            try:
                self.write_model_card(args.output_dir)
            except Exception as exc:  # a card is not worth failing a finished training for
                _log.logger.warning(
                    "wattprint: could not write co2_eq_emissions into %s: %s",
                    os.path.join(args.output_dir, "README.md"),
                    exc,
                )

    # -- the model card -------------------------------------------------------------------------

    def write_model_card(self, path: str | os.PathLike[str]) -> None:
        """Merge ``co2_eq_emissions`` into the model card at ``path`` (a folder or a file)."""
        if self.co2_eq_emissions is None:
            raise RuntimeError("no co2_eq_emissions yet: training has not ended with emissions")
        write_model_card(path, self.co2_eq_emissions)


def write_model_card(path: str | os.PathLike[str], co2: dict[str, Any]) -> None:
    """Set ``co2_eq_emissions`` in the card's YAML metadata; the rest of the card is kept.

    ``path``: the card's file, or a folder (its ``README.md``), created if missing.
    """
    from huggingface_hub.repocard import metadata_load, metadata_save

    card = os.fspath(path)
    if os.path.isdir(card) or not card.endswith(".md"):
        os.makedirs(card, exist_ok=True)
        card = os.path.join(card, "README.md")
    data = (metadata_load(card) if os.path.exists(card) else None) or {}
    data["co2_eq_emissions"] = dict(co2)
    metadata_save(card, data)


def _reports_to_mlflow(args: TrainingArguments) -> bool:
    report_to = args.report_to
    if isinstance(report_to, str):
        report_to = [report_to]
    return any(r in ("mlflow", "all") for r in report_to or ())


def _training_type(model: Any) -> str:
    """``fine-tuning`` when the model came from a checkpoint (its config names one)."""
    config = getattr(model, "config", None)
    return "fine-tuning" if getattr(config, "_name_or_path", "") else "pre-training"
