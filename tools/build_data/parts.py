"""Names of hardware parts: cleaning raw names, and the code (``wattprint.hardware``) that
keys them as the lookups do."""

from __future__ import annotations

import sys

from .common import REPO

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_model(name: str) -> str:
    """Strip whitespace, drop zero-width characters and collapse runs of spaces (NBSP too)."""
    return " ".join(name.translate(_INVISIBLE).split())


def hardware_module():
    """``wattprint.hardware``: the tables' keys come from the same code as the lookups."""
    src = str(REPO / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    from wattprint import hardware

    return hardware
