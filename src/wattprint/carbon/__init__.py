"""Where and when code ran, and the carbon intensity of its electricity.

``intensity()`` and ``Intensity`` live in ``grid.py``: a module named ``intensity`` would be
hidden by the function of the same name.
"""

from .grid import Intensity, intensity
from .location import Location, locate

__all__ = ["Intensity", "Location", "intensity", "locate"]
