"""The command line: ``python tools/build_data.py`` (or ``python -m tools.build_data``) writes
the tables, ``--check`` says whether the committed ones are stale, ``--crosscheck`` compares the
country intensities with the OWID-derived copies."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .common import DEFAULT_SHARED, REPO
from .crosscheck import crosscheck
from .driver import build_tables

DESCRIPTION = (
    "Build wattprint's packaged data tables from the raw public data in ``../shared/data``."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help=f"folder with the raw public data (default: {DEFAULT_SHARED})",
    )
    parser.add_argument(
        "--crosscheck",
        action="store_true",
        help="compare country intensities with the OWID-derived copies; writes nothing",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a committed table differs from what the build gives; writes nothing",
    )
    args = parser.parse_args(argv)
    shared: Path = args.shared
    if not shared.is_dir():
        parser.error(f"{shared} is not a folder; pass --shared PATH to the raw public data")

    if args.crosscheck:
        print(crosscheck(shared))
        return 0

    tables = build_tables(shared)
    stale = []
    for path, table in tables.items():
        target = REPO / path
        current = target.read_bytes() if target.is_file() else None
        data = table.text.encode("utf-8")
        status = "unchanged" if current == data else ("stale" if args.check else "written")
        if current != data:
            stale.append(path)
            if not args.check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        print(f"{path}: {table.rows or '-'} rows, {status}")
        for note in table.notes:
            print(f"  - {note}")
    if args.check and stale:
        print(f"{len(stale)} table(s) out of date; run python tools/build_data.py", file=sys.stderr)
        return 1
    return 0
