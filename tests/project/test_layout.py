"""docs/layout.md, the map a newcomer reads first, stays true to the code: it names every module
and package of src/wattprint and nothing else, and every tool and test folder it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "wattprint"
LAYOUT = ROOT / "docs" / "layout.md"
# Alembic revisions are named by their folder's entry: one file per schema change.
REVISIONS = "server/migrations/versions/"


def named() -> set[str]:
    """What the page names: its list entries (``- `name`: job``) and package headings."""
    text = LAYOUT.read_text("utf-8")
    entries = re.findall(r"^- `([^`]+)`:", text, re.M)
    headings = re.findall(r"^### `([^`]+)`", text, re.M)
    return {*entries, *headings}


def modules_and_packages() -> set[str]:
    """Every module and package under src/wattprint, as the page writes them."""
    found = {"__init__.py"}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if path.name == "__init__.py":
            if path.parent != PACKAGE:
                found.add(rel.removesuffix("__init__.py"))
        elif not rel.startswith(REVISIONS):
            found.add(rel)
    return found


def test_layout_names_every_module_and_package_and_nothing_else():
    inside = {name for name in named() if not name.startswith(("tools/", "tests/"))}
    expected = modules_and_packages()
    assert sorted(expected - inside) == [], "add these to docs/layout.md, each with its one job"
    assert sorted(inside - expected) == [], "docs/layout.md names these, which no longer exist"


def test_layout_names_tools_and_test_folders_that_exist():
    outside = {name for name in named() if name.startswith(("tools/", "tests/"))}
    assert outside, "docs/layout.md lists the tools and the test folders"
    assert sorted(name for name in outside if not (ROOT / name).exists()) == []
    tests = ROOT / "tests"
    folders = {f"tests/{d.name}/" for d in tests.iterdir() if (d / "__init__.py").exists()}
    text = LAYOUT.read_text("utf-8")
    assert sorted(f for f in folders if f"`{f}`" not in text) == []


def test_layout_is_linked_from_the_readme_and_the_site():
    assert "docs/layout.md" in (ROOT / "README.md").read_text("utf-8")
    assert "layout.md" in (ROOT / "mkdocs.yml").read_text("utf-8")
