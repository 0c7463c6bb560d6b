"""``wattprint config`` through the real entry point: setting and unsetting in the project or user
file, where each effective setting comes from, bad input (exit 2, file untouched byte for byte),
comments and other sections kept, and the interactive mode through a real pseudo-terminal."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from wattprint import Tracker
from wattprint.config import NAMES, load_settings
from wattprint.config_origins import explain

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@pytest.fixture
def env(machine, tmp_path) -> dict[str, str]:
    """The child's environment: no WATTPRINT_* from outside, HOME and XDG_CONFIG_HOME in
    tmp_path (the same user file the ``machine`` fixture gives the tests' own Tracker)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")}
    (tmp_path / "home").mkdir()
    clean.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    clean.update(COLUMNS="250", NO_COLOR="1", TERM="dumb")
    return clean


@pytest.fixture
def work(machine, tmp_path) -> Path:
    return tmp_path / "work"  # the machine fixture's working directory


def user_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "wattprint" / "config.ini"


def cli(env: dict[str, str], cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wattprint", "config", *args],
        cwd=cwd,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(done: subprocess.CompletedProcess, *texts: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for text in texts:
        assert text in done.stderr, done.stderr


# -- --set / --unset ------------------------------------------------------------------------------


def test_set_creates_the_project_file_and_a_tracker_there_uses_it(env, work):
    done = cli(env, work, "--set", "country=france", "--set", "pue=1.20", "--set", "gpu_ids=0, 1")
    assert done.returncode == 0, done.stderr
    path = work / ".wattprint.ini"
    assert path.read_text() == "[wattprint]\ncountry = FRA\npue = 1.2\ngpu_ids = 0,1\n"
    assert f"{path}: country = FRA" in done.stdout
    settings = load_settings(env=env, cwd=work)
    assert (settings.country, settings.pue, settings.gpu_ids) == ("FRA", 1.2, ("0", "1"))
    assert Tracker().settings.country == "FRA"  # the machine fixture's cwd is `work`


def test_set_edits_the_nearest_project_file_in_a_parent(env, work):
    (work / ".wattprint.ini").write_text("[wattprint]\nproject_name = p\n")
    sub = work / "a" / "b"
    sub.mkdir(parents=True)
    done = cli(env, sub, "--set", "interval_s=5")
    assert done.returncode == 0, done.stderr
    text = (work / ".wattprint.ini").read_text()
    assert text == "[wattprint]\nproject_name = p\ninterval_s = 5\n"
    assert not (sub / ".wattprint.ini").exists()
    assert load_settings(env=env, cwd=sub).interval_s == 5.0


def test_global_creates_the_user_file_and_its_folders_private(env, work, tmp_path):
    done = cli(env, work, "--global", "--set", "log_level=ERROR")
    assert done.returncode == 0, done.stderr
    path = user_file(tmp_path)
    assert path.read_text() == "[wattprint]\nlog_level = error\n"
    assert path.stat().st_mode & 0o777 == 0o600  # it may hold tokens
    assert not (work / ".wattprint.ini").exists()

    custom = tmp_path / "elsewhere" / "deep" / "wp.ini"
    done = cli(env, work, "--global", "--set", "pue=1.1", WATTPRINT_USER_CONFIG=str(custom))
    assert done.returncode == 0, done.stderr
    assert custom.read_text() == "[wattprint]\npue = 1.1\n"


def test_unset_removes_only_that_key_and_missing_is_not_an_error(env, work):
    path = work / ".wattprint.ini"
    path.write_text("[wattprint]\npue = 1.3\n# keep me\nproject_name = p\n")
    done = cli(env, work, "--unset", "pue")
    assert done.returncode == 0, done.stderr
    assert path.read_text() == "[wattprint]\n# keep me\nproject_name = p\n"
    before = path.read_bytes()
    again = cli(env, work, "--unset", "PUE")
    assert again.returncode == 0 and "pue was not set" in again.stdout
    assert path.read_bytes() == before


def test_comments_sections_order_and_line_endings_are_kept(env, work):
    path = work / ".wattprint.ini"
    original = (
        "# team settings\r\n[other]\r\nkey = 1\r\n\r\n[wattprint]\r\n; where we run\r\n"
        "pue=1.3\r\nproject_name : demo\r\n   continued\r\nlog_level = info\r\n\r\n"
        "# last section\r\n[last]\r\nx = y"
    )
    path.write_bytes(original.encode())
    done = cli(env, work, "--set", "pue=1.25", "--unset", "project_name", "--set", "zone=FR")
    assert done.returncode == 0, done.stderr
    assert path.read_bytes().decode() == (
        "# team settings\r\n[other]\r\nkey = 1\r\n\r\n[wattprint]\r\n; where we run\r\n"
        "pue=1.25\r\nlog_level = info\r\nzone = FR\r\n\r\n"
        "# last section\r\n[last]\r\nx = y"
    )


def test_a_typo_already_in_the_file_can_be_unset(env, work):
    path = work / ".wattprint.ini"
    path.write_text("[wattprint]\nprojet_name = typo\npue = 1.2\n")
    shown = cli(env, work, "--json")
    assert shown.returncode == 2 and "unknown setting(s) projet_name" in shown.stderr
    assert json.loads(shown.stdout)["settings"]["pue"]["value"] == 1.2  # still shown
    done = cli(env, work, "--unset", "projet_name")
    assert done.returncode == 0, done.stderr
    assert path.read_text() == "[wattprint]\npue = 1.2\n"


# -- bad input: one line, exit 2, nothing written -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "texts"),
    [
        (["--set", "pue=0.8"], ["pue='0.8'", "pue must be a number >= 1"]),
        (["--set", "interval_s=fast"], ["interval_s must be a number"]),
        (["--set", "project_name=" + "x" * 5000], ["project_name is 5000 characters long"]),
        (["--set", "interval_s=0.001"], ["interval_s must be a number >= 0.05"]),
        (["--set", "country=Atlantis"], ["country is not a country wattprint knows"]),
        (["--set", "log_level=loud"], ["log_level must be one of debug, info"]),
        (["--set", "save_csv=maybe"], ["save_csv must be true or false"]),
        (["--set", "project_name=a\nb"], ["project_name: a value must be on one line"]),
        (["--set", "country=FRA", "--set", "pue=9"], ["pue must be a number"]),  # none written
        (["--set", "pu=1"], ["unknown setting 'pu'", "did you mean pue", "allowed: project_name"]),
        (["--unset", "bogus"], ["unknown setting 'bogus'", "allowed:"]),
        (["--set", "pue"], ["--set takes NAME=VALUE"]),
        (["--set", "pue=1.2", "--unset", "pue"], ["pue is given more than once"]),
    ],
)
def test_bad_input_is_one_line_exit_2_and_the_file_is_untouched(env, work, args, texts):
    path = work / ".wattprint.ini"
    original = b"# mine\n[wattprint]\npue = 1.3\n\n[other]\nk = v\n"
    path.write_bytes(original)
    one_line_error(cli(env, work, *args), *texts)
    assert path.read_bytes() == original


def test_a_file_that_cannot_be_parsed_is_an_error_and_untouched(env, work):
    path = work / ".wattprint.ini"
    original = b"[wattprint]\npue = 1.2\ngarbage\n"
    path.write_bytes(original)
    done = cli(env, work, "--set", "pue=1.3")
    one_line_error(done, str(path), "cannot be parsed", "line 3: 'garbage'", "nothing was written")
    assert path.read_bytes() == original
    shown = cli(env, work)
    assert shown.returncode == 2 and "cannot be parsed" in shown.stderr
    assert "Traceback" not in shown.stderr and "setting" in shown.stdout  # the table still shows
    assert path.read_bytes() == original


# -- where each setting comes from ----------------------------------------------------------------


def layered(env: dict[str, str], work: Path, tmp_path: Path) -> dict[str, str]:
    path = user_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("[wattprint]\nproject_name = from-user\npue = 1.2\nlog_level = error\n")
    (work / ".wattprint.ini").write_text("[wattprint]\npue = 1.3\ninterval_s = 5\n")
    return {**env, "WATTPRINT_INTERVAL_S": "2", "WATTPRINT_WEBHOOK_TOKEN": "s3cret-token"}


def test_json_says_where_each_setting_comes_from(env, work, tmp_path):
    env = layered(env, work, tmp_path)
    done = cli(env, work, "--json")
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout
    data = json.loads(done.stdout)
    user, project = user_file(tmp_path), work / ".wattprint.ini"
    assert (data["file"], data["scope"], data["exists"]) == (str(project), "project", True)
    assert data["user_file"] == str(user) and data["project_file"] == str(project)
    s = data["settings"]
    assert list(s) == list(NAMES)
    assert s["output_dir"] == {
        "value": ".",
        "origin": "default",
        "layer": "default",
        "overridden": [],
        "secret": False,
        "error": None,
    }
    assert s["project_name"]["value"] == "from-user"
    assert s["project_name"]["origin"] == f"user config {user}"
    assert s["log_level"]["layer"] == "user"
    assert (s["pue"]["value"], s["pue"]["origin"]) == (1.3, f"project config {project}")
    assert s["pue"]["overridden"] == [f"user config {user}"]
    assert s["interval_s"]["value"] == 2.0
    assert s["interval_s"]["origin"] == "environment WATTPRINT_INTERVAL_S"
    assert s["interval_s"]["overridden"] == [f"project config {project}"]
    assert s["webhook_token"] == {
        "value": "(set)",
        "origin": "environment WATTPRINT_WEBHOOK_TOKEN",
        "layer": "environment",
        "overridden": [],
        "secret": True,
        "error": None,
    }
    assert s["electricitymaps_token"]["value"] is None
    assert data["problems"] == []
    found = explain(env=env, cwd=work)  # agrees with what a tracker would use
    assert {n: x.value for n, x in found.sources.items()} == dataclasses.asdict(
        load_settings(env=env, cwd=work)
    )

    global_ = json.loads(cli(env, work, "--json", "--global").stdout)
    assert (global_["file"], global_["scope"]) == (str(user), "user")


def test_table_says_where_each_setting_comes_from(env, work, tmp_path):
    env = layered(env, work, tmp_path)
    done = cli(env, work)  # no terminal: shows, never prompts
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout
    rows = {
        line.split("│")[1].strip(): line
        for line in done.stdout.splitlines()
        if line.count("│") == 4
    }
    assert list(rows) == list(NAMES)
    assert "default" in rows["output_dir"]
    assert "from-user" in rows["project_name"]
    assert f"user config {user_file(tmp_path)}" in rows["project_name"]
    assert "1.3" in rows["pue"] and f"project config {work / '.wattprint.ini'}" in rows["pue"]
    assert "environment WATTPRINT_INTERVAL_S" in rows["interval_s"]
    assert "(set)" in rows["webhook_token"]
    assert f"Edits go to {work / '.wattprint.ini'}" in done.stdout


def test_invalid_value_in_a_layer_is_shown_and_exits_2(env, work):
    (work / ".wattprint.ini").write_text("[wattprint]\npue = 0.5\n")
    done = cli(env, work, "--json", WATTPRINT_LOG_LEVEL="loud")
    assert done.returncode == 2
    data = json.loads(done.stdout)
    assert data["settings"]["pue"]["error"].startswith("pue='0.5'")
    assert "WATTPRINT_LOG_LEVEL='loud' (environment)" in data["settings"]["log_level"]["error"]
    assert len(data["problems"]) == 2 and len(done.stderr.strip().splitlines()) == 2
    fixed = cli(env, work, "--set", "pue=1.5", WATTPRINT_LOG_LEVEL="loud")  # fixable
    assert fixed.returncode == 0 and "warning: WATTPRINT_LOG_LEVEL='loud'" in fixed.stderr
    shadowed = cli(env, work, "--json", WATTPRINT_PUE="0.2", WATTPRINT_LOG_LEVEL="info")
    assert shadowed.returncode == 2  # an invalid value fails a tracker even when overridden
    assert "WATTPRINT_PUE='0.2'" in shadowed.stderr
    (work / ".wattprint.ini").write_text("[wattprint]\npue = 0.5\n")
    shadowed = cli(env, work, "--json", WATTPRINT_PUE="1.2")
    assert shadowed.returncode == 2 and "pue='0.5'" in shadowed.stderr
    assert json.loads(shadowed.stdout)["settings"]["pue"]["value"] == 1.2


def test_the_environment_or_a_project_file_overriding_what_was_set_is_said(env, work, tmp_path):
    done = cli(env, work, "--set", "pue=1.2", WATTPRINT_PUE="1.4")
    assert done.returncode == 0, done.stderr
    assert "WATTPRINT_PUE in the environment overrides the value you just set" in done.stderr
    assert "pue = 1.4" in done.stderr
    done = cli(env, work, "--global", "--set", "pue=1.1")
    assert done.returncode == 0, done.stderr
    assert f"project config {work / '.wattprint.ini'} overrides the value you just set" in (
        done.stderr
    )
    done = cli(env, work, "--unset", "pue")
    assert f"pue still comes from user config {user_file(tmp_path)}: 1.1" in done.stderr
    done = cli(env, work, "--set", "webhook_token=abc", "--json")
    assert done.returncode == 0 and "abc" not in done.stdout + done.stderr
    assert "webhook_token is a secret" in done.stderr
    assert json.loads(done.stdout)["changed"] == ["webhook_token"]


# -- interactive, through a pseudo-terminal -------------------------------------------------------


def _controlling_terminal_with_default_sigint() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # A suite started with SIGINT ignored (nohup, some CI runners) passes that on to its
    # children, and the Ctrl-C typed below would then never arrive.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """The command on a pseudo-terminal that is its controlling terminal."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 250, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wattprint", "config", *args],
            cwd=cwd,
            env=env,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            start_new_session=True,
            preexec_fn=_controlling_terminal_with_default_sigint,
        )
        self.seen = ""
        self.pos = 0

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        self.seen += ANSI.sub("", os.read(self.master, 65536).decode(errors="replace"))
        return True

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.pos :]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not seen; got:\n{self.seen[self.pos :]}")
            self._read(0.2)
        self.pos = self.seen.index(text, self.pos) + len(text)

    def send(self, line: str) -> None:
        os.write(self.master, line.encode())

    def wait_for_hidden_input(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.slave)[3] & termios.ECHO:
            assert time.monotonic() < deadline, "echo never turned off"
            time.sleep(0.02)

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.1):
            pass
        code = self.proc.wait(timeout=5)
        os.close(self.master)
        os.close(self.slave)
        return code


@pytest.fixture
def terminals():
    opened: list[Terminal] = []
    yield opened
    for t in opened:
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.wait()


def answer(t: Terminal, name: str, text: str) -> None:
    t.expect(f"{name} (")
    t.expect("]: ")
    t.send(text + "\n")


def test_interactive_walks_validates_confirms_and_writes(env, work, terminals):
    path = work / ".wattprint.ini"
    path.write_text("# ours\n[wattprint]\npue = 1.3\n\n[other]\nk = v\n")
    t = Terminal(env, work)
    terminals.append(t)
    t.expect("Editing")
    answer(t, "project_name", "demo")
    answer(t, "cloud_provider", "")  # not on a cloud: asks country and region next
    answer(t, "country", "Atlantis")
    t.expect("country is not a country wattprint knows")
    t.expect("]: ")
    t.send("france\n")
    answer(t, "region", "")
    answer(t, "pue", "0.5")
    t.expect("pue must be a number >= 1")
    t.expect("]: ")
    t.send("1.2\n")
    answer(t, "output_dir", "")
    answer(t, "interval_s", "")
    answer(t, "live_provider", "electricitymaps")
    t.expect("electricitymaps_token (")
    t.wait_for_hidden_input()
    t.send("tok-123\n")
    t.expect("Changes to")
    t.expect("Write these changes?")
    t.send("y\n")
    assert t.finish() == 0, t.seen
    assert "tok-123" not in t.seen  # typed hidden, shown as (set)
    assert "- pue = 1.3" in t.seen and "+ pue = 1.2" in t.seen
    assert "+ electricitymaps_token = (set)" in t.seen
    assert "Traceback" not in t.seen
    assert path.read_text() == (
        "# ours\n[wattprint]\npue = 1.2\nproject_name = demo\ncountry = FRA\n"
        "live_provider = electricitymaps\nelectricitymaps_token = tok-123\n\n[other]\nk = v\n"
    )
    settings = load_settings(env=env, cwd=work)
    assert (settings.project_name, settings.country, settings.pue) == ("demo", "FRA", 1.2)
    assert settings.electricitymaps_token == "tok-123"
    built = Tracker().settings  # in that directory (the machine fixture's cwd)
    assert (built.project_name, built.country, built.pue) == ("demo", "FRA", 1.2)


def test_interactive_cloud_branch_and_global(env, work, tmp_path, terminals):
    t = Terminal(env, work, "--global")
    terminals.append(t)
    answer(t, "project_name", "")
    answer(t, "cloud_provider", "aws")
    answer(t, "cloud_region", "eu-west-3")
    answer(t, "pue", "-")  # not in the file: nothing to remove
    answer(t, "output_dir", "")
    answer(t, "interval_s", "30")
    answer(t, "live_provider", "")
    t.expect("Write these changes?")
    t.send("\n")  # the default is yes
    assert t.finish() == 0, t.seen
    assert "country (" not in t.seen  # on a cloud the region says where
    assert user_file(tmp_path).read_text() == (
        "[wattprint]\ncloud_provider = aws\ncloud_region = eu-west-3\ninterval_s = 30\n"
    )
    assert not (work / ".wattprint.ini").exists()


@pytest.mark.parametrize("key", ["\x03", "\x04"], ids=["ctrl-c", "eof"])
def test_interactive_abort_writes_nothing_and_exits_1(env, work, terminals, key):
    path = work / ".wattprint.ini"
    original = b"[wattprint]\npue = 1.3\n"
    path.write_bytes(original)
    t = Terminal(env, work)
    terminals.append(t)
    answer(t, "project_name", "demo")
    answer(t, "cloud_provider", "")
    t.expect("country (")
    t.expect("]: ")
    t.send(key)
    assert t.finish() == 1, t.seen
    assert "aborted; nothing written" in t.seen and "Traceback" not in t.seen
    assert path.read_bytes() == original


def test_interactive_no_at_the_confirmation_writes_nothing(env, work, terminals):
    t = Terminal(env, work)
    terminals.append(t)
    answer(t, "project_name", "demo")
    for name in (
        "cloud_provider",
        "country",
        "region",
        "pue",
        "output_dir",
        "interval_s",
        "live_provider",
    ):
        answer(t, name, "")
    t.expect("Write these changes?")
    t.send("n\n")
    assert t.finish() == 0, t.seen
    assert "Nothing written" in t.seen
    assert not (work / ".wattprint.ini").exists()


def test_no_input_on_a_terminal_only_shows(env, work, terminals):
    t = Terminal(env, work, "--no-input")
    terminals.append(t)
    assert t.finish() == 0, t.seen
    assert "Edits go to" in t.seen and "]: " not in t.seen
    assert not (work / ".wattprint.ini").exists()
