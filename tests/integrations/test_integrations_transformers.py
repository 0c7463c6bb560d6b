"""The Transformers callback: a tiny GPT-2 trained on the CPU by the real Trainer, on a fake
machine whose RAPL counters advance 36 J (CPU) and 3.6 J (RAM) per training step."""

from __future__ import annotations

import csv
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers reads it
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from huggingface_hub.repocard import metadata_load  # noqa: E402
from transformers import (  # noqa: E402
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from wattprint import Tracker, __version__  # noqa: E402
from wattprint.integrations.transformers import WattprintCallback  # noqa: E402

CPU_J, RAM_J = 36.0, 3.6
KEYS = ("energy_kwh", "energy_cpu_kwh", "energy_ram_kwh", "power_w", "emissions_kg")


class Burn(TrainerCallback):
    """Advance the fake RAPL counters at the end of every step (before the step's log)."""

    def __init__(self, machine) -> None:
        self.machine = machine
        self.cpu_uj, self.ram_uj = 1_000_000, 500_000
        machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=self.cpu_uj)
        machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=self.ram_uj)

    def on_step_end(self, args, state, control, **kwargs):
        self.cpu_uj += int(CPU_J * 1e6)
        self.ram_uj += int(RAM_J * 1e6)
        self.machine.set_energy("intel-rapl:0", self.cpu_uj)
        self.machine.set_energy("intel-rapl:0:0", self.ram_uj)


class Exploding(torch.nn.Module):
    """A model whose forward raises at its ``n``-th call."""

    def __init__(self, model, n: int) -> None:
        super().__init__()
        self.model, self.n, self.calls = model, n, 0

    def forward(self, input_ids=None, labels=None):
        self.calls += 1
        if self.calls == self.n:
            raise ZeroDivisionError("boom")
        return self.model(input_ids=input_ids, labels=labels)


def tiny_model():
    torch.manual_seed(0)
    config = GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=8)
    return GPT2LMHeadModel(config)


def dataset(n: int = 8) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    rows = []
    for _ in range(n):
        ids = torch.randint(0, 16, (8,), generator=g)
        rows.append({"input_ids": ids, "labels": ids.clone()})
    return rows


@pytest.fixture
def burn(machine) -> Burn:
    return Burn(machine)


def make_trainer(out, burn, model=None, callbacks=(), steps: int = 4) -> Trainer:
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=steps,
        logging_steps=1,
        per_device_train_batch_size=2,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
    )
    return Trainer(
        model=model or tiny_model(),
        args=args,
        train_dataset=dataset(),
        callbacks=[burn, *callbacks],
    )


def statuses() -> list[str]:
    with open("emissions.csv", newline="") as f:
        return [row["status"] for row in csv.DictReader(f)]


def test_logs_are_cumulative_and_the_summary_and_card_carry_the_final_figures(burn, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("---\nlicense: mit\n---\n\n# My model\n\nhand-written\n")
    callback = WattprintCallback(country="FRA", project_name="hf")
    trainer = make_trainer(out, burn)
    callback.attach(trainer)
    assert trainer.callback_handler.callbacks[0] is callback
    output = trainer.train()

    result = callback.result
    assert result is not None and result.status == "finished" and not callback.tracker.running
    steps = [h for h in trainer.state.log_history if "loss" in h]
    assert len(steps) == 4
    for k, h in enumerate(steps, start=1):  # cumulative since the start: k steps of energy
        assert all(f"wattprint/{key}" in h for key in KEYS)
        assert h["wattprint/energy_cpu_kwh"] == pytest.approx(k * CPU_J / 3.6e6)
        assert h["wattprint/energy_ram_kwh"] == pytest.approx(k * RAM_J / 3.6e6)
        assert "wattprint/energy_gpu_kwh" not in h  # no GPU here: absent, not 0
    emissions = [h["wattprint/emissions_kg"] for h in steps]
    assert emissions == sorted(emissions) and emissions[0] > 0

    summary = trainer.state.log_history[-1]
    assert "train_runtime" in summary
    final = {
        "wattprint/energy_kwh": result.energy_kwh,
        "wattprint/energy_cpu_kwh": result.cpu.energy_kwh,
        "wattprint/emissions_kg": result.emissions_kg,
        "wattprint/emissions_high_kg": result.emissions_high_kg,
    }
    for key, value in final.items():
        assert summary[key] == value and output.metrics[key] == value
    assert result.cpu.energy_kwh == pytest.approx(4 * CPU_J / 3.6e6)
    assert statuses() == ["finished"]

    card = metadata_load(out / "README.md")
    co2 = card["co2_eq_emissions"]
    assert card["license"] == "mit"  # merged, not replaced
    assert "hand-written" in (out / "README.md").read_text()
    assert co2 == callback.co2_eq_emissions
    assert co2["emissions"] == pytest.approx(result.emissions_kg * 1000)
    assert co2["source"].startswith(f"wattprint {__version__} (cpu: rapl, ram: rapl")
    assert co2["training_type"] == "pre-training"
    assert co2["geographical_location"] == "France (location: explicit)"
    assert co2["hardware_used"] == "AMD EPYC 7763 64-Core Processor (4 threads)"

    trainer.create_model_card()  # the Trainer's own card replaces README.md; attach keeps co2
    card = metadata_load(out / "README.md")
    assert card["co2_eq_emissions"] == co2 and "generated_from_trainer" in card["tags"]


def test_a_training_that_raises_is_recorded_failed(burn, tmp_path):
    callback = WattprintCallback(country="FRA")
    trainer = make_trainer(tmp_path / "out", burn, model=Exploding(tiny_model(), 3))
    callback.attach(trainer)
    with pytest.raises(ZeroDivisionError):
        trainer.train()
    assert callback.result.status == "failed" and not callback.tracker.running
    assert callback.result.cpu.energy_kwh == pytest.approx(2 * CPU_J / 3.6e6)
    assert callback.co2_eq_emissions is None
    assert not (tmp_path / "out" / "README.md").exists()
    assert statuses() == ["failed"]


def test_without_attach_a_failed_run_ends_when_the_next_training_begins(burn, tmp_path):
    callback = WattprintCallback(country="FRA", model_card=False)
    bad = make_trainer(tmp_path / "a", burn, model=Exploding(tiny_model(), 2), callbacks=[callback])
    with pytest.raises(ZeroDivisionError):
        bad.train()
    assert callback.tracker.running  # no callback is told; the run is still open
    good = make_trainer(tmp_path / "b", burn, callbacks=[callback], steps=2)
    good.train()
    assert statuses() == ["failed", "finished"]
    assert "wattprint/energy_kwh" in good.state.log_history[0]  # log_history gets the values
    assert not (tmp_path / "b" / "README.md").exists()  # model_card=False


def test_a_given_tracker_is_used_and_one_already_running_is_left_running(burn, tmp_path):
    tracker = Tracker(country="FRA", project_name="mine")
    callback = WattprintCallback(tracker, model_card=False)
    assert callback.tracker is tracker
    tracker.start()
    trainer = make_trainer(tmp_path / "out", burn, callbacks=[callback], steps=2)
    trainer.train()
    assert tracker.running and callback.result.status == "running"
    assert callback.result.run_id == tracker.run_id
    final = tracker.stop()
    assert final.energy_kwh >= callback.result.energy_kwh > 0
    with pytest.raises(TypeError):
        WattprintCallback(tracker, country="FRA")


def test_each_nodes_main_process_tracks_and_only_the_jobs_logs(machine, tmp_path):
    callback = WattprintCallback(country="FRA")
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to="none", use_cpu=True)
    state = TrainerState(is_world_process_zero=False, is_local_process_zero=True)  # node 2
    control = TrainerControl()
    callback.on_train_begin(args, state, control)
    logs = {"loss": 1.0}
    callback.on_log(args, state, control, logs=logs)
    callback.on_train_end(args, state, control)
    assert callback.result is not None and callback.co2_eq_emissions is None
    assert logs == {"loss": 1.0}  # the node's figures are in its record, not the job's logs
    assert os.path.exists("emissions.csv")
    assert not (tmp_path / "out" / "README.md").exists()


def test_processes_other_than_a_nodes_main_one_do_not_track(machine, tmp_path):
    callback = WattprintCallback(country="FRA")
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to="none", use_cpu=True)
    state = TrainerState(is_world_process_zero=False, is_local_process_zero=False)
    control = TrainerControl()
    callback.on_train_begin(args, state, control)
    logs = {"loss": 1.0}
    callback.on_log(args, state, control, logs=logs)
    callback.on_train_end(args, state, control)
    assert not callback.tracker.running and callback.result is None
    assert logs == {"loss": 1.0}
    assert not os.path.exists("emissions.csv")


def test_importing_the_integrations_package_imports_no_framework():
    import subprocess
    import sys

    code = (
        "import sys, wattprint.integrations, wattprint.integrations._common\n"
        "heavy = {'torch', 'transformers', 'lightning', 'keras', 'mlflow', 'huggingface_hub'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
