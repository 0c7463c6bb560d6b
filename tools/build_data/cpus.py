"""``meters/data/cpus.csv``: one row per CPU part, merged from the vendor exports, CodeCarbon,
Green Algorithms, eco2AI and boaviztapi's facts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .common import (
    CODECARBON_VERSION,
    FACTS,
    METERS_DATA,
    Table,
    csv_text,
    parse_count,
    read_csv,
    read_ga,
    require,
    trimmed,
)
from .parts import clean_model, hardware_module

INTEL_ARK_FILE = "codecarbon/hardware/cpu_dataset_builder/intel_cpu_ark_dataset.csv"
AMD_EXPORT_FILES = (
    "codecarbon/hardware/cpu_dataset_builder/amd_cpu_server_dataset.csv",
    "codecarbon/hardware/cpu_dataset_builder/amd_cpu_desktop_dataset.csv",
)
CODECARBON_CPU_FILE = "codecarbon/hardware/cpu_power.csv"
GA_CPU_FILE = "green-algorithms/data/latest/TDP_cpu.csv"
ECO2AI_CPU_FILE = "eco2ai/data/cpu_names.csv"
BOAVIZTA_CPU_FILE = "boaviztapi/data/crowdsourcing/cpu_specs.csv"

# Source id -> (license, what it is). The order is the precedence: a part's fields come from
# the first source that gives them.
CPU_SOURCES = {
    "intel-ark": ("MIT", "Intel ARK export in CodeCarbon's cpu_dataset_builder"),
    "amd": ("MIT", "AMD product-page exports in CodeCarbon's cpu_dataset_builder"),
    "codecarbon": ("MIT", f"CodeCarbon {CODECARBON_VERSION} cpu_power.csv"),
    "green-algorithms": ("CC BY 4.0", "Green Algorithms TDP_cpu.csv"),
    "eco2ai": ("Apache-2.0", "eco2AI 0.3.12 cpu_names.csv"),
    "boavizta": (FACTS, "boaviztapi 2.5.0 crowdsourcing/cpu_specs.csv (facts, row sources)"),
}
CPU_COLUMNS = (
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
)
CPU_FIELDS = ("tdp", "cores", "threads", "base_mhz", "year")
MIN_CPU_TDP_W = 1.0  # below this it is a microcontroller (Quark D1000: 0.03 W), not a CPU


@dataclass
class CpuRecord:
    """One source's row for one part, cleaned, before parts are merged."""

    raw: str
    source: str
    vendor: str = ""  # from the source when it says (AMD's exports, boaviztapi)
    tdp: float | None = None
    cores: int | None = None
    threads: int | None = None
    base_mhz: int | None = None
    year: int | None = None


def parse_mhz(text: str) -> int | None:
    """'2.30 GHz' -> 2300, '1000 MHz' -> 1000; implausible clocks (< 400 MHz) -> None."""
    match = re.fullmatch(r"\s*(?:up to\s*)?([\d.]+)\s*(ghz|mhz)\s*", (text or "").lower())
    if not match:
        return None
    mhz = float(match.group(1)) * (1000 if match.group(2) == "ghz" else 1)
    return round(mhz) if mhz >= 400 else None


def parse_launch_year(text: str) -> int | None:
    """Launch dates as the exports write them: "Q2'25", "04'16", "10/10/2024", "Q4 2023",
    "3Q 2016", "2Q18", "Q216", "Channel: 7/27/2017, OEM: 9/5/2016" (the earliest year)."""
    text = (text or "").strip()
    if not text:
        return None
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", text)]
    if years:
        return min(years)
    match = re.search(r"(\d\d)$", text)
    return 2000 + int(match.group(1)) if match else None


def parse_tdp(text: str) -> float | None:
    """'350W', '4.5W', '45+W', '155W / 170W', '35-54W', '10-25/25W' -> the largest figure
    (CodeCarbon's choice too: a TDP is an upper design figure)."""
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text or "")]
    return max(numbers) if numbers else None


def read_intel_ark(shared: Path) -> list[CpuRecord]:
    return [
        CpuRecord(
            r["cpu_name"],
            "intel-ark",
            "Intel",
            parse_tdp(r["tdp"]),
            parse_count(r["total_cores"]),
            None,
            parse_mhz(r["processor_base_frequency"]),
            parse_launch_year(r["launch_date"]),
        )
        for r in read_csv(require(shared, INTEL_ARK_FILE))
    ]


def read_amd_exports(shared: Path) -> list[CpuRecord]:
    records = []
    for relative in AMD_EXPORT_FILES:
        for r in read_csv(require(shared, relative)):
            records.append(
                CpuRecord(
                    r["Name"],
                    "amd",
                    "AMD",
                    parse_tdp(r["Default TDP"]),
                    parse_count(r["# of CPU Cores"]),
                    parse_count(r["# of Threads"]),
                    parse_mhz(r["Base Clock"]),
                    parse_launch_year(r["Launch Date"]),
                )
            )
    return records


def read_codecarbon_cpus(shared: Path) -> list[CpuRecord]:
    return [
        CpuRecord(r["Name"], "codecarbon", tdp=parse_tdp(r["TDP"]))
        for r in read_csv(require(shared, CODECARBON_CPU_FILE))
    ]


def read_ga_cpus(shared: Path) -> list[CpuRecord]:
    records = []
    for r in read_ga(require(shared, GA_CPU_FILE)):
        year = parse_count(r["Release_year"])
        records.append(
            CpuRecord(
                r["model"],
                "green-algorithms",
                tdp=parse_tdp(r["TDP"]),
                cores=parse_count(r["n_cores"]),
                year=year,
            )
        )
    return records


def read_eco2ai_cpus(shared: Path) -> list[CpuRecord]:
    # Its "Released" dates are left out: they are often years after the launch (the 2006
    # Xeon 5120 is dated 2009), so they look like dates the list's source first saw a part.
    return [
        CpuRecord(r["Model"], "eco2ai", tdp=parse_tdp(r["TDP"]), cores=parse_count(r["Cores"]))
        for r in read_csv(require(shared, ECO2AI_CPU_FILE))
    ]


def read_boavizta_cpus(shared: Path) -> tuple[list[CpuRecord], list[str]]:
    """Rows of boaviztapi's crowdsourced CPU table that cite a source other than a code
    repository (most cite TechPowerUp's CPU database); facts only."""
    records = []
    skipped = 0
    for r in read_csv(require(shared, BOAVIZTA_CPU_FILE)):
        cited = r["source"].strip()
        if not cited or "github.com" in cited:  # lists of names, not specifications
            skipped += 1
            continue
        date = r["release_date"].strip()
        records.append(
            CpuRecord(
                r["name"],
                "boavizta",
                r["manufacturer"].strip(),
                parse_tdp(r["tdp"]),
                parse_count(r["cores"]),
                parse_count(r["threads"]),
                parse_mhz(r["frequency"]),
                int(date[:4]) if re.match(r"(19|20)\d\d", date) else None,
            )
        )
    notes = [f"boaviztapi: {skipped} rows citing a code repository or nothing left out"]
    return records, notes


def display_cpu_name(raw: str, vendor: str) -> str:
    """The model name a row shows: trademarks, "Processor", "APU", "Nth Gen" and "with
    Radeon ... Graphics" dropped, the vendor's name once, at the front."""
    text = clean_model(raw)
    text = re.sub(r"\((?:R|TM|C)\)|[®™©]", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*\([^()]*\)", "", text)
    text = re.sub(r"\s+(?:with|w/)\s+(?:AMD\s+)?Radeon\b.*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(?:with|and)\s+(?:Near\s+Silent|Wraith)\b.*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b\d+(?:st|nd|rd|th)\s+Gen\b", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(?:Processor|APU)\b", "", text, flags=re.IGNORECASE)
    for name in dict.fromkeys((vendor, vendor.split()[0])):  # "Annapurna Labs" first
        text = re.sub(rf"\b{re.escape(name)}\b", "", text, flags=re.IGNORECASE)
    return " ".join(f"{vendor} {text}".split()).replace(" ,", ",")


@dataclass
class CpuPart:
    key: object  # hardware.CpuKey
    model: str
    vendor: str
    fields: dict[str, float | int | None]
    sources: list[str]


def merge_cpu_records(hardware, groups: list[list[CpuRecord]]) -> tuple[list[CpuPart], list[str]]:
    """One part per distinct key, sources taken in precedence order. A later source fills
    what the part lacks and never overrides; a different TDP is reported as a conflict."""
    parts: dict[object, CpuPart] = {}
    by_rest: dict[tuple, list[CpuPart]] = {}
    notes: list[str] = []
    conflicts: list[str] = []
    generic: list[str] = []
    no_vendor: list[str] = []
    frequency_named: list[str] = []
    core_mismatch: list[str] = []
    added: dict[str, int] = {}
    for records in groups:
        for rec in records:
            if not rec.raw.strip():
                continue
            if hardware.is_generic_cpu(rec.raw):
                generic.append(f"{rec.source}:{clean_model(rec.raw)}")
                continue
            key = hardware.cpu_key(rec.raw)
            vendor = key.vendor or rec.vendor
            if not vendor:
                no_vendor.append(f"{rec.source}:{clean_model(rec.raw)}")
                continue
            if key.vendor != vendor:
                key = type(key)(vendor, key.family, key.tier, key.words)
            if not any(
                any(c.isdigit() for c in w) and not re.fullmatch(r"\d+\.\d+\w?", w)
                for w in key.words
            ):
                frequency_named.append(f"{rec.source}:{clean_model(rec.raw)}")
                continue
            part = parts.get(key)
            if part is None:  # the same part written with or without a Xeon/Pentium tier?
                rest = (key.vendor, key.family, key.words)
                others = [p for p in by_rest.get(rest, []) if p.key.tier != key.tier]
                if len(others) == 1 and (
                    rec.tdp is None or others[0].fields["tdp"] in (None, rec.tdp)
                ):
                    part = others[0]
            if part is None:
                model = display_cpu_name(rec.raw, vendor)
                if hardware.cpu_key(model).words != key.words:
                    model = clean_model(rec.raw)
                part = CpuPart(key, model, vendor, dict.fromkeys(CPU_FIELDS), [])
                parts[key] = part
                by_rest.setdefault((key.vendor, key.family, key.words), []).append(part)
                added[rec.source] = added.get(rec.source, 0) + 1
            values = {
                "tdp": rec.tdp,
                "cores": rec.cores,
                "threads": rec.threads,
                "base_mhz": rec.base_mhz,
                "year": rec.year,
            }
            if values["tdp"] is not None and values["tdp"] < MIN_CPU_TDP_W:
                values["tdp"] = None
            have = part.fields
            if (
                values["cores"] is not None
                and have["cores"] is not None
                and values["cores"] != have["cores"]
            ):
                core_mismatch.append(
                    f"{part.model}: {have['cores']} cores, {rec.source} says {values['cores']}"
                )
                values = {"tdp": values["tdp"]}  # its threads/clock may be another part's
            if (
                values["tdp"] is not None
                and have["tdp"] is not None
                and values["tdp"] != have["tdp"]
                and part.sources[0] != rec.source
            ):
                conflicts.append(
                    f"{part.model}: kept {trimmed(have['tdp'])} W ({part.sources[0]}), "
                    f"{rec.source} {trimmed(values['tdp'])} W"
                )
            gave = False
            for name, value in values.items():
                if value is not None and have[name] is None:
                    have[name] = value
                    gave = True
            if gave and rec.source not in part.sources:
                part.sources.append(rec.source)
    kept = [p for p in parts.values() if p.fields["tdp"] is not None]
    notes.append(
        "parts first seen per source: "
        + ", ".join(f"{s} {n}" for s, n in added.items())
        + f"; {len(parts) - len(kept)} parts left out for want of a TDP"
    )
    notes.append(f"{len(generic)} generic names skipped: {', '.join(sorted(set(generic)))}")
    notes.append(
        f"{len(no_vendor)} names without a vendor or family skipped: "
        + ", ".join(sorted(set(no_vendor)))
    )
    notes.append(
        f"{len(frequency_named)} parts named only by a clock speed skipped (no brand string "
        "names them): " + ", ".join(sorted(set(frequency_named)))
    )
    notes.append(
        f"{len(core_mismatch)} core counts disagree (the first source's kept, the other's "
        "threads and clock not used): " + "; ".join(core_mismatch)
    )
    notes.append(f"{len(conflicts)} TDP conflicts (first source kept): " + "; ".join(conflicts))
    return kept, notes


def cpu_number(hardware, model: str, vendor: str, family: str) -> str:
    """The model number as the name writes it: the name less vendor, family and tier."""
    drop = {vendor.lower(), *vendor.lower().split(), *family.lower().split(), "phi"}
    key = hardware.cpu_key(model)
    if key.tier:
        drop.add(key.tier)
    words = [w for w in model.split() if w.lower() not in drop]
    return " ".join(words)


def build_cpus(shared: Path) -> Table:
    hardware = hardware_module()
    boavizta, notes = read_boavizta_cpus(shared)
    groups = [
        read_intel_ark(shared),
        read_amd_exports(shared),
        read_codecarbon_cpus(shared),
        read_ga_cpus(shared),
        read_eco2ai_cpus(shared),
        boavizta,
    ]
    parts, merge_notes = merge_cpu_records(hardware, groups)
    notes.extend(merge_notes)
    body = []
    for p in parts:
        f = p.fields
        sources = [s for s in CPU_SOURCES if s in p.sources]
        licenses = list(dict.fromkeys(CPU_SOURCES[s][0] for s in sources))
        body.append(
            (
                p.model,
                p.vendor,
                p.key.family,
                cpu_number(hardware, p.model, p.vendor, p.key.family),
                trimmed(f["tdp"]),
                "" if f["cores"] is None else str(f["cores"]),
                "" if f["threads"] is None else str(f["threads"]),
                "" if f["base_mhz"] is None else str(f["base_mhz"]),
                "" if f["year"] is None else str(f["year"]),
                ";".join(sources),
                ";".join(licenses),
            )
        )
    body.sort(key=lambda r: (r[0].casefold(), r[0]))
    models = [r[0] for r in body]
    if len(models) != len(set(models)):
        raise ValueError("two parts share a model name")
    return Table(f"{METERS_DATA}/cpus.csv", csv_text(CPU_COLUMNS, body), len(body), notes)
