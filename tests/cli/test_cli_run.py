"""`wattprint run -- CMD` through the real entry point: exit codes, signals, the record."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "wattprint"
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "wattprint"]


def rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "emissions.csv", newline="") as f:
        return list(csv.DictReader(f))


def wattprint_run(tmp_path: Path, *child: str, **kwargs) -> subprocess.Popen:
    args = [
        *COMMAND,
        "run",
        "--country",
        "FRA",
        "--output-dir",
        str(tmp_path / "out"),
        "--project-name",
        "wrapped",
        "--",
        *child,
    ]
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


def test_exit_code_and_record_of_a_successful_command(machine, tmp_path):
    proc = wattprint_run(tmp_path, sys.executable, "-c", "print('hello from the child')")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip() == "hello from the child"  # the child's stdout is untouched
    assert "finished" in err and "cpu" in err  # the summary goes to stderr
    (row,) = rows(tmp_path / "out")
    assert row["status"] == "finished" and row["project_name"] == "wrapped"
    assert row["country_iso_code"] == "FRA" and float(row["duration"]) > 0


def test_the_childs_exit_code_is_ours(machine, tmp_path):
    proc = wattprint_run(tmp_path, sys.executable, "-c", "import sys; sys.exit(7)")
    proc.communicate(timeout=120)
    assert proc.returncode == 7
    assert rows(tmp_path / "out")[0]["status"] == "failed"


def test_sigterm_is_forwarded_and_the_record_still_written(machine, tmp_path):
    marker = tmp_path / "got-sigterm"
    child = (
        "import signal, sys, time, pathlib\n"
        f"def bye(*a):\n    pathlib.Path({str(marker)!r}).write_text('yes'); sys.exit(143)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = wattprint_run(tmp_path, sys.executable, "-c", child)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert marker.read_text() == "yes"  # the child got the signal
    assert rows(tmp_path / "out")[0]["status"] == "interrupted"


def test_a_missing_command_and_bad_options(machine, tmp_path):
    proc = wattprint_run(tmp_path, "no-such-command-wattprint")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 127 and "cannot run" in err
    done = subprocess.run(
        [*COMMAND, "run", "--pue", "0.5", "--", "true"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "pue" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([*COMMAND, "run"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "nothing to run" in done.stderr


def test_no_live_line_when_stderr_is_not_a_terminal(machine, tmp_path):
    proc = wattprint_run(
        tmp_path,
        sys.executable,
        "-c",
        "import time; time.sleep(2.5)",
        env={**os.environ, "COLUMNS": "120"},
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert "\r" not in err and "CO2eq " not in err.split("wattprint:")[0]  # terminals only


def test_monitor_for_a_duration_writes_its_rows(machine, tmp_path):
    out = tmp_path / "mon"
    done = subprocess.run(
        [
            *COMMAND,
            "monitor",
            "--duration",
            "1.5",
            "--interval",
            "0.5",
            "--country",
            "FRA",
            "--output-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "\nCO2eq " in done.stderr and "g/kWh" in done.stderr  # the same summary as run's
    (row,) = rows(out)
    assert row["status"] == "finished" and row["tracking_mode"] == "machine"
    assert 1.4 <= float(row["duration"]) < 10
    journal = next((out / ".wattprint").glob("*.jsonl"))
    assert journal.read_text().count('"type":"interval"') >= 2  # records as the core writes them


def test_monitor_stops_on_sigterm(machine, tmp_path):
    out = tmp_path / "mon2"
    proc = subprocess.Popen(
        [*COMMAND, "monitor", "--country", "FRA", "--output-dir", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list((out / ".wattprint").glob("*.running.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert rows(out)[0]["status"] == "interrupted"


NOISY_CHILD = """
import sys
print("child output")
print("{'not': 'json'} child's own stderr", file=sys.stderr)
sys.stderr.write("no newline at the end")
"""


def test_run_json_file_reads_with_warnings_and_a_noisy_child(machine, tmp_path):
    """--json FILE: the summary in a file of its own, whatever else goes to stderr (here the
    no-location warning, the child's stderr and the human summary)."""
    out, summary = tmp_path / "j", tmp_path / "summary.json"
    done = subprocess.run(
        [
            *COMMAND,
            "run",
            "--json",
            str(summary),
            "--experiment-name",
            "exp1",
            "--output-dir",
            str(out),
            "--",
            sys.executable,
            "-c",
            NOISY_CHILD,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "child output"  # stdout stays the command's
    assert "child's own stderr" in done.stderr and "No location set" in done.stderr
    with open(summary, encoding="utf-8") as f:
        data = json.load(f)
    (row,) = rows(out)
    assert data["run_id"] == row["run_id"] and data["status"] == "finished"
    assert data["experiment_name"] == "exp1" == row["experiment_name"]
    assert data["emissions_kg"] == pytest.approx(float(row["emissions"]))
    assert data["cpu"]["method"] == row["cpu_method"]


def test_run_json_to_a_descriptor(machine, tmp_path):
    read, write = os.pipe()
    args = [
        *COMMAND,
        "run",
        "--country",
        "FRA",
        "--json",
        f"/dev/fd/{write}",
        "--output-dir",
        str(tmp_path),
        "--",
        "true",
    ]
    proc = subprocess.Popen(args, pass_fds=(write,), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(write)
    with os.fdopen(read) as f:
        data = json.load(f)
    proc.communicate(timeout=120)
    assert proc.returncode == 0 and data["location"]["country"] == "FRA"


def test_run_json_file_that_cannot_be_written_is_said_before_the_run(machine, tmp_path):
    marker = tmp_path / "ran"
    done = subprocess.run(
        [
            *COMMAND,
            "run",
            "--json",
            str(tmp_path / "no" / "s.json"),
            "--",
            sys.executable,
            "-c",
            f"open({str(marker)!r}, 'w')",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "does not exist" in done.stderr and not marker.exists()
    done = subprocess.run(
        [*COMMAND, "run", "--json", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "--json needs the file" in done.stderr
    assert not marker.exists() and not (tmp_path / "--").exists()


def one_line_usage_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("wattprint: ") and "Traceback" not in line
    return line


def test_a_mistyped_option_before_the_command_is_an_error_with_a_suggestion(machine, tmp_path):
    marker = tmp_path / "ran"
    child = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    for args in (["--projct-name", "x", "--", *child], ["--projct-name", "x", *child]):
        line = one_line_usage_error(
            subprocess.run([*COMMAND, "run", *args], capture_output=True, text=True, timeout=120)
        )
        assert "--projct-name" in line and "--project-name" in line, line
    assert not marker.exists()


def test_a_bad_value_is_one_line_and_exit_2(machine):
    for option, value in (("--interval", "abc"), ("--prometheus-port", "0")):
        args = [*COMMAND, "run", option, value, "--", "true"]
        line = one_line_usage_error(
            subprocess.run(args, capture_output=True, text=True, timeout=120)
        )
        assert option in line, line


def test_the_commands_own_options_reach_it_without_dashes(machine, tmp_path):
    child = "import sys, json; print(json.dumps(sys.argv[1:]))"
    done = subprocess.run(
        [
            *COMMAND,
            "run",
            "--country",
            "FRA",
            "--output-dir",
            str(tmp_path),
            sys.executable,
            "-c",
            child,
            "--help",
            "--json",
            "--country",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["--help", "--json", "--country", "x"]
    (row,) = rows(tmp_path)
    assert row["country_iso_code"] == "FRA"


def test_monitor_json_on_stdout_with_every_tracker_option(machine, tmp_path):
    out = tmp_path / "mj"
    done = subprocess.run(
        [
            *COMMAND,
            "monitor",
            "--json",
            "--duration",
            "0.6",
            "--interval",
            "0.3",
            "--project-name",
            "box",
            "--experiment-name",
            "night",
            "--output-dir",
            str(out),
            "--country",
            "DEU",
            "--pue",
            "1.3",
            "--intensity",
            "100",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (row,) = rows(out)
    assert data["project_name"] == "box" == row["project_name"]
    assert data["experiment_name"] == "night"
    assert data["pue"] == 1.3 and float(row["pue"]) == 1.3
    assert data["intensity"]["value"] == pytest.approx(100.0)
    assert data["emissions_kg"] == pytest.approx(data["energy_kwh"] * 100.0 / 1000.0)


def test_a_sink_option_whose_value_is_bad_is_one_line(machine, tmp_path):
    done = subprocess.run(
        [*COMMAND, "monitor", "--duration", "0", "--webhook-url", "ftp://x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "webhook_url" in done.stderr and "Traceback" not in done.stderr


def test_monitor_serves_prometheus_metrics_while_it_runs(machine, tmp_path):
    """`wattprint monitor --prometheus-port N`: a real scrape of the running command."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from tests.fakes.receiver import free_port

    port = free_port()
    out = tmp_path / "prom"
    proc = subprocess.Popen(
        [
            *COMMAND,
            "monitor",
            "--interval",
            "0.2",
            "--country",
            "FRA",
            "--project-name",
            "box",
            "--prometheus-port",
            str(port),
            "--output-dir",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def scrape_cpu() -> list:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    text = r.read().decode()
            except OSError:
                return []
            families = {f.name: f for f in text_string_to_metric_families(text)}
            energy = families.get("wattprint_energy_joules")
            return [
                s
                for s in (energy.samples if energy else [])
                if s.name.endswith("_total") and s.labels["component"] == "cpu"
            ]

        seen = []  # every scrape's CPU energy: a counter, from 0 at the start, never down
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (seen and seen[-1].value > 0):
            time.sleep(0.1)
            seen.extend(scrape_cpu())
        assert seen and seen[-1].value > 0, proc.stderr  # the idle CPU model, after an interval
        cpu = [seen[-1]]
        assert cpu[0].labels["project"] == "box" and cpu[0].labels["method"]
        values = [s.value for s in seen]
        assert values == sorted(values)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
    assert proc.returncode == 0
    (row,) = rows(out)
    # The last scrape came before the end: what it showed is at most the run's total.
    assert cpu[0].value <= float(row["cpu_energy"]) * 3.6e6 + 1e-6


def test_wait_json_file_that_cannot_be_written_is_said_before_waiting(machine, tmp_path):
    done = subprocess.run(
        [
            *COMMAND,
            "wait",
            "--duration",
            "1h",
            "--zone",
            "FR",
            "--json",
            str(tmp_path / "no" / "s.json"),
            "--",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "does not exist" in done.stderr
    assert "waiting for" not in done.stderr
