"""``wattprint push``: old CSVs (wattprint's and CodeCarbon's) to the server, idempotently."""

from __future__ import annotations

import csv
import importlib
import json

import pytest
from typer.testing import CliRunner

from tests.fakes.receiver import free_port
from tests.fakes.standin import StandIn
from tests.report.test_report import CC_ROW
from tests.report.test_report_read import ROWS, csv_text, wp_row
from wattprint.cli import app
from wattprint.records import TASK_COLUMNS

push_module = importlib.import_module("wattprint.cli.push")  # the package's `push` is the command
runner = CliRunner()
TOKEN = "wpt_test"


@pytest.fixture
def files(tmp_path):
    """A folder with wattprint's emissions.csv (3 rows) and CodeCarbon's (2 rows, with a BOM)."""
    folder = tmp_path / "runs"
    folder.mkdir()
    rows = [*ROWS, wp_row("a", "2026-01-01T09:00:00+00:00", status="running")]
    (folder / "emissions.csv").write_text(csv_text(rows))
    with open(folder / "emissions_cc.csv", "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, fieldnames=list(CC_ROW))
        writer.writeheader()
        writer.writerow(CC_ROW)
        writer.writerow(dict(CC_ROW, timestamp="2024-03-01T11:00:00", emissions="-1"))
    return folder


def push(*args: str):
    return runner.invoke(app, ["push", *args, "--json"])


def test_push_sends_every_row_once_and_twice_adds_nothing(files, monkeypatch):
    monkeypatch.setattr(push_module, "BATCH", 2)
    with StandIn() as standin:
        first = push(str(files), "--server", standin.url, "--token", TOKEN)
        assert first.exit_code == 0, first.output
        again = push(str(files), "--server", standin.url, "--token", TOKEN)
    assert json.loads(first.stdout)["created"] == 5 and json.loads(first.stdout)["duplicate"] == 0
    second = json.loads(again.stdout)
    assert (second["created"], second["duplicate"], second["rejected"]) == (0, 5, 0)
    assert len(standin.store) == 5 and max(standin.created.values()) == 1
    assert max(standin.batches) == 2
    records = [e["record"] for e in standin.store.values()]
    assert all(tuple(r) == TASK_COLUMNS for r in records)
    cc = sorted((r for r in records if r["run_id"] == "cc-1"), key=lambda r: r["timestamp"])
    assert [r["codecarbon_version"] for r in cc] == ["3.0.1", "3.0.1"]
    assert cc[0]["emissions"] == 0.01 and cc[0]["cpu_count"] == 8
    assert cc[1]["emissions"] is None  # -1 kg: unknown, as report counts it
    assert cc[0]["status"] is None and cc[0]["wattprint_version"] is None  # not said: null
    assert all(k.startswith(("a:csv:", "b:csv:", "cc-1:csv:")) for k in standin.store)


def test_a_rejected_row_is_shown_with_its_reason_and_exit_1(files):
    with StandIn() as standin:
        standin.refuse = lambda e: "too old" if e["record"]["run_id"] == "cc-1" else None
        result = runner.invoke(app, ["push", str(files), "--server", standin.url, "--token", TOKEN])
    assert result.exit_code == 1
    assert "5 row(s)" in result.stdout and "3 created, 0 duplicate, 2 rejected" in result.stdout
    assert result.stderr.count("rejected ") == 2 and "emissions_cc.csv:2: too old" in result.stderr


def test_settings_give_the_server_and_the_token(files, monkeypatch):
    with StandIn() as standin:
        monkeypatch.setenv("WATTPRINT_SERVER_URL", standin.url)
        monkeypatch.setenv("WATTPRINT_SERVER_TOKEN", TOKEN)
        result = push(str(files / "emissions.csv"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 3


@pytest.mark.parametrize("case", ["no server", "bad token", "down", "not a server", "bad csv"])
def test_user_errors_are_one_line_and_exit_2(files, monkeypatch, case):
    monkeypatch.setattr(push_module, "ATTEMPTS", 2)
    monkeypatch.setattr(push_module.time, "sleep", lambda s: None)
    with StandIn() as standin:
        args = [str(files), "--server", standin.url, "--token", TOKEN]
        if case == "no server":
            args = [str(files)]
        elif case == "bad token":
            args[-1] = "wrong"
        elif case == "down":
            args[2] = f"http://127.0.0.1:{free_port()}"
        elif case == "not a server":
            standin.answer = lambda request: (200, b"<html>hello</html>")
        else:
            (files / "emissions.csv").write_bytes(b"\xff\xfe garbage")
        result = runner.invoke(app, ["push", *args])
        assert not standin.store
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("wattprint: ") and result.stderr.count("\n") == 1
    expected = {
        "no server": "--server",
        "bad token": "token",
        "down": "did not take",
        "not a server": "per-item results",
        "bad csv": "not UTF-8",
    }[case]
    assert expected in result.stderr
