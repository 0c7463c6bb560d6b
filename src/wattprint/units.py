"""Numbers for people: each figure in the unit that makes it a short decimal.

One place for every text that shows an energy, a mass of CO2e, a power, an intensity, a
duration or a real-world equivalent (the terminal, the HTML report, a run's text summary), so
that no ``1.04e+03 J`` or ``3.96e-07 smartphone`` reaches a reader. Machine outputs (CSV, JSON)
keep their SI or CodeCarbon units and full precision; this is only for reading.
"""

from __future__ import annotations

import math

J_PER_KWH = 3.6e6
#: Each quantity's units, largest first, with how many of the base unit each is.
ENERGY_J = ((3.6e9, "MWh"), (3.6e6, "kWh"), (3600.0, "Wh"), (1.0, "J"))
MASS_G = ((1e6, "t"), (1e3, "kg"), (1.0, "g"), (1e-3, "mg"))
POWER_W = ((1e6, "MW"), (1e3, "kW"), (1.0, "W"))
DURATION_S = ((86400.0, "days"), (3600.0, "h"), (60.0, "min"), (1.0, "s"))
DISTANCE_KM = ((1.0, "km"), (1e-3, "m"), (1e-5, "cm"))


def number(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits as a plain decimal: never an exponent,
    no trailing zeros, thousands separated from 10,000 on."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    value = round(value, digits - 1 - magnitude)  # 1043 -> 1040, 2525253 -> 2530000
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))  # 9.996 -> 10.0: one digit more before "."
    decimals = max(digits - 1 - magnitude, 0)
    text = f"{value:,.{decimals}f}" if abs(value) >= 10_000 else f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def scaled(value: float, ladder: tuple[tuple[float, str], ...], digits: int = 3) -> str:
    """``value`` (in the ladder's base unit) in the largest unit it is at least one of."""
    for size, unit in ladder:
        if abs(value) >= size:
            return f"{number(value / size, digits)} {unit}"
    size, unit = ladder[-1]
    return f"{number(value / size, digits)} {unit}"


def energy(kwh: float) -> str:
    return scaled(kwh * J_PER_KWH, ENERGY_J)


def mass(kg: float) -> str:
    return scaled(kg * 1e3, MASS_G)


def power(watts: float) -> str:
    return scaled(watts, POWER_W)


def intensity(g_per_kwh: float) -> str:
    return f"{number(g_per_kwh)} g/kWh"


def duration(seconds: float) -> str:
    if abs(seconds) < 60:
        return f"{number(seconds, 2)} s"
    return scaled(seconds, DURATION_S, digits=2)


def share(fraction: float, what: str, plural: str) -> str:
    """A count of things at a human scale: "3.2 smartphones", "4.1 % of a smartphone",
    "1 in 3,400 smartphones"."""
    if fraction >= 1:
        return f"{number(fraction, 2)} {plural if fraction >= 1.005 else what}"
    if fraction >= 0.01:
        return f"{number(fraction * 100, 2)} % of a {what}"
    if fraction <= 0:
        return f"0 {plural}"
    return f"1 in {number(1 / fraction, 2)} {plural}"


#: Unit of an equivalents factor (report/data/equivalents.csv's ``per``) -> how to show it.
def equivalent(amount: float, unit: str, label: str) -> tuple[str, str]:
    """An equivalent's amount and label, scaled: (``"9.7 m"``, ``"distance by car (EU)"``),
    (``"1 in 3,400 smartphones"``, ``"smartphone manufacture"``), (``"2.1 s"``, ``"a US
    household's home energy"``)."""
    if unit in ("km", "passenger-km"):
        return scaled(amount, DISTANCE_KM), label
    if unit in ("hour", "day"):
        seconds = amount * (3600.0 if unit == "hour" else 86400.0)
        for prefix in ("days of ", "hours of "):
            if label.startswith(prefix):
                label = label[len(prefix) :]
        return duration(seconds), label
    if unit == "smartphone":
        return share(amount, "smartphone", "smartphones"), label
    return f"{number(amount)} {unit}", label


def energy_text(kwh: float | None) -> str:
    """An energy in kWh as text; a figure that could not be measured says so (never 0)."""
    return "not measured" if kwh is None else energy(kwh)


def mass_text(kg: float | None) -> str:
    """A mass in kg as text; an unknown one is ``?``."""
    return "?" if kg is None else mass(kg)
