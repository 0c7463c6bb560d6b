"""What a CPU or GPU model is: TDP, cores, threads, memory, idle power, launch year.

Two packaged tables, built by ``tools/build_data.py`` from public data (each row names its
source and license; see ``carbon/data/DATA_LICENSES.md``):

``meters/data/cpus.csv``
    ``model, vendor, family, number, tdp_w, cores, threads, base_mhz, launch_year, source,
    license``
``meters/data/gpus.csv``
    ``model, vendor, tdp_w, idle_w, memory_gb, launch_year, source, license``

Lookups take the strings machines report (``/proc/cpuinfo`` brand strings, NVML and amdsmi
device names) as well as the shorter names people and benchmark reports write
("AMD EPYC 9654", "Intel Xeon E5-2699 v4", "H100", "A100 PCIe").

Cost: nothing is read at import. A lookup reads the table's bytes, finds the few lines that
contain the model number and parses only those (about a millisecond, cold, for either
table), so a tracker's start pays a few milliseconds at most and nothing stays in memory
afterwards.

CPU matching
------------
A name is reduced to a key (:func:`normalise_cpu` shows it): lower case; trademarks, "CPU",
"Processor", "APU", "@ 2.30GHz", "N-Core", "11th Gen", "with Radeon Graphics", a boxed cooler
("with Wraith cooler") and anything in parentheses dropped; the vendor word (Intel, AMD, ...)
and the family word (Xeon, EPYC, Core, Ryzen, ...) set aside; "v3" joined to the number before
it ("E5-2680 v3" and "E5-2680V3" are the same), likewise AMD's "HE"/"EE" suffixes and Intel's
"i7 610E" spelling. What is left (the model number with every suffix letter, and words such as
"PRO", "Ultra", "M", "X2") must then be *equal* to a table row's, within the same family (and
vendor): ``8380`` never matches ``8380H``, ``7713``
never ``7713P``, ``i7-1185G7`` never ``i7-1185G7E``.

Xeon Scalable tiers (Platinum, Gold, Silver, Bronze; Gold/Silver for Pentium) are the one thing
that may be missing: "Intel Xeon 8480+" (as SPECpower writes it) finds "Intel Xeon Platinum
8480+". A name without a tier prefers a row without one ("Intel Xeon 5120" is the 2006 part,
not the Gold 5120) and gives up if several tiers fit. A name with a tier only falls back to a
row without one when that row was launched in 2017 or later, when tiers already existed (Xeon 6
parts have none: "Xeon Gold 6780E" is the Xeon 6780E).

Strings that name no particular part (a hypervisor's "Common KVM processor", "QEMU Virtual CPU
version 2.5+", "Intel Xeon Processor (Icelake)", "AMD EPYC Processor", a bare "Intel(R)
Xeon(R) CPU @ 2.20GHz", an ARM core design such as "Neoverse-N1") are generic:
:func:`is_generic_cpu` says so and :func:`find_cpu` returns None for them.

GPU matching
------------
A GPU name is split into words (hyphens too: "A100-SXM4-40GB"); the vendor and product-line
words (NVIDIA, AMD, Intel, Tesla, GeForce, Quadro, Radeon, Instinct, "Tensor Core", "GPU")
are dropped and "Laptop GPU" is read as "Mobile". Three kinds of word describe a *variant* of a
model rather than another model and are set aside: the form factor (SXM, SXM2-5, PCIe), the
memory size ("80GB", "40 GB") and the memory type (HBM3, HBM2e, GDDR6). The remaining words
(the base model: "h100", "rtx 4090 d", "h100 nvl", "rtx 3080 mobile") must equal a row's, so
"Ti", "D", "NVL", "Mobile" or "Max-Q" always make another model.

Among the rows of that base model, the variant is chosen by narrowing in turn on the form
factor (exact, like SXM4, then the kind, SXM), the memory size and the memory type the name
gives; a step that no row satisfies is skipped, so an unknown variant falls back to the base
model. If several rows remain, the first of them in this order wins: rows from vendor
datasheets, earliest launch year, SXM before PCIe, smallest memory. So:

- "NVIDIA H100 80GB HBM3" (how NVML names the SXM5 board) is the H100 SXM5 80 GB, 700 W,
  and "NVIDIA H100 PCIe" the H100 PCIe 80 GB, 350 W; "H100 NVL" is a model of its own.
- "NVIDIA A100-SXM4-40GB" is the A100 SXM4 40 GB (400 W), "NVIDIA A100 80GB PCIe" the
  A100 PCIe 80 GB (300 W), and a bare "A100 PCIe" the first PCIe card, 40 GB, 250 W.
- A bare "H100", "A100" or "V100" is the SXM board launched first.

A name that lists two models (amdsmi's "AMD Instinct MI250X / MI250") is tried part by part,
first to last.
"""

from __future__ import annotations

import csv
import re
from collections import namedtuple
from pathlib import Path
from typing import NamedTuple

_DATA = Path(__file__).parent / "meters" / "data"
CPU_TABLE = _DATA / "cpus.csv"
GPU_TABLE = _DATA / "gpus.csv"

# Tiers appeared with Xeon Scalable (2017): an untiered row from before then is another part.
TIERS_SINCE = 2017

# ------------------------------------------------------------------------------------------
# CPU names

_TRADEMARKS = re.compile(r"\((?:r|tm|c)\)|[®™©\u200b\u200c\u200d\u2060\ufeff]")
_PARENS = re.compile(r"\([^()]*\)")
_NOISE_TAIL = re.compile(
    r"@.*$"  # "@ 2.30GHz"
    r"|\b(?:with|w/)\s+(?:amd\s+)?radeon\b.*$"  # "with Radeon Graphics", "w/ Radeon 780M ..."
    r"|\b(?:with|and)\s+(?:near\s+silent|wraith)\b.*$"  # the boxed cooler: the same chip
)
_NOISE_PHRASES = re.compile(
    r"\b\d+(?:\.\d+)?\s*[gm]hz\b"  # a frequency without "@"
    r"|\b\d+(?:st|nd|rd|th)\s+gen(?:eration)?\b"  # "11th Gen", "7th Gen"
    r"|\b(?:\d+|single|dual|triple|quad|six|eight|ten|twelve|sixteen)[- ]cores?\b"
)
# Hypervisor models, placeholders ("E312xx", "Opteron 62xx class") and ARM core designs
# (a "Neoverse-N1" or "Cortex-A72" is in many chips).
_VIRTUAL = re.compile(
    r"qemu|kvm|bochs|virtual|hypervisor|\bversion\b|\bclass\b|\d+xx\b|\bxx\d*\b"
    r"|neoverse|cortex|\barmv\d",
    re.IGNORECASE,
)
_NOISE_WORDS = frozenset(
    "cpu cpus processor processors apu soc genuine genuineintel authenticamd coprocessor "
    "x-series labs computing".split()
)
_VENDORS = {
    "intel": "Intel",
    "amd": "AMD",
    "ampere": "Ampere",
    "apple": "Apple",
    "nvidia": "NVIDIA",
    "hygon": "Hygon",
    "annapurna": "Annapurna Labs",
    "google": "Google",
}
# family word -> (family, vendor); looked for in this order
_FAMILIES = (
    ("threadripper", "Ryzen Threadripper", "AMD"),
    ("ryzen", "Ryzen", "AMD"),
    ("epyc", "EPYC", "AMD"),
    ("opteron", "Opteron", "AMD"),
    ("athlon", "Athlon", "AMD"),
    ("phenom", "Phenom", "AMD"),
    ("sempron", "Sempron", "AMD"),
    ("turion", "Turion", "AMD"),
    ("duron", "Duron", "AMD"),
    ("xeon", "Xeon", "Intel"),
    ("core", "Core", "Intel"),
    ("pentium", "Pentium", "Intel"),
    ("celeron", "Celeron", "Intel"),
    ("atom", "Atom", "Intel"),
    ("quark", "Quark", "Intel"),
    ("itanium", "Itanium", "Intel"),
    ("altra", "Altra", "Ampere"),
)
_FAMILY_WORDS = {word: (family, vendor) for word, family, vendor in _FAMILIES}
_TIERS = {
    "Xeon": frozenset({"platinum", "gold", "silver", "bronze"}),
    "Pentium": frozenset({"gold", "silver"}),
}
# "A10-7800", "E1-2200", "FX-8350": AMD names that carry no vendor or family word
_AMD_BARE = re.compile(r"^(?:a\d{1,2}|e\d|fx)(?:-\d|$)")
# Part names without a digit that still name one part.
_NAMED_PARTS = frozenset({"grace"})


# The keys are named tuples, not dataclasses: cheaper to define at import.
class CpuKey(namedtuple("CpuKey", "vendor family tier words")):
    """vendor ("" when the name does not say), family ("" without a family word), tier (""
    or "platinum", "gold", ...), words (the rest, sorted: model number, suffixes,
    qualifiers)."""

    __slots__ = ()

    def text(self) -> str:
        head = [self.vendor.lower(), self.family.lower(), self.tier]
        return " ".join(w for w in (*head, *self.words) if w)


def _cpu_words(brand: str) -> list[str]:
    text = _TRADEMARKS.sub(" ", brand.lower())
    text = _NOISE_TAIL.sub(" ", text)
    text = _PARENS.sub(" ", text)
    text = _NOISE_PHRASES.sub(" ", text)
    text = re.sub(r"\bcore2\b", "core 2", text)
    text = re.sub(r"[,;:\"'!?*/]", " ", text)
    words = [w.strip(".-") for w in text.split()]
    words = [w for w in words if w and w not in _NOISE_WORDS]
    out: list[str] = []
    for i, word in enumerate(words):
        if (
            out
            and re.fullmatch(r"v\d+", word)
            and out[-1][-1:].isalnum()
            and any(c.isdigit() for c in out[-1])
        ):  # "E5-2680 v3" -> "e5-2680v3"
            out[-1] += word
        elif out and word in ("he", "ee", "se") and out[-1][-1:].isdigit():  # "8376 HE"
            out[-1] += word
        elif out and re.fullmatch(r"i[3579]", out[-1]) and word[:1].isdigit():  # "i7 610E"
            out[-1] += "-" + word
        elif (
            len(word) == 1
            and i + 1 < len(words)
            and words[i + 1].startswith(word + "-")  # "Xeon E E-2488"
        ):
            continue
        else:
            out.append(word)
    return out


def cpu_key(brand: str) -> CpuKey:
    """The parts of a CPU name that matching compares (see the module docstring)."""
    words = _cpu_words(brand)
    vendor = ""
    for word in words:
        if word in _VENDORS:
            vendor = _VENDORS[word]
            break
    family = ""
    for word, fam, fam_vendor in _FAMILIES:
        if word in words:
            family = fam
            vendor = vendor or fam_vendor
            break
    if family == "Xeon" and "phi" in words:
        family = "Xeon Phi"
    tiers = _TIERS.get(family, frozenset())
    tier = ""
    rest = []
    for word in words:
        if word in _VENDORS or word in _FAMILY_WORDS or (family == "Xeon Phi" and word == "phi"):
            continue
        if word in tiers and not tier:
            tier = word
            continue
        rest.append(word)
    if not vendor and rest and _AMD_BARE.match(rest[0]):
        vendor = "AMD"
    return CpuKey(vendor, family, tier, tuple(sorted(rest)))


def normalise_cpu(brand: str) -> str:
    """The lower-case key a CPU name is matched on: "Intel(R) Xeon(R) Platinum 8380 CPU @
    2.30GHz" -> "intel xeon platinum 8380"; "AMD EPYC 7763 64-Core Processor" -> "amd epyc
    7763" (the words after vendor, family and tier are sorted)."""
    return cpu_key(brand).text()


def is_generic_cpu(brand: str) -> bool:
    """True for names that identify no particular part: hypervisor models ("Common KVM
    processor", "QEMU Virtual CPU version 2.5+", "Intel Xeon E312xx (Sandy Bridge)"), ARM
    core designs ("Neoverse-N1", "Cortex-A72": in many chips), and
    names left with no model number once vendor, family and filler are gone ("Intel(R) Xeon(R)
    Processor", "AMD EPYC Processor", "Intel Xeon Processor (Icelake)", "Intel(R) Xeon(R) CPU
    @ 2.20GHz", "AMD EPYC-Rome Processor")."""
    if not brand or not brand.strip() or _VIRTUAL.search(brand):
        return True
    key = cpu_key(brand)
    return not any(any(c.isdigit() for c in w) or w in _NAMED_PARTS for w in key.words)


class CpuSpec(NamedTuple):
    model: str
    vendor: str
    family: str
    tdp_w: float | None
    cores: int | None
    threads: int | None
    base_mhz: int | None
    launch_year: int | None
    source: str
    license: str


def _int(text: str) -> int | None:
    return int(text) if text else None


def _float(text: str) -> float | None:
    return float(text) if text else None


def _needle(words: tuple[str, ...]) -> bytes:
    """The longest digit run of the words (or the longest word): what the table lines that
    can match must contain."""
    runs = [run for w in words for run in re.findall(r"\d+", w)]
    return max(runs or words, key=len).encode()


def _lines_with(path: Path, needle: bytes) -> list[list[str]]:
    """The parsed CSV rows of ``path`` whose line contains ``needle`` (ASCII, any case)."""
    # Not cached: a lookup happens once per device at a tracker's start, and the tables are
    # larger than everything else the tracker keeps.
    data = path.read_bytes()
    pattern = re.compile(re.escape(needle), re.IGNORECASE)
    rows: list[list[str]] = []
    last = -1
    for match in pattern.finditer(data):
        begin = data.rfind(b"\n", 0, match.start()) + 1
        if begin == 0 or begin == last:
            continue  # the header, or the same line again
        last = begin
        end = data.find(b"\n", match.end())
        line = data[begin : len(data) if end == -1 else end].decode("utf-8")
        rows.extend(csv.reader([line]))
    return rows


def _cpu_spec(row: list[str]) -> CpuSpec:
    model, vendor, family, _number, tdp, cores, threads, base, year, source, lic = row
    return CpuSpec(
        model,
        vendor,
        family,
        _float(tdp),
        _int(cores),
        _int(threads),
        _int(base),
        _int(year),
        source,
        lic,
    )


def pick_cpu(key: CpuKey, rows: list[tuple[CpuKey, CpuSpec]]) -> CpuSpec | None:
    """The one row for ``key`` among candidate rows (each with its own key), or None."""
    same = [
        (k, spec)
        for k, spec in rows
        if k.family == key.family
        and k.words == key.words
        and (not key.vendor or not k.vendor or k.vendor == key.vendor)
    ]
    if not same:
        return None
    exact = [spec for k, spec in same if k.tier == key.tier]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        return None  # the table has one row per part; two would be ambiguous
    if not key.tier:
        tiers = {k.tier for k, _ in same}
        return same[0][1] if len(same) == 1 and len(tiers) == 1 else None
    untiered = [
        spec
        for k, spec in same
        if not k.tier and spec.launch_year is not None and spec.launch_year >= TIERS_SINCE
    ]
    return untiered[0] if len(untiered) == 1 else None


def find_cpu(brand: str) -> CpuSpec | None:
    """The table row for a CPU name, or None when the name is generic or not in the table.

    Takes ``/proc/cpuinfo`` brand strings ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz",
    "AMD EPYC 7763 64-Core Processor") and plain names ("Intel Xeon E5-2699 v4", "AMD Opteron
    2384", SPECpower's "CPU Description"). A near miss never matches another part.
    """
    if is_generic_cpu(brand):
        return None
    key = cpu_key(brand)
    candidates = [
        (cpu_key(row[0]), _cpu_spec(row))
        for row in _lines_with(CPU_TABLE, _needle(key.words))
        if len(row) == 11
    ]
    return pick_cpu(key, candidates)


# ------------------------------------------------------------------------------------------
# GPU names

_GPU_DROP = frozenset(
    "nvidia amd ati intel tesla geforce quadro radeon instinct graphics gpu tensor corporation "
    "accelerator board".split()
)
_GPU_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(?:gb|gib)$")
_GPU_MEMORY_TYPE = re.compile(r"^(?:hbm\d?e?|gddr\d+x?)$")
_GPU_FORM = re.compile(r"^(sxm\d?|pcie|oam)$")
_GPU_VENDOR_WORDS = {
    "nvidia": "NVIDIA",
    "tesla": "NVIDIA",
    "geforce": "NVIDIA",
    "quadro": "NVIDIA",
    "amd": "AMD",
    "ati": "AMD",
    "radeon": "AMD",
    "instinct": "AMD",
    "intel": "Intel",
}


# vendor, words (the base model, in order), form ("" or "sxm4", "pcie", ...), memory_gb
# (None when the name gives none) and memory_type ("" or "hbm3", "gddr6", ...)
GpuKey = namedtuple("GpuKey", "vendor words form memory_gb memory_type")


def gpu_key(name: str) -> GpuKey:
    """The parts of a GPU name that matching compares (see the module docstring)."""
    text = _TRADEMARKS.sub(" ", name.lower())
    text = _PARENS.sub(" ", text)
    text = re.sub(r"\blaptop gpu\b", "mobile", text)
    text = re.sub(r"\bpci[- ]?e(?:xpress)?\b", "pcie", text)
    text = re.sub(r"\bcore\b", " ", text) if "tensor" in text else text
    text = re.sub(r"(\d+(?:\.\d+)?)\s+(gb|gib)\b", r"\1\2", text)  # "80 GB" -> "80gb"
    words = re.sub(r"[-_,;:/\"'!?*]", " ", text).split()
    vendor = ""
    base: list[str] = []
    form = memory_type = ""
    memory: float | None = None
    for word in words:
        vendor = vendor or _GPU_VENDOR_WORDS.get(word, "")
        if word in _GPU_DROP:
            continue
        m = _GPU_MEMORY.match(word)
        if m and memory is None:
            memory = float(m.group(1))
        elif _GPU_MEMORY_TYPE.match(word) and not memory_type:
            memory_type = word
        elif _GPU_FORM.match(word) and not form:
            form = word
        else:
            base.append(word)
    return GpuKey(vendor, tuple(base), form, memory, memory_type)


class GpuSpec(NamedTuple):
    model: str
    vendor: str
    tdp_w: float | None
    idle_w: float | None
    memory_gb: float | None
    launch_year: int | None
    source: str
    license: str


def _gpu_spec(row: list[str]) -> GpuSpec:
    model, vendor, tdp, idle, memory, year, source, lic = row
    return GpuSpec(
        model, vendor, _float(tdp), _float(idle), _float(memory), _int(year), source, lic
    )


_VENDOR_SOURCES = ("nvidia", "amd", "intel")  # source ids of vendor datasheet rows


def _preference(item: tuple[GpuKey, GpuSpec]) -> tuple:
    key, spec = item
    vendor_sheet = spec.source.split(";")[0] in _VENDOR_SOURCES
    return (
        not vendor_sheet,
        spec.launch_year or 9999,
        not key.form.startswith("sxm"),
        spec.memory_gb or 0.0,
    )


def pick_gpu(key: GpuKey, rows: list[tuple[GpuKey, GpuSpec]]) -> GpuSpec | None:
    """The row for ``key`` among candidate rows (each with its own key), or None."""
    same = [
        (k, spec)
        for k, spec in rows
        if k.words == key.words and (not key.vendor or spec.vendor == key.vendor)
    ]
    if not same:
        return None
    steps = []
    if key.form:
        kind = key.form.rstrip("0123456789")
        steps.append(lambda k, s: k.form == key.form)
        steps.append(lambda k, s: k.form.rstrip("0123456789") == kind)
    if key.memory_gb is not None:
        steps.append(lambda k, s: s.memory_gb == key.memory_gb)
    if key.memory_type:
        steps.append(lambda k, s: k.memory_type == key.memory_type)
    for step in steps:
        narrowed = [item for item in same if step(*item)]
        if narrowed:
            same = narrowed
    return min(same, key=_preference)[1]


def _gpu_parts(name: str) -> list[str]:
    """ "AMD Instinct MI250X / MI250" -> ["AMD Instinct MI250X", "AMD Instinct MI250"]."""
    if "/" not in name:
        return [name]
    first, *others = (p.strip() for p in name.split("/"))
    head = first.rsplit(" ", 1)[0] if " " in first else ""
    return [first] + [f"{head} {p}" if head and " " not in p else p for p in others if p]


def find_gpu(name: str) -> GpuSpec | None:
    """The table row for a GPU name, or None.

    Takes NVML names ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB", "Tesla
    V100-SXM2-16GB", "NVIDIA L4"), amdsmi market names ("AMD Instinct MI300X") and short
    names ("H100", "A100 PCIe"). How a variant is chosen: see the module docstring.
    """
    for part in _gpu_parts(name or ""):
        key = gpu_key(part)
        if not key.words:
            continue
        candidates = [
            (gpu_key(row[0]), _gpu_spec(row))
            for row in _lines_with(GPU_TABLE, _needle(key.words))
            if len(row) == 8
        ]
        spec = pick_gpu(key, candidates)
        if spec is not None:
            return spec
    return None
