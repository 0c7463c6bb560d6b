"""A project's badge, shields-style: "CO2eq" on the left, its emissions on the right."""

from __future__ import annotations

from xml.sax.saxutils import escape


def label(kg: float | None) -> str:
    if kg is None:
        return "unknown"
    if kg >= 1000:
        return f"{kg / 1000:.1f} t"
    if kg >= 1:
        return f"{kg:.1f} kg"
    return f"{kg * 1000:.3g} g"


def svg(kg: float | None) -> str:
    left, right = "CO2eq", label(kg)
    lw, rw = 8 + 7 * len(left), 10 + 7 * len(right)  # ~7 px a character in 11 px Verdana
    w = lw + rw
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
        f'aria-label="{escape(left)}: {escape(right)}"><title>{escape(left)}: {escape(right)}'
        f'</title><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="#2e7d32"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2}" y="14" text-anchor="middle">{escape(left)}</text>'
        f'<text x="{lw + rw / 2}" y="14" text-anchor="middle">{escape(right)}</text></g></svg>'
    )
