"""Building a run at start(): killed runs recovered, meters found, location and intensity
resolved, attribution wired, the footprint's fixed figures found, the run's files and sinks
opened. What a run is made of, in one place; the tracker only says when.

Everything is imported when a run starts, not with the module: ``import wattprint`` stays
cheap, and a machine-mode run loads nothing that process or job mode alone needs.
"""

from __future__ import annotations

import os
import sys
import time

from .sampling import Component, Run, baseline, read_memory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any

    from .config import Settings
    from .records import RunResult


def _logs() -> Any:
    from . import _log

    return _log


def open_run(
    s: Settings,
    sync_label: str,
    shift: Any,
    snapshot: Callable[[Run], RunResult | None],
    sinks_on: bool,
) -> Run:
    """The run these settings describe, its meters read for the first time.

    ``sync_label``: how edges wait for the GPU, for the record; ``shift``: a
    carbon.shift.ShiftInfo when the run was moved in time; ``snapshot(run)``: the run's
    result as of its last interval, for live sinks; ``sinks_on``: whether a setting turns a
    sink on.
    """
    from pathlib import Path

    from .carbon.context import setup
    from .meters.base import ProbeContext
    from .meters.detect import probe_all
    from .meters.procfs import cpu_busy_total
    from .meters.user import user_power
    from .records import COLUMNS, TASK_COLUMNS
    from .recovery import recover_quietly
    from .results import meta_for
    from .sinks.csv import TASKS_CSV_NAME, path_for

    # Absolute now: the program may chdir before stop(), and the run's files stay put.
    output_dir = Path(s.output_dir).absolute()
    recovered = recover_quietly(output_dir) if s.save_csv else []
    # In process and job mode the meters measure the machine; attribution charges the share.
    ctx = ProbeContext(
        gpu_ids=s.gpu_ids,
        tracking_mode="machine",
        warn=_logs().warn_once,
        shared={},
        cpu_model=s.cpu_model,
        power=user_power(s),
    )
    detection = probe_all(ctx)
    carbon = setup(s, live=lambda location: _live_feed(s, location))
    if carbon.announcement:
        loc = carbon.location
        _logs().warn_once(f"location:{loc.source}:{loc.detail}", carbon.announcement)
    notes: list[str] = detection.notes()
    components = _components(detection)
    attribution = _attribution(s, ctx, components)
    run_id = _uuid4()
    started = _now()
    machine = _machine(s, ctx, components)
    csv_path = tasks_path = None
    if s.save_csv:
        csv_path = path_for(output_dir / s.output_file, COLUMNS)  # absolute wins
        tasks_path = path_for(output_dir / TASKS_CSV_NAME, TASK_COLUMNS)
    meta = meta_for(
        run_id, s.public(), machine, carbon, started, str(csv_path or ""), str(output_dir)
    )
    meta["devices"] = {name: list(c.devices) for name, c in components.items()}
    meta["attribution"] = {**attribution.meta(), "sync_gpu": sync_label}
    meta.update(_footprint_meta(s, ctx, components, carbon, machine))
    if shift is not None:  # moved in time by `wattprint wait` or @carbon_aware
        from dataclasses import asdict

        meta["shift"] = asdict(shift)
    baseline(components)  # the run's energy starts now, not when the meters opened
    run = Run(
        run_id=run_id,
        started_at=started,
        t0=time.monotonic(),
        meta=meta,
        detection=detection,
        components=components,
        carbon=carbon,
        csv_path=csv_path,
        tasks_csv_path=tasks_path,
        root=ctx.root,
        notes=notes,
    )
    run.shared = ctx.shared
    run.attribution = attribution
    if sinks_on:
        from .sinks import open_sinks

        run.sinks = open_sinks(s, meta, _logs().warn_once, lambda: snapshot(run))
        for result in recovered:  # killed runs' last rows: a receiver learns how they ended
            run.sinks.recovered(result)
    run.cpu_start = run.cpu_now = cpu_busy_total(ctx.root)
    _footprint_start(s, run)
    read_memory(run)
    if s.save_csv:
        run.journal = _open_journal(output_dir, run_id, meta)
    return run


def _components(detection: Any) -> dict[str, Component]:
    components: dict[str, Component] = {}
    for name, choice in detection.components.items():
        meters = choice.meters
        devices = tuple(d for m in meters for d in m.devices)
        comp = Component(meters, choice.method, devices)
        if not meters:
            missing = [p for p in choice.tried if getattr(p, "present", False)]
            if missing:  # the hardware is there but nothing measures it: not a zero
                comp.energy_j = comp.low_j = comp.high_j = None
                comp.method = "not-estimated" if name == "platform" else "unmeasured"
                comp.note = missing[0].reason
        components[name] = comp
    return components


def _open_journal(output_dir: Any, run_id: str, meta: dict[str, Any]) -> Any:
    """The run's journal; None (said once) where it cannot be written."""
    from . import journal

    try:
        return journal.Journal(output_dir, run_id, meta)
    except Exception as exc:  # the journal is a safety net: never a reason to fail
        from .sinks.csv import full, say_write_failure

        if full(exc):
            say_write_failure(output_dir / journal.FOLDER, exc)
            return None
        _logs().warn_once(
            f"journal:{output_dir}",
            f"cannot write the run's time series under {output_dir}: {exc}. "
            "The run is measured but a crash would lose it; check output_dir.",
        )
        return None


def _live_feed(s: Settings, location: Any) -> Any:
    """A live intensity feed with its own thread, when the user asked for one."""
    if s.live_provider is None:
        return None
    from .carbon.live import open_feed

    return open_feed(s, location, warn=_logs().warn_once)


def _attribution(s: Settings, ctx: Any, components: dict[str, Component]) -> Any:
    """Where the job sits; in process and job mode, meters wrapped to charge its share."""
    from .attribution.setup import attribute, locate

    att = locate(ctx.root, ctx.env, ctx.pid)
    if s.tracking_mode == "machine":
        att.gpu_method = "machine" if components["gpu"].meters else ""
        return att
    from .meters.cpu_model import machine_model

    info, curve = machine_model(ctx)
    # A part the model does not estimate apart (an unknown CPU's platform) has no idle
    # figure of its own: it is folded into the CPU's.
    idle = {n: curve.component(n, 0.0) for n in ("cpu", "ram", "platform")}
    idle_w = {n: w[0] for n, w in idle.items() if w is not None}
    if attribute(
        att,
        s.tracking_mode,
        s.idle_policy,
        components,
        ctx.root,
        ctx.pid,
        info.threads,
        idle_w,
        ctx.shared,
        _logs().warn_once,
    ):
        att.gpu_method = _gpu_scope(s, att, components)
    else:
        att.gpu_method = "machine" if components["gpu"].meters else ""
    return att


def _gpu_scope(s: Settings, att: Any, components: dict[str, Component]) -> str:
    """How the GPUs are charged: held whole, or the job's share of GPUs shared with others."""
    gpu = components.get("gpu")
    if gpu is None or not gpu.meters:
        return ""
    from .attribution.gpu import share_gpus
    from .attribution.setup import track_gpu_share

    method = share_gpus(att, gpu, s.tracking_mode, _logs().warn_once)
    track_gpu_share(att, gpu)
    return method


def _machine(s: Settings, ctx: Any, components: dict[str, Component]) -> Any:
    from .meters.procfs import cpu_info, meminfo_kib
    from .records import Machine

    info = cpu_info(ctx.root)
    uname = os.uname() if hasattr(os, "uname") else None
    os_name = f"{uname.sysname}-{uname.release}-{uname.machine}" if uname else sys.platform
    gpu_count, gpu_models = 0, list[str]()
    for meter in components["gpu"].meters:
        gpu_count += getattr(meter, "gpu_count", 0)
        gpu_models.extend(getattr(meter, "gpu_models", ()))
    models = sorted(set(gpu_models))
    kib = meminfo_kib(ctx.root).get("MemTotal", 0)
    return Machine(
        os=os_name,
        python_version=".".join(map(str, sys.version_info[:3])),
        cpu_count=info.threads,
        cpu_model=s.cpu_model or info.model,  # the user's, where given
        gpu_count=gpu_count,
        gpu_model=", ".join(
            f"{gpu_models.count(m)} x {m}" if gpu_models.count(m) > 1 else m for m in models
        ),
        ram_total_gb=kib * 1024 / 1e9,
    )


def _footprint_meta(
    s: Settings, ctx: Any, components: dict[str, Component], carbon: Any, machine: Any
) -> dict[str, Any]:
    """The run's embodied rate (found once) and functional unit, for every row."""
    meta: dict[str, Any] = {
        "functional_unit": s.functional_unit,
        "functional_units": s.functional_units,
    }
    try:
        from .embodied.model import estimate
        from .meters.procfs import cpu_info

        info = cpu_info(ctx.root)
        models = [m for meter in components["gpu"].meters for m in getattr(meter, "gpu_models", ())]
        found = estimate(
            info.model,
            info.sockets,
            info.threads,
            machine.ram_total_gb,
            models,
            virtual=info.virtual,
            cloud_provider=carbon.location.cloud_provider,
            instance_type=s.cloud_instance_type,
        )
        for warning in found.warnings:
            _logs().warn_once(f"embodied:{warning[:60]}", warning)
        meta["embodied"] = found.per_hour(s.hardware_lifetime_years)
    except Exception as exc:  # a missing figure is said, never a reason to fail
        _logs().warn_once("embodied:error", f"embodied emissions not estimated: {exc}")
        meta["embodied"] = None
    return meta


def _footprint_start(s: Settings, run: Run) -> None:
    if s.tracking_mode == "process":
        import psutil

        from .embodied.share import process_tree_cpu_s

        run.process = psutil.Process()
        run.process_cpu_s0 = process_tree_cpu_s(run.process)
    if s.track_llm_calls:
        from .llm import start_collecting

        run.llm = start_collecting(_logs().warn_once)


def _now() -> datetime:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).astimezone()


def _uuid4() -> str:
    # The uuid module imports platform (~4 ms); a random UUID is sixteen random bytes.
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
