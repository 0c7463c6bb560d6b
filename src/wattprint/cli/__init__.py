"""The ``wattprint`` command.

Each subcommand's work lives in its own module, imported when the subcommand runs, so that
``wattprint --help`` and a quick subcommand do not pay for the others.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort

try:  # typer vendors click from 0.2x on; its commands raise the vendored exceptions
    from typer._click import exceptions as errors
except ImportError:  # pragma: no cover -- an older typer on the real click
    from click import exceptions as errors


class _OneLineErrors(TyperGroup):
    """The ``wattprint`` group: a usage error (unknown option, bad value, missing argument) is
    one line on stderr and exit 2, like every other user error, instead of click's boxed help;
    an unexpected error is one line and exit 1 rather than a traceback (set
    WATTPRINT_TRACEBACK=1 to see it). ``--help`` and ``--version`` print as usual."""

    def main(
        self,
        args: Any = None,
        prog_name: Any = None,
        complete_var: Any = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except errors.NoArgsIsHelpError as exc:  # bare `wattprint`: the help
            exc.show()
            code = exc.exit_code
        except errors.UsageError as exc:
            path = exc.ctx.command_path if exc.ctx is not None else "wattprint"
            typer.echo(
                f"wattprint: {one_line(exc.format_message())} (see '{path} --help')", err=True
            )
            code = 2
        except errors.ClickException as exc:
            typer.echo(f"wattprint: {one_line(exc.format_message())}", err=True)
            code = exc.exit_code
        except Abort:
            typer.echo("wattprint: aborted", err=True)
            code = 1
        except Exception as exc:  # a bug: one line that says so, not a traceback
            if os.environ.get("WATTPRINT_TRACEBACK"):
                raise
            what = f"{type(exc).__name__}: {one_line(str(exc))}"
            typer.echo(
                f"wattprint: internal error, {what} (please report it; "
                "WATTPRINT_TRACEBACK=1 shows where)",
                err=True,
            )
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


#: More GPUs than any machine or cluster holds: a typo, refused rather than estimated.
MAX_GPUS = 10_000_000


def one_line(text: str) -> str:
    return " ".join(text.split())


app = typer.Typer(
    cls=_OneLineErrors,
    name="wattprint",
    help="Measure and estimate the energy and CO2 of computing, with honest bounds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"wattprint {__version__}")
        raise typer.Exit(0)


@app.callback()
def wattprint(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Measure and estimate the energy and CO2 of computing, with honest bounds."""


def _friendly_errors(fn: Any, *args: Any) -> None:
    """Run a command: a user error is one line on stderr and exit 2, never a traceback."""
    try:
        code = fn(*args)
    except ValueError as exc:
        typer.echo(f"wattprint: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"wattprint: {exc}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


# The tracker's settings as options, shared by `run` and `monitor`.
ProjectName = Annotated[str | None, typer.Option(help="project label")]
ExperimentName = Annotated[str | None, typer.Option(help="experiment label")]
OutputDir = Annotated[str | None, typer.Option(help="where emissions.csv goes")]
Interval = Annotated[float | None, typer.Option(help="seconds between records")]
Country = Annotated[str | None, typer.Option(help="ISO-3, ISO-2 or name")]
Region = Annotated[str | None, typer.Option(help="state/province or zone")]
CloudProvider = Annotated[str | None, typer.Option(help="aws, azure, gcp, ...")]
CloudRegion = Annotated[str | None, typer.Option(help="the provider's region")]
GpuIds = Annotated[str | None, typer.Option(help="GPUs to measure: 0,1 or UUIDs")]
Pue = Annotated[float | None, typer.Option(help="power usage effectiveness")]
IntensityOpt = Annotated[float | None, typer.Option(help="gCO2e/kWh, overrides the grid")]
PrometheusPort = Annotated[
    int | None, typer.Option(min=1, max=65535, help="serve Prometheus /metrics on this port")
]
Pushgateway = Annotated[
    str | None, typer.Option(help="push to this Prometheus Pushgateway URL at each row")
]
OtelEndpoint = Annotated[str | None, typer.Option(help="send OTLP metrics to this URL")]
WebhookUrl = Annotated[str | None, typer.Option(help="POST each record as JSON to this URL")]
ServerUrl = Annotated[
    str | None, typer.Option(help="send every row and interval to this wattprint server")
]
ServerToken = Annotated[str | None, typer.Option(help="the server's project token (ingest)")]
LogRecords = Annotated[bool | None, typer.Option("--log-records", help="one log line per record")]
CommandArgs = Annotated[list[str] | None, typer.Argument(help="the command and its arguments")]
JsonFile = Annotated[
    Path | None,
    typer.Option(
        "--json",
        metavar="FILE",
        help="also write the summary as JSON to FILE (e.g. /dev/fd/3 for a descriptor)",
    ),
]
#: `run` and `wait`: options before the command (or `--`) are wattprint's, and a mistyped one
#: is an error; everything from the command's name on is the command's, its --help included.
COMMAND_SETTINGS = {"allow_interspersed_args": False}


def _tracker_options(**given: Any) -> dict[str, Any]:
    """CLI option names -> Tracker settings; None means not given (config files decide)."""
    renamed = {"interval": "interval_s", "intensity": "intensity_g_per_kwh"}
    return {renamed.get(k, k): v for k, v in given.items()}


#: The tracker's settings as options, written once for `run` and `monitor`: option -> its type.
TRACKER_OPTIONS: dict[str, Any] = {
    "project_name": ProjectName,
    "experiment_name": ExperimentName,
    "output_dir": OutputDir,
    "interval": Interval,
    "country": Country,
    "region": Region,
    "cloud_provider": CloudProvider,
    "cloud_region": CloudRegion,
    "gpu_ids": GpuIds,
    "pue": Pue,
    "intensity": IntensityOpt,
    "prometheus_port": PrometheusPort,
    "prometheus_pushgateway": Pushgateway,
    "otel_endpoint": OtelEndpoint,
    "webhook_url": WebhookUrl,
    "server_url": ServerUrl,
    "server_token": ServerToken,
    "log_records": LogRecords,
}


def _with_tracker_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command every option of TRACKER_OPTIONS in place of its ``tracker_options``
    parameter, and pass them to it as one dict of Tracker settings (None: not given)."""
    import functools
    import inspect

    # Evaluated annotations: typer reads its typer.Option() metadata from the signature.
    signature = inspect.signature(command, eval_str=True)
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if param.name != "tracker_options":
            params.append(param)
            continue
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        params += [
            inspect.Parameter(name, kind, default=None, annotation=annotation)
            for name, annotation in TRACKER_OPTIONS.items()
        ]

    @functools.wraps(command)
    def with_options(**given: Any) -> None:
        options = {name: given.pop(name) for name in TRACKER_OPTIONS}
        command(**given, tracker_options=_tracker_options(**options))

    with_options.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    with_options.__annotations__ = {p.name: p.annotation for p in params}
    return with_options


@app.command(context_settings=COMMAND_SETTINGS)
@_with_tracker_options
def run(
    command: Annotated[
        list[str] | None, typer.Argument(help="the command and its arguments")
    ] = None,
    tracker_options: dict[str, Any] | None = None,
    json_file: JsonFile = None,
) -> None:
    """Run a command and track it: wattprint run [OPTIONS] [--] CMD [ARGS...]

    Options before the command are wattprint's; from the command's name on, every argument
    (--help too) is the command's. Exits with the command's exit code; Ctrl-C and SIGTERM go
    to the command and the record is still written, with a status that says how it ended.
    The summary goes to stderr (stdout is the command's); --json FILE writes it as JSON to
    a file of its own.
    """
    from .run import run as run_command

    _friendly_errors(run_command, list(command or []), tracker_options, json_file)


@app.command()
@_with_tracker_options
def monitor(
    duration: Annotated[float | None, typer.Option(min=0, help="stop after S seconds")] = None,
    tracker_options: dict[str, Any] | None = None,
    as_json: Annotated[bool, typer.Option("--json", help="the summary as JSON on stdout")] = False,
    per: Annotated[
        str | None,
        typer.Option(
            help="host agent: split the node's energy per process, cgroup, container "
            "or pod on /metrics (needs --prometheus-port)"
        ),
    ] = None,
) -> None:
    """Monitor the whole machine until Ctrl-C (or --duration), with the same live view."""
    from .run import monitor as run_monitor

    options = {**(tracker_options or {}), "tracking_mode": "machine"}
    if per is not None:
        from .agent import agent_monitor

        _friendly_errors(agent_monitor, per, duration, options)
        return
    _friendly_errors(run_monitor, duration, options, as_json)


@app.command()
def detect(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """What each component is measured with here, what was tried, and what to do about it;
    and the location and intensity a tracker would use."""
    from .machine import detect as run_detect

    _friendly_errors(run_detect, as_json)


@app.command()
def intensity(
    country: Annotated[str | None, typer.Option(help="ISO-3, ISO-2 or name")] = None,
    zone: Annotated[str | None, typer.Option(help="grid zone, e.g. US-CAL-CISO")] = None,
    cloud: Annotated[str | None, typer.Option(help="cloud provider")] = None,
    region: Annotated[str | None, typer.Option(help="the cloud provider's region")] = None,
    at: Annotated[str | None, typer.Option(help="ISO time with offset (default: now)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The carbon intensity that would be used, with its provenance."""
    from .machine import intensity as run_intensity

    _friendly_errors(run_intensity, country, zone, cloud, region, at, as_json)


@app.command()
def recover(
    folder: Annotated[Path, typer.Argument(help="the runs' output_dir")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Write the summary rows of runs whose process was killed before it stopped."""
    from .machine import recover as run_recover

    _friendly_errors(run_recover, folder, as_json)


@app.command()
def estimate(
    cpu: Annotated[
        str | None,
        typer.Option(help="CPU model, e.g. 'AMD EPYC 9654' (default: this machine's)"),
    ] = None,
    sockets: Annotated[int | None, typer.Option(min=1, help="CPU sockets")] = None,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="hardware threads in all (default: the CPU table's x sockets)"),
    ] = None,
    memory_gb: Annotated[float | None, typer.Option(min=0, help="installed RAM, GB")] = None,
    load: Annotated[float, typer.Option(min=0, max=1, help="CPU utilization, 0-1")] = 1.0,
    gpu: Annotated[
        str | None,
        typer.Option(help="GPU model, e.g. 'H100 SXM' (default: this machine's GPUs)"),
    ] = None,
    gpus: Annotated[
        int | None, typer.Option(min=0, max=MAX_GPUS, help="number of GPUs (of --gpu's model)")
    ] = None,
    gpu_load: Annotated[float, typer.Option(min=0, max=1, help="GPU utilization, 0-1")] = 1.0,
    hours: Annotated[float, typer.Option(min=0, help="how long the job runs")] = 1.0,
    country: Annotated[str | None, typer.Option(help="ISO-3, ISO-2 or name")] = None,
    cloud: Annotated[
        str | None,
        typer.Option(help="cloud provider: aws, azure, gcp, ovh, ..."),
    ] = None,
    region: Annotated[str | None, typer.Option(help="the cloud provider's region code")] = None,
    instance: Annotated[
        str | None,
        typer.Option(help="cloud instance type (e.g. m5.large), for its embodied emissions"),
    ] = None,
    lifetime_years: Annotated[
        float, typer.Option(min=0.1, max=50, help="hardware lifetime the embodied is spread over")
    ] = 4.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Power, energy and emissions of a machine running a job, and the same job elsewhere.

    With no hardware options it describes this machine.
    """
    from .estimate import Job, run

    job = Job(
        cpu=cpu,
        sockets=sockets,
        threads=threads,
        memory_gb=memory_gb,
        load=load,
        gpu=gpu,
        gpus=gpus,
        gpu_load=gpu_load,
        hours=hours,
        country=country,
        cloud=cloud,
        region=region,
        instance=instance,
        lifetime_years=lifetime_years,
    )
    raise typer.Exit(run(job, as_json=as_json))


@app.command()
def report(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="emissions CSVs or folders (default: ./emissions.csv)"),
    ] = None,
    by: Annotated[str, typer.Option(help="project, experiment, run, day or job")] = "project",
    since: Annotated[str | None, typer.Option(help="only runs on or after this ISO date")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="also write a self-contained HTML page with charts here"),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="let --html replace a file that is not an earlier report"),
    ] = False,
    sci: Annotated[
        bool, typer.Option("--sci", help="the SCI score per group, with its parts (E x I, M, R)")
    ] = False,
) -> None:
    """Totals of emissions.csv files (wattprint's or CodeCarbon's), with equivalents."""
    from .report import report as run_report

    _friendly_errors(run_report, list(files or []), by, since, as_json, html, force, sci)


@app.command()
def push(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="emissions CSVs or folders (default: ./emissions.csv)"),
    ] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="the server's URL (default: server_url)")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="a project token (default: server_token)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Upload the rows of emissions CSVs (wattprint's or CodeCarbon's) to a wattprint server.

    Each row has a stable key, so pushing the same file again adds nothing. Exits 1 if the
    server rejected a row (each is listed, with the reason).
    """
    from .push import push as run_push

    _friendly_errors(run_push, list(files or []), server, token, as_json)


@app.command()
def config(
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="set a setting in the file (repeatable)"),
    ] = None,
    unset: Annotated[
        list[str] | None,
        typer.Option("--unset", metavar="NAME", help="remove a setting from the file (repeatable)"),
    ] = None,
    global_: Annotated[
        bool,
        typer.Option("--global", help="edit the user file, not the project's .wattprint.ini"),
    ] = False,
    no_input: Annotated[bool, typer.Option("--no-input", help="never prompt")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Each setting's value and where it comes from; create or edit the config file.

    Edits go to the nearest .wattprint.ini (or ./.wattprint.ini), or with --global to the user
    file. On a terminal with no --set/--unset, asks about the common settings, shows the changes
    and writes them when you confirm (Ctrl-C: nothing written, exit 1). Comments and other
    keys in the file are kept as they are.
    """
    from .config import config as run_config

    _friendly_errors(run_config, list(set_ or []), list(unset or []), global_, as_json, no_input)


# -- carbon-aware runs (cli/plan.py) ---------------------------------------------------------------

Duration = Annotated[str, typer.Option(help="how long the job runs: 3h, 90m, 1h30m")]
Within = Annotated[str, typer.Option(help="start no later than this from now: 24h, 12h")]
Deadline = Annotated[
    str | None, typer.Option(help="finish by this ISO time with offset, e.g. 2025-06-01T18:00Z")
]
PlanZone = Annotated[str | None, typer.Option(help="grid zone, e.g. US-CAL-CISO, DE, GB")]
PlanCountry = Annotated[str | None, typer.Option(help="ISO-3, ISO-2 or name")]
PlanCloud = Annotated[str | None, typer.Option(help="cloud provider, with --regions")]
PlanRegions = Annotated[str | None, typer.Option(help="the provider's regions: r1,r2,...")]
EnergyKwh = Annotated[float | None, typer.Option(help="the job's energy, kWh")]
PowerW = Annotated[float | None, typer.Option(help="the job's mean power, W")]
ForecastProvider = Annotated[
    str | None,
    typer.Option(help="forecast from ukgrid, electricitymaps or watttime (default: offline)"),
]


@app.command()
def plan(
    duration: Duration,
    within: Within = "24h",
    deadline: Deadline = None,
    zone: PlanZone = None,
    country: PlanCountry = None,
    cloud: PlanCloud = None,
    regions: PlanRegions = None,
    energy_kwh: EnergyKwh = None,
    power_w: PowerW = None,
    provider: ForecastProvider = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """When (and where) a job emits least: the best start, the same job now, the saving."""
    from .plan import PlanOptions, plan_command

    options = PlanOptions(
        duration, within, deadline, zone, country, cloud, regions, energy_kwh, power_w, provider
    )
    _friendly_errors(plan_command, options, as_json)


@app.command(context_settings=COMMAND_SETTINGS)
def wait(
    duration: Duration,
    command: Annotated[
        list[str] | None, typer.Argument(help="the command and its arguments")
    ] = None,
    within: Within = "24h",
    deadline: Deadline = None,
    below: Annotated[
        float | None, typer.Option(min=0, help="start as soon as the intensity is this low")
    ] = None,
    zone: PlanZone = None,
    country: PlanCountry = None,
    energy_kwh: EnergyKwh = None,
    power_w: PowerW = None,
    provider: ForecastProvider = None,
    project_name: ProjectName = None,
    experiment_name: ExperimentName = None,
    output_dir: OutputDir = None,
    json_file: JsonFile = None,
) -> None:
    """Wait for the cleanest window, then run and track a command as `run` does:
    wattprint wait --duration 3h --within 12h [--below 100] -- CMD [ARGS...]

    Ctrl-C while waiting exits (130) without running anything. The record says from when to
    when the run was shifted, and the estimated saving against starting at once.
    """
    from .plan import PlanOptions, wait_command

    options = PlanOptions(
        duration, within, deadline, zone, country, None, None, energy_kwh, power_w, provider
    )
    tracker_options = _tracker_options(
        project_name=project_name,
        experiment_name=experiment_name,
        output_dir=output_dir,
        country=country,
        zone=zone,
    )
    _friendly_errors(wait_command, options, list(command or []), tracker_options, below, json_file)


def _add_server() -> None:
    # typer needs the sub-app's object; its module imports nothing of the server until a
    # command runs.
    from .server import app as server_app

    app.add_typer(server_app)


_add_server()


def main() -> None:
    app()
