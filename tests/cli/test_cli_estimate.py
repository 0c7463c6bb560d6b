"""`wattprint estimate`: the ML CO2 calculator in the terminal."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wattprint.carbon import tables
from wattprint.cli import app
from wattprint.estimate import machine_power
from wattprint.hardware import find_gpu

runner = CliRunner()


def estimate(*args: str) -> dict:
    result = runner.invoke(app, ["estimate", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_described_gpu_server_in_a_cloud_region(machine):
    data = estimate(
        "--cpu",
        "AMD EPYC 9654",
        "--sockets",
        "2",
        "--memory-gb",
        "1536",
        "--load",
        "0.5",
        "--gpu",
        "H100 SXM",
        "--gpus",
        "8",
        "--gpu-load",
        "0.9",
        "--hours",
        "10",
        "--cloud",
        "aws",
        "--region",
        "us-east-1",
    )
    host = machine_power("AMD EPYC 9654", 2, 384, 1536, 0.5)  # 192 threads per socket
    gpu = find_gpu("H100 SXM")
    p = data["power_w"]
    assert p["cpu"]["value"] == pytest.approx(host.cpu_w)
    assert p["platform"]["value"] == pytest.approx(host.platform_w)
    assert p["gpu"]["high"] == pytest.approx(8 * gpu.tdp_w)
    assert p["machine"]["value"] == pytest.approx(host.machine_w + p["gpu"]["value"])
    assert p["machine"]["low"] < p["machine"]["value"] < p["machine"]["high"]
    region = tables.cloud_region("aws", "us-east-1")
    e, c = data["energy"], data["emissions"]
    assert e["it_kwh"] == pytest.approx(p["machine"]["value"] * 10 / 1000)
    assert e["pue"] == region.pue
    assert c["kg"] == pytest.approx(e["it_kwh"] * e["pue"] * c["intensity_g_per_kwh"] / 1000)
    kgs = [o["kg"] for o in data["elsewhere"]]
    assert kgs == sorted(kgs) and len(kgs) == 5 and kgs[0] < c["kg"]


def test_with_no_hardware_options_it_describes_this_machine(machine):
    data = estimate("--country", "FRA", "--hours", "2")
    m = data["machine"]
    assert m["described"] == "this machine" and m["threads"] == 4
    assert "EPYC 7763" in m["cpu"] and m["memory_gb"] == pytest.approx(16.384)
    assert data["emissions"]["location_source"] == "explicit"
    assert data["elsewhere"] == []  # not a cloud: no provider to compare within


def test_unknown_cpu_needs_threads_and_bad_options_exit_2(machine):
    result = runner.invoke(app, ["estimate", "--cpu", "Mystery CPU 9000", "--memory-gb", "64"])
    assert result.exit_code == 2 and "--threads" in result.output
    result = runner.invoke(app, ["estimate", "--cpu", "AMD EPYC 9654"])
    assert result.exit_code == 2 and "--memory-gb" in result.output
    result = runner.invoke(app, ["estimate", "--cloud", "aws"])
    assert result.exit_code == 2 and "--region" in result.output
    result = runner.invoke(app, ["estimate", "--load", "1.5"])
    assert result.exit_code == 2


def test_tables_are_printed_for_people(machine):
    result = runner.invoke(
        app,
        [
            "estimate",
            "--cpu",
            "Intel Xeon Platinum 8380",
            "--sockets",
            "2",
            "--memory-gb",
            "512",
            "--cloud",
            "gcp",
            "--region",
            "us-central1",
        ],
    )
    assert result.exit_code == 0, result.output
    for text in ("Power", "platform", "machine", "CO2eq", "lowest-carbon regions"):
        assert text in result.output


def test_embodied_line_for_the_job_hours(machine):
    data = estimate(
        "--cpu",
        "AMD EPYC 9654",
        "--memory-gb",
        "768",
        "--gpu",
        "H100 SXM",
        "--gpus",
        "8",
        "--hours",
        "10",
        "--country",
        "FRA",
    )
    b = data["embodied"]
    assert b["method"] == "boavizta-components" and "8 x NVIDIA H100 SXM 80GB" in b["detail"]
    # Ten hours of hardware spread over 4 x 8760 hours, beside (never in) the operational CO2eq.
    assert b["kg"] == pytest.approx(b["hardware_kg"] * 10 / 35040)
    assert b["low_kg"] < b["kg"] < b["high_kg"]
    cloud = estimate(
        "--cloud",
        "aws",
        "--region",
        "us-east-1",
        "--instance",
        "m5.large",
        "--hours",
        "24",
        "--lifetime-years",
        "6",
    )
    assert cloud["embodied"]["method"] == "ccf-instance"
    assert cloud["embodied"]["kg"] == pytest.approx(1610.79 * 2 / 96 * 24 / (6 * 8760), rel=1e-4)
    text = runner.invoke(
        app,
        ["estimate", "--cloud", "aws", "--region", "us-east-1", "--instance", "m5.large"],
        env={"COLUMNS": "200"},
    )
    assert "Embodied (not in CO2eq above)" in text.output and "ccf-instance" in text.output
