"""Every test runs on a fake machine: a /proc tree on disk, no RAPL, no NVIDIA driver, no
user or project config, a clean WATTPRINT_* environment, and a fresh working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.fakenvml import NoNvml
from tests.fakes.fakesys import FakeSys, cpu_stat
from wattprint import _log
from wattprint.meters import amd, nvidia

CPUINFO = "".join(
    f"processor\t: {i}\nmodel name\t: AMD EPYC 7763 64-Core Processor\nphysical id\t: 0\n\n"
    for i in range(4)
)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSys:
    fs = FakeSys(tmp_path / "root", monkeypatch)
    fs.write("/proc/stat", cpu_stat(1000, 9000))
    fs.write("/proc/meminfo", "MemTotal:       16000000 kB\nMemAvailable:    4000000 kB\n")
    fs.write("/proc/cpuinfo", CPUINFO)
    fs.write("/etc/timezone", "Europe/Paris\n")
    for key in list(os.environ):
        if key.startswith("WATTPRINT_"):
            monkeypatch.delenv(key)
    for key in ("CUDA_VISIBLE_DEVICES", "TZ", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WATTPRINT_ROOT", str(fs.root))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(nvidia, "load_adapter", lambda: NoNvml())
    monkeypatch.setattr(amd, "load_adapter", _no_amd)
    _log.forget_warnings()
    return fs


class _NoAmd:
    def init(self) -> None:
        raise amd.AmdSmiUnavailable("amdsmi not installed (ROCm)")

    def shutdown(self) -> None:
        return None


def _no_amd() -> _NoAmd:
    return _NoAmd()
