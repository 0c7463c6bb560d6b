"""The logger sink: one structured INFO line per record, readable on a plain handler."""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.fakes.fakenvml import FakeGpu, FakeNvml
from wattprint import Tracker
from wattprint.meters import nvidia


@pytest.fixture(autouse=True)
def fresh_loggers():
    names = ("wattprint.records", "myapp.energy")
    yield
    for name in names:  # the sink sets a level on a logger that had none
        logging.getLogger(name).setLevel(logging.NOTSET)


def add_rapl(machine) -> None:
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)


PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def parse(message: str) -> dict[str, str]:
    assert message.startswith("wattprint record ")
    return {k: json.loads(v) if v.startswith('"') else v for k, v in PAIR.findall(message)}


def records(caplog, name: str = "wattprint.records") -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_one_line_per_row_with_the_rows_values(machine, caplog):
    add_rapl(machine)
    caplog.set_level(logging.DEBUG)  # the handler takes all; the sink picks INFO
    tracker = Tracker(project_name="demo", country="FRA", log_records=True).start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 3_600_000)
    flushed = tracker.flush()
    with tracker.task("load"):
        machine.set_energy("intel-rapl:0", 1_000_000 + 7_200_000)
    final = tracker.stop()
    lines = records(caplog)
    assert len(lines) == 3  # flush, task, stop: exactly one line each
    assert all(r.levelno == logging.INFO for r in lines)
    first, task, last = (parse(r.getMessage()) for r in lines)
    assert first["status"] == "running" and last["status"] == "finished"
    assert first["run_id"] == last["run_id"] == final.run_id and "task_name" not in last
    assert task["task_name"] == "load"
    assert float(first["cpu_energy"]) == pytest.approx(flushed.cpu.energy_kwh, rel=1e-5)
    assert float(last["cpu_energy"]) == pytest.approx(final.cpu.energy_kwh, rel=1e-5)
    assert float(last["emissions"]) == pytest.approx(final.emissions_kg, rel=1e-5)
    assert last["cpu_method"] == "rapl" and last["intensity_zone"] == "FR"
    assert last["intensity_source"] == final.intensity.source  # quoted: it has spaces
    assert last["project_name"] == "demo"
    # the structured fields ride along for JSON formatters
    fields = lines[-1].wattprint
    assert fields["run_id"] == final.run_id and fields["status"] == "finished"
    assert fields["cpu_energy"] == final.cpu.energy_kwh
    assert fields["cpu_energy_low_kwh"] == final.cpu.low_kwh
    assert fields["emissions"] == final.emissions_kg and fields["task_name"] is None
    assert lines[1].wattprint["task_name"] == "load"


def test_unmeasured_is_left_out_never_zero(machine, caplog, monkeypatch):
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([FakeGpu("GPU-aaaa")]))
    caplog.set_level(logging.DEBUG)
    Tracker(country="FRA", gpu_ids=[3], log_records=True).start().stop()
    (line,) = records(caplog)
    fields = parse(line.getMessage())
    assert "gpu_energy" not in fields and fields["gpu_method"] == "unmeasured"
    assert line.wattprint["gpu_energy"] is None


def test_custom_logger_name_and_off_by_default(machine, caplog):
    caplog.set_level(logging.DEBUG)
    Tracker(country="FRA").start().stop()
    assert records(caplog) == []
    Tracker(country="FRA", log_records=True, logger_name="myapp.energy").start().stop()
    assert len(records(caplog, "myapp.energy")) == 1 and records(caplog) == []


def test_a_level_the_application_set_is_respected(machine, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("wattprint.records").setLevel(logging.WARNING)
    Tracker(country="FRA", log_records=True).start().stop()
    assert records(caplog) == []
