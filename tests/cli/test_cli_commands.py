"""The small commands, through the real entry point where it matters: --version, detect,
intensity, recover; user errors are one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattprint._version import __version__
from wattprint.carbon import tables
from wattprint.cli import app

runner = CliRunner()
BIN = Path(sys.executable).parent / "wattprint"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "wattprint"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_version_through_the_console_script():
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"wattprint {__version__}"


def test_detect_json_on_a_fake_machine(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1)
    done = cli("detect", "--json")  # the fixture's WATTPRINT_ROOT and config reach the child
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["components"]["cpu"]["method"] == "rapl"
    assert data["components"]["ram"]["method"] == "ram-model"  # no dram domain
    assert data["components"]["platform"]["method"] == "platform-model"
    gpu_tried = {p["name"]: p for p in data["components"]["gpu"]["tried"]}
    assert not gpu_tried["nvml"]["usable"] and gpu_tried["nvml"]["reason"]
    assert data["location"]["source"] == "timezone" and data["location"]["country"] == "FRA"
    assert data["intensity"]["value"] > 0 and data["intensity"]["source"]


def test_detect_says_how_to_make_rapl_readable(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1)
    machine.deny(machine.energy_path("intel-rapl:0"))
    result = runner.invoke(app, ["detect"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "not usable" in result.output and "sudo chmod" in result.output
    assert "Intensity now" in result.output


def test_intensity_with_provenance(machine):
    profile = tables.hourly_profile("GB")
    done = cli("intensity", "--zone", "GB", "--at", "2026-01-15T18:30+00:00", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["intensity"]["value"] == profile.at(1, 18)
    assert (
        data["intensity"]["kind"] == "hourly-profile" and data["location"]["source"] == "explicit"
    )


def test_user_errors_are_one_line_and_exit_2(machine):
    for args, text in (
        (["intensity", "--zone", "XX-NOWHERE"], "XX-NOWHERE"),
        (["intensity", "--at", "yesterday"], "--at"),
        (["intensity", "--at", "2026-01-15T18:00"], "UTC offset"),
        (["intensity", "--cloud", "aws"], "--region"),
        (["recover", "/nonexistent/folder"], "not a folder"),
    ):
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert text in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_recover_writes_interrupted_rows(machine):
    Path(".wattprint").mkdir()
    meta = {
        "type": "run", "run_id": "dead-1", "pid": 999_999_999, "host": os.uname().nodename,
        "create_time": 0.0, "started_at": "2026-11-23T10:00:00+00:00", "project_name": "p",
        "pue": 1.0, "machine": {}, "location": {"country": "FRA", "source": "explicit"},
        "intensity": {"value": 31.0, "low": 31.0, "high": 31.0, "kind": "zone-annual",
                      "zone": "FR", "year": 2025, "source": "test"},
        "csv": "emissions.csv",
    }  # fmt: skip
    cpu = {"energy_j": 3600.0, "low_j": 3000.0, "high_j": 4000.0, "method": "rapl"}
    interval = {
        "type": "interval",
        "t": 1.8e9,
        "duration_s": 12.5,
        "components": {"cpu": cpu},
        "emissions_g": 0.031,
        "emissions_low_g": 0.026,
        "emissions_high_g": 0.034,
    }
    Path(".wattprint/dead-1.running.jsonl").write_text(
        json.dumps(meta) + "\n" + json.dumps(interval) + "\n"
    )
    done = cli("recover", ".", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"run_id": "dead-1", "project_name": "p", "duration_s": 12.5, "status": "interrupted"}
    ]
    row = Path("emissions.csv").read_text().splitlines()[1]
    assert "dead-1" in row and "interrupted" in row
    again = cli("recover", ".")
    assert again.returncode == 0 and "no interrupted run" in again.stdout


def test_usage_errors_are_one_line_and_exit_2(machine):
    for args, text in (
        (["report", "--bogus"], "No such option: --bogus"),
        (["estimate", "--gpus", "many"], "'--gpus'"),
        (["estimate", "--gpus", "100000000"], "'--gpus'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["config", "--set"], "'--set' requires an argument"),
    ):
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("wattprint: ") and text in line and "--help" in line, line


def test_help_is_still_the_full_help():
    done = cli("report", "--help")
    assert done.returncode == 0 and "--html" in done.stdout and "--force" in done.stdout


def test_intensity_at_the_edges_of_the_calendar(machine):
    for when in ("9999-12-31T23:59+00:00", "0001-01-01T00:00+00:00", "0001-01-01T00:00+01:00"):
        for zone in ("GB", "US-CAL-CISO"):
            done = cli("intensity", "--zone", zone, "--at", when, "--json")
            assert done.returncode == 0, (when, zone, done.stderr)
            assert json.loads(done.stdout)["intensity"]["value"] > 0


def test_estimate_cost_does_not_grow_with_the_number_of_gpus(machine):
    # 10^6 GPUs took about 2 ms each (half an hour); one part per model makes it immediate.
    args = [
        "estimate",
        "--cpu",
        "AMD EPYC 9654",
        "--memory-gb",
        "64",
        "--gpu",
        "H100 SXM",
        "--json",
    ]
    one = json.loads(runner.invoke(app, [*args, "--gpus", "1"]).output)
    many = runner.invoke(app, [*args, "--gpus", "1000000"])
    assert many.exit_code == 0, many.output
    data = json.loads(many.output)
    assert data["machine"]["gpu_count"] == 1_000_000
    assert data["power_w"]["gpu"]["value"] == pytest.approx(1e6 * one["power_w"]["gpu"]["value"])


def test_report_never_writes_html_over_its_input(machine, tmp_path):
    csv_path = _one_run_csv()
    before = csv_path.read_bytes()
    for out in (csv_path, Path(".") / csv_path.name):
        done = cli("report", str(csv_path), "--html", str(out), "--force")
        assert done.returncode == 2 and "input of this report" in done.stderr, done.stderr
        assert csv_path.read_bytes() == before
    done = cli("report", "--html", "emissions.csv")  # the default input
    assert done.returncode == 2 and csv_path.read_bytes() == before


def test_report_replaces_only_an_earlier_report(machine, tmp_path):
    csv_path = _one_run_csv()
    notes = Path("notes.html")
    notes.write_text("<html>my notes</html>")
    done = cli("report", str(csv_path), "--html", "notes.html")
    assert done.returncode == 2 and "not a wattprint report" in done.stderr
    assert notes.read_text() == "<html>my notes</html>"
    assert cli("report", str(csv_path), "--html", "page.html").returncode == 0
    first = Path("page.html").stat().st_mtime_ns
    again = cli("report", str(csv_path), "--html", "page.html")
    assert again.returncode == 0, again.stderr  # an earlier report is replaced
    assert Path("page.html").stat().st_mtime_ns >= first
    assert "wattprint report:" in Path("page.html").read_text()


def _one_run_csv() -> Path:
    from wattprint import Tracker

    Tracker(country="FRA").start().stop()
    return Path("emissions.csv").absolute()


def test_an_internal_error_is_one_line_not_a_traceback(machine, monkeypatch):
    from wattprint.cli import machine as machine_commands

    def broken(as_json: bool) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(machine_commands, "detect", broken)
    result = runner.invoke(app, ["detect"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("wattprint: internal error, RuntimeError: boom")
    assert "Traceback" not in result.output
    monkeypatch.setenv("WATTPRINT_TRACEBACK", "1")  # the way to see where it came from
    result = runner.invoke(app, ["detect"])
    assert isinstance(result.exception, RuntimeError)


def test_every_command_resolves_the_location_from_the_same_settings(machine, tmp_path):
    """WATTPRINT_*, the project file and the user file reach intensity and estimate as they
    reach detect and the tracker; an option on the command line replaces them."""
    by_env = {"WATTPRINT_COUNTRY": "GB"}
    detected = json.loads(cli("detect", "--json", env=by_env).stdout)
    assert detected["location"]["country"] == "GBR"
    it = json.loads(cli("intensity", "--json", env=by_env).stdout)
    assert it["location"]["country"] == "GBR" and it["intensity"]["zone"].startswith("GB")
    est = json.loads(cli("estimate", "--json", env=by_env).stdout)
    assert est["emissions"]["intensity_zone"].startswith("GB")
    Path(".wattprint.ini").write_text("[wattprint]\ncountry = DEU\npue = 1.25\n")
    it = json.loads(cli("intensity", "--json").stdout)
    assert it["location"]["country"] == "DEU"
    est = json.loads(cli("estimate", "--json").stdout)
    assert est["emissions"]["intensity_zone"] == "DE" and est["energy"]["pue"] == 1.25
    assert est["energy"]["pue_source"] == "setting pue"
    it = json.loads(cli("intensity", "--json", "--zone", "FR").stdout)  # not also in DEU
    assert it["location"]["zone"] == "FR" and it["location"]["country"] == "FRA"
    user = tmp_path / "xdg" / "wattprint" / "config.ini"
    user.parent.mkdir(parents=True)
    user.write_text("[wattprint]\nintensity_g_per_kwh = 123\n")
    est = json.loads(cli("estimate", "--json").stdout)
    assert est["emissions"]["intensity_g_per_kwh"] == 123
    done = cli("intensity", env={"WATTPRINT_COUNTRY": "Atlantis"})
    assert done.returncode == 2 and "WATTPRINT_COUNTRY" in done.stderr
