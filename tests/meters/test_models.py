"""CPU and RAM estimates where there is no counter, and detect()."""

from __future__ import annotations

import logging

import pytest

import wattprint
from tests.fakes.fakeclock import Clock
from tests.fakes.fakesys import cpu_stat
from wattprint.meters import cpu_model, memory
from wattprint.meters.base import ProbeContext
from wattprint.meters.load import LoadMeter


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


def fake_power(load: float) -> tuple[float, float, float]:
    """A power curve with distinct value and bounds, so the meter's arithmetic shows."""
    watts = 100.0 + 200.0 * load
    return watts, 0.8 * watts, 1.3 * watts


def test_meters_integrate_the_power_curve_over_utilization(machine):
    clock = Clock(100.0)
    meter = LoadMeter(
        ProbeContext(root=machine.root), "cpu", "cpu-model", fake_power, ("test",), clock=clock
    )
    machine.write("/proc/stat", cpu_stat(1000 + 500, 9000 + 500))  # 50 % of the next ticks busy
    clock.t += 10
    reading = meter.read()
    assert reading.energy_j == pytest.approx(fake_power(0.5)[0] * 10)
    assert reading.low_j == pytest.approx(fake_power(0.5)[1] * 10)
    assert reading.high_j == pytest.approx(fake_power(0.5)[2] * 10)
    assert reading.method == "cpu-model"
    machine.write("/proc/stat", cpu_stat(1500, 9500 + 1000))  # idle
    clock.t += 10
    assert meter.read().energy_j == pytest.approx((fake_power(0.5)[0] + fake_power(0.0)[0]) * 10)


def test_model_meters_use_the_calibrated_model_for_this_machine(machine):
    from wattprint.estimate import machine_curve
    from wattprint.meters import platform

    ctx = ProbeContext(root=machine.root)
    curve = machine_curve("AMD EPYC 7763 64-Core Processor", 1, 4, 16.384)
    for module, component in ((cpu_model, "cpu"), (memory, "ram"), (platform, "platform")):
        (probe,) = module.probe(ctx)
        assert probe.usable and probe.component == component
        for load in (0.0, 0.5, 1.0):
            assert probe.meter.power_at(load) == curve.component(component, load)
    cpu_low, cpu_value, cpu_high = (curve.component("cpu", 1.0)[i] for i in (1, 0, 2))
    assert cpu_low < cpu_value < cpu_high


def test_unknown_cpu_is_said_once_with_the_model_string(machine, caplog):
    machine.write("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Common KVM processor\n")
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        r1 = wattprint.Tracker(country="FRA").start().stop()
        wattprint.Tracker(country="FRA").start().stop()
    said = [m for m in caplog.messages if "Common KVM processor" in m]
    assert len(said) == 1 and "threads" in said[0]
    assert "unknown CPU" in r1.cpu.devices[0]


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

    clock = Clock(100.0)
    ctx = ProbeContext(root=machine.root, tracking_mode="process")
    meter = LoadMeter(ctx, "cpu", "cpu-model", fake_power, ("test",), clock=clock)
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
    machine_energy = fake_power(0.5)[0] * 10
    assert energy == pytest.approx(machine_energy * own, rel=0.25)
    assert 0 < energy < machine_energy


def test_a_vm_with_a_generic_cpu_gets_its_share_of_a_host(machine):
    from wattprint.estimate import machine_curve
    from wattprint.estimate.vm import VmCurve

    machine.write(
        "/proc/cpuinfo",
        "".join(
            f"processor\t: {i}\nmodel name\t: AMD EPYC Processor\n"
            "flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n\n"
            for i in range(4)
        ),
    )
    info, curve = cpu_model.machine_model(ProbeContext(root=machine.root))
    assert info.virtual and isinstance(curve, VmCurve)
    whole = machine_curve("AMD EPYC Processor", 1, 4, 16.384)  # read as a whole small server
    share = curve.component("cpu", 1.0)
    assert share[0] < whole.component("cpu", 1.0)[0] / 5
    assert share[1] < share[0] < share[2]
    host = machine_curve("unknown", 2, 128, 512)
    assert share[0] == pytest.approx(host.component("cpu", 1.0)[0] * 4 / 128)
    (probe,) = cpu_model.probe(ProbeContext(root=machine.root))
    assert "VM share" in probe.reason


def test_a_bare_metal_generic_cpu_is_not_taken_for_a_vm(machine):
    from wattprint.estimate.vm import VmCurve

    machine.write("/proc/cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC Processor\n\n")
    info, curve = cpu_model.machine_model(ProbeContext(root=machine.root))
    assert not info.virtual and not isinstance(curve, VmCurve)


def test_steal_time_is_not_this_machines_work(machine):
    """A VM whose vCPUs wait on the host half the time is not at full load: the host ran
    someone else meanwhile (/proc/stat's 8th field, steal)."""
    clock = Clock(100.0)
    meter = LoadMeter(
        ProbeContext(root=machine.root), "cpu", "cpu-model", fake_power, ("test",), clock=clock
    )
    # Of the next 1000 ticks: 500 running this VM's code, 500 stolen by the host, none idle.
    machine.write("/proc/stat", "cpu  1500 0 0 9000 0 0 0 500 0 0\n")
    clock.t += 10
    assert meter.read().energy_j == pytest.approx(fake_power(0.5)[0] * 10)
    assert meter.load == pytest.approx(0.5)
