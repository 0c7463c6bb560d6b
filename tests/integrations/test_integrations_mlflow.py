"""MLflow: results logged to a local file store and read back with MlflowClient; the callbacks
log to the active run by themselves."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

mlflow = pytest.importorskip("mlflow")

from mlflow.tracking import MlflowClient  # noqa: E402

from tests.fakes.fakenvml import FakeGpu, FakeNvml  # noqa: E402
from wattprint import Tracker  # noqa: E402
from wattprint.integrations._common import METRICS, metrics  # noqa: E402
from wattprint.integrations.mlflow import log_to_mlflow, mlflow_key  # noqa: E402
from wattprint.meters import nvidia  # noqa: E402


@pytest.fixture
def store(tmp_path, monkeypatch):
    # MLflow 3 keeps the file store only on request; it needs no server and no database.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    experiment = mlflow.create_experiment("wattprint-tests")
    yield experiment
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def measured(machine) -> Tracker:
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    tracker = Tracker(country="FRA").start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 36_000_000)
    return tracker


def test_log_to_mlflow_writes_the_metrics_and_tags_to_the_active_run(machine, store):
    result = measured(machine).stop()
    with mlflow.start_run(experiment_id=store) as run:
        logged = log_to_mlflow(result, step=7)
    data = MlflowClient().get_run(run.info.run_id).data
    assert logged == metrics(result) and data.metrics == logged
    assert data.metrics["wattprint/energy_cpu_kwh"] == pytest.approx(36 / 3.6e6)
    assert data.metrics["wattprint/emissions_kg"] == result.emissions_kg
    history = MlflowClient().get_metric_history(run.info.run_id, "wattprint/energy_kwh")
    assert [(m.step, m.value) for m in history] == [(7, result.energy_kwh)]
    assert data.tags["wattprint.run_id"] == result.run_id
    assert data.tags["wattprint.status"] == "finished"
    assert data.tags["wattprint.source"].startswith("wattprint ")
    assert data.tags["wattprint.location"].startswith("France")
    assert {k.removeprefix("wattprint/") for k in logged} <= set(METRICS)


def test_log_to_mlflow_needs_a_run_and_takes_one_by_id(machine, store):
    result = measured(machine).stop()
    with pytest.raises(RuntimeError, match="start_run"):
        log_to_mlflow(result)
    run = MlflowClient().create_run(store)
    log_to_mlflow(result, run.info.run_id, prefix="energy.", tags=False)
    data = MlflowClient().get_run(run.info.run_id).data
    assert data.metrics["energy.energy_kwh"] == result.energy_kwh
    assert not any(k.startswith("wattprint.") for k in data.tags)


def test_an_unmeasured_component_is_absent_not_zero(machine, monkeypatch, store):
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([FakeGpu("GPU-aaaa")]))
    result = Tracker(country="FRA", gpu_ids=[3]).start().stop()  # selects no GPU: unmeasured
    assert result.gpu.energy_kwh is None
    with mlflow.start_run(experiment_id=store) as run:
        logged = log_to_mlflow(result)
    assert "wattprint/energy_gpu_kwh" not in logged
    assert "wattprint/energy_cpu_kwh" in logged
    assert "wattprint/energy_gpu_kwh" not in MlflowClient().get_run(run.info.run_id).data.metrics


def test_keys_are_made_valid_for_mlflow():
    assert mlflow_key("wattprint/energy_kwh") == "wattprint/energy_kwh"
    assert mlflow_key("/a//b:c?d/") == "a/b_c_d"
    assert mlflow_key("x/../y") == "x/__/y"
    assert mlflow_key("") == "_"


def test_a_callback_logs_to_the_active_run_each_step_and_at_the_end(machine, store, tmp_path):
    pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from wattprint.integrations.transformers import WattprintCallback

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16))
    ids = torch.arange(8) % 16
    rows = [{"input_ids": ids, "labels": ids} for _ in range(4)]

    def train(callback) -> None:
        args = TrainingArguments(
            output_dir=str(tmp_path / "out"),
            max_steps=2,
            logging_steps=1,
            report_to="none",
            use_cpu=True,
            save_strategy="no",
            disable_tqdm=True,
            per_device_train_batch_size=2,
        )
        Trainer(model=model, args=args, train_dataset=rows, callbacks=[callback]).train()

    callback = WattprintCallback(country="FRA", model_card=False)
    with mlflow.start_run(experiment_id=store) as run:
        train(callback)
    client = MlflowClient()
    history = client.get_metric_history(run.info.run_id, "wattprint/emissions_kg")
    assert [m.step for m in history] == [1, 2, 2]  # two logging steps, then the summary
    assert history[-1].value == callback.result.emissions_kg
    assert client.get_run(run.info.run_id).data.tags["wattprint.status"] == "finished"

    quiet = WattprintCallback(country="FRA", model_card=False, mlflow=False)
    with mlflow.start_run(experiment_id=store) as run:
        train(quiet)
    assert client.get_run(run.info.run_id).data.metrics == {}
