"""``wattprint.compat.codecarbon``: CodeCarbon 3.x's API, checked against the real ``codecarbon``.

The same user script, run once with ``from codecarbon import ...`` and once with
``from wattprint.compat.codecarbon import ...``, writes emissions.csv files whose first 38 column
names are the same; CodeCarbon's documented usage forms run unchanged with the compat import;
parameters, configuration files and variables are read as CodeCarbon reads them.
"""

from __future__ import annotations

import contextlib
import csv
import inspect
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import codecarbon
import codecarbon.emissions_tracker as cc_tracker
import pytest
from codecarbon.core.config import get_hierarchical_config
from codecarbon.output_methods.base_output import BaseOutput
from codecarbon.output_methods.emissions_data import EmissionsData as CCEmissionsData
from codecarbon.output_methods.emissions_data import TaskEmissionsData as CCTaskEmissionsData
from codecarbon.output_methods.logger import LoggerOutput

from tests.fakes.fakesys import cpu_stat
from wattprint.compat import _codecarbon_config as cc_config
from wattprint.compat import codecarbon as compat
from wattprint.compat.codecarbon import (
    CodeCarbonCompatWarning,
    EmissionsData,
    EmissionsTracker,
    OfflineEmissionsTracker,
    OutputMethod,
    track_emissions,
)
from wattprint.records import CODECARBON_COLUMNS, COLUMNS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated(machine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The fake machine, a home of its own (no ~/.codecarbon.config) and no CODECARBON_* vars."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for key in list(os.environ):
        if key.lower().startswith("codecarbon_"):
            monkeypatch.delenv(key)
    return machine


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def header(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


@contextlib.contextmanager
def no_compat_warning():
    """Fail on any CodeCarbonCompatWarning inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CodeCarbonCompatWarning)
        yield


# -- the API's shape is CodeCarbon's --------------------------------------------------------------


def _names(fn) -> list[str]:
    return [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"
    ]


def test_parameters_are_codecarbons_in_its_order():
    base = _names(cc_tracker.BaseEmissionsTracker.__init__)
    assert _names(EmissionsTracker.__init__) == base == list(compat.TRACKER_PARAMETERS)
    offline = _names(codecarbon.OfflineEmissionsTracker.__init__)
    assert _names(OfflineEmissionsTracker.__init__) == base + offline
    assert _names(track_emissions) == _names(codecarbon.track_emissions)
    # Positional parameters in the same order: EmissionsTracker("name", 5) means the same.
    kinds = inspect.signature(OfflineEmissionsTracker.__init__).parameters
    assert all(kinds[n].kind is inspect.Parameter.KEYWORD_ONLY for n in offline)


def test_records_and_output_methods_are_codecarbons():
    def fields(cls):
        import dataclasses

        return [(f.name, f.default) for f in dataclasses.fields(cls)]

    assert fields(EmissionsData) == fields(CCEmissionsData)
    assert fields(compat.TaskEmissionsData) == fields(CCTaskEmissionsData)
    assert [f[0] for f in fields(EmissionsData)] == list(CODECARBON_COLUMNS)
    assert {m.name: m.value for m in OutputMethod} == {
        m.name: m.value for m in codecarbon.OutputMethod
    }


def test_unknown_parameters_raise_type_error_as_codecarbon():
    with pytest.raises(TypeError, match="unexpected keyword argument 'interval_s'"):
        EmissionsTracker(interval_s=5)
    with pytest.raises(TypeError, match="bogus"):
        OfflineEmissionsTracker(country_iso_code="FRA", bogus=1)
    with pytest.raises(TypeError, match="nope"):
        track_emissions(nope=1)
    # CodeCarbon's online tracker has no location parameters either.
    with pytest.raises(TypeError, match="country_iso_code"):
        EmissionsTracker(country_iso_code="FRA")
    with pytest.raises(TypeError):
        codecarbon.EmissionsTracker(country_iso_code="FRA")


def test_every_codecarbon_parameter_is_accepted():
    """Every CodeCarbon parameter, at a value that matters: a warning at most, never an error."""
    values = {
        "project_name": "p", "measure_power_secs": 2, "api_call_interval": 4,
        "api_endpoint": "https://api.example", "api_key": "k", "output_dir": "out",
        "output_file": "e.csv", "output_methods": None, "save_to_file": True,
        "save_to_api": True, "save_to_logger": True,
        "logging_logger": LoggerOutput(logging.getLogger("cc")), "save_to_prometheus": True,
        "save_to_logfire": True, "prometheus_url": "localhost:9091", "output_handlers": [],
        "gpu_ids": [0], "emissions_endpoint": "http://localhost:1/e", "experiment_id": "x",
        "experiment_name": "y", "electricitymaps_api_token": "t", "co2_signal_api_token": "t",
        "tracking_mode": "process", "log_level": "error", "on_csv_write": "update",
        "logger_preamble": "pre", "force_cpu_power": 100, "force_ram_power": 10, "pue": 1.2,
        "wue": 1.0, "force_carbon_intensity_g_co2e_kwh": 50, "force_mode_cpu_load": True,
        "allow_multiple_runs": False, "rapl_include_dram": True, "rapl_prefer_psys": True,
        "metadata": {"a": 1},
    }  # fmt: skip
    assert set(values) == set(compat.TRACKER_PARAMETERS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracker = OfflineEmissionsTracker(
            **values,
            country_iso_code="USA",
            region="california",
            cloud_provider=None,
            cloud_region=None,
            country_2letter_iso_code="US",
        )
    s = tracker.wattprint.settings
    assert (s.country, s.region, s.project_name, s.interval_s) == ("USA", "california", "p", 2.0)


# -- parameters -> settings -----------------------------------------------------------------------

MAPPED = [
    ({"project_name": "bert"}, {"project_name": "bert"}),
    ({"measure_power_secs": 3}, {"interval_s": 3.0}),
    ({"output_dir": "runs"}, {"output_dir": "runs"}),
    ({"gpu_ids": "0, 1"}, {"gpu_ids": ("0", "1")}),
    ({"gpu_ids": [2, 3]}, {"gpu_ids": ("2", "3")}),
    ({"gpu_ids": "[0,1]"}, {"gpu_ids": ("0", "1")}),
    ({"tracking_mode": "process"}, {"tracking_mode": "process"}),
    ({"log_level": "DEBUG"}, {"log_level": "debug"}),
    ({"log_level": logging.ERROR}, {"log_level": "error"}),
    ({"pue": 1.4}, {"pue": 1.4}),
    ({"wue": 1.8}, {"wue": 1.8}),
    ({"force_carbon_intensity_g_co2e_kwh": 123}, {"intensity_g_per_kwh": 123.0}),
    ({"save_to_file": False}, {"save_csv": False}),
    ({"output_methods": [OutputMethod.LOGGER]}, {"save_csv": False, "log_records": True}),
    ({"output_methods": [codecarbon.OutputMethod.CSV]}, {"save_csv": True}),
    ({"save_to_logger": True, "logging_logger": LoggerOutput(logging.getLogger("mine"))},
     {"log_records": True, "logger_name": "mine"}),
    ({"save_to_logger": True, "logging_logger": logging.getLogger("plain")},
     {"log_records": True, "logger_name": "plain"}),
    ({"save_to_prometheus": True}, {"prometheus_pushgateway": "http://localhost:9091"}),
    ({"output_methods": "prometheus", "prometheus_url": "https://pgw:9091"},
     {"prometheus_pushgateway": "https://pgw:9091", "save_csv": False}),
    ({"electricitymaps_api_token": "tok"},
     {"electricitymaps_token": "tok", "live_provider": "electricitymaps"}),
    ({"experiment_id": "exp-42"}, {"experiment_name": "exp-42"}),
    ({"experiment_name": "ablation"}, {"experiment_name": "ablation"}),
    ({"allow_multiple_runs": True, "on_csv_write": "append", "rapl_include_dram": False},
     {}),
]  # fmt: skip


@pytest.mark.parametrize(("params", "expected"), MAPPED)
def test_parameter_mapping(params, expected):
    with no_compat_warning():
        tracker = EmissionsTracker(**params)
    settings = tracker.wattprint.settings
    for name, value in expected.items():
        assert getattr(settings, name) == value, name


LOCATION = [
    ({"country_iso_code": "FRA"}, {"country": "FRA"}),
    ({"country_2letter_iso_code": "DE"}, {"country": "DEU"}),
    ({"country_iso_code": "USA", "region": "new york"}, {"country": "USA", "region": "new york"}),
    ({"cloud_provider": "gcp", "cloud_region": "europe-west1"},
     {"cloud_provider": "gcp", "cloud_region": "europe-west1"}),
]  # fmt: skip


@pytest.mark.parametrize(("params", "expected"), LOCATION)
def test_location_mapping(params, expected):
    with no_compat_warning():
        tracker = OfflineEmissionsTracker(**params)
    for name, value in expected.items():
        assert getattr(tracker.wattprint.settings, name) == value


IGNORED = [
    ("force_mode_cpu_load", True),
    ("allow_multiple_runs", False),
    ("rapl_include_dram", True),
    ("rapl_prefer_psys", True),
    ("logger_preamble", "[me]"),
    ("metadata", {"boamps": {}}),
]


@pytest.mark.parametrize(("name", "value"), IGNORED)
def test_unmapped_parameters_warn_once_naming_them(name, value):
    with pytest.warns(CodeCarbonCompatWarning, match=rf"{name}=.* is ignored: ") as record:
        EmissionsTracker(**{name: value})
    assert len(record) == 1
    assert record[0].filename == __file__  # points at the user's line, not at wattprint


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"save_to_api": True, "api_key": "k"}, r"save_to_api .* ignored \(api_key unused\)"),
        ({"output_methods": [OutputMethod.API]}, r"dashboard API"),
        ({"save_to_logfire": True}, r"LOGFIRE is ignored.*otel_endpoint"),
        ({"output_methods": ["csv", "boamps"]}, r"BOAMPS is ignored"),
        ({"on_csv_write": "update"}, r"on_csv_write='update' is not supported"),
        ({"co2_signal_api_token": "t"}, r"co2_signal_api_token is deprecated"),
        ({"emissions_endpoint": "localhost:8008/e"}, r"webhook"),
        ({"experiment_id": "id", "experiment_name": "label"}, r"experiment_id='id' is not written"),
    ],
)
def test_partial_equivalents_warn(params, match):
    with pytest.warns(CodeCarbonCompatWarning, match=match):
        tracker = EmissionsTracker(**params)
    s = tracker.wattprint.settings
    if "co2_signal_api_token" in params:
        assert (s.live_provider, s.electricitymaps_token) == ("electricitymaps", "t")
    if "emissions_endpoint" in params:
        assert s.webhook_url == "http://localhost:8008/e"
    if "experiment_name" in params:
        assert s.experiment_name == "label"


def test_api_settings_alone_are_silent_as_in_codecarbon():
    """api_key and friends only matter with the API output on: alone they warn nothing."""
    with no_compat_warning():
        EmissionsTracker(api_key="k", api_endpoint="https://x", api_call_interval=2)


def test_bad_values_raise_value_error():
    with pytest.raises(ValueError, match="on_csv_write"):
        EmissionsTracker(on_csv_write="overwrite")
    with pytest.raises(ValueError, match="output_methods"):
        EmissionsTracker(output_methods=["csv", "carrier-pigeon"])
    with pytest.raises(ValueError, match="country"):
        OfflineEmissionsTracker(country_iso_code="XYZ")


def test_project_name_defaults_to_codecarbons_unless_wattprint_names_one(monkeypatch):
    assert EmissionsTracker().wattprint.settings.project_name == "codecarbon"
    monkeypatch.setenv("WATTPRINT_PROJECT_NAME", "from-wattprint")
    assert EmissionsTracker().wattprint.settings.project_name == "from-wattprint"
    monkeypatch.setenv("CODECARBON_PROJECT_NAME", "from-codecarbon")
    assert EmissionsTracker().wattprint.settings.project_name == "from-codecarbon"
    assert EmissionsTracker("argument").wattprint.settings.project_name == "argument"


def test_positional_arguments_in_codecarbons_order():
    tracker = EmissionsTracker("positional", 7)
    assert (tracker.wattprint.settings.project_name, tracker.wattprint.settings.interval_s) == (
        "positional",
        7.0,
    )


# -- configuration: files and variables, CodeCarbon's precedence ----------------------------------


def write_config(folder: Path, **values: object) -> Path:
    path = folder / ".codecarbon.config"
    body = "".join(f"{k} = {v}\n" for k, v in values.items())
    path.write_text(f"[codecarbon]\n{body}")
    return path


def test_config_precedence_home_cwd_env_argument(monkeypatch):
    home = Path(os.environ["HOME"])
    write_config(
        home,
        project_name="home",
        measure_power_secs=11,
        log_level="info",
        pue=1.1,
        tracking_mode="process",
        experiment_id="home-exp",
    )
    write_config(Path.cwd(), project_name="cwd", measure_power_secs=12, log_level="debug")
    monkeypatch.setenv("CODECARBON_MEASURE_POWER_SECS", "13")
    monkeypatch.setenv("codecarbon_log_level", "ERROR")  # any case, as CodeCarbon
    # wattprint's own settings are below every CodeCarbon layer.
    monkeypatch.setenv("WATTPRINT_INTERVAL_S", "99")
    monkeypatch.setenv("WATTPRINT_PUE", "1.9")

    # The same merged configuration as CodeCarbon's own reader, key for key.
    ours, sources = cc_config.read_config()
    assert ours == get_hierarchical_config()
    assert sources["project_name"] == str(Path.cwd() / ".codecarbon.config")
    assert sources["measure_power_secs"] == "CODECARBON_MEASURE_POWER_SECS"

    s = EmissionsTracker().wattprint.settings
    assert s.project_name == "cwd"  # cwd file over home file
    assert s.interval_s == 13.0  # environment over both files
    assert s.log_level == "error"
    assert s.pue == 1.1  # home file over WATTPRINT_PUE
    assert s.tracking_mode == "process"
    assert s.experiment_name == "home-exp"
    s = EmissionsTracker(measure_power_secs=14, log_level="warning").wattprint.settings
    assert (s.interval_s, s.log_level) == (14.0, "warning")  # arguments over everything


def test_config_parent_folders_are_not_read(tmp_path):
    """CodeCarbon reads ./.codecarbon.config only, never a parent's."""
    write_config(Path.cwd().parent, project_name="parent")
    assert EmissionsTracker().wattprint.settings.project_name == "codecarbon"


def test_config_values_are_converted_as_codecarbon_does(monkeypatch):
    write_config(
        Path.cwd(),
        save_to_file="1",
        country_iso_code="CAN",
        gpu_ids="0, 1",
        force_carbon_intensity_g_co2e_kwh="42.5",
    )
    tracker = OfflineEmissionsTracker()
    s = tracker.wattprint.settings
    assert s.save_csv is False  # CodeCarbon: only "true" is true
    assert (s.country, s.gpu_ids, s.intensity_g_per_kwh) == ("CAN", ("0", "1"), 42.5)
    monkeypatch.setenv("CODECARBON_SAVE_TO_FILE", "True")
    assert OfflineEmissionsTracker().wattprint.settings.save_csv is True


def test_config_number_that_does_not_parse_is_ignored_with_a_warning(monkeypatch):
    monkeypatch.setenv("CODECARBON_MEASURE_POWER_SECS", "fast")
    with pytest.warns(CodeCarbonCompatWarning, match="CODECARBON_MEASURE_POWER_SECS"):
        tracker = EmissionsTracker()
    assert tracker.wattprint.settings.interval_s == 10.0  # wattprint's default


def test_config_unmapped_value_warns_with_its_source():
    path = write_config(Path(os.environ["HOME"]), rapl_include_dram=True, api_key="secret")
    match = re.escape(f"rapl_include_dram=True (from {path})")
    with pytest.warns(CodeCarbonCompatWarning, match=match):
        EmissionsTracker()


@pytest.mark.parametrize("where", ["argument", "config"])
def test_forced_cpu_and_ram_power_become_user_figures(machine, where):
    """CodeCarbon's force_cpu_power is the CPU's maximum (10 % of it idle), force_ram_power a
    constant: wattprint measures with them, labelled "user", instead of ignoring them."""
    if where == "config":
        write_config(Path(os.environ["HOME"]), force_cpu_power=95, force_ram_power=12)
        given = {}
    else:
        given = {"force_cpu_power": 95, "force_ram_power": 12}
    with no_compat_warning():
        tracker = OfflineEmissionsTracker(country_iso_code="FRA", **given)
    s = tracker.wattprint.settings
    assert (s.cpu_power_w, s.ram_power_w) == ("9.5..95", "12")
    tracker.start()
    tracker.stop()
    result = tracker.wattprint.result
    assert (result.cpu.method, result.ram.method) == ("user", "user")


def test_config_file_that_cannot_be_parsed_names_itself():
    (Path.cwd() / ".codecarbon.config").write_text("project_name = x\n")
    with pytest.raises(ValueError, match=r"\.codecarbon\.config"):
        EmissionsTracker()


def test_unknown_config_keys_are_ignored_as_in_codecarbon():
    write_config(Path.cwd(), organization_id="o", project_id="p", something="else")
    with no_compat_warning():
        EmissionsTracker()


# -- behaviour ------------------------------------------------------------------------------------


def busy(machine, ticks: int = 400) -> None:
    busy.total = getattr(busy, "total", 1000) + ticks
    machine.write("/proc/stat", cpu_stat(busy.total, 9000 + busy.total))


def test_stop_returns_kg_and_the_csv_has_codecarbons_columns_first(isolated):
    tracker = OfflineEmissionsTracker(country_iso_code="FRA", project_name="p")
    assert tracker.final_emissions is None and tracker.final_emissions_data is None
    tracker.start()
    busy(isolated)
    emissions = tracker.stop()
    assert isinstance(emissions, float) and emissions > 0
    result = tracker.wattprint.result
    assert emissions == result.emissions_kg
    assert tracker.final_emissions == emissions
    data = tracker.final_emissions_data
    assert isinstance(data, EmissionsData)
    assert data.emissions == emissions and data.country_iso_code == "FRA"
    assert data.energy_consumed == pytest.approx(result.energy_kwh)
    (row,) = rows(Path("emissions.csv"))
    assert header(Path("emissions.csv")) == list(COLUMNS)
    assert float(row["emissions"]) == pytest.approx(emissions)
    assert row["project_name"] == "p" and row["status"] == "finished"
    # A second stop, as CodeCarbon's: nothing more is written, the same figure is returned.
    assert tracker.stop() == emissions
    assert len(rows(Path("emissions.csv"))) == 1


def test_a_stopped_tracker_can_start_a_new_run(isolated):
    tracker = OfflineEmissionsTracker(country_iso_code="FRA")
    tracker.start()
    first = tracker.stop()
    tracker.start()
    busy(isolated)
    second = tracker.stop()
    assert tracker.final_emissions == second != first
    assert len({r["run_id"] for r in rows(Path("emissions.csv"))}) == 2


def test_stop_and_flush_before_start_return_none(caplog):
    tracker = OfflineEmissionsTracker(country_iso_code="FRA")
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        assert tracker.flush() is None
        assert tracker.stop() is None
    assert "You first need to start the tracker." in caplog.text
    assert "never started" in caplog.text
    assert not Path("emissions.csv").exists()


def test_flush_returns_kg_and_writes_a_row(isolated, caplog):
    tracker = OfflineEmissionsTracker(country_iso_code="FRA")
    tracker.start()
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        tracker.start()
    assert "Already started tracking" in caplog.text
    busy(isolated)
    flushed = tracker.flush()
    busy(isolated)
    final = tracker.stop()
    assert isinstance(flushed, float) and 0 < flushed <= final
    statuses = [r["status"] for r in rows(Path("emissions.csv"))]
    assert statuses == ["running", "finished"]


def test_output_file_names_the_csv(tmp_path):
    with EmissionsTracker(output_file="my_emissions.csv", output_dir="out"):
        pass
    assert rows(Path("out/my_emissions.csv"))[0]["status"] == "finished"
    assert not Path("out/emissions.csv").exists()
    absolute = tmp_path / "elsewhere.csv"
    with EmissionsTracker(output_file=str(absolute), output_dir="out"):
        pass
    assert len(rows(absolute)) == 1


def test_save_to_file_false_writes_nothing():
    with EmissionsTracker(save_to_file=False) as tracker:
        pass
    assert isinstance(tracker.final_emissions, float)
    assert not Path("emissions.csv").exists()


def test_tasks(isolated, caplog):
    tracker = EmissionsTracker(project_name="tasks")
    tracker.start_task("load")  # starts the tracker, as CodeCarbon's task mode
    assert tracker.wattprint.running
    busy(isolated)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        tracker.start_task("other")  # CodeCarbon measures one task at a time
    assert "A task is already under measure" in caplog.text
    load = tracker.stop_task()
    assert isinstance(load, EmissionsData)
    assert load.duration > 0 and load.emissions > 0 and load.energy_consumed > 0
    assert load.cpu_energy + load.gpu_energy + load.ram_energy == pytest.approx(
        load.energy_consumed
    )
    tracker.start_task()  # no name: a uuid
    busy(isolated)
    unnamed = tracker.stop_task()
    assert tracker.stop_task() is None  # nothing running
    total = tracker.stop()
    assert total >= load.emissions + unnamed.emissions - 1e-15
    names = [r["task_name"] for r in rows(Path("emissions_tasks.csv"))]
    assert names[0] == "load" and len(names[1]) == 36
    assert rows(Path("emissions.csv"))[0]["project_name"] == "tasks"


def test_stop_ends_a_running_task():
    tracker = OfflineEmissionsTracker(country_iso_code="FRA")
    tracker.start_task("left open")
    tracker.stop()
    assert [r["task_name"] for r in rows(Path("emissions_tasks.csv"))] == ["left open"]


def test_context_manager_records_a_failure():
    with pytest.raises(RuntimeError):
        with OfflineEmissionsTracker(country_iso_code="FRA") as tracker:
            raise RuntimeError("boom")
    assert isinstance(tracker, OfflineEmissionsTracker)
    assert rows(Path("emissions.csv"))[0]["status"] == "failed"


def test_decorator_bare_and_with_arguments():
    @track_emissions
    def bare(x):
        return x * 2

    @track_emissions(project_name="decorated", offline=True, country_iso_code="FRA")
    def with_args(x):
        return x + 1

    assert bare(2) == 4
    assert with_args(2) == 3
    assert bare.__name__ == "bare"
    got = rows(Path("emissions.csv"))
    assert [r["project_name"] for r in got] == ["codecarbon", "decorated"]
    assert got[1]["country_iso_code"] == "FRA"


def test_decorator_failure_is_recorded_and_raised():
    @track_emissions(offline=True, country_iso_code="FRA")
    def fails():
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    assert rows(Path("emissions.csv"))[0]["status"] == "failed"


def test_decorator_offline_needs_a_country_as_codecarbon():
    @track_emissions(offline=True)
    def f():
        return 1

    with pytest.raises(ValueError, match="Needs ISO Code of the Country for Offline mode"):
        f()
    # CodeCarbon's configuration may give it (CodeCarbon itself insists on the argument).
    write_config(Path.cwd(), country_iso_code="ESP")
    assert f() == 1
    assert rows(Path("emissions.csv"))[0]["country_iso_code"] == "ESP"


def test_async_function_is_tracked_over_its_await():
    import asyncio

    @track_emissions(offline=True, country_iso_code="FRA")
    async def job():
        await asyncio.sleep(0.05)
        return "done"

    assert asyncio.run(job()) == "done"
    assert float(rows(Path("emissions.csv"))[0]["duration"]) >= 0.05


def test_offline_tracker_without_a_country_warns_and_locates_offline():
    with pytest.warns(CodeCarbonCompatWarning, match="without country_iso_code"):
        tracker = OfflineEmissionsTracker()
    tracker.start()
    tracker.stop()
    row = rows(Path("emissions.csv"))[0]
    assert (row["country_iso_code"], row["location_source"]) == ("FRA", "timezone")


def test_output_handlers_get_codecarbons_calls(isolated):
    calls = []

    class Handler(BaseOutput):
        def out(self, total, delta):
            calls.append(("out", total.emissions, delta.emissions, delta.duration))

        def task_out(self, data, experiment_name):
            calls.append(("task_out", [d.task_name for d in data], experiment_name))

        def exit(self):
            calls.append(("exit",))

    tracker = OfflineEmissionsTracker(
        country_iso_code="FRA", output_handlers=[Handler()], experiment_name="exp"
    )
    tracker.start()
    tracker.start_task("t")
    busy(isolated)
    tracker.stop_task()
    first = tracker.flush()
    busy(isolated)
    final = tracker.stop()
    kinds = [c[0] for c in calls]
    assert kinds == ["out", "task_out", "out", "task_out", "exit"]
    assert calls[0][1] == calls[0][2] == first  # the first delta is the total
    assert calls[2][1] == final
    assert calls[2][2] == pytest.approx(final - first)
    assert calls[1][1:] == (["t"], "exp")


def test_handler_failure_does_not_reach_the_program(caplog):
    class Broken(BaseOutput):
        def out(self, total, delta):
            raise OSError("disk full")

    with caplog.at_level(logging.WARNING, logger="wattprint"):
        with EmissionsTracker(output_handlers=[Broken()]) as tracker:
            pass
    assert isinstance(tracker.final_emissions, float)
    assert "disk full" in caplog.text


def test_emissions_data_delta_and_json():
    a = EmissionsTracker()
    a.start()
    a.stop()
    data = a.final_emissions_data
    later = EmissionsData(
        **{**data.values, "duration": data.duration + 2, "emissions": data.emissions * 3}
    )
    later.compute_delta_emission(data)
    assert later.duration == pytest.approx(2)
    assert later.emissions_rate == pytest.approx(data.emissions * 2 / 2)
    assert json.loads(data.toJSON())["run_id"] == a.run_id


# -- CodeCarbon's documented usage forms, unchanged but for the import ----------------------------

# From CodeCarbon's documentation (docs/getting-started/usage.md), with the compat import.
DOCUMENTED = {
    "explicit object": """
        from wattprint.compat.codecarbon import EmissionsTracker
        tracker = EmissionsTracker()
        tracker.start()
        try:
             # Compute intensive code goes here
             _ = 1 + 1
        finally:
             tracker.stop()
    """,
    "context manager": """
        from wattprint.compat.codecarbon import EmissionsTracker

        with EmissionsTracker() as tracker:
            _ = 1 + 1  # Compute intensive training code goes here
    """,
    "decorator": """
        from wattprint.compat.codecarbon import track_emissions

        @track_emissions
        def training_loop():
            # Compute intensive training code goes here
            pass

        training_loop()
    """,
    "tasks": """
        from wattprint.compat.codecarbon import EmissionsTracker

        try:
            tracker = EmissionsTracker(project_name="bert_inference", measure_power_secs=10)
            tracker.start_task("load dataset")
            # do some data loading
            imdb_emissions = tracker.stop_task()
            tracker.start_task("build model")
            # build some model
            model_emissions = tracker.stop_task()
        finally:
            _ = tracker.stop()
    """,
    "offline explicit object": """
        from wattprint.compat.codecarbon import OfflineEmissionsTracker
        tracker = OfflineEmissionsTracker(country_iso_code="CAN")
        tracker.start()
        # GPU intensive training code
        tracker.stop()
    """,
    "offline context manager": """
        from wattprint.compat.codecarbon import OfflineEmissionsTracker

        with OfflineEmissionsTracker(country_iso_code="CAN") as tracker:
            # GPU intensive training code goes here
            pass
    """,
    "offline decorator": """
        from wattprint.compat.codecarbon import track_emissions
        @track_emissions(offline=True, country_iso_code="CAN")
        def training_loop():
            # training code goes here
            pass

        training_loop()
    """,
}


@pytest.mark.parametrize("form", DOCUMENTED)
def test_documented_usage_forms_run_unchanged(form):
    namespace: dict[str, object] = {}
    with no_compat_warning():
        exec(textwrap.dedent(DOCUMENTED[form]), namespace)  # noqa: S102
    (row,) = rows(Path("emissions.csv"))
    assert header(Path("emissions.csv"))[:38] == list(CODECARBON_COLUMNS)
    assert row["status"] == "finished" and float(row["emissions"]) > 0
    expected_kg = float(row["energy_consumed"]) * float(row["intensity_g_per_kwh"]) / 1000
    assert float(row["emissions"]) == pytest.approx(expected_kg, rel=1e-6)
    expected = "bert_inference" if form == "tasks" else "codecarbon"
    assert row["project_name"] == expected
    assert row["country_iso_code"] == ("CAN" if form.startswith("offline") else "FRA")
    if form == "tasks":
        assert isinstance(namespace["imdb_emissions"], EmissionsData)
        assert isinstance(namespace["model_emissions"], EmissionsData)
        tasks = [r["task_name"] for r in rows(Path("emissions_tasks.csv"))]
        assert tasks == ["load dataset", "build model"]
    tracker = namespace.get("tracker")
    if tracker is not None:
        assert tracker.final_emissions == pytest.approx(float(row["emissions"]))


# -- the same script with each import: the real CodeCarbon and the compat layer -------------------

WORK = """
import json, sys, time
from {module} import OfflineEmissionsTracker, track_emissions

def work(seconds=0.3):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n

"""

FORMS = {
    "explicit object": """
tracker = OfflineEmissionsTracker(project_name="same-script", country_iso_code="FRA",
                                  measure_power_secs=1)
tracker.start()
try:
    work()
finally:
    out = tracker.stop()
""",
    "context manager": """
with OfflineEmissionsTracker(project_name="same-script", country_iso_code="FRA") as tracker:
    work()
out = tracker.final_emissions
""",
    "decorator": """
@track_emissions(project_name="same-script", offline=True, country_iso_code="FRA")
def training_loop():
    return work()

training_loop()
out = None
""",
    "tasks": """
tracker = OfflineEmissionsTracker(project_name="same-script", country_iso_code="FRA")
try:
    tracker.start_task("load dataset")
    work(0.15)
    task = tracker.stop_task()
    tracker.start_task("train")
    work(0.15)
    tracker.stop_task()
finally:
    out = tracker.stop()
print(json.dumps({"task_fields": sorted(vars(task)), "task_duration": task.duration,
                  "task_emissions": task.emissions}))
""",
}


def run_script(folder: Path, module: str, form: str) -> tuple[list[str], dict[str, str], dict]:
    folder.mkdir()
    (folder / "home").mkdir()
    script = folder / "script.py"
    script.write_text(WORK.format(module=module) + FORMS[form] + "\nprint(json.dumps(out))\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WATTPRINT_") and not k.lower().startswith("codecarbon_")
    }
    env.update(
        HOME=str(folder / "home"), XDG_CONFIG_HOME=str(folder / "xdg"), PYTHONPATH=str(ROOT / "src")
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = []
    for line in done.stdout.splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(line))
    extra = lines[0] if form == "tasks" else {}
    path = folder / "emissions.csv"
    assert path.exists(), f"{module} wrote no emissions.csv: {sorted(os.listdir(folder))}"
    (row,) = rows(path)
    returned = lines[-1]
    if returned is not None:
        assert float(row["emissions"]) == pytest.approx(returned)
    return header(path), row, extra


@pytest.mark.parametrize("form", FORMS)
def test_same_script_with_each_import_writes_the_same_38_columns(form, tmp_path):
    cc_header, cc, cc_extra = run_script(tmp_path / "codecarbon", "codecarbon", form)
    wp_header, wp, wp_extra = run_script(
        tmp_path / "wattprint", "wattprint.compat.codecarbon", form
    )
    assert cc_header == list(CODECARBON_COLUMNS)  # the real CodeCarbon's file: 38 columns
    assert wp_header[:38] == cc_header
    assert wp["status"] == "finished"
    for column in (
        "project_name",
        "country_name",
        "country_iso_code",
        "cpu_count",
        "gpu_count",
        "tracking_mode",
        "on_cloud",
        "python_version",
    ):
        assert wp[column] == cc[column], column
    assert float(wp["pue"]) == float(cc["pue"]) == 1.0
    for row in (cc, wp):
        duration = float(row["duration"])
        # In task mode CodeCarbon restarts its clock at each start_task: its run row covers
        # the last task only. wattprint's covers the whole run.
        shortest = 0.15 if form == "tasks" and row is cc else 0.3
        assert shortest <= duration < 5.0
        for column in (
            "emissions",
            "energy_consumed",
            "cpu_energy",
            "ram_energy",
            "emissions_rate",
            "cpu_power",
            "ram_power",
        ):
            assert float(row[column]) > 0, column  # a CPU and RAM that ran drew power
        energy = float(row["energy_consumed"])
        assert energy > 0
        intensity = float(row["emissions"]) * 1000 / energy
        assert 10 < intensity < 200  # g/kWh: France's grid, by either tool's table
    # wattprint's powers and rate are its energies and emissions over its duration.
    wp_duration = float(wp["duration"])
    for part in ("cpu", "ram"):
        mean_w = float(wp[f"{part}_energy"]) * 3.6e6 / wp_duration
        assert float(wp[f"{part}_power"]) == pytest.approx(mean_w, rel=1e-6), part
    assert float(wp["emissions_rate"]) == pytest.approx(float(wp["emissions"]) / wp_duration)
    assert abs(float(wp["duration"]) - float(cc["duration"])) < 2.0
    assert float(wp["duration"]) >= float(cc["duration"]) - 0.1
    if form == "tasks":
        assert wp_extra["task_fields"] == cc_extra["task_fields"]
        for extra in (cc_extra, wp_extra):
            assert 0.15 <= extra["task_duration"] < 3.0 and extra["task_emissions"] > 0


def test_ram_columns_are_in_codecarbons_gib(machine):
    """CodeCarbon writes ram_total_size and ram_used_gb as bytes / 1024**3."""
    import csv

    from wattprint import Tracker

    Tracker(country="FRA").start().stop()
    with open("emissions.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    # The fake machine: MemTotal 16000000 kB, MemAvailable 4000000 kB.
    assert float(row["ram_total_size"]) == pytest.approx(16000000 * 1024 / 2**30, abs=1e-3)
    assert float(row["ram_used_gb"]) == pytest.approx(12000000 * 1024 / 2**30, rel=1e-6)
