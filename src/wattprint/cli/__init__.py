"""The ``wattprint`` command.

Each subcommand's work lives in its own module, imported when the subcommand runs, so that
``wattprint --help`` and a quick subcommand do not pay for the others.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="wattprint",
    help="Measure and estimate the energy and CO2 of computing, with honest bounds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def wattprint() -> None:
    """Measure and estimate the energy and CO2 of computing, with honest bounds."""


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


def main() -> None:
    app()
