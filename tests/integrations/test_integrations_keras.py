"""The Keras 3 callback (torch backend): a tiny Sequential fitted for 2 epochs of 4 batches on a
fake machine whose RAPL counters advance 36 J (CPU) and 3.6 J (RAM) per batch."""

from __future__ import annotations

import csv
import os
import sys

import pytest

if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = "torch"  # Keras picks its backend at its first import
keras = pytest.importorskip("keras")
np = pytest.importorskip("numpy")
if keras.backend.backend() != "torch":
    pytest.skip("keras was imported with another backend", allow_module_level=True)

from wattprint.integrations.keras import WattprintCallback  # noqa: E402

CPU_J, RAM_J = 36.0, 3.6
BATCHES = 4  # per epoch


class Burn(keras.callbacks.Callback):
    def __init__(self, machine, fail_at: int | None = None) -> None:
        super().__init__()
        self.machine, self.fail_at, self.batches = machine, fail_at, 0
        self.cpu_uj, self.ram_uj = 1_000_000, 500_000
        machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=self.cpu_uj)
        machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=self.ram_uj)

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        self.cpu_uj += int(CPU_J * 1e6)
        self.ram_uj += int(RAM_J * 1e6)
        self.machine.set_energy("intel-rapl:0", self.cpu_uj)
        self.machine.set_energy("intel-rapl:0:0", self.ram_uj)
        if self.batches == self.fail_at:
            raise ZeroDivisionError("boom")


def fit(callbacks, epochs: int = 2):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCHES * 2, 4)).astype("float32")
    y = rng.normal(size=(BATCHES * 2, 1)).astype("float32")
    return model.fit(x, y, epochs=epochs, batch_size=2, verbose=0, callbacks=callbacks)


def test_history_has_cumulative_energy_per_epoch_and_the_result_is_final(machine):
    callback = WattprintCallback(country="FRA", training_type="fine-tuning")
    history = fit([Burn(machine), callback]).history
    result = callback.result
    assert result.status == "finished" and not callback.tracker.running

    assert len(history["loss"]) == 2
    cpu = history["wattprint/energy_cpu_kwh"]
    assert cpu == pytest.approx([BATCHES * CPU_J / 3.6e6, 2 * BATCHES * CPU_J / 3.6e6])
    assert history["wattprint/energy_ram_kwh"][-1] == pytest.approx(2 * BATCHES * RAM_J / 3.6e6)
    energy, emissions = history["wattprint/energy_kwh"], history["wattprint/emissions_kg"]
    assert 0 < energy[0] < energy[1] and 0 < emissions[0] < emissions[1]
    assert "wattprint/energy_gpu_kwh" not in history  # no GPU: absent, not 0
    assert len(history["wattprint/power_w"]) == 2
    # nothing was used after the last epoch: its values are the final ones
    assert energy[-1] == pytest.approx(result.energy_kwh)
    assert emissions[-1] == pytest.approx(result.emissions_kg)
    co2 = callback.co2_eq_emissions
    assert co2["emissions"] == pytest.approx(result.emissions_kg * 1000)
    assert co2["training_type"] == "fine-tuning"


def test_a_fit_that_raises_is_failed_with_the_context_manager(machine):
    callback = WattprintCallback(country="FRA")
    with pytest.raises(ZeroDivisionError), callback:
        fit([Burn(machine, fail_at=BATCHES + 2), callback])
    result = callback.result
    assert result.status == "failed" and not callback.tracker.running
    assert result.cpu.energy_kwh == pytest.approx((BATCHES + 2) * CPU_J / 3.6e6)
    assert callback.co2_eq_emissions is None
    with open("emissions.csv", newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["failed"]
