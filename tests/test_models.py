"""CPU and RAM estimates where there is no counter, and detect()."""

from __future__ import annotations

import logging

import pytest
from conftest import cpu_stat

import wattprint
from wattprint.meters import cpu_model, memory
from wattprint.meters.base import ProbeContext


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize(
    ("brand", "model", "tdp"),
    [
        ("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763", 280),
        ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", "Intel Xeon Platinum 8380", 270),
        ("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", "Intel Core i7-1185G7", 28),
    ],
)
def test_brand_strings_match_their_part(brand, model, tdp):
    row = cpu_model.find_cpu(brand)
    assert row is not None and row.model == model and row.tdp_w == tdp


@pytest.mark.parametrize(
    ("brand", "not_model"),
    [
        ("Intel(R) Xeon(R) Platinum 8380H CPU @ 2.90GHz", "Intel Xeon Platinum 8380"),
        ("AMD EPYC 7713P 64-Core Processor", "AMD EPYC 7713"),
    ],
)
def test_near_misses_never_match_another_part(brand, not_model):
    row = cpu_model.find_cpu(brand)
    assert row is None or row.model != not_model


@pytest.mark.parametrize(
    "brand", ["Intel(R) Xeon(R) Processor", "AMD EPYC Processor", "Common KVM processor", ""]
)
def test_generic_cloud_strings_are_unknown(brand):
    assert cpu_model.find_cpu(brand) is None


def test_power_curve_and_bounds():
    row = cpu_model.find_cpu("AMD EPYC 7763")
    idle = cpu_model.cpu_power(row, sockets=2, threads=256, load=0.0)
    full = cpu_model.cpu_power(row, sockets=2, threads=256, load=1.0)
    assert full.watts == pytest.approx(560.0) and idle.watts == pytest.approx(0.3 * 560)
    assert full.low_w < full.watts < full.high_w
    unknown = cpu_model.cpu_power(None, sockets=1, threads=8, load=1.0)
    assert unknown.watts == pytest.approx(32.0) and "unknown" in unknown.basis
    assert unknown.high_w / unknown.watts > full.high_w / full.watts  # wider when unknown


def test_cpu_model_meter_integrates_utilization_from_proc_stat(machine):
    clock = Clock()
    row = cpu_model.find_cpu("AMD EPYC 7763")
    meter = cpu_model.CpuModelMeter(ProbeContext(root=machine.root), row, 1, 4, clock=clock)
    machine.write("/proc/stat", cpu_stat(1000 + 500, 9000 + 500))  # 50 % of the next ticks busy
    clock.t += 10
    reading = meter.read()
    expected = cpu_model.cpu_power(row, 1, 4, 0.5).watts * 10
    assert reading.energy_j == pytest.approx(expected)
    assert reading.low_j < reading.energy_j < reading.high_j and reading.method == "cpu-model"
    machine.write("/proc/stat", cpu_stat(1500, 9500 + 1000))  # idle
    clock.t += 10
    idle = cpu_model.cpu_power(row, 1, 4, 0.0).watts * 10
    assert meter.read().energy_j == pytest.approx(expected + idle)


def test_unknown_cpu_is_said_once_with_the_model_string(machine, caplog):
    machine.write("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Common KVM processor\n")
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        r1 = wattprint.Tracker(country="FRA").start().stop()
        wattprint.Tracker(country="FRA").start().stop()
    said = [m for m in caplog.messages if "Common KVM processor" in m]
    assert len(said) == 1 and "per thread" in said[0]
    assert "unknown CPU" in r1.cpu.devices[0]


def test_ram_model_is_watts_per_gb_with_wide_bounds(machine):
    clock = Clock()
    ctx = ProbeContext(root=machine.root)
    meter = memory.RamModelMeter(ctx, memory.total_memory_gb(ctx), clock=clock)
    clock.t += 100
    r = meter.read()
    assert r.energy_j == pytest.approx(0.3725 * 16.384 * 100)
    assert r.low_j == pytest.approx(r.energy_j / 2) and r.high_j == pytest.approx(r.energy_j * 2)


def test_detect_says_what_was_tried_and_how_to_fix_it(machine, monkeypatch):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1)
    machine.deny(machine.energy_path("intel-rapl:0"))
    found = wattprint.detect()
    cpu = found["cpu"]
    assert cpu.method == "cpu-model"
    rapl = next(p for p in cpu.tried if p.name == "rapl")
    assert not rapl.usable and "permission" in rapl.reason.lower()
    assert "chmod" in rapl.fix and "energy_uj" in rapl.fix
    assert found["gpu"].method == "none"
    text = str(found)
    assert "rapl [not usable]" in text and "fix: sudo chmod" in text
    assert "cpu-model [chosen]" in text


def test_unreadable_rapl_falls_back_to_a_labelled_estimate(machine, caplog):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1)
    machine.deny(machine.energy_path("intel-rapl:0"))
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        r = wattprint.Tracker(country="FRA").start().stop()
    assert r.cpu.method == "cpu-model"
    assert sum("chmod" in m for m in caplog.messages) == 1


def test_process_mode_counts_the_process_trees_share_of_busy_time(machine):
    import os
    import time

    import psutil

    clock = Clock()
    row = cpu_model.find_cpu("AMD EPYC 7763")
    ctx = ProbeContext(root=machine.root, tracking_mode="process")
    meter = cpu_model.CpuModelMeter(ctx, row, 1, 4, clock=clock)
    before = psutil.Process().cpu_times()
    end = time.process_time() + 0.2
    while time.process_time() < end:  # burn ~0.2 s of CPU in this process
        pass
    after = psutil.Process().cpu_times()
    own = (after.user + after.system) - (before.user + before.system)
    ticks = os.sysconf("SC_CLK_TCK")
    machine.write("/proc/stat", cpu_stat(1000 + ticks, 9000 + ticks))  # 1 s busy, 50 % load
    clock.t += 10
    energy = meter.read().energy_j
    machine_energy = cpu_model.cpu_power(row, 1, 4, 0.5).watts * 10
    assert energy == pytest.approx(machine_energy * own, rel=0.25)
    assert 0 < energy < machine_energy
