"""What detection knows reaches the record: a CSV alone tells why a figure is a model."""

from __future__ import annotations

import csv

import wattprint
from tests.fakes.fakenvml import FakeGpu, FakeNvml
from wattprint.meters import nvidia

UUID0 = "GPU-0c3f1f4e-0000-0000-0000-000000000000"
UUID1 = "GPU-1c3f1f4e-0000-0000-0000-000000000000"
VM_CPUINFO = "".join(
    f"processor\t: {i}\nmodel name\t: AMD EPYC Processor\n"
    "flags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n\n"
    for i in range(4)
)


def _row() -> dict[str, str]:
    with open("emissions.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))[-1]


def test_an_unreadable_rapl_tree_is_in_the_records_notes(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    machine.deny(machine.energy_path("intel-rapl:0"))
    result = wattprint.Tracker(country="FRA").start().stop()
    assert result.cpu.method == "cpu-model"
    said = [n for n in result.notes if n.startswith("cpu: rapl not used")]
    assert said and "permission denied" in said[0] and "chmod" in said[0]
    assert "rapl not used" in _row()["notes"]


def test_an_ignored_rapl_mirror_is_in_the_records_notes(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=5_000_000)
    machine.add_rapl_domain("intel-rapl-mmio", "0", "package-0", energy_uj=5_000_000)
    result = wattprint.Tracker(country="FRA").start().stop()
    assert result.cpu.method == "rapl"
    assert any("mirrors intel-rapl:0" in n and "ignored" in n for n in result.notes)


def test_a_gpu_selection_that_matched_nothing_is_in_the_records_notes(machine, monkeypatch):
    fake = FakeNvml([FakeGpu(UUID0), FakeGpu(UUID1)])
    monkeypatch.setattr(nvidia, "load_adapter", lambda: fake)
    result = wattprint.Tracker(country="FRA", gpu_ids=("7",)).start().stop()
    assert result.gpu.method == "unmeasured" and result.gpu.energy_kwh is None
    assert any(n.startswith("gpu: nvml not used") and "'7'" in n for n in result.notes)
    # Part of a selection matched: the GPUs are measured, and the entry left out is said.
    result = wattprint.Tracker(country="FRA", gpu_ids=("1", "7")).start().stop()
    assert result.gpu.method.startswith("nvml")
    assert any(n.startswith("gpu:") and "'7'" in n for n in result.notes)
    assert "'7'" in _row()["notes"]


def test_a_vms_platform_is_not_estimated_rather_than_zero(machine):
    machine.write("/proc/cpuinfo", VM_CPUINFO)
    result = wattprint.Tracker(country="FRA").start().stop()
    assert result.platform is not None and result.platform.method == "not-estimated"
    assert result.platform.energy_kwh is None and result.platform.high_kwh is None
    assert "not estimated" in (result.platform.note or "")
    assert result.machine_energy_kwh is None  # not the CPU+RAM sum passed off as the machine
    row = _row()
    assert row["platform_method"] == "not-estimated" and row["platform_energy_kwh"] == ""
