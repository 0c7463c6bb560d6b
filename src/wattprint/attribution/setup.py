"""Wire attribution into a run: who the job is, its shares, and what the record says about it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import cgroups
from .cluster import Placement, placement

# The shares and the process tree serve process and job mode only: a machine-mode run (the
# default) does not load them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .shares import ShareMeter, Shares


@dataclass
class Attribution:
    scope: str  # "machine", "process", "job"
    placement: Placement
    identity: cgroups.CgroupIdentity
    namespace: str = ""
    idle_policy: str = ""
    shares: Shares | None = None
    meters: dict[str, list[ShareMeter]] = field(default_factory=dict)
    consumer: str = ""  # what was measured: "process tree of 123", "cgroup /..."
    gpu_method: str = ""  # "machine", "held" (charged whole) or "nvml-process-share"
    is_member: Any = None  # pid -> bool: is this process part of the job?

    def meta(self) -> dict[str, Any]:
        p, ident = self.placement, self.identity
        return {
            "scope": self.scope,
            "idle_policy": self.idle_policy,
            "consumer": self.consumer,
            "job_id": p.job_id,
            "job_step": p.job_step,
            "node": p.node,
            "rank": p.rank,
            "local_rank": p.local_rank,
            "world_size": p.world_size,
            "container_id": ident.container_id,
            "pod": ident.pod_uid,
            "namespace": self.namespace,
            "gpu_share_method": self.gpu_method,
        }

    def state(self) -> dict[str, list[float]]:
        """Per component: [charged J, machine J] so far (a task's share is the difference)."""
        out: dict[str, list[float]] = {}
        for name, meters in self.meters.items():
            out[name] = [sum(m.energy for m in meters), sum(m.machine_j for m in meters)]
        return out


def locate(root: Path, env: Mapping[str, str], pid: int) -> Attribution:
    """The job's place and cgroup identity, before anything is measured."""
    ident = cgroups.of_process(root, pid)
    namespace = cgroups.pod_namespace(root, env) if ident.pod_uid else ""
    return Attribution("machine", placement(env), ident, namespace)


def default_policy(att: Attribution) -> str:
    return "allocated" if att.placement.scheduler else "proportional"


def _usage_of(att: Attribution, root: Path, pid: int, scope: str, warn: Any) -> Any:
    if scope == "job":
        path = att.identity.path
        if att.identity.slurm_job:
            path = cgroups.job_cgroup(path) or path
        if path != "/" and cgroups.usage(root, path).cpu_s is not None:
            att.consumer = f"cgroup {path}"

            def cgroup_usage() -> tuple[float | None, int | None]:
                u = cgroups.usage(root, path)
                return u.cpu_s, u.memory_bytes

            def in_cgroup(other: int) -> bool:
                where = cgroups.cgroup_path(root, other)
                return where is not None and (where == path or where.startswith(path + "/"))

            att.is_member = in_cgroup
            return cgroup_usage
        warn(
            "job-scope-cgroup",
            "tracking_mode='job': this process's cgroup has no readable cpu.stat (cgroup v1, or "
            "not in a job's or container's cgroup); its process tree is measured instead",
        )
    from .procs import ProcessTree

    tree = ProcessTree(root, pid)
    att.consumer = f"process tree of {pid}"
    att.is_member = tree.holds

    def tree_usage() -> tuple[float | None, int | None]:
        u = tree.usage()
        return u.cpu_s, u.rss_bytes

    return tree_usage


def attribute(
    att: Attribution,
    scope: str,
    policy: str | None,
    components: dict[str, Any],
    root: Path,
    pid: int,
    machine_cpus: int,
    idle_w: dict[str, float],
    shared: dict[str, Any] | None,
    warn: Any,
) -> bool:
    """Wrap the CPU, RAM and platform meters of ``components`` so that they charge the job.
    False (said once) where /proc cannot tell a process's share: the machine is measured."""
    from ..meters.procfs import cpu_busy_total
    from .procs import read_stat
    from .shares import SHARED_COMPONENTS, ShareMeter, Shares

    if read_stat(root, pid) is None or cpu_busy_total(root) is None:
        warn(
            "attribution-no-proc",
            f"tracking_mode={scope!r} needs /proc (Linux) to know this process's share; the "
            "whole machine is measured and the record says scope=machine",
        )
        return False
    att.scope = scope
    att.idle_policy = policy or default_policy(att)
    usage = _usage_of(att, root, pid, scope, warn)
    held = att.placement.cpus_allocated
    if held is None:
        try:
            held = len(os.sched_getaffinity(pid)) if str(root) == "/" else machine_cpus
        except (AttributeError, OSError):
            held = machine_cpus
    att.shares = Shares(
        root,
        usage,
        att.idle_policy,
        float(held),
        machine_cpus,
        att.placement.memory_allocated_bytes,
        shared,
    )
    for name in SHARED_COMPONENTS:
        comp = components.get(name)
        if comp is None or not comp.meters:
            continue
        wrapped = [ShareMeter(m, att.shares, idle_w.get(name, 0.0)) for m in comp.meters]
        comp.meters = wrapped
        comp.method = "+".join(dict.fromkeys(m.method for m in wrapped))
        att.meters[name] = wrapped
    return True


def track_gpu_share(att: Attribution, gpu: Any) -> None:
    from .gpushare import GpuShareMeter

    shared = [m for m in gpu.meters if isinstance(m, GpuShareMeter)]
    if shared:
        att.meters["gpu"] = shared  # type: ignore[assignment]
