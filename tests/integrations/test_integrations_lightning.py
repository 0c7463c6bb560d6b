"""The Lightning callback: a tiny model fitted on the CPU by the real Trainer with a CSVLogger,
on a fake machine whose RAPL counters advance 36 J (CPU) and 3.6 J (RAM) per training batch."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pl = pytest.importorskip("lightning.pytorch")

from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from wattprint.integrations.lightning import WattprintCallback  # noqa: E402

CPU_J, RAM_J = 36.0, 3.6
BATCHES = 4  # per epoch


class Burn(pl.Callback):
    def __init__(self, machine) -> None:
        self.machine = machine
        self.cpu_uj, self.ram_uj = 1_000_000, 500_000
        machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=self.cpu_uj)
        machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=self.ram_uj)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.cpu_uj += int(CPU_J * 1e6)
        self.ram_uj += int(RAM_J * 1e6)
        self.machine.set_energy("intel-rapl:0", self.cpu_uj)
        self.machine.set_energy("intel-rapl:0:0", self.ram_uj)


class Tiny(pl.LightningModule):
    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.fail_at = fail_at

    def training_step(self, batch, batch_idx):
        if self.global_step == self.fail_at:
            raise ZeroDivisionError("boom")
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def loader():
    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(
        torch.randn(BATCHES * 2, 4, generator=g), torch.randn(BATCHES * 2, 1, generator=g)
    )
    return torch.utils.data.DataLoader(data, batch_size=2)


def fit(tmp_path, machine, callback, module, epochs: int = 2) -> str:
    logger = CSVLogger(tmp_path / "logs", name="tiny")
    trainer = pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        logger=logger,
        log_every_n_steps=2,
        callbacks=[Burn(machine), callback],
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    trainer.fit(module, loader())
    return f"{logger.log_dir}/metrics.csv"


def energy_rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("wattprint/energy_kwh")]


def test_metrics_reach_the_logger_cumulative_and_final(machine, tmp_path):
    callback = WattprintCallback(country="FRA", project_name="pl", training_type="pre-training")
    path = fit(tmp_path, machine, callback, Tiny())
    result = callback.result
    assert result.status == "finished" and not callback.tracker.running

    rows = energy_rows(path)
    steps = [int(r["step"]) for r in rows]
    assert steps == [2, 4, 6, 8, 8]  # every 2 steps, epoch ends (4, 8) once, then the final
    for row, step in zip(rows[:-1], steps[:-1], strict=True):
        assert float(row["wattprint/energy_cpu_kwh"]) == pytest.approx(step * CPU_J / 3.6e6)
        assert float(row["wattprint/energy_ram_kwh"]) == pytest.approx(step * RAM_J / 3.6e6)
        assert "wattprint/energy_gpu_kwh" not in row  # never logged: no GPU
    emissions = [float(r["wattprint/emissions_kg"]) for r in rows]
    assert emissions == sorted(emissions) and emissions[0] > 0
    final = rows[-1]
    assert float(final["wattprint/energy_kwh"]) == result.energy_kwh
    assert float(final["wattprint/emissions_kg"]) == result.emissions_kg
    assert float(final["wattprint/power_w"]) > 0
    assert result.cpu.energy_kwh == pytest.approx(2 * BATCHES * CPU_J / 3.6e6)

    co2 = callback.co2_eq_emissions
    assert co2["emissions"] == pytest.approx(result.emissions_kg * 1000)
    assert co2["training_type"] == "pre-training"
    assert co2["hardware_used"].startswith("AMD EPYC 7763")


def test_an_exception_stops_the_run_as_failed_and_logs_it(machine, tmp_path):
    callback = WattprintCallback(country="FRA")
    with pytest.raises(ZeroDivisionError):
        fit(tmp_path, machine, callback, Tiny(fail_at=3))
    result = callback.result
    assert result.status == "failed" and not callback.tracker.running
    assert result.cpu.energy_kwh == pytest.approx(3 * CPU_J / 3.6e6)
    assert callback.co2_eq_emissions is None
    logs = list((tmp_path / "logs").rglob("metrics.csv"))
    rows = energy_rows(str(logs[0]))
    assert float(rows[-1]["wattprint/emissions_kg"]) == result.emissions_kg
    with open("emissions.csv", newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["failed"]


def test_each_nodes_local_rank_zero_tracks_and_only_global_zero_logs(machine):
    callback = WattprintCallback(country="FRA")
    logged = []
    logger = SimpleNamespace(log_metrics=lambda values, step: logged.append(values))
    trainer = SimpleNamespace(
        is_global_zero=False, local_rank=0, global_step=0, log_every_n_steps=1, loggers=[logger]
    )
    callback.on_fit_start(trainer, None)
    callback.on_train_batch_end(trainer, None, None, None, 0)
    callback.on_fit_end(trainer, None)
    assert callback.result is not None and logged == []
    with open("emissions.csv", newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["finished"]


def test_only_local_rank_zero_tracks_and_bad_settings_fail_early(machine):
    callback = WattprintCallback(country="FRA")
    trainer = SimpleNamespace(is_global_zero=False, global_step=0, log_every_n_steps=1, loggers=[])
    callback.on_fit_start(trainer, None)
    callback.on_train_batch_end(trainer, None, None, None, 0)
    callback.on_fit_end(trainer, None)
    assert not callback.tracker.running and callback.result is None
    with pytest.raises(ValueError):
        WattprintCallback(log_every_n_steps=0)
    with pytest.raises(ValueError):
        WattprintCallback(country="Atlantis")
