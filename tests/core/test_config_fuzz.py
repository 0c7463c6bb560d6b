"""Property-based fuzz of the settings: whatever a setting is given, the tracker is built or a
``ValueError`` says which setting was wrong, in a message of a few hundred characters at most;
never another exception type."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattprint import Tracker
from wattprint.config import NAMES, TRACKER_NAMES, load_settings

# Values of every kind a caller, a file or the environment could hand a setting.
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8).map(lambda t: t + "\udce9"),
    st.sampled_from(
        [
            "",
            " ",
            "\0",
            "/",
            "..",
            "0",
            "1",
            "true",
            "FRA",
            "http://x",
            "1e-9",
            "nan",
            "inf",
            "-1",
            "8080",
            "GPU-a",
            "x" * 5000,
        ]
    ),
    st.binary(max_size=10),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**63, 0, -1, 65536]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.integers(-2, 10**7), st.text(max_size=5)), max_size=3),
    st.builds(Path, st.text(max_size=10)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _check(build, name: str) -> None:
    try:
        build()
    except ValueError as exc:
        message = str(exc)
        assert name in message, message
        assert len(message) <= 400, message


@pytest.mark.parametrize("name", NAMES)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=ANY_VALUE)
def test_any_argument_builds_or_names_the_setting(machine, name, value):
    _check(lambda: load_settings({name: value}), name)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(TRACKER_NAMES), value=ANY_VALUE)  # the server's are not a tracker's
def test_any_tracker_argument_builds_or_names_the_setting(machine, name, value):
    _check(lambda: Tracker(**{name: value}), name)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(NAMES), value=st.text(max_size=30))
def test_any_environment_value_builds_or_names_the_variable(machine, name, value):
    env = {f"WATTPRINT_{name.upper()}": value}
    _check(lambda: load_settings(env=env, cwd=Path.cwd()), f"WATTPRINT_{name.upper()}")


def test_nan_is_refused_naming_the_setting():
    # The property is not vacuous: a value the fuzz draws does raise, and names the setting.
    with pytest.raises(ValueError, match="pue=nan"):
        load_settings({"pue": float("nan")})
