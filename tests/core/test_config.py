"""Settings: defaults < user file < project file < WATTPRINT_* env < arguments; bad values fail
at construction with the setting's name, where it came from and what is allowed."""

from __future__ import annotations

import pytest

from wattprint import Tracker
from wattprint.config import Settings, load_settings


def user_file(tmp_path, text: str) -> None:
    path = tmp_path / "xdg" / "wattprint" / "config.ini"
    path.parent.mkdir(parents=True)
    path.write_text(text)


def test_defaults(machine):
    s = Tracker().settings
    assert s == Settings()
    assert (s.output_dir, s.interval_s, s.pue, s.log_level, s.save_csv) == (
        ".",
        10.0,
        None,
        "warning",
        True,
    )


def test_each_layer_overrides_the_one_below(machine, tmp_path, monkeypatch):
    user_file(
        tmp_path,
        "[wattprint]\nproject_name = from-user\npue = 1.2\ninterval_s = 5\n"
        "country = DE\nlog_level = error\n",
    )
    (tmp_path / "work" / ".wattprint.ini").write_text(
        "[wattprint]\nproject_name = from-project\npue = 1.3\ninterval_s = 3\n"
    )
    monkeypatch.setenv("WATTPRINT_PUE", "1.4")
    monkeypatch.setenv("WATTPRINT_INTERVAL_S", "2")
    s = Tracker(interval_s=1).settings
    assert s.log_level == "error"  # user file only
    assert s.country == "DEU"  # user file, normalised to ISO-3
    assert s.project_name == "from-project"  # project beats user
    assert s.pue == 1.4  # env beats project
    assert s.interval_s == 1.0  # argument beats env


def test_project_file_is_found_in_a_parent_directory(machine, tmp_path, monkeypatch):
    (tmp_path / "work" / ".wattprint.ini").write_text("[wattprint]\nexperiment_name = exp1\n")
    sub = tmp_path / "work" / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert Tracker().settings.experiment_name == "exp1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pue": 0.8}, r"pue=0.8 \(argument\): pue must be a number >= 1"),
        ({"interval_s": 0}, r"interval_s must be a number >= 0.05"),
        ({"interval_s": 1e-9}, r"interval_s must be a number >= 0.05"),
        ({"interval_s": 10**400}, r"interval_s=<an integer of 401 digits> \(argument\)"),
        ({"latitude": 10**400, "longitude": 0}, r"latitude must be a number"),
        ({"pue": True}, r"pue must be a number"),
        ({"output_dir": 5}, r"output_dir must be text, not int"),
        ({"output_file": ["a.csv"]}, r"output_file must be text, not list"),
        ({"output_file": "a\0b.csv"}, r"output_file must not contain a NUL"),
        ({"output_file": "/"}, r"output_file must name a file"),
        ({"output_file": "runs/"}, r"output_file must name a file"),
        ({"output_file": ".."}, r"output_file must name a file"),
        ({"project_name": b"p"}, r"project_name must be text, not bytes"),
        ({"output_dir": b"/tmp"}, r"output_dir must be text, not bytes"),
        ({"country": b"FRA"}, r"country must be text, not bytes"),
        ({"prometheus_port": 9090.5}, r"prometheus_port must be a TCP port"),
        ({"prometheus_port": 10**400}, r"prometheus_port must be a TCP port"),
        ({"save_csv": 2}, r"save_csv must be true or false"),
        ({"log_level": ["info"]}, r"log_level must be one of"),
        ({"gpu_ids": {"0": 1}}, r"gpu_ids must be GPU indices"),
        ({"webhook_url": "ftp://example.org/x"}, r"webhook_url must be an http:// or https://"),
        ({"webhook_url": "http://"}, r"webhook_url must be an http:// or https:// URL with a host"),
        ({"webhook_url": "http://[::1"}, r"webhook_url must be an http"),
        ({"webhook_url": "http://host:port/"}, r"webhook_url must be an http"),
        ({"webhook_url": "http://a b/"}, r"webhook_url must be an http.*spaces"),
        ({"prometheus_pushgateway": "localhost:9091"}, r"prometheus_pushgateway must be an http"),
        ({"otel_endpoint": "https:///v1/metrics"}, r"otel_endpoint must be an http"),
        ({"interval_s": "fast"}, r"interval_s must be a number"),
        ({"intensity_g_per_kwh": -1}, r"intensity_g_per_kwh must be a number >= 0"),
        ({"log_level": "loud"}, r"log_level must be one of debug, info, warning"),
        ({"country": "Atlantis"}, r"country is not a country wattprint knows.*alpha-3"),
        ({"country": "Frnace"}, r"did you mean France"),
        ({"gpu_ids": ["zero"]}, r"gpu_ids has 'zero'.*index.*GPU-"),
        ({"save_csv": "maybe"}, r"save_csv must be true or false"),
        ({"tracking_mode": "cluster"}, r"tracking_mode must be one of machine, process"),
        ({"project_name": " "}, r"project_name must not be empty"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_the_setting(machine, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Tracker(**kwargs)


def test_invalid_environment_value_names_the_variable(machine, monkeypatch):
    monkeypatch.setenv("WATTPRINT_PUE", "abc")
    with pytest.raises(ValueError, match=r"WATTPRINT_PUE='abc' \(environment\)"):
        Tracker()


def test_unknown_key_in_a_file_is_an_error_naming_the_file(machine, tmp_path):
    user_file(tmp_path, "[wattprint]\nprojet_name = typo\n")
    with pytest.raises(ValueError, match=r"config.ini: unknown setting\(s\) projet_name"):
        Tracker()


def test_country_accepts_iso3_iso2_and_names(machine):
    for given in ("FRA", "fr", "France", "france"):
        assert load_settings({"country": given}).country == "FRA"


def test_gpu_ids_forms(machine):
    assert load_settings({"gpu_ids": "0, 1"}).gpu_ids == ("0", "1")
    assert load_settings({"gpu_ids": [0, "GPU-ab"]}).gpu_ids == ("0", "GPU-ab")
    assert load_settings({"gpu_ids": 2}).gpu_ids == ("2",)


def test_boolean_from_environment(machine, monkeypatch):
    monkeypatch.setenv("WATTPRINT_SAVE_CSV", "no")
    assert Tracker().settings.save_csv is False


def test_an_output_file_that_is_a_folder_is_refused(machine, tmp_path):
    (tmp_path / "work" / "runs").mkdir()
    with pytest.raises(ValueError, match=r"output_file='runs'.*is a folder"):
        Tracker(output_file="runs")


def test_paths_may_be_path_objects(machine, tmp_path):
    from pathlib import Path

    s = Tracker(output_dir=tmp_path, output_file=Path("runs.csv")).settings
    assert (s.output_dir, s.output_file) == (str(tmp_path), "runs.csv")


@pytest.mark.parametrize("name", ["project_name", "experiment_name", "run_name"])
def test_a_name_that_is_not_utf8_is_refused_at_construction(machine, monkeypatch, name):
    # os.environ keeps undecodable bytes as surrogates: b"caf\xe9" (Latin-1) becomes "caf\udce9".
    monkeypatch.setenv(f"WATTPRINT_{name.upper()}", "caf\udce9")
    with pytest.raises(ValueError) as err:
        Tracker()
    message = str(err.value)
    assert f"WATTPRINT_{name.upper()}=" in message and "(environment)" in message
    assert "not valid UTF-8 text (byte 0xe9 at position 3)" in message


def test_a_huge_bad_value_is_cut_short_in_the_message(machine):
    with pytest.raises(ValueError) as err:
        Tracker(country="x" * 1_000_000)
    assert len(str(err.value)) < 300
    assert "country=" in str(err.value) and "1000002 characters" in str(err.value)


def test_a_long_unknown_country_is_cut_short_in_the_message(machine):
    with pytest.raises(ValueError) as err:
        Tracker(country="Atlantis" * 400)
    assert len(str(err.value)) < 400 and "country=" in str(err.value)


def test_urls_that_work(machine):
    s = load_settings(
        {
            "webhook_url": "https://example.org/hook",
            "prometheus_pushgateway": "http://localhost:9091",
            "otel_endpoint": "http://[::1]:4318/v1/metrics",
        }
    )
    assert s.otel_endpoint == "http://[::1]:4318/v1/metrics"


def test_interval_at_the_floor_is_accepted(machine):
    from wattprint.config import MIN_INTERVAL_S

    assert load_settings({"interval_s": MIN_INTERVAL_S}).interval_s == MIN_INTERVAL_S


# -- config files that cannot be used: skipped, said once, never raised


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_an_unreadable_project_file_is_skipped_with_one_warning(
    machine, tmp_path, caplog, monkeypatch
):
    from pathlib import Path

    path = tmp_path / "work" / ".wattprint.ini"
    path.write_text("[wattprint]\nproject_name = secret\n")
    real_read_text = Path.read_text

    def read_text(self, *args, **kwargs):  # chmod 0 does not stop root: refuse it here
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    with caplog.at_level("WARNING", logger="wattprint"):
        s = Tracker().settings
        Tracker()
    assert s.project_name == "wattprint"
    said = [m for m in _warnings(caplog) if ".wattprint.ini" in m]
    assert len(said) == 1 and "skipped, cannot be read (Permission denied)" in said[0]


def test_a_project_file_that_is_not_utf8_is_skipped_with_one_warning(machine, tmp_path, caplog):
    path = tmp_path / "work" / ".wattprint.ini"
    path.write_bytes(b"[wattprint]\nproject_name = caf\xe9\n")
    with caplog.at_level("WARNING", logger="wattprint"):
        s = Tracker().settings
        Tracker()
    assert s.project_name == "wattprint"
    said = [m for m in _warnings(caplog) if ".wattprint.ini" in m]
    assert len(said) == 1 and "not UTF-8 text (byte 0xe9 at offset 30)" in said[0]


def test_a_misnamed_section_is_skipped_with_one_warning(machine, tmp_path, caplog):
    user_file(tmp_path, "[Wattprint]\npue = 1.5\n")
    with caplog.at_level("WARNING", logger="wattprint"):
        s = Tracker().settings
    assert s.pue is None
    said = [m for m in _warnings(caplog) if "config.ini" in m]
    assert len(said) == 1 and "no [wattprint] section (found [Wattprint])" in said[0]


def test_an_unreadable_home_does_not_stop_a_tracker(machine, tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.delenv("XDG_CONFIG_HOME")
    real_is_file = Path.is_file

    def is_file(self):  # HOME=/root in a container run with --user: stat() is refused
        if str(self).startswith("/root-of-someone-else"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setenv("HOME", "/root-of-someone-else")
    monkeypatch.setattr(Path, "is_file", is_file)
    assert Tracker(pue=1.1).settings.pue == 1.1


def test_explain_lists_a_skipped_file_as_a_problem(machine, tmp_path):
    from wattprint.config_origins import explain

    path = tmp_path / "work" / ".wattprint.ini"
    path.write_text("[other]\nx = 1\n")
    problems = explain().problems
    assert any("no [wattprint] section (found [other])" in p for p in problems)
