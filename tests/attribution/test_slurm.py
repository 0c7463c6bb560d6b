"""A real single-node Slurm (started by ``.ci/slurm.sh``): an sbatch job of two srun tasks, each
starting a tracker as users would. Exactly one tracker on the node measures (the task of local
id 0) and its record carries the job's fields. Skipped, with the reason, where no Slurm runs.

What this Slurm cannot show here: the job's cgroup (``proctrack/cgroup`` and ``task/cgroup``
need a writable cgroup tree, which a CI container lacks), so ``tracking_mode="job"`` falls back
to the process tree, as tests/attribution/test_attribution.py checks against fake cgroups; and GPUs
(``gres/gpu``), covered by the Slurm environments there.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("WATTPRINT_SLURM") != "1" or shutil.which("sbatch") is None,
    reason='no Slurm running here: start one with eval "$(.ci/slurm.sh)" (needs root)',
)

TASK = textwrap.dedent(
    """
    import os, sys
    import wattprint

    out = sys.argv[1]
    tracker = wattprint.Tracker(country="FRA", interval_s=60, output_dir=out,
                                tracking_mode="job", project_name="slurm")
    with tracker:
        sum(i * i for i in range(2_000_000))
    with open(os.path.join(out, "task" + os.environ["SLURM_PROCID"]), "w") as f:
        f.write("bystander" if tracker.bystander else "measured")
    """
)


def test_an_sbatch_job_of_two_tasks_is_measured_once_on_its_node(tmp_path):
    script = tmp_path / "task.py"
    script.write_text(TASK)
    out = tmp_path / "out"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WATTPRINT_", "SLURM_"))}
    done = subprocess.run(
        [
            "sbatch",
            "--wait",
            "--parsable",
            "--ntasks=2",
            f"--output={tmp_path}/job.log",
            f"--chdir={tmp_path}",
            "--wrap",
            f"srun {sys.executable} {script} {out}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = (tmp_path / "job.log").read_text() if (tmp_path / "job.log").exists() else ""
    assert done.returncode == 0, done.stderr + log
    job_id = done.stdout.strip().split(";")[0]
    said = {p.name: p.read_text() for p in out.glob("task*")}
    assert said == {"task0": "measured", "task1": "bystander"}, log
    with open(out / "emissions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1, log
    row = rows[0]
    assert row["job_id"] == job_id and row["job_step"] == "0"
    assert row["rank"] == "0" and row["local_rank"] == "0" and row["world_size"] == "2"
    assert row["node"] and row["scope"] == "job" and row["idle_policy"] == "allocated"
    assert 0.0 < float(row["cpu_share"]) <= 1.0
