"""CPU and GPU specifications: matching names to the packaged tables, and the tables."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint import hardware
from wattprint.hardware import find_cpu, find_gpu, is_generic_cpu, normalise_cpu

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------------------
# CPUs: known parts


@pytest.mark.parametrize(
    ("brand", "model", "tdp", "cores", "threads"),
    [
        ("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763", 280, 64, 128),
        ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", "Intel Xeon Platinum 8380", 270, 40, 80),
        ("AMD EPYC 9654 96-Core Processor", "AMD EPYC 9654", 360, 96, 192),
        ("AMD EPYC 9654P 96-Core Processor", "AMD EPYC 9654P", 360, 96, 192),
        ("AMD EPYC 7713 64-Core Processor", "AMD EPYC 7713", 225, 64, 128),
        ("AMD Ryzen 9 5950X 16-Core Processor", "AMD Ryzen 9 5950X", 105, 16, 32),
        ("11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", "Intel Core i7-1185G7", 28, 4, 8),
        ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Intel Xeon E5-2686 v4", 145, 18, 36),
    ],
)
def test_brand_strings_find_their_part(brand, model, tdp, cores, threads) -> None:
    spec = find_cpu(brand)
    assert spec is not None, brand
    assert (spec.model, spec.tdp_w, spec.cores, spec.threads) == (model, tdp, cores, threads)
    assert spec.source and spec.license


def test_spec_fields() -> None:
    spec = find_cpu("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz")
    assert spec is not None
    assert (spec.vendor, spec.family, spec.base_mhz, spec.launch_year) == (
        "Intel",
        "Xeon",
        2300,
        2021,
    )
    assert spec.source.split(";")[0] == "intel-ark" and spec.license.split(";")[0] == "MIT"
    amd = find_cpu("AMD EPYC 7763")
    assert amd is not None and (amd.vendor, amd.family, amd.launch_year) == ("AMD", "EPYC", 2021)


@pytest.mark.parametrize(
    ("description", "model", "tdp"),
    [  # SPECpower "CPU Description" strings, as written there
        ("Intel Xeon Platinum 8592+", "Intel Xeon Platinum 8592+", 350),
        ("Intel Xeon 8592+", "Intel Xeon Platinum 8592+", 350),  # no tier
        ("Intel(R) Xeon(R) Platinum 8592+,", "Intel Xeon Platinum 8592+", 350),
        ("AMD EPYC 9654P", "AMD EPYC 9654P", 360),
        ("AMD EPYC 9754,", "AMD EPYC 9754", 360),
        ("Intel Xeon L5420", "Intel Xeon L5420", 50),
        ("Intel Xeon E5-2699 v4", "Intel Xeon E5-2699 v4", 145),
        ("Intel Xeon E5-2698 V4", "Intel Xeon E5-2698 v4", 135),
        ("Intel Xeon E3-1265LV2", "Intel Xeon E3-1265L v2", 45),
        ("Intel Xeon E3-1265Lv3", "Intel Xeon E3-1265L v3", 45),
        ("Intel Xeon E E-2488", "Intel Xeon E-2488", 95),
        ("AMD Opteron 2384", "AMD Opteron 2384", 75),
        ("AMD Opteron 4376HE", "AMD Opteron 4376 HE", 65),
        ("Intel Core i7 610E", "Intel Core i7-610E", 35),
        ("Intel Xeon Processor 7110M", "Intel Xeon 7110M", 95),
        ("Intel(R) Xeon(R) Gold 6780E,", "Intel Xeon 6780E", 330),  # Xeon 6 has no tiers
        ("Intel Xeon 6787P Processor", "Intel Xeon 6787P", 350),
    ],
)
def test_specpower_descriptions(description, model, tdp) -> None:
    spec = find_cpu(description)
    assert spec is not None, description
    assert (spec.model, spec.tdp_w) == (model, tdp)


# ------------------------------------------------------------------------------------------
# CPUs: a near miss never matches another part


NEAR_MISSES = [
    ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", "Intel(R) Xeon(R) Platinum 8380H CPU"),
    ("AMD EPYC 7713 64-Core Processor", "AMD EPYC 7713P 64-Core Processor"),
    ("Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz", "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"),
    ("Intel Xeon E5-2680", "Intel Xeon E5-2680 v2"),
    ("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", "Intel(R) Core(TM) i7-1185G7E @ 2.80GHz"),
    ("AMD EPYC 9654 96-Core Processor", "AMD EPYC 9654P 96-Core Processor"),
    ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz"),
    ("AMD Ryzen 5 3600 6-Core Processor", "AMD Ryzen 5 PRO 3600 6-Core Processor"),
    ("Intel Xeon 5120", "Intel Xeon Gold 5120"),  # the 2006 part and the 2017 one
]


@pytest.mark.parametrize(("a", "b"), NEAR_MISSES)
def test_near_misses_stay_apart(a, b) -> None:
    spec_a, spec_b = find_cpu(a), find_cpu(b)
    assert spec_a is not None and spec_b is not None, (a, b)
    assert spec_a.model != spec_b.model
    assert normalise_cpu(a) != normalise_cpu(b)


@pytest.mark.parametrize(
    "brand",
    [
        "Intel Xeon 5675",  # SPECpower's typo for X5675: no letter is guessed
        "Intel Xeon Gold 6548Y",  # Intel sells a 6548Y+ and a 6548N, no 6548Y
        "Intel(R) Xeon(R) Platinum 8380X CPU",  # no such part
        "AMD EPYC 7763X",
        "AMD EPYC 7B13",  # Google's custom part: not in the sources
    ],
)
def test_parts_not_in_the_table_find_nothing(brand) -> None:
    assert not is_generic_cpu(brand)
    assert find_cpu(brand) is None


def test_untiered_names_prefer_the_untiered_part() -> None:
    old, new = find_cpu("Intel Xeon 5120"), find_cpu("Intel Xeon Gold 5120")
    assert old is not None and old.tdp_w == 65 and old.model == "Intel Xeon 5120"
    assert new is not None and new.tdp_w == 105 and new.launch_year == 2017


def test_pick_cpu_rules() -> None:
    def spec(model: str, year: int | None) -> hardware.CpuSpec:
        return hardware.CpuSpec(model, "Intel", "Xeon", 100.0, 8, 16, None, year, "x", "MIT")

    def rows(*specs: hardware.CpuSpec) -> list:
        return [(hardware.cpu_key(s.model), s) for s in specs]

    gold, silver = spec("Intel Xeon Gold 9999", 2020), spec("Intel Xeon Silver 9999", 2020)
    key = hardware.cpu_key("Intel Xeon 9999")
    assert hardware.pick_cpu(key, rows(gold, silver)) is None  # two tiers fit: ambiguous
    assert hardware.pick_cpu(key, rows(gold)) is gold
    old = spec("Intel Xeon 9999", 2009)
    tiered = hardware.cpu_key("Intel Xeon Gold 9999")
    assert hardware.pick_cpu(tiered, rows(old)) is None  # before tiers existed: another part
    assert hardware.pick_cpu(tiered, rows(spec("Intel Xeon 9999", 2024))) is not None
    assert hardware.pick_cpu(tiered, rows(spec("Intel Xeon 9999", None))) is None


# ------------------------------------------------------------------------------------------
# CPUs: generic names


@pytest.mark.parametrize(
    "brand",
    [
        "",
        "   ",
        "Intel(R) Xeon(R) Processor",
        "AMD EPYC Processor",
        "AMD EPYC Processor (with IBPB)",
        "Common KVM processor",
        "QEMU Virtual CPU version 2.5+",
        "Intel Xeon Processor (Icelake)",
        "Intel Xeon Processor (Cascadelake)",
        "Intel Core Processor (Broadwell, IBRS)",
        "Intel Xeon E312xx (Sandy Bridge)",
        "Westmere E56xx/L56xx/X56xx (Nehalem-C)",
        "AMD Opteron 62xx class CPU",
        "AMD EPYC-Rome Processor",
        "Intel(R) Xeon(R) CPU @ 2.20GHz",
        "Intel Xeon",
        "Intel Xeon processor",
        "Neoverse-N1",
    ],
)
def test_generic_names(brand) -> None:
    assert is_generic_cpu(brand)
    assert find_cpu(brand) is None


@pytest.mark.parametrize(
    "brand", ["AMD EPYC 7763 64-Core Processor", "Intel Xeon L5420", "Grace CPU Superchip"]
)
def test_named_parts_are_not_generic(brand) -> None:
    assert not is_generic_cpu(brand)


def test_normalise_cpu() -> None:
    assert normalise_cpu("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz") == (
        "intel xeon platinum 8380"
    )
    assert normalise_cpu("AMD EPYC 7763 64-Core Processor") == "amd epyc 7763"
    assert normalise_cpu("Intel Xeon E5-2660V2") == normalise_cpu("Intel Xeon E5-2660 v2")
    assert normalise_cpu("AMD Ryzen 7 7840U w/ Radeon 780M Graphics") == "amd ryzen 7 7840u"
    assert normalise_cpu("Quad-Core AMD Opteron(tm) Processor 8376 HE") == "amd opteron 8376he"


def test_cpu_model_meter_uses_the_shared_table() -> None:
    from wattprint.meters import cpu_model

    row = cpu_model.find_cpu("AMD EPYC 7763 64-Core Processor")
    assert row is not None and (row.model, row.tdp_w) == ("AMD EPYC 7763", 280.0)
    assert row.source and cpu_model.normalise("AMD EPYC 7763") == "amd epyc 7763"
    assert cpu_model.find_cpu("Common KVM processor") is None


# ------------------------------------------------------------------------------------------
# GPUs


@pytest.mark.parametrize(
    ("name", "model", "tdp", "memory"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM5 80 GB", 700, 80),  # how NVML names the SXM5
        ("NVIDIA H100 PCIe", "H100 PCIe 80 GB", 350, 80),
        ("NVIDIA H100 NVL", "H100 NVL 94 GB", 400, 94),
        ("H100", "H100 SXM5 80 GB", 700, 80),
        ("NVIDIA H200", "H200 SXM 141 GB", 700, 141),
        ("NVIDIA H200 NVL", "H200 NVL", 600, 141),
        ("NVIDIA A100-SXM4-40GB", "A100 SXM4 40 GB", 400, 40),
        ("NVIDIA A100-SXM4-80GB", "A100 SXM4 80 GB", 400, 80),
        ("NVIDIA A100-PCIE-40GB", "A100 PCIe 40 GB", 250, 40),
        ("NVIDIA A100 80GB PCIe", "A100 PCIe 80 GB", 300, 80),
        ("A100 PCIe", "A100 PCIe 40 GB", 250, 40),
        ("Tesla V100-SXM2-16GB", "Tesla V100 SXM2 16 GB", 300, 16),
        ("Tesla V100-SXM2-32GB", "Tesla V100 SXM2 32 GB", 300, 32),
        ("Tesla V100-PCIE-16GB", "Tesla V100 PCIe 16 GB", 250, 16),
        ("Tesla V100S-PCIE-32GB", "Tesla V100S PCIe 32 GB", 250, 32),
        ("Tesla T4", "Tesla T4", 70, 16),
        ("T4", "Tesla T4", 70, 16),
        ("NVIDIA L4", "L4", 72, 24),
        ("NVIDIA L40S", "L40S", 350, 48),
        ("NVIDIA A10G", "A10G", 150, 24),
        ("AMD Instinct MI300X", "Instinct MI300X", 750, 192),
        ("AMD Instinct MI250X", "Instinct MI250X", 500, 128),
        ("AMD Instinct MI250X / MI250", "Instinct MI250X", 500, 128),
        ("NVIDIA GeForce RTX 4090", "GeForce RTX 4090", 450, 24),
        ("NVIDIA GeForce RTX 3080 Laptop GPU", "GeForce RTX 3080 Mobile", 115, 8),
    ],
)
def test_gpu_names_find_their_variant(name, model, tdp, memory) -> None:
    spec = find_gpu(name)
    assert spec is not None, name
    assert (spec.model, spec.tdp_w, spec.memory_gb) == (model, tdp, memory)
    assert spec.source and spec.license


@pytest.mark.parametrize(
    ("name", "idle"),
    [
        ("NVIDIA A100-SXM4-40GB", 46),
        ("NVIDIA A100 80GB PCIe", 46),
        ("Tesla V100-SXM2-16GB", 35),
        ("Tesla T4", 8),
        ("NVIDIA A10G", 18),
        ("Tesla K80", 35),
        ("NVIDIA H100 80GB HBM3", None),  # no source gives one
    ],
)
def test_gpu_idle_power(name, idle) -> None:
    spec = find_gpu(name)
    assert spec is not None and spec.idle_w == idle
    if idle is not None:
        assert "ccf" in spec.source.split(";") and "Apache-2.0" in spec.license


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("NVIDIA L4", "NVIDIA L40"),
        ("NVIDIA L40", "NVIDIA L40S"),
        ("NVIDIA A10", "NVIDIA A10G"),
        ("NVIDIA H100 PCIe", "NVIDIA H100 NVL"),
        ("Tesla V100-PCIE-32GB", "Tesla V100S-PCIE-32GB"),
        ("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090 D"),
        ("NVIDIA GeForce RTX 3080", "NVIDIA GeForce RTX 3080 Laptop GPU"),
        ("NVIDIA RTX A6000", "NVIDIA RTX 6000 Ada Generation"),
    ],
)
def test_gpu_models_stay_apart(a, b) -> None:
    spec_a, spec_b = find_gpu(a), find_gpu(b)
    assert spec_a is not None and spec_b is not None
    assert spec_a.model != spec_b.model


@pytest.mark.parametrize("name", ["", "NVIDIA", "AMD GPU", "NVIDIA Z9000", "Matrox G200eW"])
def test_unknown_gpus(name) -> None:
    assert find_gpu(name) is None


def test_gpu_key() -> None:
    key = hardware.gpu_key("NVIDIA A100-SXM4-80GB")
    assert key == ("NVIDIA", ("a100",), "sxm4", 80.0, "")
    key = hardware.gpu_key("NVIDIA H100 80GB HBM3")
    assert key == ("NVIDIA", ("h100",), "", 80.0, "hbm3")
    assert hardware.gpu_key("NVIDIA GeForce RTX 3080 Laptop GPU").words == (
        "rtx",
        "3080",
        "mobile",
    )


# ------------------------------------------------------------------------------------------
# the tables


CPU_COLUMNS = [
    "model",
    "vendor",
    "family",
    "number",
    "tdp_w",
    "cores",
    "threads",
    "base_mhz",
    "launch_year",
    "source",
    "license",
]
GPU_COLUMNS = [
    "model",
    "vendor",
    "tdp_w",
    "idle_w",
    "memory_gb",
    "launch_year",
    "source",
    "license",
]


def test_cpu_table_integrity() -> None:
    rows = _rows(hardware.CPU_TABLE)
    assert list(rows[0]) == CPU_COLUMNS
    assert len(rows) > 4000
    assert len({r["model"] for r in rows}) == len(rows)
    for r in rows:
        assert r["model"] and r["vendor"] and r["source"] and r["license"], r
        assert 1 <= float(r["tdp_w"]) <= 1000, r
        assert len(r["source"].split(";")) == len(set(r["source"].split(";"))), r
        for column in ("cores", "threads", "base_mhz", "launch_year"):
            assert r[column] == "" or int(r[column]) > 0, r
        if r["cores"] and r["threads"]:
            assert int(r["threads"]) >= int(r["cores"]), r
        if r["launch_year"]:
            assert 1990 <= int(r["launch_year"]) <= 2030, r


def test_gpu_table_integrity() -> None:
    rows = _rows(hardware.GPU_TABLE)
    assert list(rows[0]) == GPU_COLUMNS
    assert len({(r["vendor"], r["model"]) for r in rows}) == len(rows)
    for r in rows:
        assert r["model"] and r["vendor"] in {"NVIDIA", "AMD", "Intel"}, r
        assert r["source"] and r["license"], r
        assert 5 <= float(r["tdp_w"]) <= 1500, r
        if r["idle_w"]:
            assert 0 < float(r["idle_w"]) < float(r["tdp_w"]), r
        if r["memory_gb"]:
            assert 0 < float(r["memory_gb"]) <= 512, r


@pytest.mark.parametrize(
    ("name", "tdp"),
    [
        ("NVIDIA H100 80GB HBM3", 700),
        ("NVIDIA H200", 700),
        ("NVIDIA A100-SXM4-80GB", 400),
        ("NVIDIA L40S", 350),
        ("NVIDIA L4", 72),
        ("NVIDIA A10G", 150),
        ("Tesla T4", 70),
        ("Tesla V100-SXM2-32GB", 300),
        ("AMD Instinct MI250X", 500),
        ("AMD Instinct MI300X", 750),
    ],
)
def test_data_centre_gpus_present(name, tdp) -> None:
    spec = find_gpu(name)
    assert spec is not None and spec.tdp_w == tdp


# ------------------------------------------------------------------------------------------
# cost


def test_nothing_is_read_at_import() -> None:
    code = (
        "import pathlib\n"
        "seen = []\n"
        "read = pathlib.Path.read_bytes\n"
        "pathlib.Path.read_bytes = lambda self: seen.append(self.name) or read(self)\n"
        "from wattprint import hardware\n"
        "print(len(seen))\n"
        "hardware.find_cpu('AMD EPYC 7763')\n"
        "print(' '.join(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["0", "cpus.csv"]


# ------------------------------------------------------------------------------------------
# SPECpower: how much of the calibration file the table covers


@pytest.mark.skipif(
    not (SHARED / "specpower" / "calibration.csv").is_file(), reason="no SPECpower file"
)
def test_specpower_calibration_coverage() -> None:
    with (SHARED / "specpower" / "calibration.csv").open(encoding="utf-8-sig") as fh:
        descriptions = {row["CPU Description"] for row in csv.DictReader(fh)}
    named = [d for d in descriptions if not is_generic_cpu(d)]
    unmatched = sorted(d for d in named if find_cpu(d) is None)
    # The rest have no TDP in any source (Opteron 2380, 4164 EE, 8376 HE, Ampere Altra
    # Q80-30, NVIDIA Grace) or are misspelt (Xeon "5675" for X5675, Gold "6548Y" for 6548Y+).
    assert len(unmatched) <= 7, unmatched
    assert len(descriptions) - len(named) == 3  # "Intel Xeon", "Intel Xeon Processor", ...
