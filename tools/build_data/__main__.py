"""``python -m tools.build_data``: the same as ``python tools/build_data.py``."""

import sys

from .cli import main

sys.exit(main())
