"""Whole-machine power estimate (wattprint.estimate) and its fitted coefficients."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from wattprint.estimate import (
    ComponentPower,
    PowerEstimate,
    component_split,
    load_model,
    machine_curve,
    machine_power,
)
from wattprint.estimate import model as est

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
CALIBRATION = SHARED / "specpower" / "calibration.csv"
MODEL_JSON = REPO / "src" / "wattprint" / "estimate" / "data" / "power_model.json"

needs_specpower = pytest.mark.skipif(
    not CALIBRATION.is_file(),
    reason=f"SPECpower calibration file not found at {CALIBRATION} (raw data is not shipped)",
)

XEON_8380 = "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz"
EPYC_7763 = "AMD EPYC 7763 64-Core Processor"
MACHINES = [
    (XEON_8380, 2, 160, 512.0),
    (EPYC_7763, 1, 128, 256.0),
    ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", 2, 72, 488.0),  # no launch year in the table
    ("Intel Xeon Processor (Icelake)", 1, 16, 64.0),  # generic: a VM
    ("Common KVM processor", 2, 8, 32.0),
]
LOADS = [i / 20 for i in range(21)]
FIELDS = (
    "machine_w",
    "machine_low_w",
    "machine_high_w",
    "cpu_w",
    "cpu_low_w",
    "cpu_high_w",
    "ram_w",
    "ram_low_w",
    "ram_high_w",
    "platform_w",
    "platform_low_w",
    "platform_high_w",
)


# ------------------------------------------------------------------------------------------
# API shape


def test_machine_power_shape_and_units() -> None:
    p = machine_power(XEON_8380, 2, 160, 512, 0.5)
    assert isinstance(p, PowerEstimate)
    for name in FIELDS:
        value = getattr(p, name)
        assert isinstance(value, float) and math.isfinite(value) and value >= 0, name
    assert p.machine_w == pytest.approx(p.cpu_w + p.ram_w + p.platform_w)
    assert p.machine_low_w == pytest.approx(p.cpu_low_w + p.ram_low_w + p.platform_low_w)
    assert p.machine_high_w == pytest.approx(p.cpu_high_w + p.ram_high_w + p.platform_high_w)
    assert p.method == "specpower-model"
    assert p.model == "tdp-year"
    assert p.load == 0.5
    assert p.cpu_row is not None and "8380" in p.cpu_row.model and p.cpu_row.tdp_w > 0
    assert isinstance(p.notes, tuple)
    for basis in (p.cpu_basis, p.ram_basis, p.platform_basis):
        assert "SPECpower" in basis
    # Watts, not kW or mW: a two-socket Ice Lake server draws a few hundred watts at full load.
    full = machine_power(XEON_8380, 2, 160, 512, 1.0)
    assert 300 < full.machine_w < 1200
    idle = machine_power(XEON_8380, 2, 160, 512, 0.0)
    assert 40 < idle.machine_w < full.machine_w


def test_component_split_matches_machine_power() -> None:
    split = component_split(EPYC_7763, 1, 128, 256, 0.3)
    p = machine_power(EPYC_7763, 1, 128, 256, 0.3)
    assert set(split) == {"cpu", "ram", "platform"}
    for name, part in split.items():
        assert isinstance(part, ComponentPower)
        assert part.watts == getattr(p, f"{name}_w")
        assert part.low_w == getattr(p, f"{name}_low_w")
        assert part.high_w == getattr(p, f"{name}_high_w")
        assert part.basis
    assert sum(part.watts for part in split.values()) == pytest.approx(p.machine_w)


def test_machine_curve_evaluates_like_machine_power() -> None:
    curve = machine_curve(XEON_8380, 2, 160, 512)
    for u in (0.0, 0.25, 1.0):
        assert curve.at(u) == machine_power(XEON_8380, 2, 160, 512, u)
        watts, low, high = curve.component("platform", u)
        assert (watts, low, high) == pytest.approx(
            (curve.at(u).platform_w, curve.at(u).platform_low_w, curve.at(u).platform_high_w)
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((XEON_8380, 0, 160, 512, 0.5), "sockets"),
        ((XEON_8380, 2, 0, 512, 0.5), "threads"),
        ((XEON_8380, 2, 160, -1, 0.5), "memory_gb"),
        ((XEON_8380, 2, 160, float("nan"), 0.5), "memory_gb"),
        ((XEON_8380, 2, 160, 512, float("nan")), "load"),
    ],
)
def test_bad_input_says_what_is_wrong(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        machine_power(*args)


def test_load_outside_range_is_clamped_with_a_note() -> None:
    p = machine_power(XEON_8380, 2, 160, 512, 1.5)
    assert p.load == 1.0
    assert p.machine_w == machine_power(XEON_8380, 2, 160, 512, 1.0).machine_w
    assert any("clamped" in n for n in p.notes)


# ------------------------------------------------------------------------------------------
# behaviour


@pytest.mark.parametrize("machine", MACHINES)
def test_monotonic_in_load(machine) -> None:
    points = [machine_power(*machine, u) for u in LOADS]
    for a, b in zip(points, points[1:], strict=False):
        assert b.machine_w >= a.machine_w
        assert b.cpu_w >= a.cpu_w
    assert points[-1].machine_w > points[0].machine_w


@pytest.mark.parametrize("machine", MACHINES)
def test_bounds_contain_the_estimate(machine) -> None:
    for u in LOADS:
        p = machine_power(*machine, u)
        assert p.machine_low_w <= p.machine_w <= p.machine_high_w
        for c in ("cpu", "ram", "platform"):
            if c == "platform" and p.platform_w is None:  # not estimated: no bounds either
                assert p.platform_low_w is None and p.platform_high_w is None
                continue
            assert getattr(p, f"{c}_low_w") <= getattr(p, f"{c}_w") <= getattr(p, f"{c}_high_w")
        assert p.machine_low_w < p.machine_high_w


def test_bounds_widen_between_the_measured_points() -> None:
    """Only idle and full load are measured; in between the curve's shape is uncertain too."""
    idle, mid, full = (machine_power(XEON_8380, 2, 160, 512, u) for u in (0.0, 0.5, 1.0))
    assert mid.machine_high_w > (idle.machine_high_w + full.machine_high_w) / 2
    assert mid.machine_low_w < (idle.machine_low_w + full.machine_low_w) / 2
    # the estimate itself is linear
    assert mid.machine_w == pytest.approx((idle.machine_w + full.machine_w) / 2)


@pytest.mark.parametrize("load", [0.0, 1.0])
def test_unknown_cpu_gets_wider_bounds(load) -> None:
    known = machine_power(XEON_8380, 2, 160, 512, load)
    unknown = machine_power("Intel Xeon Processor", 2, 160, 512, load)
    assert known.model == "tdp-year" and unknown.model == "threads"
    width = lambda p: p.machine_high_w / p.machine_low_w  # noqa: E731
    assert width(unknown) > width(known)


@pytest.mark.parametrize(
    "brand",
    [
        "Intel Xeon Processor (Icelake)",
        "Common KVM processor",
        "QEMU Virtual CPU version 2.5+",
        "AMD EPYC Processor",
        "Intel(R) Xeon(R) CPU @ 2.20GHz",
        "",
    ],
)
def test_generic_strings_are_unknown(brand) -> None:
    p = machine_power(brand, 1, 8, 32, 0.5)
    assert p.cpu_row is None
    assert p.model == "threads"
    assert p.notes and ("generic" in p.notes[0] or "no CPU model name" in p.notes[0])
    assert "unknown CPU" in p.cpu_basis


def test_cpu_missing_from_the_table_is_unknown() -> None:
    p = machine_power("Intel(R) Xeon(R) Platinum 9999Z CPU @ 9.99GHz", 2, 64, 256, 1.0)
    assert p.cpu_row is None and p.model == "threads"
    assert "not in wattprint's CPU table" in p.notes[0]


def test_cpu_without_launch_year_uses_the_threads_per_socket_fit() -> None:
    p = machine_power("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", 2, 72, 488, 1.0)
    if p.cpu_row is None or p.cpu_row.launch_year:
        pytest.skip("the CPU table now knows this part's launch year")
    assert p.model == "tdp"
    assert any("no launch year" in n for n in p.notes)


@pytest.mark.parametrize("load", [0.0, 0.5, 1.0])
def test_memory_raises_ram_w(load) -> None:
    small = machine_power(XEON_8380, 2, 160, 64, load)
    large = machine_power(XEON_8380, 2, 160, 1024, load)
    assert large.ram_w >= small.ram_w
    assert large.machine_w >= small.machine_w
    assert large.cpu_w == small.cpu_w and large.platform_w == small.platform_w
    if load > 0:
        assert large.ram_w > small.ram_w


@pytest.mark.parametrize("load", [0.0, 1.0])
def test_sockets_scale_cpu_w(load) -> None:
    one = machine_power(XEON_8380, 1, 80, 256, load)
    two = machine_power(XEON_8380, 2, 160, 256, load)
    # the CPU terms are sockets x TDP times functions of the generation and of the threads
    # per socket, which are the same here: the CPU doubles
    assert two.cpu_w == pytest.approx(2 * one.cpu_w)
    assert two.platform_w > one.platform_w
    assert two.machine_w > one.machine_w


def test_sockets_scale_an_unknown_cpu() -> None:
    one = machine_power("Common KVM processor", 1, 32, 128, 1.0)
    two = machine_power("Common KVM processor", 2, 64, 128, 1.0)
    assert two.cpu_w == pytest.approx(2 * one.cpu_w)


def test_results_are_cached_per_machine() -> None:
    assert machine_curve(XEON_8380, 2, 160, 512) is machine_curve(XEON_8380, 2, 160, 512.0)


# ------------------------------------------------------------------------------------------
# the shipped coefficients


def test_json_has_provenance() -> None:
    model = json.loads(MODEL_JSON.read_text("utf-8"))
    assert model["format"] == 1 and model["method"] == "specpower-model"
    prov = model["provenance"]
    assert prov["source_file"] == "specpower/calibration.csv"
    assert len(prov["source_sha256"]) == 64
    assert "SPECpower_ssj2008" in prov["source"]
    assert "Standard Performance Evaluation Corporation" in prov["license"]
    assert "fairuse" in prov["license"]
    assert prov["n_systems"] > 100 and prov["n_cpu_models"] > 20
    assert 0 < prov["n_systems_with_launch_year"] <= prov["n_systems_cpu_in_table"]
    assert prov["published_first"][-4:] <= prov["published_last"][-4:]
    assert prov["generated_by"] == "tools/fit_power_model.py"
    assert "leave-one-CPU-model-out" in prov["bounds"]
    assert "least absolute relative error" in prov["fit"]


def test_json_models_are_complete_and_non_negative() -> None:
    model = load_model()
    assert set(model["models"]) == {"tdp-year", "tdp", "threads"}
    for name, variant in model["models"].items():
        for point in ("idle", "full"):
            fit = variant[point]
            assert len(fit["terms"]) == len(fit["coef"]) > 0, (name, point)
            assert all(c >= 0 for c in fit["coef"]), (name, point)
            assert {c for _, c in fit["terms"]} <= {"cpu", "ram", "platform"}
            assert 0 < fit["ratio_low"] < 1 < fit["ratio_high"], (name, point)
            assert fit["n_systems"] > 0 and fit["n_cpu_models"] > 0
            assert 0 < fit["held_out_median_abs_error_pct"] <= fit["held_out_p90_abs_error_pct"]
    shape = model["load_shape"]
    assert shape["loads"][0] == 0.0 and shape["loads"][-1] == 1.0
    for side in ("below", "above"):
        assert shape[side][0] == shape[side][-1] == 0.0
        assert all(0 <= v < 0.5 for v in shape[side])
    assert shape["n_curves"] == len(shape["curves"]) > 5


def test_unknown_fit_has_wider_bounds_than_the_known_one() -> None:
    models = load_model()["models"]
    for point in ("idle", "full"):
        width = {v: models[v][point]["ratio_high"] / models[v][point]["ratio_low"] for v in models}
        assert width["threads"] > width["tdp-year"]


def test_json_ships_as_package_data() -> None:
    assert resources.files("wattprint").joinpath("estimate/data/power_model.json").is_file()


def test_json_is_utf8_with_unix_newlines() -> None:
    data = MODEL_JSON.read_bytes()
    data.decode("utf-8")
    assert b"\r" not in data and data.endswith(b"\n")


def test_loading_is_lazy() -> None:
    code = (
        "import sys, wattprint\n"
        "print('wattprint.estimate' in sys.modules)\n"
        "from wattprint.estimate import load_model, machine_power\n"
        "print(load_model.cache_info().currsize)\n"
        "machine_power('Common KVM processor', 1, 4, 16, 0.5)\n"
        "print(load_model.cache_info().currsize)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "0", "1"]


# ------------------------------------------------------------------------------------------
# against the SPECpower measurements (when the raw data is there)


def _calibration_rows() -> list[dict[str, str]]:
    with CALIBRATION.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _predict(row: dict[str, str], load: float) -> PowerEstimate:
    return machine_power(
        row["CPU Description"],
        int(row["Chips"]),
        int(row["Total Threads"]),
        float(row["Total Memory (GB)"]),
        load,
    )


@needs_specpower
@pytest.mark.parametrize(
    "cpu",
    [
        "Intel Xeon Platinum 8280",
        "Intel Xeon X5670",
        "Intel Xeon Platinum 8490H",
        "AMD EPYC 9754",
        "Intel Xeon E5-2470",  # its first system is a 32-blade chassis, 6.9 kW
        "Intel Xeon Processor",  # generic description: the threads-only fit
    ],
)
def test_specpower_systems_within_their_bounds(cpu) -> None:
    row = next(r for r in _calibration_rows() if r["CPU Description"] == cpu)
    for load, column in ((1.0, "avg. watts @ 100%"), (0.0, "avg. watts @ active idle")):
        p = _predict(row, load)
        measured = float(row[column])
        assert p.machine_low_w <= measured <= p.machine_high_w, (cpu, load, measured, p)


@needs_specpower
def test_specpower_bounds_cover_most_measurements() -> None:
    """In-sample (the shipped fit saw these systems); benchmarks/specpower.py checks unseen
    CPU models."""
    rows = _calibration_rows()
    for load, column in ((1.0, "avg. watts @ 100%"), (0.0, "avg. watts @ active idle")):
        inside = 0
        for row in rows:
            p = _predict(row, load)
            inside += p.machine_low_w <= float(row[column]) <= p.machine_high_w
        assert inside / len(rows) >= 0.85, (load, inside / len(rows))


@needs_specpower
def test_provenance_matches_the_calibration_file() -> None:
    import hashlib

    prov = load_model()["provenance"]
    assert prov["source_sha256"] == hashlib.sha256(CALIBRATION.read_bytes()).hexdigest()
    table = REPO / prov["cpu_table_file"]
    assert prov["cpu_table_sha256"] == hashlib.sha256(table.read_bytes()).hexdigest(), (
        "the CPU table changed since the fit: run python tools/fit_power_model.py"
    )
    assert prov["n_systems"] == len(_calibration_rows())


def _load_tool(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@needs_specpower
def test_fit_reproduces_the_shipped_json() -> None:
    pytest.importorskip("numpy")
    pytest.importorskip("scipy")
    fit = _load_tool("fit_power_model", REPO / "tools" / "fit_power_model.py")
    model, _ = fit.build(SHARED)
    assert fit.dumps(model) == MODEL_JSON.read_text("utf-8"), (
        "power_model.json is stale: run python tools/fit_power_model.py"
    )


def test_runtime_features_follow_the_term_names() -> None:
    settings = load_model()["settings"]
    terms = [["1", "platform"], ["S", "platform"], ["P", "cpu"], ["M", "ram"], ["T", "cpu"]]
    x = est.features(terms, settings, sockets=2, threads=64, memory_gb=128, tdp_w=150, year=None)
    assert x == [1.0, 2.0, 300.0, 128.0, 64.0]
    nodes = settings["year_nodes"]
    tents = [[f"t{n}", "platform"] for n in nodes]
    y = est.features(tents, settings, sockets=1, threads=8, memory_gb=8, tdp_w=None, year=2018.0)
    assert sum(y) == pytest.approx(1.0)  # the tents of one variable sum to 1
    with pytest.raises(ValueError, match="cannot be evaluated"):
        est.features(tents, settings, sockets=1, threads=8, memory_gb=8, tdp_w=None, year=None)


def test_codecarbon_rule_in_the_benchmark() -> None:
    """The comparison row uses CodeCarbon 3.x's RAM heuristic as its source reads."""
    bench = _load_tool("specpower_bench", REPO / "benchmarks" / "specpower.py")
    assert [bench.cc_dimms(gb) for gb in (2, 8, 16, 32, 64, 128, 256, 1024)] == [
        1,
        2,
        2,
        4,
        4,
        8,
        8,
        8,
    ]
    assert bench.cc_dimms(4096) == 32
    assert bench.cc_ram_w(16, arm=False) == 10.0
    assert bench.cc_ram_w(128, arm=False) == pytest.approx(5 * 4 + 4.5 * 4)
    assert bench.cc_ram_w(8, arm=True) == 3.0


@pytest.mark.parametrize(
    "machine",
    [("Common KVM processor", 1, 4, 16.0), ("Intel Xeon Processor (Icelake)", 2, 256, 1024.0)],
)
def test_an_unknown_cpus_platform_is_not_estimated_never_zero(machine) -> None:
    """The threads-only fit counts the per-socket terms (the board's share) as the CPU: the
    platform is then not known, which is not 0 W, and the machine keeps its whole estimate."""
    for u in (0.0, 0.5, 1.0):
        p = machine_power(*machine, u)
        assert p.platform_w is None and p.platform_low_w is None and p.platform_high_w is None
        assert any("platform not estimated" in n for n in p.notes)
        assert "not estimated" in p.platform_basis
        assert p.machine_w == pytest.approx(p.cpu_w + p.ram_w) and p.machine_w > 0


def test_a_vm_shares_platform_is_not_estimated_either() -> None:
    from wattprint.estimate.vm import VmCurve

    p = VmCurve(2, 8.0).at(1.0)
    assert p.platform_w is None and "not estimated" in p.platform_basis
    assert p.machine_w == pytest.approx(p.cpu_w + p.ram_w) and p.machine_w > 0
