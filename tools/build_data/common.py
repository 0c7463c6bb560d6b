"""What every table builder shares: the repository's paths, the upstream versions, the
``Table`` a builder returns, deterministic CSV text and number formatting, and the readers of
raw files several tables use."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = REPO.parent / "shared" / "data"

CARBON_DATA = "src/wattprint/carbon/data"
METERS_DATA = "src/wattprint/meters/data"

# Versions of the upstream packages the raw files were copied from (see shared/data/SOURCES.md).
CO2JS_VERSION = "0.19.0"
CODECARBON_VERSION = "3.3.2"
FACTS = "facts"  # license entry for facts (a place, a zone key, a TDP) cited from a source
# Cloud Carbon Footprint's packages: GPU idle power (gpus) and cloud PUE (cloud) come from them.
CCF_DIR = "cloud-carbon-footprint/packages"


@dataclass
class Table:
    """One generated file: where it goes, its text, and what the build noticed on the way."""

    path: str  # relative to the repository root
    text: str
    rows: int = 0
    notes: list[str] = field(default_factory=list)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV with ``\\n`` line endings and minimal quoting."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def fixed(value: float, places: int = 2) -> str:
    """A number with exactly ``places`` decimals (``550`` -> ``550.00``)."""
    return f"{value:.{places}f}"


def trimmed(value: float, places: int = 2) -> str:
    """A number rounded to ``places`` decimals without trailing zeros (``280.0`` -> ``280``)."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def require(shared: Path, relative: str) -> Path:
    path = shared / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; point --shared at the folder that holds the raw public data"
        )
    return path


def read_ga(path: Path) -> list[dict[str, str]]:
    """A Green Algorithms CSV: a first line of notes, then the header."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        fh.readline()
        return list(csv.DictReader(fh))


def parse_count(text: str) -> int | None:
    """'64', '64.0' -> 64; '' or '0' -> None."""
    text = (text or "").strip()
    if not re.fullmatch(r"\d+(\.0+)?", text):
        return None
    return int(float(text)) or None


def parse_number(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if re.fullmatch(r"\d+(?:\.\d+)?", text) else None


def decile_bounds(values: Sequence[float]) -> tuple[float, float]:
    """The 10th and 90th percentiles (linear interpolation between the closest ranks, as
    ``statistics.quantiles(method="inclusive")``): the spread of the hours behind a mean."""
    if len(values) < 2:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return cuts[0], cuts[-1]


def year_span(years: Iterable[int]) -> str:
    ordered = sorted(years)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}-{ordered[-1]}"
    return ";".join(str(y) for y in ordered)
