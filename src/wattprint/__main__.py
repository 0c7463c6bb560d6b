"""``python -m wattprint``: the same as the ``wattprint`` command."""

from .cli import main

main()
