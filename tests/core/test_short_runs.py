"""A run's average power is never above what the hardware can draw, however short the run."""

from __future__ import annotations

import time

import wattprint
from tests.fakes.fakesys import cpu_stat
from wattprint.estimate import machine_curve
from wattprint.meters import nvidia
from wattprint.results import MIN_AVERAGE_S


def test_an_instant_run_reports_energy_but_no_average_power(machine):
    result = wattprint.Tracker(country="FRA").start().stop()
    assert result.duration_s < MIN_AVERAGE_S
    assert result.cpu.power_w is None and result.ram.power_w is None
    assert result.cpu.energy_kwh is not None  # the energy is still given
    assert any("average power not reported" in n for n in result.notes)


def test_energy_starts_with_the_run_not_when_the_meters_opened(machine, monkeypatch):
    """Detection can take a while (a GPU driver that is slow to answer): the CPU and RAM
    models opened before it must not count that time as the run's."""
    real = nvidia.load_adapter

    def slow_driver():
        time.sleep(0.6)
        return real()

    monkeypatch.setattr(nvidia, "load_adapter", slow_driver)
    machine.write("/proc/stat", cpu_stat(1000, 9000))
    tracker = wattprint.Tracker(country="FRA").start()
    time.sleep(0.15)
    machine.write("/proc/stat", cpu_stat(1100, 9000))  # fully busy meanwhile
    result = tracker.stop()
    assert result.duration_s >= MIN_AVERAGE_S
    curve = machine_curve("AMD EPYC 7763 64-Core Processor", 1, 4, 16.384)
    for name in ("cpu", "ram"):
        power = getattr(result, name).power_w
        high = curve.component(name, 1.0)[2]
        assert power is not None and power <= high * 1.01, (name, power, high)
