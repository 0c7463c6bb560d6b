"""NVIDIA meter: a scripted fake NVML stands in for the hardware."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.fakes.fakeclock import Clock
from tests.fakes.fakenvml import FakeGpu, FakeNvml
from wattprint.meters import nvidia
from wattprint.meters.base import Meter, MeterError, ProbeContext

H100 = "NVIDIA H100 80GB HBM3"
UUID0 = "GPU-8f3a0000-1111-2222-3333-444444444444"
UUID1 = "GPU-8f3b0000-1111-2222-3333-555555555555"
UUID2 = "GPU-c0de0000-1111-2222-3333-666666666666"
MIG_A = "MIG-aaaa0000-1111-2222-3333-777777777777"
MIG_B = "MIG-bbbb0000-1111-2222-3333-888888888888"


class Warnings:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, key: str, message: str) -> None:
        self.calls.append((key, message))

    def keys(self) -> list[str]:
        return [k for k, _ in self.calls]


def gpu_infos(fake: FakeNvml) -> list[nvidia.GpuInfo]:
    return [nvidia.GpuInfo(i, g.uuid, g.name, g) for i, g in enumerate(fake.gpus)]


def run_probe(
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeNvml,
    *,
    gpu_ids: tuple[str, ...] | None = None,
    env: dict[str, str] | None = None,
    clock: Clock | None = None,
) -> tuple[Any, Warnings]:
    monkeypatch.setattr(nvidia, "load_adapter", lambda: fake)
    warn = Warnings()
    ctx = ProbeContext(gpu_ids=gpu_ids, env=env or {}, warn=warn)
    probes = nvidia.probe(ctx, clock=clock or Clock(100.0))
    assert len(probes) == 1
    p = probes[0]
    assert (p.name, p.component) == ("nvml", "gpu")
    return p, warn


def three_gpus() -> FakeNvml:
    return FakeNvml([FakeGpu(UUID0), FakeGpu(UUID1), FakeGpu(UUID2)])


def measured_uuids(p: Any) -> list[str]:
    assert p.usable, p.reason
    return [d.rsplit("(", 1)[1].rstrip(")") for d in p.meter.devices]


# ------------------------------------------------------------------------------------------
# Energy from the counter


def test_counter_energy_and_bounds() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=5_000_000)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    assert isinstance(meter, Meter)
    assert meter.method == "nvml-counter"
    assert meter.poll_interval_s is None

    fake.gpus[0].energy_mj = 5_250_000  # +250 J
    clock.t += 10
    r = meter.read()
    assert r.energy_j == pytest.approx(250.0)
    assert r.low_j == pytest.approx(250.0 * 0.95)
    assert r.high_j == pytest.approx(250.0 * 1.05)
    assert r.method == "nvml-counter"
    assert r.gap_s == 0.0


def test_counter_meter_describes_devices() -> None:
    fake = FakeNvml([FakeGpu(UUID0), FakeGpu(UUID1, name="NVIDIA A100-SXM4-40GB")])
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=Clock(100.0))
    assert meter.devices == (f"GPU 0: {H100} ({UUID0})", f"GPU 1: NVIDIA A100-SXM4-40GB ({UUID1})")
    assert meter.gpu_count == 2
    assert meter.gpu_models == (H100, "NVIDIA A100-SXM4-40GB")
    assert meter.component == "gpu"


def test_counter_reset_is_a_labelled_gap_never_negative() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=5_000_000, power_mw=300_000, limit_mw=700_000)])
    clock = Clock(100.0)
    warn = Warnings()
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock, warn=warn)

    clock.t += 10
    fake.gpus[0].energy_mj = 5_100_000  # +100 J
    assert meter.read().energy_j == pytest.approx(100.0)

    clock.t += 10
    fake.gpus[0].energy_mj = 2_000  # driver reloaded: counter restarted
    r = meter.read()
    # The 10 s interval: 300 W x 10 s as the value, 0 to 700 W x 10 s as the bounds.
    assert r.energy_j == pytest.approx(100.0 + 3000.0)
    assert r.low_j == pytest.approx(95.0)
    assert r.high_j == pytest.approx(105.0 + 7000.0)
    assert r.gap_s == pytest.approx(10.0)
    assert r.method == "nvml-counter+gap"
    assert warn.keys() == [f"nvml-counter-reset:{UUID0}"]

    clock.t += 10
    fake.gpus[0].energy_mj = 12_000  # counting again from the new base: +10 J
    r2 = meter.read()
    assert r2.energy_j == pytest.approx(3110.0)
    assert r2.low_j <= r2.energy_j <= r2.high_j

    clock.t += 5
    fake.gpus[0].energy_mj = 0  # and again: still warned only once
    r3 = meter.read()
    assert r3.energy_j >= r2.energy_j
    assert r3.gap_s == pytest.approx(15.0)
    assert len(warn.calls) == 1


def test_counter_reset_with_unreadable_power_uses_half_limit() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=1_000_000, limit_mw=400_000)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    clock.t += 4
    fake.gpus[0].energy_mj = 10
    fake.gpus[0].power_fails = True
    r = meter.read()
    assert r.energy_j == pytest.approx(200.0 * 4)
    assert r.high_j == pytest.approx(400.0 * 4)
    assert r.low_j == 0.0


# ------------------------------------------------------------------------------------------
# Energy from power sampling


def test_power_integration_trapezoid_and_bounds() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=None, power_mw=100_000)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    assert meter.method == "nvml-power"
    assert meter.poll_interval_s == 1.0

    clock.t += 1
    fake.gpus[0].power_mw = 200_000
    meter.poll()  # 100 -> 200 W over 1 s: 150 J
    clock.t += 1
    meter.poll()  # 200 -> 200 W over 1 s: 200 J
    r = meter.read()
    assert r.energy_j == pytest.approx(350.0)
    # Sampling term: half of |200 - 100| W x 1 s, on both sides, beyond the sensor's 5 %.
    assert r.low_j == pytest.approx(350.0 * 0.95 - 50.0)
    assert r.high_j == pytest.approx(350.0 * 1.05 + 50.0)
    assert r.method == "nvml-power"

    clock.t += 0.5  # no poll: the last sample (200 W) is held
    assert meter.read().energy_j == pytest.approx(450.0)


def test_power_reads_never_go_down_when_a_poll_integrates_lower() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=None, power_mw=200_000)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    clock.t += 0.9
    first = meter.read()  # 200 W held for 0.9 s
    assert first.energy_j == pytest.approx(180.0)
    clock.t += 0.1
    fake.gpus[0].power_mw = 0
    meter.poll()  # the trapezoid says 100 J for that second
    second = meter.read()
    assert second.energy_j == pytest.approx(180.0)
    assert second.low_j <= second.energy_j <= second.high_j
    clock.t += 1
    fake.gpus[0].power_mw = 400_000
    meter.poll()  # +200 J
    assert meter.read().energy_j == pytest.approx(300.0)


def test_power_low_bound_never_negative() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=None, power_mw=0)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    clock.t += 1
    fake.gpus[0].power_mw = 300_000
    meter.poll()  # 150 J by trapezoid, 150 J of sampling spread
    r = meter.read()
    assert r.energy_j == pytest.approx(150.0)
    assert r.low_j == 0.0
    assert r.high_j == pytest.approx(150.0 * 1.05 + 150.0)


def test_power_samples_too_far_apart_are_a_gap() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=None, power_mw=100_000, limit_mw=500_000)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    clock.t += 30  # the sampling thread stalled
    meter.poll()
    r = meter.read()
    assert r.energy_j == pytest.approx(3000.0)
    assert r.low_j == 0.0
    assert r.high_j == pytest.approx(500.0 * 30)
    assert r.gap_s == pytest.approx(30.0)
    assert r.method == "nvml-power+gap"


def test_read_long_after_the_last_sample_is_a_gap() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=None, power_mw=100_000, limit_mw=500_000)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    clock.t += 20  # nobody polled: the held 100 W sample is only a guess
    r = meter.read()
    assert r.energy_j == pytest.approx(2000.0)
    assert r.low_j == 0.0
    assert r.high_j == pytest.approx(500.0 * 20)
    assert r.gap_s == pytest.approx(20.0)
    assert r.method == "nvml-power+gap"


def test_mixed_counter_and_power() -> None:
    fake = FakeNvml(
        [FakeGpu(UUID0, energy_mj=1_000_000), FakeGpu(UUID1, energy_mj=None, power_mw=50_000)]
    )
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    assert meter.method == "nvml-counter+nvml-power"
    assert meter.poll_interval_s == 1.0
    clock.t += 2
    meter.poll()  # GPU 1: 50 W x 2 s
    fake.gpus[0].energy_mj = 1_400_000  # GPU 0: 400 J
    r = meter.read()
    assert r.energy_j == pytest.approx(500.0)
    assert r.low_j == pytest.approx(500.0 * 0.95)
    assert r.high_j == pytest.approx(500.0 * 1.05)
    assert r.method == "nvml-counter+nvml-power"


def test_read_error_names_the_gpu() -> None:
    fake = FakeNvml([FakeGpu(UUID0), FakeGpu(UUID1)])
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=Clock(100.0))
    fake.gpus[1].fail = True
    with pytest.raises(MeterError, match=f"GPU 1 \\({UUID1}\\)"):
        meter.read()


def test_poll_error_names_the_gpu_and_still_samples_the_others() -> None:
    fake = FakeNvml([FakeGpu(UUID0, energy_mj=None), FakeGpu(UUID1, energy_mj=None)])
    clock = Clock(100.0)
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=clock)
    fake.gpus[0].fail = True
    clock.t += 1
    fake.gpus[1].power_mw = 300_000
    with pytest.raises(MeterError, match="GPU 0"):
        meter.poll()
    fake.gpus[0].fail = False
    # GPU 1 was sampled: 100 -> 300 W over 1 s = 200 J; GPU 0 held at 100 W = 100 J.
    assert meter.read().energy_j == pytest.approx(300.0)


def test_utilization_is_the_mean_over_readable_gpus() -> None:
    fake = FakeNvml([FakeGpu(UUID0, util=30.0), FakeGpu(UUID1, util=70.0)])
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=Clock(100.0))
    assert meter.utilization_percent() == pytest.approx(50.0)
    fake.gpus[0].fail = True
    assert meter.utilization_percent() == pytest.approx(70.0)
    fake.gpus[1].fail = True
    assert meter.utilization_percent() is None


def test_close_shuts_nvml_down_once() -> None:
    fake = FakeNvml([FakeGpu(UUID0)])
    meter = nvidia.NvidiaMeter(fake, gpu_infos(fake), clock=Clock(100.0))
    meter.close()
    meter.close()
    assert fake.shutdowns == 1


# ------------------------------------------------------------------------------------------
# Probe and selection


def test_probe_measures_all_gpus_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    p, warn = run_probe(monkeypatch, three_gpus())
    assert measured_uuids(p) == [UUID0, UUID1, UUID2]
    assert p.meter.method == "nvml-counter"
    assert "3 NVIDIA GPU(s)" in p.reason
    assert warn.calls == []


def test_select_by_index(monkeypatch: pytest.MonkeyPatch) -> None:
    p, _ = run_probe(monkeypatch, three_gpus(), gpu_ids=("2", "0"))
    assert measured_uuids(p) == [UUID2, UUID0]


def test_select_by_uuid_and_unique_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    p, warn = run_probe(monkeypatch, three_gpus(), gpu_ids=(UUID1, "GPU-c0de"))
    assert measured_uuids(p) == [UUID1, UUID2]
    assert warn.calls == []


def test_ambiguous_prefix_matches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # "GPU-8f3" starts both UUID0 and UUID1.
    p, warn = run_probe(monkeypatch, three_gpus(), gpu_ids=("GPU-8f3", "2"))
    assert measured_uuids(p) == [UUID2]
    assert warn.keys() == ["nvml-selection-unmatched"]
    assert "'GPU-8f3'" in warn.calls[0][1]


def test_select_by_mig_uuid_counts_parent_once_and_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = three_gpus()
    fake.migs = {MIG_A: 1, MIG_B: 1}
    p, warn = run_probe(monkeypatch, fake, gpu_ids=(MIG_A, MIG_B))
    assert measured_uuids(p) == [UUID1]
    assert p.meter.gpu_count == 1
    assert warn.keys() == ["nvml-mig-shared"]
    assert MIG_A in warn.calls[0][1] and MIG_B in warn.calls[0][1]
    assert "whole" in warn.calls[0][1]


def test_mig_uuid_prefix_in_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = three_gpus()
    fake.migs = {MIG_A: 2}
    p, warn = run_probe(monkeypatch, fake, env={"CUDA_VISIBLE_DEVICES": "MIG-aaaa"})
    assert measured_uuids(p) == [UUID2]
    assert "nvml-mig-shared" in warn.keys()


def test_cuda_visible_devices_index_form(monkeypatch: pytest.MonkeyPatch) -> None:
    p, warn = run_probe(monkeypatch, three_gpus(), env={"CUDA_VISIBLE_DEVICES": "1, 2"})
    assert measured_uuids(p) == [UUID1, UUID2]
    assert warn.calls == []


def test_cuda_visible_devices_uuid_form(monkeypatch: pytest.MonkeyPatch) -> None:
    p, _ = run_probe(monkeypatch, three_gpus(), env={"CUDA_VISIBLE_DEVICES": f"{UUID2},GPU-8f3a"})
    assert measured_uuids(p) == [UUID2, UUID0]


def test_cuda_visible_devices_stops_at_first_invalid_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    p, warn = run_probe(monkeypatch, three_gpus(), env={"CUDA_VISIBLE_DEVICES": "0,7,2"})
    assert measured_uuids(p) == [UUID0]  # "2" is valid but comes after the invalid "7"
    assert warn.keys() == ["nvml-selection-unmatched"]
    assert "'7'" in warn.calls[0][1] and "2" in warn.calls[0][1]


def test_gpu_ids_skip_bad_entries_without_truncating(monkeypatch: pytest.MonkeyPatch) -> None:
    p, warn = run_probe(monkeypatch, three_gpus(), gpu_ids=("9", "1"))
    assert measured_uuids(p) == [UUID1]
    assert warn.keys() == ["nvml-selection-unmatched"]
    assert "'9'" in warn.calls[0][1]


def test_gpu_ids_win_over_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    p, _ = run_probe(monkeypatch, three_gpus(), gpu_ids=("0",), env={"CUDA_VISIBLE_DEVICES": "2"})
    assert measured_uuids(p) == [UUID0]


@pytest.mark.parametrize("value", ["", "-1", "-1,0"])
def test_cuda_visible_devices_hiding_every_gpu(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    fake = three_gpus()
    p, warn = run_probe(monkeypatch, fake, env={"CUDA_VISIBLE_DEVICES": value})
    assert not p.usable
    assert p.meter is None
    assert p.present  # GPUs exist: the record must say "unmeasured", not 0 J
    assert f"CUDA_VISIBLE_DEVICES={value!r}" in p.reason
    assert f"GPU 0 ({UUID0})" in p.reason and f"GPU 2 ({UUID2})" in p.reason
    assert warn.keys() == ["nvml-selection-empty"]
    assert fake.shutdowns == 1


def test_selection_matching_nothing_is_not_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = three_gpus()
    p, warn = run_probe(monkeypatch, fake, gpu_ids=("5", "GPU-ffff"))
    assert not p.usable
    assert p.present
    assert "gpu_ids=('5', 'GPU-ffff')" in p.reason
    assert f"GPU 1 ({UUID1})" in p.reason
    assert p.fix is not None and "gpu_ids" in p.fix and "CUDA_VISIBLE_DEVICES" in p.fix
    assert len(warn.calls) == 1
    assert fake.shutdowns == 1


def test_cuda_index_order_warning_on_mixed_models(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml([FakeGpu(UUID0), FakeGpu(UUID1, name="NVIDIA GeForce RTX 4090")])
    _, warn = run_probe(monkeypatch, fake, env={"CUDA_VISIBLE_DEVICES": "0"})
    assert "nvml-cuda-device-order" in warn.keys()
    _, warn = run_probe(
        monkeypatch, fake, env={"CUDA_VISIBLE_DEVICES": "0", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    )
    assert warn.calls == []


def test_probe_with_pre_volta_and_volta_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml([FakeGpu(UUID0), FakeGpu(UUID1, name="Tesla P100", energy_mj=None)])
    p, _ = run_probe(monkeypatch, fake)
    assert p.usable
    assert p.meter.method == "nvml-counter+nvml-power"
    assert p.meter.poll_interval_s == 1.0


def test_gpu_that_cannot_be_read_at_all_is_not_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml([FakeGpu(UUID0), FakeGpu(UUID1)])
    fake.gpus[1].fail = True
    p, _ = run_probe(monkeypatch, fake)
    assert not p.usable
    assert p.present
    assert "GPU 1" in p.reason
    assert fake.shutdowns == 1


def test_nvml_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    err = nvidia.NvmlUnavailable("NVML library not found: no NVIDIA driver")
    p, warn = run_probe(monkeypatch, FakeNvml([], init_error=err))
    assert not p.usable
    assert p.reason == "NVML library not found: no NVIDIA driver"
    assert p.meter is None
    assert not p.present
    assert warn.calls == []


def test_no_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml([])
    p, _ = run_probe(monkeypatch, fake)
    assert not p.usable
    assert not p.present
    assert "no NVIDIA GPU" in p.reason
    assert fake.shutdowns == 1


# ------------------------------------------------------------------------------------------
# The real adapter, as far as it can be checked without a GPU


def test_import_wattprint_does_not_import_pynvml() -> None:
    code = "import sys, wattprint, wattprint.meters.nvidia; print('pynvml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_real_adapter_maps_pynvml_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    pynvml = pytest.importorskip("pynvml")
    adapter = nvidia.NvmlAdapter()
    adapter._nv = pynvml

    def raise_code(code: int) -> Any:
        def fn(*args: Any) -> Any:
            raise pynvml.NVMLError(code)

        return fn

    monkeypatch.setattr(
        pynvml, "nvmlDeviceGetTotalEnergyConsumption", raise_code(pynvml.NVML_ERROR_NOT_SUPPORTED)
    )
    with pytest.raises(nvidia.NotSupported):
        adapter.total_energy_mj(object())
    monkeypatch.setattr(
        pynvml, "nvmlDeviceGetHandleByUUID", raise_code(pynvml.NVML_ERROR_NOT_FOUND)
    )
    with pytest.raises(nvidia.NvmlNotFound):
        adapter.handle_by_uuid("GPU-nope")
    monkeypatch.setattr(
        pynvml, "nvmlDeviceGetPowerUsage", raise_code(pynvml.NVML_ERROR_GPU_IS_LOST)
    )
    with pytest.raises(nvidia.NvmlError) as info:
        adapter.power_mw(object())
    assert type(info.value) is nvidia.NvmlError


def test_real_adapter_reads_mig_flag_from_ctypes(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    pynvml = pytest.importorskip("pynvml")
    adapter = nvidia.NvmlAdapter()
    adapter._nv = pynvml
    monkeypatch.setattr(pynvml, "nvmlDeviceIsMigDeviceHandle", lambda h: ctypes.c_uint(0))
    assert adapter.is_mig_device(object()) is False
    monkeypatch.setattr(pynvml, "nvmlDeviceIsMigDeviceHandle", lambda h: ctypes.c_uint(1))
    assert adapter.is_mig_device(object()) is True


def test_real_adapter_without_driver_is_unavailable() -> None:
    pytest.importorskip("pynvml")
    adapter = nvidia.NvmlAdapter()
    try:
        adapter.init()
    except nvidia.NvmlUnavailable as e:
        assert str(e)  # says why
        return
    adapter.shutdown()
    pytest.skip("this machine has a working NVIDIA driver")


def test_real_adapter_reports_missing_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nvidia, "DRIVER_PATHS", ("/",))  # as if a driver were there
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` fail
    with pytest.raises(nvidia.NvmlUnavailable) as info:
        nvidia.NvmlAdapter().init()
    assert info.value.fix == "pip install nvidia-ml-py"


def test_no_driver_means_pynvml_is_not_even_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nvidia.sys, "platform", "linux")
    monkeypatch.setattr(nvidia, "DRIVER_PATHS", ("/nonexistent/nvidiactl",))
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    with pytest.raises(nvidia.NvmlUnavailable, match="no NVIDIA driver"):
        nvidia.NvmlAdapter().init()
    assert "pynvml" not in sys.modules
