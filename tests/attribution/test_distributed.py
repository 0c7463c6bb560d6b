"""A real torch.distributed job on the CPU (gloo, torchrun, two simulated nodes of two ranks on
127.0.0.1): exactly one tracker per node measures, and ``report --by job`` joins the nodes."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wattprint.report.summary import summarise

pytest.importorskip("torch.distributed", reason="torch is not installed (extra: bench)")

WORKER = textwrap.dedent(
    """
    import os, sys
    import torch
    import torch.distributed as dist
    import wattprint

    out = os.path.join(sys.argv[1], "node" + os.environ["GROUP_RANK"])
    tracker = wattprint.Tracker(country="FRA", interval_s=60, output_dir=out,
                                project_name="ddp").start()
    dist.init_process_group("gloo")
    value = torch.ones(4) * (dist.get_rank() + 1)
    with tracker.task("allreduce"):
        dist.all_reduce(value)
    assert value[0].item() == 10.0  # 1 + 2 + 3 + 4
    dist.barrier()
    result = tracker.stop()
    measured = "measured" if result is not None else "bystander"
    with open(os.path.join(sys.argv[1], f"rank{dist.get_rank()}.txt"), "w") as f:
        f.write(f"{measured} {tracker.bystander}")
    dist.destroy_process_group()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_tracker_per_node_measures_and_report_joins_the_job(machine, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    torchrun = Path(sys.executable).with_name("torchrun")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE")}
    env["OMP_NUM_THREADS"] = "1"
    launchers = [
        subprocess.Popen(
            [
                str(torchrun),
                "--nnodes=2",
                f"--node_rank={node}",
                "--nproc_per_node=2",
                "--master_addr=127.0.0.1",
                f"--master_port={port}",
                str(script),
                str(tmp_path),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for node in (0, 1)
    ]
    outputs = [p.communicate(timeout=240)[0] for p in launchers]
    assert [p.returncode for p in launchers] == [0, 0], "\n".join(outputs)
    said = {r: (tmp_path / f"rank{r}.txt").read_text() for r in range(4)}
    # Ranks 0 and 2 are their nodes' local rank 0.
    assert said == {
        0: "measured False",
        1: "bystander True",
        2: "measured False",
        3: "bystander True",
    }
    rows = {}
    for node in (0, 1):
        with open(tmp_path / f"node{node}" / "emissions.csv", newline="") as f:
            found = list(csv.DictReader(f))
        assert len(found) == 1, f"node {node} wrote {len(found)} rows"
        rows[node] = found[0]
        with open(tmp_path / f"node{node}" / "emissions_tasks.csv", newline="") as f:
            assert [t["task_name"] for t in csv.DictReader(f)] == ["allreduce"]
    assert rows[0]["job_id"] == rows[1]["job_id"] == f"127.0.0.1:{port}"
    assert (rows[0]["rank"], rows[1]["rank"]) == ("0", "2")
    assert rows[0]["local_rank"] == rows[1]["local_rank"] == "0"
    assert rows[0]["world_size"] == rows[1]["world_size"] == "4"

    data = summarise([tmp_path / "node0", tmp_path / "node1"], by="job")
    (job,) = data["groups"]
    assert job["group"] == f"127.0.0.1:{port}" and job["runs"] == 2 and job["world_size"] == 4
    energy = sum(float(r["energy_consumed"]) for r in rows.values())
    assert job["energy"]["total"]["kwh"] == pytest.approx(energy)
    low = sum(float(r["emissions_low_kg"]) for r in rows.values())
    assert job["emissions"]["low_kg"] == pytest.approx(low)
