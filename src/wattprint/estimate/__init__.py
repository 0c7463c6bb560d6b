"""Whole-machine power where nothing measures it: CPU, RAM and the rest of the machine.

The model is calibrated on SPECpower_ssj2008 wall-power results (full load and active idle) and
shipped as coefficients in ``data/power_model.json``, written by ``tools/fit_power_model.py``.
Importing this package reads nothing; the coefficients are loaded on the first estimate.

    from wattprint.estimate import machine_power

    p = machine_power("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", 2, 160, 512, 0.6)
    p.machine_w, p.machine_low_w, p.machine_high_w   # watts at the wall, with bounds
    p.cpu_w, p.ram_w, p.platform_w                   # the same split into components
"""

from __future__ import annotations

from .model import (
    ComponentPower,
    MachineCurve,
    PowerEstimate,
    component_split,
    load_model,
    machine_curve,
    machine_power,
)

__all__ = [
    "ComponentPower",
    "MachineCurve",
    "PowerEstimate",
    "component_split",
    "load_model",
    "machine_curve",
    "machine_power",
]
