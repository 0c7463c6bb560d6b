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
        ".", 10.0, None, "warning", True,
    )  # fmt: skip


def test_each_layer_overrides_the_one_below(machine, tmp_path, monkeypatch):
    user_file(tmp_path, "[wattprint]\nproject_name = from-user\npue = 1.2\ninterval_s = 5\n"
                        "country = DE\nlog_level = error\n")  # fmt: skip
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
        ({"interval_s": 0}, r"interval_s must be a number > 0"),
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
