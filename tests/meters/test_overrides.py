"""What the user knows wins: the real CPU model, and power figures labelled ``user``."""

from __future__ import annotations

import logging
import time

import pytest

import wattprint
from tests.fakes.fakenvml import FakeGpu, FakeNvml
from tests.fakes.fakesys import cpu_stat
from wattprint.config import USER_POWER_REL_BOUND, load_settings, power_override
from wattprint.meters import nvidia

VM_CPUINFO = "".join(
    f"processor\t: {i}\nmodel name\t: Intel Xeon Processor (Icelake)\n"
    "flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n\n"
    for i in range(4)
)


def _run(machine, busy_ticks: int, **settings):
    machine.write("/proc/stat", cpu_stat(1000, 9000))
    tracker = wattprint.Tracker(country="FRA", **settings).start()
    time.sleep(0.2)
    machine.write("/proc/stat", cpu_stat(1000 + busy_ticks, 9000 + 100 - busy_ticks))
    return tracker.stop()


def _watts(part, duration_s):
    return tuple(v * 3.6e6 / duration_s for v in (part.energy_kwh, part.low_kwh, part.high_kwh))


def test_fixed_power_with_the_default_bound(machine):
    r = _run(machine, 50, cpu_power_w=65)
    assert r.cpu.method == "user" and "cpu_power_w=65" in r.cpu.devices[0]
    watts, low, high = _watts(r.cpu, r.duration_s)
    assert watts == pytest.approx(65, rel=0.02)
    assert low / watts == pytest.approx(1 - USER_POWER_REL_BOUND)
    assert high / watts == pytest.approx(1 + USER_POWER_REL_BOUND)


def test_a_range_follows_utilization_with_the_users_bounds(machine):
    r = _run(machine, 50, cpu_power_w="40..300", ram_power_w="6+-1")
    watts, low, high = _watts(r.cpu, r.duration_s)
    assert watts == pytest.approx(40 + 260 * 0.5, rel=0.02)  # half busy
    watts, low, high = _watts(r.ram, r.duration_s)
    assert r.ram.method == "user"
    assert (low, watts, high) == pytest.approx((5, 6, 7), rel=0.02)


def test_a_user_figure_wins_over_a_counter(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    r = _run(machine, 50, cpu_power_w=20)
    assert r.cpu.method == "user"


def test_gpu_power_range_follows_the_gpus_utilization(machine, monkeypatch):
    gpus = [FakeGpu("GPU-a", util=25.0), FakeGpu("GPU-b", util=75.0)]
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml(gpus))
    r = _run(machine, 50, gpu_power_w="100..500")
    assert r.gpu.method == "user"
    watts, low, high = _watts(r.gpu, r.duration_s)
    assert watts == pytest.approx(100 + 400 * 0.5, rel=0.02)  # mean utilization 50 %


def test_gpu_power_without_any_gpu_meter_spans_the_range(machine):
    r = _run(machine, 50, gpu_power_w="100..500")
    watts, low, high = _watts(r.gpu, r.duration_s)
    assert watts == pytest.approx(300, rel=0.02)  # utilization unknown: the middle
    assert low == pytest.approx(90, rel=0.02) and high == pytest.approx(550, rel=0.02)


def test_cpu_model_names_a_vms_real_cpu(machine, caplog):
    machine.write("/proc/cpuinfo", VM_CPUINFO)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        unknown = _run(machine, 50)
    said = [m for m in caplog.messages if "Icelake" in m]
    assert said and "cpu_model" in said[0] and "please report" not in said[0]
    named = _run(machine, 50, cpu_model="Intel Xeon Platinum 8380")
    assert "8380" in named.cpu.devices[0] and "user" in named.cpu.devices[0]
    assert named.machine.cpu_model == "Intel Xeon Platinum 8380"  # the record's cpu_model
    # A share of a host of that CPU, not a whole 270 W part for 4 vCPUs.
    watts = _watts(named.cpu, named.duration_s)[0]
    assert 0 < watts < 270 * 4 / 80
    assert watts != pytest.approx(_watts(unknown.cpu, unknown.duration_s)[0], rel=0.01)


@pytest.mark.parametrize(
    ("given", "text"),
    [
        ("65", "65"),
        (65, "65"),
        ("40..300", "40..300"),
        ("65 ± 5", "65+-5"),
        ("40..300+-10%", "40..300+-10%"),
    ],
)
def test_power_settings_are_checked_in_one_place(given, text):
    assert load_settings({"gpu_power_w": given}).gpu_power_w == text
    assert power_override(text) == power_override(str(given))


@pytest.mark.parametrize("bad", ["lots", "-3", "10..", "5+-100%", "1e9"])
def test_a_bad_power_setting_says_what_is_allowed(bad):
    with pytest.raises(ValueError, match=r"cpu_power_w.*must be watts"):
        load_settings({"cpu_power_w": bad})


def test_an_unknown_cpu_model_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setenv("WATTPRINT_CPU_MODEL", "Common KVM processor")
    with pytest.raises(ValueError, match=r"WATTPRINT_CPU_MODEL.*cpu_power_w"):
        load_settings()
