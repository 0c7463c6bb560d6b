"""RAPL meter against fake powercap trees (tests/fakes/fakesys.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.fakesys import FakeSys
from wattprint.meters import rapl
from wattprint.meters.base import Meter, MeterError, Probe, ProbeContext

EXACT = 1e-9  # joules; energies below are whole microjoules, so this is exact arithmetic


class Warnings:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, key: str, message: str) -> None:
        self.calls.append((key, message))


@pytest.fixture
def fs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSys:
    return FakeSys(tmp_path, monkeypatch)


def run_probe(fs: FakeSys, warn: Warnings | None = None) -> dict[str, Probe]:
    ctx = ProbeContext(root=fs.root, warn=warn or Warnings())
    probes = rapl.probe(ctx)
    assert [p.name for p in probes] == ["rapl", "rapl"]
    assert [p.component for p in probes] == ["cpu", "ram"]
    return {p.component: p for p in probes}


def meter_of(p: Probe) -> rapl.RaplMeter:
    assert p.usable, p.reason
    assert isinstance(p.meter, rapl.RaplMeter)
    return p.meter


def add_socket(fs: FakeSys, i: int, package_uj: int, dram_uj: int | None = None, **kw) -> None:
    """A socket as Intel servers lay it out: package-i with core, uncore and dram subzones."""
    fs.add_rapl_domain("intel-rapl", f"{i}", f"package-{i}", package_uj, **kw)
    fs.add_rapl_domain("intel-rapl", f"{i}:0", "core", package_uj // 2 + 7, **kw)
    fs.add_rapl_domain("intel-rapl", f"{i}:1", "uncore", package_uj // 3 + 11, **kw)
    if dram_uj is not None:
        fs.add_rapl_domain("intel-rapl", f"{i}:2", "dram", dram_uj, **kw)


def test_single_socket_counts_package_only(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=5_000_000)
    probes = run_probe(fs)
    m = meter_of(probes["cpu"])
    assert isinstance(m, Meter)
    assert m.component == "cpu" and m.method == "rapl"
    assert m.devices == ("package-0",)
    assert m.read().energy_j == 0.0

    fs.set_energy("intel-rapl:0", 5_000_000 + 12_345_678)
    fs.set_energy("intel-rapl:0:0", 999_999_999)  # core moves too: must not be added
    fs.set_energy("intel-rapl:0:1", 888_888_888)
    r = m.read()
    assert r.energy_j == pytest.approx(12.345678, abs=EXACT)
    assert r.method == "rapl"
    assert r.low_j == pytest.approx(12.345678 * 0.95)
    assert r.high_j == pytest.approx(12.345678 * 1.05)
    assert r.gap_s == 0.0


def test_two_sockets_are_summed(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=1_000_000)
    add_socket(fs, 1, package_uj=70_000_000)
    m = meter_of(run_probe(fs)["cpu"])
    assert m.devices == ("package-0", "package-1")
    fs.set_energy("intel-rapl:0", 1_000_000 + 3_000_000)
    fs.set_energy("intel-rapl:1", 70_000_000 + 4_500_001)
    assert m.read().energy_j == pytest.approx(7.500001, abs=EXACT)


def test_multi_die_packages_with_own_counters_are_summed(fs: FakeSys) -> None:
    fs.add_rapl_domain("intel-rapl", "0", "package-0-die-0", 100)
    fs.add_rapl_domain("intel-rapl", "1", "package-0-die-1", 200)
    m = meter_of(run_probe(fs)["cpu"])
    assert m.devices == ("package-0-die-0", "package-0-die-1")
    fs.set_energy("intel-rapl:0", 1_100)
    fs.set_energy("intel-rapl:1", 2_200)
    assert m.read().energy_j == pytest.approx(0.003, abs=EXACT)


def test_dies_reading_one_socket_counter_are_counted_once(fs: FakeSys) -> None:
    # A part whose package counter is per socket, listed once per die.
    fs.add_rapl_domain("intel-rapl", "0", "package-0-die-0", 4_242)
    fs.add_rapl_domain("intel-rapl", "1", "package-0-die-1", 4_242)
    fs.add_rapl_domain("intel-rapl", "2", "package-1-die-0", 4_242)  # another socket
    m = meter_of(run_probe(fs)["cpu"])
    assert m.devices == ("package-0-die-0", "package-1-die-0")
    for zone in ("intel-rapl:0", "intel-rapl:1", "intel-rapl:2"):
        fs.set_energy(zone, 4_242 + 1_000_000)
    assert m.read().energy_j == pytest.approx(2.0, abs=EXACT)


def test_sockets_with_equal_counters_are_not_mirrors(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=500, dram_uj=0)
    add_socket(fs, 1, package_uj=500, dram_uj=0)
    probes = run_probe(fs)
    assert meter_of(probes["cpu"]).devices == ("package-0", "package-1")
    assert meter_of(probes["ram"]).devices == ("package-0/dram", "package-1/dram")


def test_dram_subzones_are_ram_per_socket(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10, dram_uj=1_000)
    add_socket(fs, 1, package_uj=20, dram_uj=9_000)
    probes = run_probe(fs)
    ram = meter_of(probes["ram"])
    cpu = meter_of(probes["cpu"])
    assert ram is not cpu
    assert ram.component == "ram"
    # Both sockets' subzones are named "dram": they must not be taken for mirrors of each other.
    assert ram.devices == ("package-0/dram", "package-1/dram")
    fs.set_energy("intel-rapl:0:2", 1_000 + 2_000_000)
    fs.set_energy("intel-rapl:1:2", 9_000 + 500_000)
    r = ram.read()
    assert r.energy_j == pytest.approx(2.5, abs=EXACT)
    assert r.low_j == pytest.approx(2.5 * 0.90)
    assert r.high_j == pytest.approx(2.5 * 1.10)
    assert cpu.read().energy_j == 0.0  # dram is not part of the cpu figure


def test_top_level_dram_is_ram(fs: FakeSys) -> None:
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 10)
    fs.add_rapl_domain("intel-rapl", "1", "dram", 20)
    fs.add_rapl_domain("intel-rapl", "2", "psys", 30)  # not used: not cpu, not ram
    probes = run_probe(fs)
    assert meter_of(probes["cpu"]).devices == ("package-0",)
    ram = meter_of(probes["ram"])
    assert ram.devices == ("dram",)
    fs.set_energy("intel-rapl:1", 20 + 750_000)
    fs.set_energy("intel-rapl:2", 30 + 9_000_000)
    assert ram.read().energy_j == pytest.approx(0.75, abs=EXACT)


def test_no_dram_domain(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10)
    probes = run_probe(fs)
    assert probes["cpu"].usable
    ram = probes["ram"]
    assert not ram.usable and ram.meter is None
    assert ram.reason == "RAPL exposes no dram domain on this CPU"
    assert ram.fix is None


def test_mmio_mirror_is_counted_once(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=1_000)
    # The MMIO view of the same package counter; values differ so only the name can tell.
    fs.add_rapl_domain("intel-rapl-mmio", "0", "package-0", 5_555)
    probe = run_probe(fs)["cpu"]
    m = meter_of(probe)
    assert m.devices == ("package-0",)
    assert [d.zone for d in m.domains] == ["intel-rapl:0"]  # the MSR provider is preferred
    assert "intel-rapl-mmio:0" in probe.reason
    fs.set_energy("intel-rapl:0", 1_000 + 2_000_000)
    fs.set_energy("intel-rapl-mmio:0", 5_555 + 2_000_000)
    assert m.read().energy_j == pytest.approx(2.0, abs=EXACT)


def test_mmio_alone_is_used(fs: FakeSys) -> None:
    fs.add_rapl_domain("intel-rapl-mmio", "0", "package-0", 40)
    m = meter_of(run_probe(fs)["cpu"])
    assert [d.zone for d in m.domains] == ["intel-rapl-mmio:0"]
    fs.set_energy("intel-rapl-mmio:0", 1_040)
    assert m.read().energy_j == pytest.approx(0.001, abs=EXACT)


def test_same_package_listed_twice_with_identical_counter_is_counted_once(fs: FakeSys) -> None:
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 123_456)
    fs.add_rapl_domain("intel-rapl", "1", "package-0", 123_456)
    probe = run_probe(fs)["cpu"]
    m = meter_of(probe)
    assert [d.zone for d in m.domains] == ["intel-rapl:0"]
    assert "intel-rapl:1 mirrors intel-rapl:0" in probe.reason
    fs.set_energy("intel-rapl:0", 123_456 + 1_000_000)
    fs.set_energy("intel-rapl:1", 123_456 + 1_000_000)
    assert m.read().energy_j == pytest.approx(1.0, abs=EXACT)


def test_same_name_different_counters_are_both_counted(fs: FakeSys) -> None:
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 100)
    fs.add_rapl_domain("intel-rapl", "1", "package-0", 900_000)
    m = meter_of(run_probe(fs)["cpu"])
    assert m.devices == ("package-0 (intel-rapl:0)", "package-0 (intel-rapl:1)")
    fs.set_energy("intel-rapl:0", 100 + 1_000_000)
    fs.set_energy("intel-rapl:1", 900_000 + 1_000_000)
    assert m.read().energy_j == pytest.approx(2.0, abs=EXACT)


def test_plain_directory_layout(fs: FakeSys) -> None:
    """Zones as plain directories, subzones only nested in their parent."""
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 10, symlink=False)
    fs.add_rapl_domain("intel-rapl", "0:0", "core", 10, symlink=False)
    fs.add_rapl_domain("intel-rapl", "0:1", "dram", 20, symlink=False)
    assert not fs.path("/sys/class/powercap/intel-rapl:0:1").exists()
    probes = run_probe(fs)
    assert meter_of(probes["cpu"]).devices == ("package-0",)
    ram = meter_of(probes["ram"])
    assert ram.devices == ("package-0/dram",)
    fs.set_energy("intel-rapl:0:1", 20 + 3_000_000)
    assert ram.read().energy_j == pytest.approx(3.0, abs=EXACT)


def test_real_layout_is_symlinks(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10, dram_uj=20)
    assert fs.path("/sys/class/powercap/intel-rapl:0").is_symlink()
    assert fs.path("/sys/class/powercap/intel-rapl:0:2").is_symlink()
    assert fs.path("/sys/class/powercap/intel-rapl").is_symlink()  # the control type
    probes = run_probe(fs)
    assert meter_of(probes["cpu"]).devices == ("package-0",)
    # Found both at the top level and nested in intel-rapl:0: still one domain.
    assert meter_of(probes["ram"]).devices == ("package-0/dram",)


def test_wraparound_between_polls_is_exact(fs: FakeSys) -> None:
    max_range = 1_000_000_000
    fs.add_rapl_domain("intel-rapl", "0", "package-0", max_range - 300, max_range_uj=max_range)
    m = meter_of(run_probe(fs)["cpu"])
    fs.set_energy("intel-rapl:0", max_range - 100)
    m.poll()
    fs.set_energy("intel-rapl:0", 50)  # wrapped: 100 to the top, then 50
    m.poll()
    fs.set_energy("intel-rapl:0", 2_000)
    assert m.read().energy_j == pytest.approx((200 + 150 + 1_950) / 1e6, abs=EXACT)


def test_read_across_a_wrap_without_poll_is_exact(fs: FakeSys) -> None:
    max_range = 2_000_000
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 1_500_000, max_range_uj=max_range)
    fs.add_rapl_domain("intel-rapl", "1", "package-1", 10, max_range_uj=max_range)
    m = meter_of(run_probe(fs)["cpu"])
    fs.set_energy("intel-rapl:0", 250_000)  # wrapped once since open
    fs.set_energy("intel-rapl:1", 1_000_010)
    assert m.read().energy_j == pytest.approx((500_000 + 250_000 + 1_000_000) / 1e6, abs=EXACT)
    # A second wrap later on, seen by the next read.
    fs.set_energy("intel-rapl:0", 1_999_000)
    m.read()
    fs.set_energy("intel-rapl:0", 0)
    assert m.read().energy_j == pytest.approx(
        (500_000 + 250_000 + 1_749_000 + 1_000 + 1_000_000) / 1e6, abs=EXACT
    )


def test_poll_interval_catches_every_wrap(fs: FakeSys) -> None:
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 0)
    m = meter_of(run_probe(fs)["cpu"])
    # 262 kJ wraps after 524 s at 500 W: half of that is over the 60 s cap.
    assert m.poll_interval_s == 60.0

    fs.add_rapl_domain("intel-rapl", "0:2", "dram", 0, max_range_uj=20_000_000_000)
    ram = meter_of(run_probe(fs)["ram"])
    assert ram.poll_interval_s == pytest.approx(20_000 / 500 / 2)  # 20 s


def test_permission_denied(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10, dram_uj=20, readable=False)
    add_socket(fs, 1, package_uj=30, dram_uj=40, readable=False)
    with pytest.raises(PermissionError):  # the fake really refuses, as a 0400 file does
        fs.path(fs.energy_path("intel-rapl:0")).read_text()
    warn = Warnings()
    probes = run_probe(fs, warn)
    command = (
        "sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
        "/sys/class/powercap/intel-rapl:*/*/energy_uj"
    )
    for component in ("cpu", "ram"):
        p = probes[component]
        assert not p.usable and p.meter is None
        assert "permission denied" in p.reason and "CVE-2020-8694" in p.reason
        assert p.fix == command
    assert len(warn.calls) == 1
    key, message = warn.calls[0]
    assert key == "rapl-permission"
    assert command in message and "udev" in message and "powercap" in message


def test_permission_fix_covers_only_present_providers(fs: FakeSys) -> None:
    # An AMD-like tree: packages only, no subzones, plus an mmio zone.
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 10, readable=False)
    fs.add_rapl_domain("intel-rapl-mmio", "0", "package-0", 10, readable=False)
    p = run_probe(fs)["cpu"]
    assert p.fix == (
        "sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
        "/sys/class/powercap/intel-rapl-mmio:*/energy_uj"
    )


def test_readable_counters_are_not_blocked_by_other_denials(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10, dram_uj=20)
    fs.deny(fs.energy_path("intel-rapl:0:2"))  # only dram is unreadable
    probes = run_probe(fs)
    assert probes["cpu"].usable
    assert not probes["ram"].usable and "permission denied" in probes["ram"].reason


def test_missing_powercap(fs: FakeSys) -> None:
    fs.write("/proc/stat", "cpu  1 2 3 4\n")  # a root with other things in it, but no powercap
    probes = run_probe(fs)
    for p in probes.values():
        assert not p.usable and p.meter is None
        assert p.reason == (
            "no RAPL powercap interface (not Linux, a VM, or the intel_rapl driver is not loaded)"
        )
        assert p.fix is None


def test_empty_powercap_suggests_loading_the_driver(fs: FakeSys) -> None:
    fs.mkdir("/sys/class/powercap")
    probes = run_probe(fs)
    assert not probes["cpu"].usable and not probes["ram"].usable
    assert probes["cpu"].fix == "sudo modprobe intel_rapl_msr"


def test_only_psys_means_no_package(fs: FakeSys) -> None:
    fs.add_rapl_domain("intel-rapl", "1", "psys", 10)
    p = run_probe(fs)["cpu"]
    assert not p.usable and p.reason == "RAPL exposes no package domain on this CPU"


def test_file_vanishing_after_open_raises_meter_error(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10)
    add_socket(fs, 1, package_uj=20)
    m = meter_of(run_probe(fs)["cpu"])
    path = fs.energy_path("intel-rapl:1")
    fs.remove(path)
    with pytest.raises(MeterError) as info:
        m.read()
    assert "intel-rapl:1/energy_uj" in str(info.value)  # names the file
    with pytest.raises(MeterError):
        m.poll()


def test_zone_vanishing_after_open_raises_meter_error(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10)
    m = meter_of(run_probe(fs)["cpu"])
    fs.remove(fs.rapl_zone_dir("intel-rapl:0"))  # the driver was unloaded
    with pytest.raises(MeterError, match="intel-rapl:0"):
        m.read()


def test_garbage_counter_raises_meter_error(fs: FakeSys) -> None:
    add_socket(fs, 0, package_uj=10)
    m = meter_of(run_probe(fs)["cpu"])
    fs.write(fs.energy_path("intel-rapl:0"), "not a number\n")
    with pytest.raises(MeterError, match="energy_uj"):
        m.read()


def test_meter_reads_its_own_files_only(fs: FakeSys, monkeypatch: pytest.MonkeyPatch) -> None:
    add_socket(fs, 0, package_uj=10, dram_uj=20)
    probes = run_probe(fs)
    cpu, ram = meter_of(probes["cpu"]), meter_of(probes["ram"])
    opened: list[str] = []
    real_open = os.open

    def spy(path, flags, *args, **kw):
        opened.append(os.fspath(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", spy)

    def real(zone: str) -> list[str]:
        return [os.path.realpath(fs.path(fs.energy_path(zone)))]

    cpu.read()
    assert [os.path.realpath(p) for p in opened] == real("intel-rapl:0")
    opened.clear()
    ram.poll()
    assert [os.path.realpath(p) for p in opened] == real("intel-rapl:0:2")


def test_meter_rejects_bad_domains(fs: FakeSys) -> None:
    with pytest.raises(ValueError):
        rapl.RaplMeter("cpu", [])
    fs.add_rapl_domain("intel-rapl", "0", "package-0", 10, max_range_uj=0)
    p = run_probe(fs)["cpu"]
    assert not p.usable and "max_energy_range_uj" in p.reason
