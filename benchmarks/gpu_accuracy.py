"""How close is wattprint's GPU energy to NVML's own counter, on a bursty load?

    PYTHONPATH=src python3 benchmarks/gpu_accuracy.py [--seconds 60] [--duty 0.3] [--gpu 0]

Needs an NVIDIA GPU, PyTorch with CUDA and nvidia-ml-py. For each tracker interval (1 s and 15 s
by default) and each GPU method (the total-energy counter, and 1 Hz power sampling forced by
hiding the counter from the tracker) it runs a load that keeps the GPU busy for ``duty`` of each
second, tracked by wattprint, while this script reads the NVML total-energy counter itself:
just before start() and just after stop() (outer), and just after start() and just before stop()
(inner). The tracker's window lies between the two, so the truth lies between the two readings.
Goal: within 0.5 % of the counter.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def bursty_load(seconds: float, duty: float, device: int) -> int:
    """Busy for ``duty`` of every second (matrix products), idle for the rest. Returns bursts."""
    import torch

    dev = torch.device("cuda", device)
    a = torch.randn(8192, 8192, device=dev, dtype=torch.float16)
    b = torch.randn(8192, 8192, device=dev, dtype=torch.float16)
    end = time.monotonic() + seconds
    bursts = 0
    while (now := time.monotonic()) < end:
        second_start = now
        while time.monotonic() - second_start < duty:
            a @ b  # noqa: B018 - the work is the point
            torch.cuda.synchronize(dev)
        bursts += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - second_start)))
    return bursts


def run_once(args: argparse.Namespace, interval_s: float, force_power: bool) -> dict:
    import pynvml

    from wattprint import Tracker
    from wattprint.meters import nvidia

    handle = pynvml.nvmlDeviceGetHandleByIndex(args.gpu)

    def counter_j() -> float:
        return pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0

    original = nvidia.load_adapter
    if force_power:

        class NoCounter(nvidia.NvmlAdapter):
            def total_energy_mj(self, h):  # the tracker must fall back to power sampling
                raise nvidia.NotSupported("hidden by gpu_accuracy.py")

        nvidia.load_adapter = NoCounter
    try:
        with tempfile.TemporaryDirectory() as out:
            tracker = Tracker(
                project_name="gpu-accuracy",
                gpu_ids=[args.gpu],
                interval_s=interval_s,
                country="FRA",
                output_dir=out,
                log_level="error",
            )
            outer_start = counter_j()
            tracker.start()
            inner_start = counter_j()
            bursts = bursty_load(args.seconds, args.duty, args.gpu)
            inner_end = counter_j()
            result = tracker.stop()
            outer_end = counter_j()
    finally:
        nvidia.load_adapter = original
    measured = result.gpu.energy_kwh * 3.6e6
    inner, outer = inner_end - inner_start, outer_end - outer_start
    reference = (inner + outer) / 2
    return {
        "interval_s": interval_s,
        "method": result.gpu.method,
        "seconds": result.duration_s,
        "bursts": bursts,
        "wattprint_j": measured,
        "nvml_inner_j": inner,
        "nvml_outer_j": outer,
        "error_pct": 100.0 * (measured - reference) / reference,
        "within_window": inner <= measured <= outer,
        "low_j": result.gpu.low_kwh * 3.6e6,
        "high_j": result.gpu.high_kwh * 3.6e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--duty", type=float, default=0.3)
    parser.add_argument("--gpu", type=int, default=0)
    parser.add_argument("--intervals", default="1,15")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import pynvml
    import torch

    pynvml.nvmlInit()
    print(
        f"GPU {args.gpu}: {torch.cuda.get_device_name(args.gpu)}, driver "
        f"{pynvml.nvmlSystemGetDriverVersion()}; load busy {args.duty:.0%} of each second, "
        f"{args.seconds:g} s per run"
    )
    results = []
    for interval in (float(x) for x in args.intervals.split(",")):
        for force_power in (False, True):
            results.append(run_once(args, interval, force_power))
    print()
    print("| interval | method | wattprint J | NVML counter J (inner-outer) | error | bounds J |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['interval_s']:g} s | {r['method']} | {r['wattprint_j']:.1f} | "
            f"{r['nvml_inner_j']:.1f}-{r['nvml_outer_j']:.1f} | {r['error_pct']:+.3f} % | "
            f"{r['low_j']:.0f}-{r['high_j']:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
