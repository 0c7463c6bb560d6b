"""Where and when code ran, and the carbon intensity of its electricity."""

from .intensity import Intensity, intensity
from .location import Location, locate

__all__ = ["Intensity", "Location", "intensity", "locate"]
