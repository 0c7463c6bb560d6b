"""AMD meter: a scripted fake amdsmi adapter (and a fake amdsmi module) stand in for the GPUs."""

from __future__ import annotations

import subprocess
import sys
import types
from typing import Any

import pytest

from tests.fakes.fakeamd import MI300X, FakeAmd, FakeAmdGpu, Sleep
from tests.fakes.fakeclock import Clock
from wattprint.meters import amd
from wattprint.meters.base import Meter, MeterError, ProbeContext


class Warnings:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, key: str, message: str) -> None:
        self.calls.append((key, message))

    def keys(self) -> list[str]:
        return [k for k, _ in self.calls]


def open_meter(fake: FakeAmd) -> tuple[amd.AmdMeter, Clock, Sleep, Warnings]:
    clock = Clock(50.0)
    sleep = Sleep(fake, clock)
    warn = Warnings()
    gpus = [amd.AmdGpu(i, g.uuid, MI300X, i) for i, g in enumerate(fake.gpus)]
    meter = amd.AmdMeter(fake, gpus, clock=clock, sleep=sleep, warn=warn)
    return meter, clock, sleep, warn


def run_probe(
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeAmd,
    *,
    gpu_ids: tuple[str, ...] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[Any, Warnings]:
    monkeypatch.setattr(amd, "load_adapter", lambda: fake)
    warn = Warnings()
    clock = Clock(50.0)
    ctx = ProbeContext(gpu_ids=gpu_ids, env=env or {}, warn=warn)
    probes = amd.probe(ctx, clock=clock, sleep=Sleep(fake, clock))
    assert len(probes) == 1
    assert (probes[0].name, probes[0].component) == ("amdsmi", "gpu")
    return probes[0], warn


def four_gpus() -> FakeAmd:
    return FakeAmd([FakeAmdGpu(f"uuid-{i}") for i in range(4)])


def measured(p: Any) -> list[str]:
    assert p.usable, p.reason
    return [d.rsplit("(", 1)[1].rstrip(")") for d in p.meter.devices]


# ------------------------------------------------------------------------------------------
# Counter or power


def test_counter_that_advances_is_used() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0"), FakeAmdGpu("uuid-1")])
    meter, clock, sleep, warn = open_meter(fake)
    assert isinstance(meter, Meter)
    assert meter.method == "amdsmi-counter"
    assert meter.poll_interval_s is None
    assert sleep.calls == [amd.SETTLE_S]  # one wait for all GPUs

    clock.t += 10
    fake.gpus[0].energy_uj += 500e6  # 500 J
    fake.gpus[1].energy_uj += 100e6  # 100 J
    r = meter.read()
    assert r.energy_j == pytest.approx(600.0)
    assert r.low_j == pytest.approx(600.0 * 0.9)
    assert r.high_j == pytest.approx(600.0 * 1.1)
    assert r.method == "amdsmi-counter"
    assert warn.calls == []


def test_counter_that_does_not_advance_falls_back_to_power() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0", power_w=250.0, counter_moves=False)])
    meter, clock, _, warn = open_meter(fake)
    assert meter.method == "amdsmi-power"
    assert meter.poll_interval_s == 1.0
    assert warn.keys() == ["amdsmi-counter-stuck:uuid-0"]
    assert "250 W" in warn.calls[0][1]

    clock.t += 1
    fake.gpus[0].power_w = 350.0
    meter.poll()  # trapezoid: 300 J, sampling spread 50 J
    r = meter.read()
    assert r.energy_j == pytest.approx(300.0)
    assert r.low_j == pytest.approx(300.0 * 0.9 - 50.0)
    assert r.high_j == pytest.approx(300.0 * 1.1 + 50.0)
    assert r.method == "amdsmi-power"


def test_still_counter_at_zero_watts_is_decided_on_first_poll() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0", power_w=0.0, counter_moves=False)])
    meter, clock, _, warn = open_meter(fake)
    assert meter.method == "amdsmi-counter"  # undecided: nothing drew power yet
    assert meter.poll_interval_s == 1.0  # so the first poll can decide

    clock.t += 2
    fake.gpus[0].power_w = 150.0  # load arrives; the counter stays still
    meter.poll()
    assert meter.method == "amdsmi-power"
    assert warn.keys() == ["amdsmi-counter-stuck:uuid-0"]
    r = meter.read()
    assert r.energy_j == pytest.approx(0.5 * 150.0 * 2)  # 0 W at open to 150 W now
    assert r.method == "amdsmi-power"


def test_still_counter_at_zero_watts_that_then_moves_stays_a_counter() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0", power_w=0.0, counter_moves=False)])
    meter, clock, _, warn = open_meter(fake)
    clock.t += 2
    fake.gpus[0].power_w = 150.0
    fake.gpus[0].energy_uj += 200e6  # it moved: 200 J
    meter.poll()
    assert meter.method == "amdsmi-counter"
    assert meter.read().energy_j == pytest.approx(200.0)
    assert warn.calls == []


def test_no_counter_means_power_without_waiting_or_warning() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0", energy_uj=None, power_w=100.0)])
    meter, clock, sleep, warn = open_meter(fake)
    assert meter.method == "amdsmi-power"
    assert sleep.calls == []
    assert warn.calls == []
    clock.t += 1
    meter.poll()
    assert meter.read().energy_j == pytest.approx(100.0)


def test_mixed_counter_and_power() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0"), FakeAmdGpu("uuid-1", power_w=300.0, counter_moves=False)])
    meter, clock, _, _ = open_meter(fake)
    assert meter.method == "amdsmi-counter+amdsmi-power"
    clock.t += 1
    meter.poll()
    fake.gpus[0].energy_uj += 50e6
    assert meter.read().energy_j == pytest.approx(50.0 + 300.0)


def test_counter_reset_is_a_labelled_gap() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0", power_w=400.0, limit_w=750.0)])
    meter, clock, _, warn = open_meter(fake)
    clock.t += 5
    fake.gpus[0].energy_uj += 1000e6
    assert meter.read().energy_j == pytest.approx(1000.0)
    clock.t += 5
    fake.gpus[0].energy_uj = 3e6  # reset to near zero
    r = meter.read()
    assert r.energy_j == pytest.approx(1000.0 + 400.0 * 5)
    assert r.low_j == pytest.approx(900.0)
    assert r.high_j == pytest.approx(1100.0 + 750.0 * 5)
    assert r.gap_s == pytest.approx(5.0)
    assert r.method == "amdsmi-counter+gap"
    assert warn.keys() == ["amdsmi-counter-reset:uuid-0"]


def test_read_error_names_the_gpu() -> None:
    fake = four_gpus()
    meter, _, _, _ = open_meter(fake)
    fake.gpus[3].fail = True
    with pytest.raises(MeterError, match="GPU 3 \\(uuid-3\\)"):
        meter.read()


def test_utilization_and_close() -> None:
    fake = FakeAmd([FakeAmdGpu("uuid-0", util=20.0), FakeAmdGpu("uuid-1", util=60.0)])
    meter, _, _, _ = open_meter(fake)
    assert meter.utilization_percent() == pytest.approx(40.0)
    meter.close()
    meter.close()
    assert fake.shutdowns == 1


# ------------------------------------------------------------------------------------------
# Probe and selection


def test_probe_all_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    p, warn = run_probe(monkeypatch, four_gpus())
    assert measured(p) == ["uuid-0", "uuid-1", "uuid-2", "uuid-3"]
    assert p.meter.gpu_models == (MI300X,) * 4
    assert warn.calls == []


def test_select_by_index(monkeypatch: pytest.MonkeyPatch) -> None:
    p, _ = run_probe(monkeypatch, four_gpus(), gpu_ids=("3", "1"))
    assert measured(p) == ["uuid-3", "uuid-1"]


def test_hip_indexes_into_rocr_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"ROCR_VISIBLE_DEVICES": "1,2,3", "HIP_VISIBLE_DEVICES": "1"}
    p, _ = run_probe(monkeypatch, four_gpus(), env=env)
    assert measured(p) == ["uuid-2"]


def test_gpu_ids_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    p, _ = run_probe(monkeypatch, four_gpus(), gpu_ids=("0",), env={"ROCR_VISIBLE_DEVICES": "2"})
    assert measured(p) == ["uuid-0"]


def test_bad_entries_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    p, warn = run_probe(monkeypatch, four_gpus(), env={"HIP_VISIBLE_DEVICES": "0,9"})
    assert measured(p) == ["uuid-0"]
    assert warn.keys() == ["amdsmi-selection-unmatched"]
    assert "'9'" in warn.calls[0][1]


@pytest.mark.parametrize(("gpu_ids", "env"), [(("7",), {}), (None, {"ROCR_VISIBLE_DEVICES": "-1"})])
def test_selection_matching_nothing(
    monkeypatch: pytest.MonkeyPatch, gpu_ids: tuple[str, ...] | None, env: dict[str, str]
) -> None:
    fake = four_gpus()
    p, warn = run_probe(monkeypatch, fake, gpu_ids=gpu_ids, env=env)
    assert not p.usable
    assert p.present
    assert "GPU 0 (uuid-0)" in p.reason and "GPU 3 (uuid-3)" in p.reason
    assert p.fix is not None and "gpu_ids" in p.fix
    assert warn.keys() == ["amdsmi-selection-empty"]
    assert fake.shutdowns == 1


def test_gpu_that_cannot_be_read_is_present_but_not_usable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = four_gpus()
    fake.gpus[2].fail = True
    p, _ = run_probe(monkeypatch, fake)
    assert not p.usable
    assert p.present
    assert "GPU 2" in p.reason
    assert fake.shutdowns == 1


def test_no_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    p, _ = run_probe(monkeypatch, FakeAmd([]))
    assert not p.usable
    assert not p.present
    assert "no AMD GPU" in p.reason


def test_amdsmi_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "amdsmi", None)  # makes `import amdsmi` fail
    [p] = amd.probe(ProbeContext(env={}))
    assert not p.usable
    assert p.reason == "amdsmi not installed (ROCm)"
    assert p.meter is None
    assert not p.present


def test_import_wattprint_does_not_import_amdsmi() -> None:
    code = "import sys, wattprint, wattprint.meters.amd; print('amdsmi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------
# The real adapter against a fake amdsmi module


class FakeLibraryError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"amdsmi error {code}")
        self.err_code = code


def fake_amdsmi_module(**overrides: Any) -> types.ModuleType:
    mod = types.ModuleType("amdsmi")
    mod.amdsmi_wrapper = types.SimpleNamespace(  # type: ignore[attr-defined]
        AMDSMI_STATUS_NOT_SUPPORTED=2, AMDSMI_STATUS_NOT_YET_IMPLEMENTED=3
    )
    mod.AmdSmiInitFlags = types.SimpleNamespace(INIT_AMD_GPUS=2)  # type: ignore[attr-defined]
    calls: list[Any] = []
    mod.calls = calls  # type: ignore[attr-defined]
    funcs = {
        "amdsmi_init": lambda *a: calls.append(("init", a)),
        "amdsmi_shut_down": lambda: calls.append(("shut_down",)),
        "amdsmi_get_processor_handles": lambda: ["h0"],
        "amdsmi_get_gpu_device_uuid": lambda h: "1fff74a1-0000-1000-80e4-27e8d5d4c7a3",
        "amdsmi_get_gpu_asic_info": lambda h: {"market_name": "N/A"},
        "amdsmi_get_gpu_board_info": lambda h: {"product_name": MI300X},
        "amdsmi_get_energy_count": lambda h: {
            "energy_accumulator": 1000,
            "counter_resolution": 15.3,
            "timestamp": 1,
        },
        "amdsmi_get_power_info": lambda h: {
            "socket_power": "N/A",
            "current_socket_power": 287,
            "average_socket_power": "N/A",
        },
        "amdsmi_get_power_cap_info": lambda h: {"power_cap": 750_000_000},
        "amdsmi_get_gpu_activity": lambda h: {"gfx_activity": 47, "mm_activity": "N/A"},
    }
    funcs.update(overrides)
    for name, fn in funcs.items():
        setattr(mod, name, fn)
    return mod


def test_real_adapter_reads_current_amdsmi(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = fake_amdsmi_module()
    monkeypatch.setitem(sys.modules, "amdsmi", mod)
    a = amd.AmdSmiAdapter()
    a.init()
    assert mod.calls[0] == ("init", (2,))  # GPUs only
    [h] = a.handles()
    assert a.name(h) == MI300X  # market name "N/A": board name instead
    assert a.energy_uj(h) == pytest.approx(1000 * 15.3)
    assert a.power_w(h) == 287.0  # first field that is a number
    assert a.power_limit_w(h) == pytest.approx(750.0)  # microwatts
    assert a.utilization_gpu_percent(h) == 47.0
    a.shutdown()
    assert mod.calls[-1] == ("shut_down",)


def test_real_adapter_reads_older_energy_key(monkeypatch: pytest.MonkeyPatch) -> None:
    old = lambda h: {"power": 200, "counter_resolution": 2.0, "timestamp": 1}  # noqa: E731
    monkeypatch.setitem(sys.modules, "amdsmi", fake_amdsmi_module(amdsmi_get_energy_count=old))
    a = amd.AmdSmiAdapter()
    a.init()
    assert a.energy_uj("h0") == pytest.approx(400.0)


def test_real_adapter_maps_not_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(h: Any) -> Any:
        raise FakeLibraryError(2)

    def busy(h: Any) -> Any:
        raise FakeLibraryError(11)

    mod = fake_amdsmi_module(amdsmi_get_energy_count=unsupported, amdsmi_get_power_info=busy)
    monkeypatch.setitem(sys.modules, "amdsmi", mod)
    a = amd.AmdSmiAdapter()
    a.init()
    with pytest.raises(amd.NotSupported):
        a.energy_uj("h0")
    with pytest.raises(amd.AmdSmiError) as info:
        a.power_w("h0")
    assert type(info.value) is amd.AmdSmiError


def test_real_adapter_init_failure_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*a: Any) -> None:
        raise FakeLibraryError(34)

    monkeypatch.setitem(sys.modules, "amdsmi", fake_amdsmi_module(amdsmi_init=fail))
    [p] = amd.probe(ProbeContext(env={}))
    assert not p.usable
    assert "amdsmi init failed" in p.reason


def test_probe_through_real_adapter_with_fake_module(monkeypatch: pytest.MonkeyPatch) -> None:
    # A counter that moves on every read, as a working driver's does.
    state = {"ticks": 1000}

    def energy(h: Any) -> dict[str, Any]:
        state["ticks"] += 500
        return {"energy_accumulator": state["ticks"], "counter_resolution": 15.3}

    monkeypatch.setitem(sys.modules, "amdsmi", fake_amdsmi_module(amdsmi_get_energy_count=energy))
    [p] = amd.probe(ProbeContext(env={}), sleep=lambda s: None)
    assert p.usable, p.reason
    assert p.meter.method == "amdsmi-counter"
    assert p.meter.devices == (f"GPU 0: {MI300X} (1fff74a1-0000-1000-80e4-27e8d5d4c7a3)",)
    assert p.meter.read().energy_j == pytest.approx(500 * 15.3e-6)
