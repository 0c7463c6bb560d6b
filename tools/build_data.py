"""Build wattprint's packaged data tables: ``python tools/build_data.py [--shared PATH] [--check]``.

The code is the package ``tools/build_data/`` (one module per table, the license prose in
``templates/``); this script only runs its command line, so that the command the docs and the
committed DATA_LICENSES.md name keeps working.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, sys.path[0] is tools/; the package is imported as tools.build_data.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tools.build_data.cli import main

    sys.exit(main())
