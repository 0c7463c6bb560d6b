"""The ``wattprint`` command.

Each subcommand's work lives in its own module, imported when the subcommand runs, so that
``wattprint --help`` and a quick subcommand do not pay for the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
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


def _run(fn: Any, *args: Any) -> None:
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


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run(
    command: Annotated[list[str] | None, typer.Argument(help="the command, after --")] = None,
    project_name: Annotated[str | None, typer.Option(help="project label")] = None,
    experiment_name: Annotated[str | None, typer.Option(help="experiment label")] = None,
    output_dir: Annotated[str | None, typer.Option(help="where emissions.csv goes")] = None,
    interval: Annotated[float | None, typer.Option(help="seconds between records")] = None,
    country: Annotated[str | None, typer.Option(help="ISO-3, ISO-2 or name")] = None,
    region: Annotated[str | None, typer.Option(help="state/province or zone")] = None,
    cloud_provider: Annotated[str | None, typer.Option(help="aws, azure, gcp, ...")] = None,
    cloud_region: Annotated[str | None, typer.Option(help="the provider's region")] = None,
    gpu_ids: Annotated[str | None, typer.Option(help="GPUs to measure: 0,1 or UUIDs")] = None,
    pue: Annotated[float | None, typer.Option(help="power usage effectiveness")] = None,
    intensity: Annotated[float | None, typer.Option(help="gCO2e/kWh, overrides the grid")] = None,
) -> None:
    """Run a command and track it: wattprint run [options] -- CMD [ARGS...]

    Exits with the command's exit code; Ctrl-C and SIGTERM go to the command and the record
    is still written, with a status that says how it ended.
    """
    from .run import run as run_command

    options = {
        "project_name": project_name, "experiment_name": experiment_name,
        "output_dir": output_dir, "interval_s": interval, "country": country, "region": region,
        "cloud_provider": cloud_provider, "cloud_region": cloud_region, "gpu_ids": gpu_ids,
        "pue": pue, "intensity_g_per_kwh": intensity,
    }  # fmt: skip
    _run(run_command, list(command or []), options)


@app.command()
def monitor(
    interval: Annotated[float | None, typer.Option(help="seconds between records")] = None,
    duration: Annotated[float | None, typer.Option(min=0, help="stop after S seconds")] = None,
    project_name: Annotated[str | None, typer.Option(help="project label")] = None,
    output_dir: Annotated[str | None, typer.Option(help="where emissions.csv goes")] = None,
    country: Annotated[str | None, typer.Option(help="ISO-3, ISO-2 or name")] = None,
    region: Annotated[str | None, typer.Option(help="state/province or zone")] = None,
    cloud_provider: Annotated[str | None, typer.Option(help="aws, azure, gcp, ...")] = None,
    cloud_region: Annotated[str | None, typer.Option(help="the provider's region")] = None,
    gpu_ids: Annotated[str | None, typer.Option(help="GPUs to measure: 0,1 or UUIDs")] = None,
    pue: Annotated[float | None, typer.Option(help="power usage effectiveness")] = None,
    intensity: Annotated[float | None, typer.Option(help="gCO2e/kWh, overrides the grid")] = None,
) -> None:
    """Monitor the whole machine until Ctrl-C (or --duration), with the same live view."""
    from .run import monitor as run_monitor

    options = {
        "project_name": project_name, "output_dir": output_dir, "interval_s": interval,
        "country": country, "region": region, "cloud_provider": cloud_provider,
        "cloud_region": cloud_region, "gpu_ids": gpu_ids, "pue": pue,
        "intensity_g_per_kwh": intensity, "tracking_mode": "machine",
    }  # fmt: skip
    _run(run_monitor, duration, options)


@app.command()
def detect(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """What each component is measured with here, what was tried, and what to do about it;
    and the location and intensity a tracker would use."""
    from .inspect import detect as run_detect

    _run(run_detect, as_json)


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
    from .inspect import intensity as run_intensity

    _run(run_intensity, country, zone, cloud, region, at, as_json)


@app.command()
def recover(
    folder: Annotated[Path, typer.Argument(help="the runs' output_dir")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Write the summary rows of runs whose process was killed before it stopped."""
    from .inspect import recover as run_recover

    _run(run_recover, folder, as_json)


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
    gpus: Annotated[int | None, typer.Option(min=0, help="number of GPUs")] = None,
    gpu_load: Annotated[float, typer.Option(min=0, max=1, help="GPU utilization, 0-1")] = 1.0,
    hours: Annotated[float, typer.Option(min=0, help="how long the job runs")] = 1.0,
    country: Annotated[str | None, typer.Option(help="ISO-3, ISO-2 or name")] = None,
    cloud: Annotated[
        str | None,
        typer.Option(help="cloud provider: aws, azure, gcp, ovh, ..."),
    ] = None,
    region: Annotated[str | None, typer.Option(help="the cloud provider's region code")] = None,
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
    )
    raise typer.Exit(run(job, as_json=as_json))


@app.command()
def report(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="emissions CSVs or folders (default: ./emissions.csv)"),
    ] = None,
    by: Annotated[str, typer.Option(help="project, experiment, run or day")] = "project",
    since: Annotated[str | None, typer.Option(help="only runs on or after this ISO date")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Totals of emissions.csv files (wattprint's or CodeCarbon's), with equivalents."""
    from .report import report as run_report

    _run(run_report, list(files or []), by, since, as_json)


def main() -> None:
    app()
