"""Where this process sits in a job: scheduler, launcher, job, node, rank, allocation.

Everything comes from the environment the scheduler and the launchers set, never from
``scontrol`` or an API call (thousands of jobs asking would flood the controller).

- Slurm: SLURM_JOB_ID, SLURM_STEP_ID, SLURMD_NODENAME, SLURM_PROCID, SLURM_LOCALID,
  SLURM_NTASKS, SLURM_NODEID, SLURM_CPUS_ON_NODE, SLURM_MEM_PER_NODE (MB), and the GPUs
  SLURM_STEP_GPUS / SLURM_JOB_GPUS / GPU_DEVICE_ORDINAL.
- torchrun (and DeepSpeed's and Accelerate's launchers, which set the same names): RANK,
  LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, TORCHELASTIC_RUN_ID.
- Open MPI / PMI: OMPI_COMM_WORLD_RANK / _LOCAL_RANK / _SIZE, PMI_RANK / PMI_SIZE.

The rule for distributed jobs: one tracker per node measures the devices the job holds there,
the node's local rank 0; the other ranks do not measure (each would count the same devices).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Placement:
    scheduler: str = ""  # "slurm" or ""
    launcher: str = ""  # "torchrun", "mpi", "srun" or ""
    job_id: str = ""
    job_step: str = ""
    node: str = ""
    node_rank: int | None = None
    rank: int | None = None
    local_rank: int | None = None
    world_size: int | None = None
    local_world_size: int | None = None
    cpus_allocated: int | None = None
    memory_allocated_bytes: int | None = None
    gpus_allocated: tuple[str, ...] | None = None  # as the scheduler numbers them on the node

    @property
    def distributed(self) -> bool:
        return (self.world_size or 1) > 1

    @property
    def measures(self) -> bool:
        """Whether this process measures its node: local rank 0, or not distributed."""
        return self.local_rank in (None, 0)

    def fields(self) -> dict[str, object]:
        d = asdict(self)
        d["gpus_allocated"] = list(self.gpus_allocated) if self.gpus_allocated is not None else None
        return d


def _int(env: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            try:
                return int(value.split("(")[0])  # SLURM_CPUS_ON_NODE may read "8(x2)" elsewhere
            except ValueError:
                continue
    return None


def _gpus(value: str) -> tuple[str, ...] | None:
    value = value.strip()
    if not value or value.lower() in ("n/a", "none"):
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _hostname() -> str:
    # gethostname(2) is uname's nodename on POSIX: no socket module (~3 ms) at every start.
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # pragma: no cover - Windows

    return socket.gethostname()  # pragma: no cover


def placement(env: Mapping[str, str], hostname: str | None = None) -> Placement:
    """The job's place as the environment describes it (empty fields where it says nothing)."""
    slurm = bool(env.get("SLURM_JOB_ID"))
    torch = "LOCAL_RANK" in env and "WORLD_SIZE" in env
    mpi = "OMPI_COMM_WORLD_RANK" in env or "PMI_RANK" in env
    rank = _int(env, "RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID")
    local_rank = _int(
        env, "LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"
    )
    world = _int(env, "WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS")
    local_world = _int(
        env, "LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE"
    )
    node_rank = _int(env, "GROUP_RANK", "NODE_RANK", "SLURM_NODEID")
    launcher = "torchrun" if torch else "mpi" if mpi else "srun" if env.get("SLURM_STEP_ID") else ""
    job_id = env.get("WATTPRINT_JOB_ID") or env.get("SLURM_JOB_ID", "")
    if not job_id and torch:
        run_id = env.get("TORCHELASTIC_RUN_ID", "")
        if run_id and run_id != "none":
            job_id = run_id
        elif env.get("MASTER_ADDR") and env.get("MASTER_PORT"):  # shared by every node's ranks
            job_id = f"{env['MASTER_ADDR']}:{env['MASTER_PORT']}"
    gpus = None
    for name in ("SLURM_STEP_GPUS", "SLURM_JOB_GPUS", "GPU_DEVICE_ORDINAL"):
        gpus = _gpus(env.get(name, ""))
        if gpus is not None:
            break
    mem_mb = _int(env, "SLURM_MEM_PER_NODE")
    return Placement(
        scheduler="slurm" if slurm else "",
        launcher=launcher,
        job_id=job_id,
        job_step=env.get("SLURM_STEP_ID", "") if slurm else "",
        node=env.get("SLURMD_NODENAME") or hostname or _hostname(),
        node_rank=node_rank,
        rank=rank,
        local_rank=local_rank,
        world_size=world,
        local_world_size=local_world,
        cpus_allocated=_int(env, "SLURM_CPUS_ON_NODE") if slurm else None,
        memory_allocated_bytes=mem_mb * 1024 * 1024 if mem_mb is not None and slurm else None,
        gpus_allocated=gpus if slurm else None,
    )
