"""``embodied/data/embodied.csv``: Boavizta's component factors, servers and GPUs computed with
Boavizta's model, and cloud instances' shares of their host from Cloud Carbon Footprint."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from pathlib import Path

from .common import Table, csv_text, decile_bounds, parse_number, read_csv, require, trimmed

EMBODIED_DATA = "src/wattprint/embodied/data"
BOAVIZTA_VERSION = "2.5.0"
BOAVIZTA_FACTORS_FILE = "boaviztapi/data/factors.yml"
BOAVIZTA_SERVERS_FILE = "boaviztapi/data/archetypes/server.csv"
BOAVIZTA_GPU_DEFAULT_FILE = "boaviztapi/data/archetypes/components/gpu.csv"
BOAVIZTA_GPU_SPECS_FILE = "boaviztapi/data/crowdsourcing/gpu_specs.csv"
BOAVIZTA_CPU_SPECS_FILE = "boaviztapi/data/crowdsourcing/cpu_specs.csv"
BOAVIZTA_RAM_FILE = "boaviztapi/data/crowdsourcing/ram_manufacture.csv"
BOAVIZTA_SSD_FILE = "boaviztapi/data/crowdsourcing/ssd_manufacture.csv"
BOAVIZTA_SOURCE = f"Boavizta component factors (boaviztapi {BOAVIZTA_VERSION} data)"
BOAVIZTA_YEAR = "2026"
BOAVIZTA_LICENSE = "facts from AGPL-3.0 data (boaviztapi)"
CCF_EMBODIED = {  # provider -> (coefficients file, instance list, type column, vCPU, host vCPU)
    "aws": ("output/coefficients-aws-embodied.csv", "data/aws-instances.csv",
            "Instance type", "Instance vCPU", "Platform Total Number of vCPU"),
    "azure": ("output/coefficients-azure-embodied.csv", "data/azure-instances.csv",
              "Virtual Machine", "Instance vCPUs", "Platform vCPUs (highest vCPU possible)"),
    "gcp": ("output/coefficients-gcp-embodied.csv", "data/gcp-instances.csv",
            "Machine type", "Instance vCPUs", "Platform vCPUs (highest vCPU possible)"),
}  # fmt: skip
CCF_SOURCE = "Cloud Carbon Footprint embodied coefficients (ccf-coefficients b0032d9)"
CCF_YEAR = "2026"
CCF_LICENSE = "Apache-2.0"
# CCF scales one server LCA (Dell R740) to every platform and gives one figure per instance
# type: the bounds wattprint gives it are its own, -25 % / +50 % around the platforms' range.
CCF_BAND = (0.75, 1.5)
# A GPU's figure comes from die and board areas and masses (Boavizta's GPU factors): the same
# band, for an estimate from a few physical dimensions.
GPU_BAND = (0.75, 1.5)
EMBODIED_COLUMNS = (
    "kind", "key", "value", "low", "high", "unit", "source", "year", "license", "detail",
)  # fmt: skip
# Boavizta's component factors (gwp), as factors.yml names them: (table key, path, unit).
BOAVIZTA_FACTORS = (
    ("cpu_die", ("cpu", "gwp", "die_impact"), "kgCO2e/mm2"),
    ("cpu_base", ("cpu", "gwp", "impact"), "kgCO2e/cpu"),
    ("ram_die", ("ram", "gwp", "die_impact"), "kgCO2e/cm2"),
    ("ram_base", ("ram", "gwp", "impact"), "kgCO2e/module"),
    ("ssd_die", ("ssd", "gwp", "die_impact"), "kgCO2e/cm2"),
    ("ssd_base", ("ssd", "gwp", "impact"), "kgCO2e/drive"),
    ("hdd", ("hdd", "gwp", "impact"), "kgCO2e/drive"),
    ("motherboard", ("motherboard", "gwp", "impact"), "kgCO2e/server"),
    ("power_supply", ("power_supply", "gwp", "impact"), "kgCO2e/kg"),
    ("case_rack", ("case", "gwp", "rack", "impact"), "kgCO2e/server"),
    ("assembly", ("assembly", "gwp", "impact"), "kgCO2e/server"),
    ("gpu_casing", ("gpu", "casing", "manufacture", "gwp", "impact"), "kgCO2e/kg"),
    ("gpu_heatsink", ("gpu", "heatsink", "manufacture", "gwp", "impact"), "kgCO2e/kg"),
    ("gpu_pwb", ("gpu", "pwb", "manufacture", "gwp", "impact"), "kgCO2e/cm2"),
    ("gpu_die", ("gpu", "gpu", "manufacture", "gwp", "impact"), "kgCO2e/mm2"),
    ("gpu_vram", ("gpu", "vram", "manufacture", "gwp", "impact"), "kgCO2e/GB"),
)


def read_boavizta_factors(shared: Path) -> dict[str, float]:
    """The gwp factors, read as facts (a number per component) from factors.yml."""
    import yaml

    data = yaml.safe_load(require(shared, BOAVIZTA_FACTORS_FILE).read_text("utf-8"))
    factors = {}
    for key, path, _ in BOAVIZTA_FACTORS:
        node = data
        for part in path:
            node = node[part]
        factors[key] = float(node)
    return factors


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, 10th, 90th percentile) of some values."""
    ordered = sorted(values)
    tenth, ninetieth = decile_bounds(ordered)
    return statistics.median(ordered), tenth, ninetieth


def cpu_die_per_core(shared: Path) -> tuple[float, float, float, int]:
    """Die area per core (mm2) of server CPUs (Xeon, EPYC, 8 cores and more) in Boavizta's
    crowdsourced specs: the default when a CPU's own die area is not known."""
    values = []
    for r in read_csv(require(shared, BOAVIZTA_CPU_SPECS_FILE)):
        die, cores = parse_number(r["total_die_size"]), parse_number(r["cores"].split(".")[0])
        if die and cores and cores >= 8 and re.search(r"Xeon|EPYC", r["name"]):
            values.append(die / cores)
    return (*spread(values), len(values))


def memory_density(shared: Path, relative: str) -> tuple[float, float, float, int]:
    """Mean, min and max density (GB/cm2) of the memory dies Boavizta lists."""
    values = [float(r["density"]) for r in read_csv(require(shared, relative)) if r["density"]]
    return statistics.fmean(values), min(values), max(values), len(values)


def triple(text: str) -> tuple[float, float, float]:
    """A Boavizta archetype value, "default;min;max" or one number."""
    parts = [float(p) for p in text.split(";")] if text else [0.0]
    return (parts[0], parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1], parts[2])


def gpu_embodied(
    f: dict[str, float],
    die_mm2: float,
    pwb_cm2: float,
    vram_gb: float,
    casing_kg: float,
    heatsink_kg: float,
) -> float:
    return (
        die_mm2 * f["gpu_die"]
        + pwb_cm2 * f["gpu_pwb"]
        + vram_gb * f["gpu_vram"]
        + casing_kg * f["gpu_casing"]
        + heatsink_kg * f["gpu_heatsink"]
    )


def gpu_rows(shared: Path, f: dict[str, float]) -> list[tuple]:
    rows = []
    default = read_csv(require(shared, BOAVIZTA_GPU_DEFAULT_FILE))[0]
    for r in read_csv(require(shared, BOAVIZTA_GPU_SPECS_FILE)):
        casing = parse_number(r["mass_casing"]) or float(default["casing_weight"])
        heatsink = parse_number(r["mass_heatsink"]) or float(default["heatsink_weight"])
        pwb = parse_number(r["pwb_surface"]) or float(default["pwb_surface"])
        kg = gpu_embodied(f, float(r["die_surface"]), pwb, float(r["vram"]), casing, heatsink)
        detail = (
            f"die {r['die_surface']} mm2, board {trimmed(pwb)} cm2, {r['vram']} GB, "
            f"casing {trimmed(casing, 3)} kg, heatsink {trimmed(heatsink, 3)} kg"
        )
        rows.append(
            (
                "gpu",
                r["name"],
                kg,
                kg * GPU_BAND[0],
                kg * GPU_BAND[1],
                "kgCO2e/gpu",
                BOAVIZTA_SOURCE,
                BOAVIZTA_YEAR,
                BOAVIZTA_LICENSE,
                detail,
            )
        )
    kg = gpu_embodied(f, float(default["gpu_surface"]), float(default["pwb_surface"]),
                      float(default["vram"]), float(default["casing_weight"]),
                      float(default["heatsink_weight"]))  # fmt: skip
    rows.append(
        (
            "gpu",
            "DEFAULT",
            kg,
            kg * 0.5,
            kg * 2.0,
            "kgCO2e/gpu",
            BOAVIZTA_SOURCE,
            BOAVIZTA_YEAR,
            BOAVIZTA_LICENSE,
            f"Boavizta's default GPU ({default['name']}); bounds x0.5-x2 for a GPU not in the list",
        )
    )
    return rows


def server_embodied(
    f: dict[str, float], k: dict[str, float], r: dict[str, str], pick: int
) -> float:
    """One Boavizta server archetype with Boavizta's component model: ``pick`` 0/1/2 takes the
    default, low or high end of every "default;min;max" range (and of the density and die-area
    spreads), so that the bounds are the archetype's own."""
    cores = triple(r["CPU.core_units"])[pick]
    die = (
        float(r["CPU.die_size_per_core"])
        if r["CPU.die_size_per_core"]
        else (k["die_mid"], k["die_low"], k["die_high"])[pick]
    )
    ram_density = (k["ram_mean"], k["ram_max"], k["ram_min"])[pick]  # denser: less die
    ssd_density = (k["ssd_mean"], k["ssd_max"], k["ssd_min"])[pick]
    cpus = triple(r["CPU.units"])[pick]
    ram_units, ram_gb = triple(r["RAM.units"])[pick], triple(r["RAM.capacity"])[pick]
    ssd_units, ssd_gb = triple(r["SSD.units"])[pick], triple(r["SSD.capacity"])[pick]
    hdd_units = triple(r["HDD.units"])[pick]
    psu_units, psu_kg = (
        triple(r["POWER_SUPPLY.units"])[pick],
        triple(r["POWER_SUPPLY.unit_weight"])[pick],
    )
    gpus = triple(r["GPU.units"])[pick]
    total = (
        cpus * (cores * die * f["cpu_die"] + f["cpu_base"])
        + ram_units * (ram_gb / ram_density * f["ram_die"] + f["ram_base"])
        + ssd_units * (ssd_gb / ssd_density * f["ssd_die"] + f["ssd_base"])
        + hdd_units * f["hdd"]
        + f["motherboard"]
        + psu_units * psu_kg * f["power_supply"]
        + f["case_rack"]
        + f["assembly"]
    )
    if gpus:
        vram = triple(r["GPU.vram"])[pick]
        gpu = k["gpu_default"] + (vram - k["gpu_default_vram"]) * f["gpu_vram"]
        total += gpus * gpu * (1.0, 0.5, 2.0)[pick]
    return total


def server_rows(shared: Path, f: dict[str, float], k: dict[str, float]) -> list[tuple]:
    """Boavizta's generic platforms and the Dell R740 (the on-premises archetypes)."""
    rows = []
    for r in read_csv(require(shared, BOAVIZTA_SERVERS_FILE)):
        if not (
            r["id"].startswith(("platform_", "platfom_"))
            and "_aws_" not in r["id"]
            or r["id"] == "dellR740"
        ):
            continue
        key = r["id"].replace("platfom_", "platform_")
        mid, low, high = (server_embodied(f, k, r, pick) for pick in (0, 1, 2))
        detail = (
            f"{r['CPU.units']} CPU x {r['CPU.core_units']} cores, "
            f"{r['RAM.units']} x {r['RAM.capacity']} GB RAM, "
            f"{r['SSD.units']} x {r['SSD.capacity']} GB SSD, "
            f"{r['HDD.units'] or 0} HDD, {r['GPU.units'] or 0} GPU"
        )
        rows.append(
            (
                "server",
                key,
                mid,
                min(low, mid),
                max(high, mid),
                "kgCO2e/server",
                BOAVIZTA_SOURCE,
                BOAVIZTA_YEAR,
                BOAVIZTA_LICENSE,
                detail,
            )
        )
    return rows


def ccf_instance_rows(shared: Path) -> tuple[list[tuple], list[str]]:
    """Each cloud instance type's share of its host's embodied emissions: CCF's host total
    times the instance's vCPUs over the host's (CCF's own method), grouped over the platforms
    (microarchitectures, families) a type runs on."""
    rows, notes = [], []
    for provider, (coef, instances, type_col, vcpu_col, host_col) in CCF_EMBODIED.items():
        shares: dict[str, list[float]] = {}
        for r in read_csv(require(shared, f"ccf-coefficients/{instances}")):
            vcpu, host = parse_number(r[vcpu_col]), parse_number(r[host_col])
            if vcpu and host:
                shares.setdefault(r[type_col].strip(), []).append(min(1.0, vcpu / host))
        totals: dict[str, list[float]] = {}
        for r in read_csv(require(shared, f"ccf-coefficients/{coef}")):
            totals.setdefault(r["type"].strip(), []).append(float(r["total"]))
        missing = 0
        for name in sorted(totals):
            if name not in shares:
                missing += 1
                continue
            share = statistics.fmean(shares[name])
            values = [t * share for t in totals[name]]
            detail = (
                f"host {trimmed(statistics.fmean(totals[name]))} kgCO2e x {share:.6g} of its vCPUs"
            )
            rows.append(
                (
                    "cloud",
                    f"{provider}:{name}",
                    statistics.fmean(values),
                    min(values) * CCF_BAND[0],
                    max(values) * CCF_BAND[1],
                    "kgCO2e/instance",
                    CCF_SOURCE,
                    CCF_YEAR,
                    CCF_LICENSE,
                    detail,
                )
            )
        if missing:
            notes.append(f"{provider}: {missing} instance types without a vCPU share left out")
    return rows, notes


def build_embodied(shared: Path) -> Table:
    f = read_boavizta_factors(shared)
    die_mid, die_low, die_high, die_n = cpu_die_per_core(shared)
    ram = memory_density(shared, BOAVIZTA_RAM_FILE)
    ssd = memory_density(shared, BOAVIZTA_SSD_FILE)
    factor = ("factor", BOAVIZTA_SOURCE, BOAVIZTA_YEAR, BOAVIZTA_LICENSE)
    body: list[tuple] = [
        (factor[0], key, f[key], f[key], f[key], unit, *factor[1:], ".".join(path))
        for key, path, unit in BOAVIZTA_FACTORS
    ]
    body += [
        (
            "factor",
            "cpu_die_per_core",
            die_mid,
            die_low,
            die_high,
            "mm2/core",
            *factor[1:],
            f"median (10th-90th percentile) of {die_n} Xeon/EPYC CPUs with 8+ cores",
        ),
        (
            "factor",
            "ram_density",
            ram[0],
            ram[1],
            ram[2],
            "GB/cm2",
            *factor[1:],
            f"mean (min-max) of {ram[3]} DRAM processes",
        ),
        (
            "factor",
            "ssd_density",
            ssd[0],
            ssd[1],
            ssd[2],
            "GB/cm2",
            *factor[1:],
            f"mean (min-max) of {ssd[3]} NAND processes",
        ),
    ]
    gpus = gpu_rows(shared, f)
    default_gpu = next(r for r in gpus if r[1] == "DEFAULT")
    default_vram = float(read_csv(require(shared, BOAVIZTA_GPU_DEFAULT_FILE))[0]["vram"])
    k = {
        "die_mid": die_mid,
        "die_low": die_low,
        "die_high": die_high,
        "ram_mean": ram[0],
        "ram_min": ram[1],
        "ram_max": ram[2],
        "ssd_mean": ssd[0],
        "ssd_min": ssd[1],
        "ssd_max": ssd[2],
        "gpu_default": default_gpu[2],
        "gpu_default_vram": default_vram,
    }
    clouds, notes = ccf_instance_rows(shared)
    body += gpus + server_rows(shared, f, k) + clouds
    order = {"factor": 0, "server": 1, "gpu": 2, "cloud": 3}
    body.sort(key=lambda r: (order[r[0]], r[1]))
    text_rows = [
        (kind, key, trimmed(value, 6), trimmed(low, 6), trimmed(high, 6), *rest)
        for kind, key, value, low, high, *rest in body
    ]
    counts = {kind: sum(1 for r in body if r[0] == kind) for kind in order}
    notes.insert(0, ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return Table(
        f"{EMBODIED_DATA}/embodied.csv", csv_text(EMBODIED_COLUMNS, text_rows), len(body), notes
    )
