"""The documentation site builds with warnings as errors, and its generated pages hold what the
code says: every command's help, every record column with its unit, every data source."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wattprint.records import SPEC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def text(site: Path, page: str) -> str:
    raw = (site / page / "index.html").read_text("utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def test_command_reference_is_each_commands_help(site):
    from typer.main import get_command

    from wattprint.cli import app

    page = text(site, "reference/cli")
    for name, command in get_command(app).commands.items():
        assert f"wattprint {name}" in page
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in page, (name, opt)


def test_columns_page_lists_every_column_with_its_unit(site):
    page = text(site, "reference/columns")
    for column in SPEC:
        row = re.search(
            rf"\|?\s*\d+\s*{re.escape(column.name)}\s+{column.kind}\s+"
            rf"{re.escape(column.unit or '-')}\s",
            page,
        )
        assert row, column


def test_methodology_names_every_shipped_table_and_its_license(site):
    page = text(site, "methodology")
    licenses = (ROOT / "src/wattprint/carbon/data/DATA_LICENSES.md").read_text("utf-8")
    for table in re.findall(r"^## (.+)$", licenses, flags=re.M):
        assert table in page
    assert "CC BY-SA 4.0" in page and "ODbL" in page


def test_api_reference_comes_from_docstrings(site):
    from wattprint.tracker import Tracker

    page = text(site, "reference/api")
    first = (Tracker.__doc__ or "").strip().splitlines()[0].replace("``", "")
    assert first and " ".join(first.split()) in " ".join(page.split())


def test_site_loads_nothing_from_elsewhere(site):
    """No script, style sheet, font or image from elsewhere (links to other sites are fine)."""
    loads = re.compile(
        r"<(?:script|img|iframe|source)\b[^>]*\bsrc=\"(?://|https?:)|"
        r"<link\b[^>]*\bhref=\"(?://|https?:)|@import|url\(\s*[\"']?(?://|https?:)"
    )
    for page in [*site.rglob("*.html"), *site.rglob("*.css")]:
        found = loads.search(page.read_text("utf-8"))
        assert found is None, f"{page.relative_to(site)}: {found and found.group(0)}"
