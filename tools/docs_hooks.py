"""MkDocs hook: pages that are generated from the code, so that they cannot drift from it.

A page holding ``<!-- wattprint:cli -->`` gets the ``--help`` of ``wattprint`` and of each of its
commands, as the installed command prints it; ``<!-- wattprint:columns -->`` gets the record's
columns with their kind and unit from ``wattprint.records.SPEC``; ``<!-- wattprint:data -->`` gets
``DATA_LICENSES.md``, the attribution of every data table the package ships.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

MARKERS = ("<!-- wattprint:cli -->", "<!-- wattprint:columns -->", "<!-- wattprint:data -->")


def cli_reference() -> str:
    """Each command's help, from the CLI itself (typer's test runner, 100 columns, no colour)."""
    import typer
    from typer.testing import CliRunner

    from wattprint.cli import app

    group = typer.main.get_command(app)
    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    runner = CliRunner()
    blocks = []
    for name in [None, *sorted(group.commands)]:  # type: ignore[attr-defined]
        args = ["--help"] if name is None else [name, "--help"]
        result = runner.invoke(app, args, env=env, prog_name="wattprint")
        if result.exit_code != 0:
            raise RuntimeError(f"wattprint {' '.join(args)} failed: {result.output}")
        title = "wattprint" if name is None else f"wattprint {name}"
        text = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
        blocks.append(f"## `{title}`\n\n```text\n{text}\n```\n")
    return "\n".join(blocks)


def columns_reference() -> str:
    """The record's columns, in the CSV's order, from the one spec."""
    from wattprint.records import SPEC

    rows = ["| # | column | kind | unit | from |", "|---|---|---|---|---|"]
    for i, col in enumerate(SPEC, 1):
        origin = "CodeCarbon" if col.origin == "codecarbon" else "wattprint"
        rows.append(f"| {i} | `{col.name}` | {col.kind} | {col.unit or '-'} | {origin} |")
    return "\n".join(rows) + "\n"


def data_licenses() -> str:
    text = resources.files("wattprint.carbon").joinpath("data/DATA_LICENSES.md").read_text("utf-8")
    # The file's own title would be a second page title: its headings go one level down.
    return "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())


def on_page_markdown(markdown: str, **_: Any) -> str:
    if not any(m in markdown for m in MARKERS):
        return markdown
    os.environ.setdefault("WATTPRINT_LOG_LEVEL", "error")
    if MARKERS[0] in markdown:
        markdown = markdown.replace(MARKERS[0], cli_reference())
    if MARKERS[1] in markdown:
        markdown = markdown.replace(MARKERS[1], columns_reference())
    if MARKERS[2] in markdown:
        markdown = markdown.replace(MARKERS[2], data_licenses())
    return markdown
