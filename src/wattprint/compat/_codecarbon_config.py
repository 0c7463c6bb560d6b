"""CodeCarbon's configuration layers, read the way CodeCarbon 3.x reads them.

Lowest to highest priority (``codecarbon.core.config.get_hierarchical_config``):

1. ``~/.codecarbon.config``, section ``[codecarbon]``;
2. ``./.codecarbon.config`` in the current directory (not its parents);
3. ``CODECARBON_*`` environment variables, any case (``CODECARBON_LOG_LEVEL`` -> ``log_level``);

and above them the arguments given in the program. Every value read here is a string, converted
with CodeCarbon's rules: a boolean is true only when it reads ``true`` (any case), a number that
does not parse is ignored with a warning, as CodeCarbon ignores it.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CONFIG_FILE_NAME = ".codecarbon.config"
SECTION = "codecarbon"
ENV_PREFIX = "codecarbon_"

#: Parameters CodeCarbon converts when they come from its configuration (``return_type``).
BOOLEANS = frozenset(
    {
        "save_to_file",
        "save_to_api",
        "save_to_logger",
        "save_to_prometheus",
        "save_to_logfire",
        "allow_multiple_runs",
        "force_mode_cpu_load",
        "rapl_include_dram",
        "rapl_prefer_psys",
    }
)
FLOATS = frozenset(
    {
        "measure_power_secs",
        "pue",
        "wue",
        "force_cpu_power",
        "force_ram_power",
        "force_carbon_intensity_g_co2e_kwh",
    }
)
INTEGERS = frozenset({"api_call_interval"})


def _read_file(path: Path) -> dict[str, str]:
    """The ``[codecarbon]`` section of one file; nothing if the file is missing or unreadable."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ValueError(
            f"{path}: cannot be parsed as a CodeCarbon configuration file ({exc}); "
            "it must be INI with a [codecarbon] section"
        ) from None
    if not parser.has_section(SECTION):
        return {}
    return dict(parser.items(SECTION))


def read_config(
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """CodeCarbon's merged configuration and, for each key, where it came from.

    The sources are the file path or the environment variable's name, for messages.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    home = Path.home() if home is None else home
    config: dict[str, str] = {}
    sources: dict[str, str] = {}
    for path in (home / CONFIG_FILE_NAME, cwd / CONFIG_FILE_NAME):
        for key, value in _read_file(path).items():
            config[key] = value
            sources[key] = str(path)
    for name, value in env.items():
        if name.lower().startswith(ENV_PREFIX):
            key = name.lower()[len(ENV_PREFIX) :]
            config[key] = value
            sources[key] = name
    return config, sources


def convert(name: str, value: str) -> Any:
    """A configuration string as CodeCarbon would use it; ValueError if it would ignore it."""
    if name in BOOLEANS:
        return str(value).strip().lower() == "true"
    if name in FLOATS:
        return float(value)
    if name in INTEGERS:
        return int(value)
    return value


def clean_gpu_ids(value: str) -> str:
    """CodeCarbon's reading of a gpu_ids string: "[0, 1]" -> "0,1" (letters, digits, - and ,)."""
    return "".join(c for c in value if c.isalnum() or c in "-,")
