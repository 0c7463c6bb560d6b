"""How a job is charged for GPUs in process and job mode.

A GPU the job holds (selected by the scheduler's allocation, ``CUDA_VISIBLE_DEVICES``, a MIG
instance, or ``gpu_ids``) is charged whole: nobody else may use it. On a machine without a
scheduler, a selected GPU that other processes also compute on is shared: the job is charged
its share, from NVML's per-process figures (see ``GpuShareMeter``).
"""

from __future__ import annotations

from typing import Any

HELD = "held"  # charged whole
SHARED = "nvml-process-share"


def share_gpus(att: Any, gpu: Any, scope: str, warn: Any) -> str:
    """Wrap the GPU meters of a job that shares its GPUs; the record's ``gpu_share_method``."""
    if att.placement.scheduler and att.placement.gpus_allocated is not None:
        return HELD  # the scheduler gave these GPUs to this job alone
    from .gpushare import GpuShareMeter

    wrapped = []
    for meter in gpu.meters:
        if hasattr(meter, "device_energies") and hasattr(meter._adapter, "compute_processes"):
            wrapped.append(GpuShareMeter(meter, att, warn))
        else:
            wrapped.append(meter)
    if not any(isinstance(m, GpuShareMeter) for m in wrapped):
        return HELD
    gpu.meters = wrapped
    gpu.method = "+".join(dict.fromkeys(m.method for m in wrapped))
    return SHARED
