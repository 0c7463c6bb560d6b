"""Every meter keeps the same promises (``wattprint.meters.base``), checked the same way.

Each scenario opens one meter over a fake machine (powercap files, a fake NVML or amdsmi, a fake
/proc/stat for the model meters) and returns a function that lets time pass with some work
done. The checks do not know which meter they read: over a run of reads, polls included,

* the energy and both bounds never go down (cumulative since the meter was opened);
* ``low_j <= energy_j <= high_j`` at every read;
* every reading names its method, which is the meter's own (``+gap`` where a read failed);
* the meter names its component and what it measures, and closes cleanly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.fakes.fakeamd import MI300X, FakeAmd, FakeAmdGpu, Sleep
from tests.fakes.fakeclock import Clock
from tests.fakes.fakenvml import FakeGpu, FakeNvml
from tests.fakes.fakesys import FakeSys, cpu_stat
from wattprint.config import power_override
from wattprint.meters import amd, cpu_model, memory, nvidia, platform, rapl, user
from wattprint.meters.base import COMPONENTS, Meter, ProbeContext, Reading
from wattprint.meters.load import LoadMeter

#: (seconds of time passing, share of the CPU busy meanwhile): idle, busy, a short and a long
#: step, so that a meter integrating power sees a change of load and of step.
STEPS = ((1.0, 0.2), (2.5, 0.9), (0.1, 0.0), (30.0, 0.5), (1.0, 1.0))


@dataclass
class Scenario:
    meter: Meter
    advance: Callable[[float, float], None]  # (seconds, busy share) -> the world moves on


class BusyCpu:
    """/proc/stat ticks that go on from the fixture's, ``share`` of them busy (100 per s)."""

    def __init__(self, machine: FakeSys) -> None:
        self.machine = machine
        self.busy, self.idle = 1000, 9000

    def run(self, seconds: float, share: float) -> None:
        ticks = int(100 * seconds)
        self.busy += int(ticks * share)
        self.idle += ticks - int(ticks * share)
        self.machine.write("/proc/stat", cpu_stat(self.busy, self.idle))


def rapl_counter(machine: FakeSys) -> Scenario:
    zone = machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=5_000_000)
    (cpu, _ram) = rapl.probe(ProbeContext(root=machine.root))
    assert cpu.meter is not None, cpu.reason
    counter = {"uj": 5_000_000}

    def advance(seconds: float, share: float) -> None:
        counter["uj"] += int((20 + 180 * share) * seconds * 1e6)  # 20 W idle, 200 W busy
        machine.set_energy(zone, counter["uj"])

    return Scenario(cpu.meter, advance)


def _nvidia(energy_mj: int | None) -> tuple[nvidia.NvidiaMeter, FakeGpu, Clock]:
    gpu = FakeGpu("GPU-c0ffee00-1111-2222-3333-444444444444", energy_mj=energy_mj)
    fake = FakeNvml([gpu])
    clock = Clock(100.0)
    info = nvidia.GpuInfo(0, gpu.uuid, gpu.name, fake.handle_by_index(0))
    return nvidia.NvidiaMeter(fake, [info], clock=clock), gpu, clock


def nvidia_counter(machine: FakeSys) -> Scenario:
    meter, gpu, clock = _nvidia(energy_mj=1_000_000)

    def advance(seconds: float, share: float) -> None:
        gpu.power_mw = int(60_000 + 600_000 * share)
        gpu.util = 100 * share
        gpu.energy_mj += int(gpu.power_mw * seconds)  # mW x s = mJ
        clock.t += seconds

    return Scenario(meter, advance)


def nvidia_power(machine: FakeSys) -> Scenario:
    meter, gpu, clock = _nvidia(energy_mj=None)  # no counter: power integrated between polls

    def advance(seconds: float, share: float) -> None:
        gpu.power_mw = int(60_000 + 600_000 * share)
        clock.t += seconds

    return Scenario(meter, advance)


def amd_counter(machine: FakeSys) -> Scenario:
    fake = FakeAmd([FakeAmdGpu("uuid-0"), FakeAmdGpu("uuid-1", energy_uj=None)])  # one of each
    clock = Clock(50.0)
    sleep = Sleep(fake, clock)
    gpus = [amd.AmdGpu(i, g.uuid, MI300X, i) for i, g in enumerate(fake.gpus)]
    meter = amd.AmdMeter(fake, gpus, clock=clock, sleep=sleep, warn=lambda key, message: None)

    def advance(seconds: float, share: float) -> None:
        for g in fake.gpus:
            g.power_w = 100.0 + 600.0 * share
        sleep(seconds)

    return Scenario(meter, advance)


def _model(machine: FakeSys, module) -> Scenario:
    """A model meter as its probe builds it, on a clock the test moves."""
    ctx = ProbeContext(root=machine.root)
    (probe,) = module.probe(ctx)
    built = probe.meter
    assert isinstance(built, LoadMeter), probe.reason
    clock = Clock(100.0)
    meter = LoadMeter(
        ctx, built.component, built.method, built.power_at, built.devices, clock=clock
    )
    cpu = BusyCpu(machine)

    def advance(seconds: float, share: float) -> None:
        cpu.run(seconds, share)
        clock.t += seconds

    return Scenario(meter, advance)


def cpu_model_meter(machine: FakeSys) -> Scenario:
    return _model(machine, cpu_model)


def ram_model_meter(machine: FakeSys) -> Scenario:
    return _model(machine, memory)


def platform_model_meter(machine: FakeSys) -> Scenario:
    return _model(machine, platform)


def user_gpu_power(machine: FakeSys) -> Scenario:
    """The user's GPU figure (gpu_power_w=100..400) over the NVIDIA meter's utilization."""
    inner, gpu, clock = _nvidia(energy_mj=1_000_000)
    meter = user.UserGpuMeter(
        power_override("100..400"), [inner], ("gpu_power_w=100..400 (user)",), clock=clock
    )

    def advance(seconds: float, share: float) -> None:
        gpu.util = 100 * share
        gpu.energy_mj += int((60_000 + 600_000 * share) * seconds)
        clock.t += seconds

    return Scenario(meter, advance)


SCENARIOS = {
    "rapl": rapl_counter,
    "nvml-counter": nvidia_counter,
    "nvml-power": nvidia_power,
    "amdsmi": amd_counter,
    "cpu-model": cpu_model_meter,
    "ram-model": ram_model_meter,
    "platform-model": platform_model_meter,
    "user-gpu": user_gpu_power,
}


def check(reading: Reading, meter: Meter, previous: Reading | None) -> None:
    assert isinstance(reading, Reading)
    assert reading.low_j <= reading.energy_j <= reading.high_j, reading
    assert reading.energy_j >= 0 and reading.gap_s >= 0, reading
    assert isinstance(reading.method, str) and reading.method, reading
    assert reading.method in (meter.method, f"{meter.method}+gap"), (reading.method, meter.method)
    if previous is not None:
        assert reading.energy_j >= previous.energy_j, (previous, reading)
        assert reading.low_j >= previous.low_j, (previous, reading)
        assert reading.high_j >= previous.high_j, (previous, reading)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_meter_keeps_the_contract(name: str, machine: FakeSys) -> None:
    scenario = SCENARIOS[name](machine)
    meter = scenario.meter
    assert isinstance(meter, Meter)
    assert meter.component in COMPONENTS
    assert isinstance(meter.method, str) and meter.method
    assert meter.devices and all(isinstance(d, str) and d for d in meter.devices)
    assert meter.poll_interval_s is None or meter.poll_interval_s > 0
    previous = meter.read()
    check(previous, meter, None)
    for seconds, share in STEPS:
        scenario.advance(seconds, share)
        meter.poll()
        reading = meter.read()
        check(reading, meter, previous)
        previous = reading
    assert previous.energy_j > 0, f"{name}: time passed with power drawn, and no energy"
    meter.close()
