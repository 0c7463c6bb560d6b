"""``wattprint config``: where each setting comes from, and editing the project or user file.

* No ``--set``/``--unset``: a table of every setting (effective value, where it comes from) and the
  file that edits would go to; on a terminal, then a walk through the common settings.
* ``--set NAME=VALUE`` / ``--unset NAME``: every value is checked with the same parsers as the
  tracker's before anything is written; a bad one is one line and exit 2, the file untouched.

Files are edited line by line, not rewritten by ``configparser``: comments, blank lines, other
sections and other keys stay exactly as they were, and only the lines of the keys that change are
touched. The result is parsed again and compared with what was intended before it replaces the
file (temporary file + ``os.replace``); if they differ, nothing is written.

Exit codes: 0 done (also: nothing to change, or "no" at the confirmation); 2 bad usage, a bad value,
a file that cannot be parsed, or (when only showing) settings a tracker would refuse; 1 a failure
(a file that cannot be written) or an interactive session aborted with Ctrl-C or end of input,
in which case nothing is written.
"""

from __future__ import annotations

import configparser
import functools
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import (
    NAMES,
    PARSERS,
    PROJECT_FILE,
    REDACTED,
    SECRETS,
    check_raw,
    ini_error,
    project_config_path,
    user_config_path,
)
from ..config_origins import Explanation, Source, explain

SECTION = "wattprint"
# The settings the interactive mode asks about, in order; the others are set with --set.
HINTS = {
    "project_name": "the label in every record",
    "cloud_provider": "aws, azure, gcp, ...; none if not on a cloud",
    "cloud_region": "the provider's region code, e.g. eu-west-3",
    "country": "ISO-3, ISO-2 or English name",
    "region": "state or province (california, QC) or a grid zone key",
    "pue": "power usage effectiveness of the site, 1-5",
    "output_dir": "where emissions.csv goes",
    "interval_s": "seconds between records",
    "live_provider": "live grid intensity: electricitymaps, ukgrid or watttime; off if none",
    "electricitymaps_token": "your Electricity Maps API token",
    "watttime_username": "your WattTime user name",
    "watttime_password": "your WattTime password",
}


# -- values ---------------------------------------------------------------------------------------


def _number_text(value: float) -> str:
    text = f"{value:g}"
    return text if float(text) == value else repr(value)


def _text_of(value: Any) -> str:
    """A parsed value as it is written in a file (and shown): the inverse of its parser."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


def _shown(name: str, text: str | None) -> str:
    """How a value is displayed: secrets never."""
    if text is None or text == "":
        return "-"
    if name in REDACTED:
        return REDACTED[name](text)
    return "(set)" if name in SECRETS else text


def _source_text(source: Source) -> str:
    if source.error is not None:
        return _shown(source.name, str(source.raw)) + " (invalid)"
    return _shown(source.name, _text_of(source.value))


def _setting_name(given: str, present: Mapping[str, str] | None = None) -> str:
    """The setting a user means; ValueError with the closest names if it is none."""
    name = given.strip().lower().replace("-", "_")
    if name.startswith("wattprint_"):
        name = name[len("wattprint_") :]
    if name in NAMES or (present is not None and name in present):
        return name
    import difflib

    close = difflib.get_close_matches(name, NAMES, n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise ValueError(f"unknown setting {given.strip()!r}; {hint}allowed: {', '.join(NAMES)}")


def _checked(name: str, raw: str, *, quote: bool = True) -> str:
    """The text to write for ``raw``, checked by the setting's parser; ValueError if invalid,
    naming the setting (and, with ``quote``, the value)."""
    if "\n" in raw or "\r" in raw:
        raise ValueError(f"{name}: a value must be on one line")
    try:
        check_raw(raw)  # NUL, non-UTF-8, too long: what no setting accepts
        value = PARSERS[name](name, raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: {name} {exc}" if quote else f"{name} {exc}") from None
    return _text_of(value)


# -- the file -------------------------------------------------------------------------------------


def _sections(text: str, path: Path) -> dict[str, dict[str, str]]:
    """Every section literally ([DEFAULT] included, as a plain section)."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ValueError(
            f"{path}: cannot be parsed as an INI file ({ini_error(exc)}); fix it, nothing was "
            "written"
        ) from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; fix it, nothing was written") from None


def _scan(lines: list[str]) -> list[tuple[str | None, str | None, str]]:
    """(section, option, kind) for each line, as configparser reads it: kind is "header",
    "option", "cont" (a continuation of the option's value) or "blank" (blank or comment)."""
    out: list[tuple[str | None, str | None, str]] = []
    section: str | None = None
    option: str | None = None
    indent_level = 0
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            out.append((section, option, "blank"))
            continue
        indent = len(line) - len(line.lstrip())
        if section is not None and option is not None and indent > indent_level:
            out.append((section, option, "cont"))
            continue
        indent_level = indent
        header = configparser.ConfigParser.SECTCRE.match(stripped)
        if header:
            section, option = header.group("header"), None
            out.append((section, None, "header"))
            continue
        match = configparser.ConfigParser.OPTCRE.match(stripped)
        option = match.group("option").rstrip().lower() if match else None
        out.append((section, option, "option"))
    return out


def edit(text: str, changes: Mapping[str, str | None], path: Path) -> str:
    """``text`` with the ``[wattprint]`` keys in ``changes`` set (str) or removed (None), every
    other line kept as it is. ValueError if ``text`` cannot be parsed, or if the result would not
    read back as exactly the intended change."""
    before = _sections(text, path)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    scan = _scan(lines)
    spans: dict[str, int] = {}  # option -> its first line
    last: int | None = None  # the section's last header, option or continuation line
    for i, (section, option, kind) in enumerate(scan):
        if section == SECTION and kind != "blank":
            last = i
            if kind == "option" and option is not None:
                spans[option] = i
    out: list[str] = []
    added = [
        f"{name} = {value}".rstrip() + newline
        for name, value in changes.items()
        if value is not None and name not in spans
    ]
    for i, line in enumerate(lines):
        section, option, kind = scan[i]
        if section == SECTION and option in changes and kind in ("option", "cont"):
            value = changes[option]
            if kind == "option" and value is not None:
                prefix = re.match(r"\s*[^=:]*?\s*[=:]\s*", line)
                head = prefix.group(0) if prefix else f"{option} = "
                ending = line[len(line.rstrip("\r\n")) :]
                out.append((head + value).rstrip() + ending)
            # else: removed, or a continuation of a replaced value
        else:
            out.append(line)
        if i == last and added:
            _end_line(out, newline)
            out.extend(added)
    if last is None and added:
        _end_line(out, newline)
        if out and out[-1].strip():
            out.append(newline)
        out.append(f"[{SECTION}]" + newline)
        out.extend(added)
    result = "".join(out)

    expected = {name: dict(values) for name, values in before.items()}
    if SECTION in expected or added:
        target = expected.setdefault(SECTION, {})
        for name, value in changes.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    if _sections(result, path) != expected:
        raise ValueError(
            f"{path}: wattprint cannot edit this file without changing other lines; "
            "edit it by hand, nothing was written"
        )
    return result


def _end_line(out: list[str], newline: str) -> None:
    """End the last line so that another can follow (a file may lack a final newline)."""
    if out and not out[-1].endswith(("\n", "\r")):
        out[-1] += newline


def write_atomic(path: Path, text: str, *, private: bool) -> None:
    """Replace ``path`` with ``text`` at once (temporary file in the same folder + os.replace);
    through a symbolic link, the file it points to. A new file is 0600 when ``private``."""
    import stat
    import tempfile

    target = path.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o600 if private else 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# -- the command ----------------------------------------------------------------------------------


class _Target:
    """The file edits go to, and what it holds now."""

    def __init__(self, global_: bool, env: Mapping[str, str], cwd: Path) -> None:
        if global_:
            self.path, self.scope = user_config_path(env), "user"
        else:
            self.path = project_config_path(cwd) or cwd / PROJECT_FILE
            self.scope = "project"
        self.origin = f"{self.scope} config {self.path}"

    @functools.cached_property
    def text(self) -> str:
        return _read(self.path)

    @functools.cached_property
    def values(self) -> dict[str, str]:
        """The file's [wattprint] keys; ValueError if it cannot be parsed."""
        return _sections(self.text, self.path).get(SECTION, {})


def _assignments(sets: list[str], unsets: list[str], target: _Target) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}

    def add(name: str, value: str | None) -> None:
        if name in changes:
            raise ValueError(f"{name} is given more than once (--set/--unset)")
        changes[name] = value

    for item in sets:
        name, equals, raw = item.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"--set takes NAME=VALUE, e.g. --set pue=1.2 (got {item!r})")
        name = _setting_name(name)
        add(name, _checked(name, raw))
    for item in unsets:
        add(_setting_name(item, target.values), None)
    return changes


def _layer(origin: str) -> str:
    return origin.split(" ", 1)[0]


def _data(target: _Target, found: Explanation) -> dict[str, Any]:
    settings = {}
    for name, s in found.sources.items():
        if s.secret:
            value: Any = "(set)" if s.value else None
        elif s.error is not None:
            value = None
        else:
            value = list(s.value) if isinstance(s.value, tuple) else s.value
            value = REDACTED[name](value) if name in REDACTED else value
        settings[name] = {
            "value": value,
            "origin": s.origin,
            "layer": _layer(s.origin),
            "overridden": list(s.overridden),
            "secret": s.secret,
            "error": s.error,
        }
    return {
        "file": str(target.path),
        "scope": target.scope,
        "exists": target.path.is_file(),
        "user_file": str(found.user_file),
        "project_file": str(found.project_file) if found.project_file else None,
        "settings": settings,
        "problems": list(found.problems),
    }


def _console(err: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if err else sys.stdout
    wide = not stream.isatty() and "COLUMNS" not in os.environ  # piped: no wrapping
    return Console(stderr=err, width=400 if wide else None, highlight=False)


def _show(console: Any, target: _Target, found: Explanation) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="wattprint settings", title_justify="left")
    for column in ("setting", "value", "from"):
        table.add_column(column)
    for name, s in found.sources.items():
        value = escape(_source_text(s))
        origin = escape(s.origin)
        if s.error is not None:
            value, origin = f"[red]{value}[/]", f"{origin}\n[red]{escape(s.error)}[/]"
        elif s.origin == "default":
            value, origin = f"[dim]{value}[/]", f"[dim]{origin}[/]"
        elif s.origin == target.origin:
            origin = f"[bold]{origin}[/]"
        table.add_row(name, value, origin)
    console.print(table)
    other = "--global: the user file" if target.scope == "project" else "without --global: "
    other += f" {found.user_file}" if target.scope == "project" else "the nearest .wattprint.ini"
    state = "" if target.path.is_file() else " (not created yet)"
    console.print(f"Edits go to [bold]{escape(str(target.path))}[/]{state} ({other}).")


def _notes(
    target: _Target, changes: Mapping[str, str | None], env: Mapping[str, str], cwd: Path
) -> None:
    """After a write: what overrides what was just set, what an unset falls back to."""
    found = explain(env=env, cwd=cwd)
    err = sys.stderr
    for name, value in changes.items():
        s = found.sources.get(name)
        if s is None:
            continue
        if value is not None and s.origin != target.origin:
            where = s.origin
            if _layer(s.origin) == "environment":
                where = f"WATTPRINT_{name.upper()} in the environment"
            print(
                f"note: {where} overrides the value you just set; in effect: "
                f"{name} = {_source_text(s)}",
                file=err,
            )
        elif value is None and s.origin != "default":
            print(f"note: {name} still comes from {s.origin}: {_source_text(s)}", file=err)
        if value and name in SECRETS and target.scope == "project":
            hint = f"consider --global or WATTPRINT_{name.upper()}"
            print(
                f"note: {name} is a secret and {target.path} is a project file, often "
                f"committed; {hint}",
                file=err,
            )
    for problem in found.problems:
        print(f"warning: {problem}", file=err)


def _apply(target: _Target, changes: Mapping[str, str | None]) -> list[str]:
    """Write the changes that change something; the names changed."""
    changed = [n for n, v in changes.items() if target.values.get(n) != v]
    if changed:
        text = edit(target.text, {n: changes[n] for n in changed}, target.path)
        if text != target.text:
            write_atomic(target.path, text, private=target.scope == "user")
    return changed


def config(sets: list[str], unsets: list[str], global_: bool, as_json: bool, no_input: bool) -> int:
    env, cwd = os.environ, Path.cwd()
    target = _Target(global_, env, cwd)
    if sets or unsets:
        changes = _assignments(sets, unsets, target)
        changed = _apply(target, changes)
        for name, value in changes.items():
            if name not in changed:
                state = "was not set" if value is None else f"= {_shown(name, value)}, unchanged"
                print(f"{target.path}: {name} {state}", file=sys.stderr if as_json else sys.stdout)
            elif value is None:
                print(f"{target.path}: removed {name}", file=sys.stderr if as_json else sys.stdout)
            else:
                print(
                    f"{target.path}: {name} = {_shown(name, value)}",
                    file=sys.stderr if as_json else sys.stdout,
                )
        _notes(target, {n: changes[n] for n in changed}, env, cwd)
        if as_json:
            data = _data(target, explain(env=env, cwd=cwd))
            print(json.dumps({**data, "changed": changed}, indent=2))
        return 0

    found = explain(env=env, cwd=cwd)
    if as_json:
        print(json.dumps(_data(target, found), indent=2))
    elif not no_input and sys.stdin.isatty() and sys.stdout.isatty():
        return _interactive(target, found, env, cwd)
    else:
        _show(_console(), target, found)
    for problem in found.problems:
        print(f"wattprint: {problem}", file=sys.stderr)
    return 2 if found.problems else 0


# -- interactive ----------------------------------------------------------------------------------


def _questions(pending: Mapping[str, str | None], found: Explanation) -> list[str]:
    """The next settings to ask about, given the answers so far."""

    def now(name: str) -> str:
        if name in pending:
            return pending[name] or ""
        return _text_of(found.sources[name].value)

    asked = ["project_name", "cloud_provider"]
    asked += ["cloud_region"] if now("cloud_provider") else ["country", "region"]
    asked += ["pue", "output_dir", "interval_s", "live_provider"]
    provider = now("live_provider")
    if provider == "electricitymaps":
        asked.append("electricitymaps_token")
    elif provider == "watttime":
        asked += ["watttime_username", "watttime_password"]
    return asked


def _interactive(target: _Target, found: Explanation, env: Mapping[str, str], cwd: Path) -> int:
    from rich.markup import escape
    from rich.prompt import Confirm

    console = _console()
    _show(console, target, found)
    for problem in found.problems:
        console.print(f"[yellow]warning[/]: {escape(problem)}")
    console.print(
        f"\nEditing [bold]{escape(str(target.path))}[/]. Enter keeps the value in brackets, "
        "'-' removes the setting from this file, Ctrl-C quits without writing.\n"
    )
    pending: dict[str, str | None] = {}
    try:
        done: list[str] = []
        while True:
            todo = [n for n in _questions(pending, found) if n not in done]
            if not todo:
                break
            name = todo[0]
            done.append(name)
            answer = _ask(console, name, target, found.sources[name], env)
            if answer is not _KEEP:
                pending[name] = answer
        changes = {n: v for n, v in pending.items() if target.values.get(n) != v}
        if not changes:
            console.print("Nothing changed; nothing written.")
            return 0
        console.print(f"\nChanges to [bold]{escape(str(target.path))}[/]:")
        for name, value in changes.items():
            if name in target.values:
                console.print(f"[red]- {name} = {escape(_shown(name, target.values[name]))}[/]")
            if value is not None:
                console.print(f"[green]+ {name} = {escape(_shown(name, value))}[/]")
        if not Confirm.ask("Write these changes?", console=console, default=True):
            console.print("Nothing written.")
            return 0
    except (KeyboardInterrupt, EOFError):
        print(file=sys.stdout)
        print("wattprint: aborted; nothing written", file=sys.stderr)
        return 1
    _apply(target, changes)
    console.print(f"Wrote {escape(str(target.path))}.")
    _notes(target, changes, env, cwd)
    return 0


_KEEP: Any = object()


def _ask(console: Any, name: str, target: _Target, source: Source, env: Mapping[str, str]) -> Any:
    """One setting's answer: the text to write, None to remove it from the file, or _KEEP."""
    from rich.markup import escape

    current = _source_text(source)
    shadow = ""
    if _layer(source.origin) == "environment":
        shadow = f" [yellow](WATTPRINT_{name.upper()} in the environment overrides the file)[/]"
    elif target.scope == "user" and _layer(source.origin) == "project":
        shadow = f" [yellow]({escape(source.origin)} overrides the user file)[/]"
    prompt = f"[bold]{name}[/] ({escape(HINTS[name])}){shadow} \\[{escape(current)}]: "
    while True:
        answer = console.input(prompt, password=name in SECRETS).strip()
        if not answer:
            return _KEEP
        if answer == "-":
            return None if name in target.values else _KEEP
        try:
            return _checked(name, answer, quote=False)
        except ValueError as exc:
            console.print(f"  [red]{escape(str(exc))}[/]; try again, or Enter to keep")
