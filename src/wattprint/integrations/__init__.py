"""Callbacks for the training frameworks, one module per framework; each imports its framework.

- ``wattprint.integrations.transformers.WattprintCallback``: Hugging Face ``Trainer``
  (extra ``wattprint[transformers]``), with the Hub's ``co2_eq_emissions`` model-card metadata.
- ``wattprint.integrations.lightning.WattprintCallback``: PyTorch Lightning (``[lightning]``).
- ``wattprint.integrations.keras.WattprintCallback``: Keras 3 (``[keras]``).
- ``wattprint.integrations.mlflow.log_to_mlflow``: a result into an MLflow run (``[mlflow]``).

Every callback logs the same metrics, cumulative since training began, under the same names
(``wattprint/energy_kwh``, ``wattprint/emissions_kg``, ...): see
:data:`wattprint.integrations._common.METRICS`.

This package imports nothing: importing it never imports a framework, and wattprint itself
never imports it.
"""
