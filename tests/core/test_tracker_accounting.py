"""The accounting with plain numbers (``wattprint.accounting``: no meter, clock or file), then the
sampler and the accounting end to end against fake counters: power-sampled GPUs are polled,
every meter of a component is counted, and the record's powers, rate and emission bounds are the
known energies, durations, intensity bounds and PUE put together."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from tests.fakes.fakeamd import FakeAmd, FakeAmdGpu
from tests.fakes.fakenvml import FakeGpu, FakeNvml
from wattprint import Tracker, accounting
from wattprint.accounting import Emissions, cpu_utilization, stalled, task_delta
from wattprint.carbon.grid import intensity as grid_intensity
from wattprint.meters import amd, gpu, nvidia

J_PER_KWH = 3.6e6


def kj(kwh: float | None) -> float:
    assert kwh is not None
    return kwh * J_PER_KWH


# -- plain numbers ------------------------------------------------------------------------------

PUE_1_5 = 1.5 / J_PER_KWH  # the factor: PUE over joules per kWh


def test_each_stretch_is_its_energy_times_the_intensity_valid_then():
    em = Emissions()
    # 3.6 MJ (1 kWh) of CPU+RAM at 100 g/kWh (bounds 50-200), then 1 kWh more at 300 g/kWh.
    em.account([(2.4e6, 2.0e6, 3.0e6), (1.2e6, 1.0e6, 1.5e6)], None, PUE_1_5, (100.0, 50.0, 200.0))
    em.account([(4.8e6, 4.0e6, 6.0e6), (2.4e6, 2.0e6, 3.0e6)], None, PUE_1_5, (300.0, 250.0, 400.0))
    assert em.g == pytest.approx(1.5 * 100 + 1.5 * 300)
    # Low: 3 MJ then 3 MJ more at the low intensities; high: 4.5 MJ then 4.5 MJ more.
    assert em.low_g == pytest.approx(1.5 * (3e6 * 50 + 3e6 * 250) / 3.6e6)
    assert em.high_g == pytest.approx(1.5 * (4.5e6 * 200 + 4.5e6 * 400) / 3.6e6)
    assert em.machine_g == 0.0  # no platform: the machine's figure is not advanced
    assert em.marginal_g is None  # the run has no marginal intensity


def test_an_unknown_upper_bound_stays_unknown_and_the_rest_goes_on():
    em = Emissions()
    em.account([(3.6e6, 3.0e6, 4.0e6)], None, PUE_1_5, (100.0, 100.0, 100.0))
    em.account([(7.2e6, 6.0e6, None)], None, PUE_1_5, (100.0, 100.0, 100.0))  # a meter failed
    em.account([(10.8e6, 9.0e6, None)], None, PUE_1_5, (100.0, 100.0, 100.0))
    assert em.high_g is None
    assert em.g == pytest.approx(3 * 150.0)
    assert em.low_g == pytest.approx(1.5 * 9.0e6 * 100 / 3.6e6)


def test_the_machine_figure_adds_the_platform_and_the_marginal_one_its_own_intensity():
    em = Emissions(marginal=True)
    em.account([(3.6e6, 3.6e6, 3.6e6)], (3.6e6, 1.8e6, 7.2e6), PUE_1_5, (100.0, 80.0, 120.0), 700.0)
    assert em.g == pytest.approx(150.0)
    assert em.machine_g == pytest.approx(300.0)  # 2 kWh
    assert em.machine_low_g == pytest.approx(1.5 * (1.0 + 0.5) * 80)
    assert em.machine_high_g == pytest.approx(1.5 * (1.0 + 2.0) * 120)
    assert em.marginal_g == pytest.approx(1.5 * 700.0)  # CPU+GPU+RAM only, never the platform
    state = em.state()
    assert state["emissions_g"] == em.g and state["machine_high_g"] == em.machine_high_g


def test_a_task_is_the_difference_of_two_states():
    def at(energy: float, grams: float, high: float | None, units: float) -> dict:
        part = {"energy_j": energy, "low_j": energy / 2, "high_j": high, "method": "rapl"}
        keys = dict.fromkeys(accounting.EMISSION_KEYS, grams)
        return {
            "duration_s": energy / 10,
            "components": {"cpu": part},
            **keys,
            "shares": {"cpu": [energy / 4, energy]},
            "units": units,
        }

    start, end = at(100.0, 1.0, 110.0, 3.0), at(400.0, 5.0, None, 10.0)
    delta = task_delta(start, end, started_s=2.0)
    assert delta["duration_s"] == 40.0 - 2.0
    cpu = delta["components"]["cpu"]
    assert (cpu["energy_j"], cpu["low_j"], cpu["high_j"]) == (300.0, 150.0, None)
    assert cpu["method"] == "rapl"
    assert all(delta[k] == 4.0 for k in accounting.EMISSION_KEYS)
    assert delta["shares"] == {"cpu": [75.0, 300.0]}
    assert delta["units"] == 7.0


def test_a_stalled_component_loses_its_upper_bounds_and_says_why():
    part = {"energy_j": 5.0, "low_j": 4.0, "high_j": 6.0, "method": "rapl", "note": None}
    state = {
        "components": {"cpu": dict(part), "ram": dict(part)},
        "emissions_high_g": 2.0,
        "machine_high_g": 3.0,
        "notes": ["earlier"],
    }
    out = stalled(state, ["cpu"], "its meter did not answer")
    assert out["components"]["cpu"]["high_j"] is None
    assert out["components"]["cpu"]["method"] == "rapl+stalled"
    assert out["components"]["ram"] == part  # the others are as they were
    assert out["emissions_high_g"] is None and out["machine_high_g"] is None
    assert out["notes"] == ["earlier", "cpu: its meter did not answer"]
    assert state["components"]["cpu"]["high_j"] == 6.0  # the state given is not changed


def test_cpu_utilization_is_busy_time_over_total_time():
    assert cpu_utilization((10.0, 100.0), (40.0, 200.0)) == pytest.approx(30.0)
    assert cpu_utilization((10.0, 100.0), (10.0, 100.0)) is None  # no time has passed
    assert cpu_utilization(None, (40.0, 200.0)) is None


# -- end to end against fake counters ----------------------------------------------------------


@pytest.fixture
def fast_polls(monkeypatch):
    # Power-sampled GPUs ask to be polled every second; a twentieth keeps the tests short.
    monkeypatch.setattr(gpu, "POLL_INTERVAL_S", 0.05)


def test_the_sampler_polls_power_sampled_nvidia_gpus(machine, monkeypatch, fast_polls):
    card = FakeGpu("GPU-old", energy_mj=None, power_mw=0)  # no total-energy counter
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([card]))
    tracker = Tracker(country="FRA", interval_s=3600).start()  # only polls run meanwhile
    time.sleep(0.3)
    card.power_mw = 100_000
    time.sleep(0.6)
    card.power_mw = 0
    time.sleep(0.3)
    r = tracker.stop()
    assert r.gpu.method == "nvml-power"
    # 100 W for 0.6 s; unpolled, the meter would hold its first sample (0 W) and say 0 J.
    assert 40.0 < kj(r.gpu.energy_kwh) < 80.0


def test_the_sampler_polls_power_sampled_amd_gpus(machine, monkeypatch, fast_polls):
    card = FakeAmdGpu("amd-0", energy_uj=None, power_w=0.0)
    monkeypatch.setattr(amd, "load_adapter", lambda: FakeAmd([card]))
    tracker = Tracker(country="FRA", interval_s=3600).start()
    time.sleep(0.3)
    card.power_w = 200.0
    time.sleep(0.6)
    card.power_w = 0.0
    time.sleep(0.3)
    r = tracker.stop()
    assert r.gpu.method == "amdsmi-power"
    assert 80.0 < kj(r.gpu.energy_kwh) < 160.0  # 200 W for 0.6 s


def test_nvidia_and_amd_gpus_in_one_machine_are_both_counted(machine, monkeypatch):
    nv = FakeGpu("GPU-nv", energy_mj=1_000_000)
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([nv]))
    amd_card = FakeAmdGpu("amd-0", energy_uj=None, power_w=100.0)  # power held between polls
    monkeypatch.setattr(amd, "load_adapter", lambda: FakeAmd([amd_card]))
    t_open = time.monotonic()
    tracker = Tracker(country="FRA", interval_s=3600).start()
    nv.energy_mj += 30_000  # 30 J on the NVIDIA counter
    time.sleep(0.5)
    r = tracker.stop()
    t_close = time.monotonic()
    assert r.gpu.method == "nvml-counter+amdsmi-power"
    assert r.machine.gpu_count == 2
    amd_j = kj(r.gpu.energy_kwh) - 30.0
    # The AMD GPU held 100 W over the run: its energy counts from the run's start (not from
    # its opening during detection) to the last read (inside stop).
    assert amd_j == pytest.approx(100.0 * r.duration_s, rel=0.01)
    assert amd_j <= 100.0 * (t_close - t_open)
    # Bounds combine both meters (NVML +-5 %, AMD power +-10 %), never one alone.
    assert kj(r.gpu.low_kwh) == pytest.approx(30.0 * 0.95 + amd_j * 0.90, rel=1e-6)
    assert kj(r.gpu.high_kwh) == pytest.approx(30.0 * 1.05 + amd_j * 1.10, rel=1e-6)


def _world_machine(machine) -> None:
    machine.write("/etc/timezone", "Etc/UTC\n")  # no country: the world average, with bounds
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=500_000)


def test_emission_bounds_are_energy_bounds_times_intensity_bounds_times_pue(machine, monkeypatch):
    _world_machine(machine)
    card = FakeGpu("GPU-a", energy_mj=1_000_000)
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([card]))
    tracker = Tracker(pue=1.5, interval_s=0.05).start()
    for step in range(1, 5):  # several intervals, each accounted on its own
        machine.set_energy("intel-rapl:0", 1_000_000 + step * 500_000)
        machine.set_energy("intel-rapl:0:0", 500_000 + step * 125_000)
        card.energy_mj += 7_500
        time.sleep(0.07)
    r = tracker.stop()
    it = grid_intensity(r.location)
    assert it.low < it.value < it.high  # the property below needs distinct bounds
    # Known energies: 2 J CPU, 0.5 J RAM (RAPL), 30 J GPU (NVML); PUE 1.5.
    assert kj(r.cpu.energy_kwh) == pytest.approx(2.0)
    assert kj(r.ram.energy_kwh) == pytest.approx(0.5)
    assert kj(r.gpu.energy_kwh) == pytest.approx(30.0)
    assert r.energy_kwh * J_PER_KWH == pytest.approx(32.5 * 1.5)
    low_kwh = (r.cpu.low_kwh or 0) + (r.ram.low_kwh or 0) + (r.gpu.low_kwh or 0)
    high_kwh = (r.cpu.high_kwh or 0) + (r.ram.high_kwh or 0) + (r.gpu.high_kwh or 0)
    assert r.energy_low_kwh == pytest.approx(low_kwh * 1.5, rel=1e-12)
    assert r.energy_high_kwh == pytest.approx(high_kwh * 1.5, rel=1e-12)
    assert r.emissions_kg == pytest.approx(32.5 * 1.5 / J_PER_KWH * it.value / 1000, rel=1e-9)
    assert r.emissions_low_kg == pytest.approx(low_kwh * 1.5 * it.low / 1000, rel=1e-9)
    assert r.emissions_high_kg == pytest.approx(high_kwh * 1.5 * it.high / 1000, rel=1e-9)


def test_after_a_meter_fails_the_emissions_high_bound_is_unknown(machine):
    _world_machine(machine)
    tracker = Tracker(interval_s=0.05).start()
    machine.set_energy("intel-rapl:0", 3_000_000)
    time.sleep(0.12)
    machine.remove(machine.rapl_zone_dir("intel-rapl:0"))
    time.sleep(0.2)  # the sampler hits the vanished file
    r = tracker.stop()
    assert r.cpu.method.endswith("+error")
    assert r.energy_high_kwh is None and r.emissions_high_kg is None
    row = _rows(Path("emissions.csv"))[-1]
    assert row["emissions_high_kg"] == "" and row["energy_high_kwh"] == ""
    assert float(row["emissions_low_kg"]) == pytest.approx(r.emissions_low_kg)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_csv_powers_and_rate_are_energies_over_the_duration(machine, monkeypatch):
    _world_machine(machine)
    card = FakeGpu("GPU-a", energy_mj=1_000_000)
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([card]))
    tracker = Tracker(interval_s=3600).start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 4_000_000)  # 4 J
    machine.set_energy("intel-rapl:0:0", 500_000 + 1_000_000)  # 1 J
    card.energy_mj += 50_000  # 50 J
    time.sleep(0.2)
    tracker.stop()
    row = _rows(Path("emissions.csv"))[-1]
    duration = float(row["duration"])
    assert duration > 0.2
    assert float(row["cpu_power"]) == pytest.approx(4.0 / duration)
    assert float(row["ram_power"]) == pytest.approx(1.0 / duration)
    assert float(row["gpu_power"]) == pytest.approx(50.0 / duration)
    assert float(row["cpu_energy"]) * J_PER_KWH == pytest.approx(4.0)
    assert float(row["emissions_rate"]) == pytest.approx(float(row["emissions"]) / duration)
    it = float(row["intensity_g_per_kwh"])
    assert float(row["emissions"]) == pytest.approx(55.0 / J_PER_KWH * it / 1000)
