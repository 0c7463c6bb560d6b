"""Attribution on shared machines: a process tree's or a job's share of the machine's energy,
from fake /proc and /sys/fs/cgroup trees with known CPU times and memory."""

from __future__ import annotations

import csv
import os
import sys
import types

import pytest

from tests.fakes.fakeclock import Clock
from tests.fakes.fakenvml import FakeGpu, FakeNvml
from tests.fakes.fakesys import cpu_stat
from wattprint import Tracker
from wattprint.attribution import cgroups
from wattprint.attribution.procs import CLK_TCK, PAGE_SIZE, ProcessTree, parse_stat
from wattprint.attribution.shares import USE_REL_ERROR, ShareMeter, Shares
from wattprint.meters import nvidia
from wattprint.meters.base import Reading

J_PER_KWH = 3.6e6
PID = os.getpid()
SLURM_CGROUP = "/system.slice/slurmstepd.scope/job_4242/step_0/user/task_0"


def rows(path: str = "emissions.csv") -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# -- the process tree ----------------------------------------------------------------------------


def test_stat_line_with_spaces_and_parentheses_in_the_name():
    raw = b"12 (my (odd) name) S 1 " + b" ".join([b"0"] * 9) + b" 7 3 2 1 0 0 0 0 555 0 9 0\n"
    st = parse_stat(raw)
    assert st is not None
    assert st.comm == "my (odd) name" and st.ppid == 1
    assert st.cpu_ticks == 13 and st.start_ticks == 555 and st.rss_bytes == 9 * PAGE_SIZE


def test_tree_counts_children_as_they_come_and_go(machine):
    machine.add_process(100, utime=50, stime=10, rss_pages=100, children=(101,))
    machine.add_process(101, ppid=100, utime=30, rss_pages=50, children=(102,))
    machine.add_process(102, ppid=101, utime=20, rss_pages=25)
    machine.add_process(200, utime=999, rss_pages=999)  # not in the tree
    tree = ProcessTree(machine.root, 100, refresh_s=0.0)
    u = tree.usage()
    assert u.members == 3
    assert u.cpu_s == pytest.approx(110 / CLK_TCK)
    assert u.rss_bytes == 175 * PAGE_SIZE
    # 102 exits and 101 reaps it: its 20 ticks (and 5 more it used) move into 101's cutime.
    machine.end_process(102)
    machine.add_process(101, ppid=100, utime=30, cutime=25, rss_pages=50, children=(103,))
    machine.add_process(103, ppid=101, utime=40, rss_pages=10)  # a new child
    u = tree.usage()
    assert u.cpu_s == pytest.approx((60 + 55 + 40) / CLK_TCK)
    assert u.rss_bytes == 160 * PAGE_SIZE
    assert tree.holds(103) and not tree.holds(200)


def test_a_reused_pid_is_not_taken_for_the_old_child(machine):
    machine.add_process(100, utime=10, children=(101,))
    machine.add_process(101, ppid=100, utime=10, start=2000)
    tree = ProcessTree(machine.root, 100, refresh_s=3600.0)
    assert tree.usage().cpu_s == pytest.approx(20 / CLK_TCK)
    machine.add_process(101, ppid=1, utime=500, start=9000)  # someone else's process, same pid
    machine.add_process(100, utime=10, children=())
    assert tree.usage().cpu_s == pytest.approx(20 / CLK_TCK)  # never back, never the stranger's


# -- shares and policies -------------------------------------------------------------------------


class StepMeter:
    """A machine meter whose cumulative energy the test sets."""

    component = "cpu"
    method = "rapl"
    devices = ("package-0",)
    poll_interval_s = None

    def __init__(self, component: str = "cpu") -> None:
        self.component = component
        self.energy = 0.0

    def read(self) -> Reading:
        return Reading(self.energy, self.energy * 0.95, self.energy * 1.05, self.method)

    def poll(self) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # 100 J over 10 s, idle 5 W = 50 J idle; the job used 1/4 of the busy CPU time and
        # holds 2 of 4 CPUs.
        ("proportional", 100 * 0.25),
        ("allocated", 50 * 0.25 + 50 * 0.5),
        ("none", 50 * 0.25),
    ],
)
def test_idle_policy_decides_who_pays_for_idle_power(machine, policy, expected):
    machine.write("/proc/stat", cpu_stat(1000, 9000))
    clock = Clock()
    job = {"cpu": 0.0}
    shares = Shares(machine.root, lambda: (job["cpu"], 0), policy, 2.0, 4, None, None, clock)
    inner = StepMeter()
    meter = ShareMeter(inner, shares, idle_w=5.0)
    clock.t = 10.0
    machine.write("/proc/stat", cpu_stat(1000 + 8 * CLK_TCK, 9000 + 32 * CLK_TCK))
    job["cpu"] = 2.0  # 2 of the 8 busy CPU seconds
    inner.energy = 100.0
    r = meter.read()
    assert r.energy_j == pytest.approx(expected)
    assert r.low_j < r.energy_j < r.high_j
    assert meter.share == pytest.approx(expected / 100)
    assert meter.method == "rapl+share"


def test_bounds_widen_only_the_part_charged_by_use(machine):
    clock = Clock()
    job = {"cpu": 0.0}
    shares = Shares(
        machine.root, lambda: (job["cpu"], 0), "proportional", 4.0, 4, None, None, clock
    )
    inner = StepMeter()
    meter = ShareMeter(inner, shares, idle_w=0.0)
    clock.t = 1.0
    machine.write("/proc/stat", cpu_stat(1000 + 4 * CLK_TCK, 9000))
    job["cpu"] = 1.0
    inner.energy = 40.0
    r = meter.read()
    assert r.energy_j == pytest.approx(10.0)
    assert r.low_j == pytest.approx(38.0 * 0.25 * (1 - USE_REL_ERROR))
    assert r.high_j == pytest.approx(42.0 * 0.25 * (1 + USE_REL_ERROR))


def test_cpu_time_found_late_is_carried_not_lost_nor_above_the_machine(machine):
    clock = Clock()
    job = {"cpu": 0.0}
    shares = Shares(
        machine.root, lambda: (job["cpu"], 0), "proportional", 4.0, 4, None, None, clock
    )
    busy = 1000
    clock.t = 1.0
    busy += 2 * CLK_TCK
    machine.write("/proc/stat", cpu_stat(busy, 9000))
    job["cpu"] = 3.0  # a child found late brings 3 s where the machine was busy 2 s
    assert shares.current().cpu_use == pytest.approx(1.0)
    clock.t = 2.0
    busy += 2 * CLK_TCK
    machine.write("/proc/stat", cpu_stat(busy, 9000))
    assert shares.current().cpu_use == pytest.approx(0.5)  # the carried second
    assert shares.cpu_s == pytest.approx(3.0)


def test_ram_share_is_resident_memory_over_used_or_installed(machine):
    # meminfo: 16 GB installed (16000000 kB), 12 GB in use.
    rss = 3_000_000 * 1024
    prop = Shares(machine.root, lambda: (0.0, rss), "proportional", 4.0, 4, None, None)
    held = Shares(machine.root, lambda: (0.0, rss), "allocated", 4.0, 4, 8_000_000 * 1024, None)
    assert prop.current().ram_use == pytest.approx(0.25)
    iv = held.current()
    assert iv.ram_use == pytest.approx(3 / 16) and iv.ram_held == pytest.approx(0.5)


# -- the tracker in process and job mode ---------------------------------------------------------


def add_rapl(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=500_000)


def test_process_mode_charges_the_tree_its_cpu_time_share_of_rapl(machine):
    add_rapl(machine)
    machine.add_process(PID, utime=100, children=(PID + 1,), rss_pages=0)
    machine.add_process(PID + 1, ppid=PID, utime=100, rss_pages=0)
    tracker = Tracker(
        country="FRA", tracking_mode="process", idle_policy="proportional", interval_s=60
    ).start()
    machine.write("/proc/stat", cpu_stat(1000 + 10 * CLK_TCK, 9000))  # 10 busy CPU seconds
    machine.add_process(PID, utime=100 + 2 * CLK_TCK, children=(PID + 1,))
    machine.add_process(PID + 1, ppid=PID, utime=100 + 2 * CLK_TCK)  # the tree: 4 s of 10
    machine.set_energy("intel-rapl:0", 1_000_000 + 500_000_000)  # 500 J package
    r = tracker.stop()
    assert r.cpu.energy_kwh * J_PER_KWH == pytest.approx(200.0)
    assert r.cpu.method == "rapl+share"
    row = rows()[0]
    assert row["scope"] == "process" and row["idle_policy"] == "proportional"
    assert float(row["cpu_share"]) == pytest.approx(0.4)
    assert row["tracking_mode"] == "process"


def test_process_mode_on_a_vm_whose_platform_the_model_folds_into_the_cpu(machine):
    """A VM's generic CPU: the model has no platform of its own (not estimated), so only CPU
    and RAM have an idle figure; the tracker starts and charges the tree, it does not raise."""
    machine.write(
        "/proc/cpuinfo",
        "processor\t: 0\nmodel name\t: AMD EPYC Processor\n"
        "flags\t: hypervisor\n\nprocessor\t: 1\nmodel name\t: AMD EPYC Processor\n"
        "flags\t: hypervisor\n\n",
    )
    machine.add_process(PID, utime=100, rss_pages=0)
    tracker = Tracker(country="FRA", tracking_mode="process", interval_s=60).start()
    machine.write("/proc/stat", cpu_stat(1000 + 10 * CLK_TCK, 9000))
    machine.add_process(PID, utime=100 + 5 * CLK_TCK)  # 5 of the machine's 10 busy seconds
    r = tracker.stop()
    assert r.platform is None or r.platform.method == "not-estimated"
    assert r.cpu.energy_kwh is not None and r.cpu.method.endswith("+share")
    assert 0.0 < float(rows()[0]["cpu_share"]) < 1.0  # the tree's part, not the machine


def test_machine_mode_charges_everything_and_says_so(machine):
    add_rapl(machine)
    tracker = Tracker(country="FRA", interval_s=60).start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 500_000_000)
    r = tracker.stop()
    assert r.cpu.energy_kwh * J_PER_KWH == pytest.approx(500.0)
    row = rows()[0]
    assert row["scope"] == "machine" and row["cpu_share"] == "" and row["idle_policy"] == ""


def slurm_env(monkeypatch, **extra: str) -> None:
    env = {"SLURM_JOB_ID": "4242", "SLURM_STEP_ID": "0", "SLURMD_NODENAME": "gpu-node-07",
           "SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_NTASKS": "1",
           "SLURM_CPUS_ON_NODE": "1", "SLURM_NODEID": "0"}  # fmt: skip
    env.update(extra)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_job_mode_reads_the_slurm_jobs_cgroup_and_pays_idle_for_what_it_holds(machine, monkeypatch):
    slurm_env(monkeypatch)
    add_rapl(machine)
    machine.add_process(PID, cgroup=SLURM_CGROUP)
    job_cgroup = "/system.slice/slurmstepd.scope/job_4242"
    machine.set_cgroup_usage(job_cgroup, 5_000_000, 2_000_000_000)
    tracker = Tracker(country="FRA", tracking_mode="job", interval_s=60).start()
    machine.write("/proc/stat", cpu_stat(1000 + 8 * CLK_TCK, 9000))
    machine.set_cgroup_usage(job_cgroup, 5_000_000 + 2_000_000, 2_000_000_000)  # 2 s of 8
    machine.set_energy("intel-rapl:0", 1_000_000 + 800_000_000)
    machine.set_energy("intel-rapl:0:0", 500_000 + 100_000_000)
    r = tracker.stop()
    row = rows()[0]
    assert row["scope"] == "job" and row["idle_policy"] == "allocated"
    assert (row["job_id"], row["job_step"], row["node"]) == ("4242", "0", "gpu-node-07")
    assert row["rank"] == "0" and row["local_rank"] == "0" and row["world_size"] == "1"
    # Work: 800 J less the model's idle over a few ms, charged 1/4; idle: held 1 CPU of 4.
    share = float(row["cpu_share"])
    assert 0.25 <= share < 0.26
    assert r.cpu.energy_kwh * J_PER_KWH == pytest.approx(800 * share)
    assert float(row["ram_share"]) == pytest.approx(2_000_000_000 / 16_384_000_000, rel=1e-3)


def test_job_mode_outside_a_cgroup_falls_back_to_the_tree_and_says_so(machine, caplog):
    machine.add_process(PID, cgroup="/")
    with Tracker(country="FRA", tracking_mode="job", interval_s=60):
        pass
    assert "process tree is measured instead" in caplog.text
    assert rows()[0]["scope"] == "job"


def test_container_and_pod_are_in_the_record(machine, monkeypatch):
    uid = "0b6a4e07-1f2b-4c3d-9e8f-0a1b2c3d4e5f"
    cid = "c" * 64
    path = (
        f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
        f"{uid.replace('-', '_')}.slice/cri-containerd-{cid}.scope"
    )
    machine.add_process(PID, cgroup=path)
    monkeypatch.setenv("POD_NAMESPACE", "training")
    with Tracker(country="FRA", interval_s=60):
        pass
    row = rows()[0]
    assert (row["container_id"], row["pod"], row["namespace"]) == (cid, uid, "training")


def test_tasks_carry_their_own_share(machine):
    add_rapl(machine)
    machine.add_process(PID, utime=0)
    tracker = Tracker(
        country="FRA", tracking_mode="process", idle_policy="proportional", interval_s=60
    ).start()
    tracker.start_task("busy")
    machine.write("/proc/stat", cpu_stat(1000 + 4 * CLK_TCK, 9000))
    machine.add_process(PID, utime=4 * CLK_TCK)  # all of the machine's busy time
    machine.set_energy("intel-rapl:0", 1_000_000 + 100_000_000)
    task = tracker.stop_task("busy")
    tracker.start_task("other")
    machine.write("/proc/stat", cpu_stat(1000 + 8 * CLK_TCK, 9000))  # someone else's 4 s
    machine.set_energy("intel-rapl:0", 1_000_000 + 200_000_000)
    other = tracker.stop_task("other")
    tracker.stop()
    assert task.cpu.energy_kwh * J_PER_KWH == pytest.approx(100.0)
    assert other.cpu.energy_kwh * J_PER_KWH == pytest.approx(0.0, abs=1e-6)
    tasks = {t["task_name"]: t for t in rows("emissions_tasks.csv")}
    assert float(tasks["busy"]["cpu_share"]) == pytest.approx(1.0)
    assert float(tasks["other"]["cpu_share"]) == pytest.approx(0.0)


# -- distributed jobs: one tracker per node --------------------------------------------------------


def test_a_rank_other_than_local_rank_zero_measures_nothing(machine, monkeypatch):
    for key, value in {
        "RANK": "3",
        "LOCAL_RANK": "1",
        "WORLD_SIZE": "4",
        "LOCAL_WORLD_SIZE": "2",
    }.items():
        monkeypatch.setenv(key, value)
    tracker = Tracker(country="FRA", interval_s=60)
    with tracker:
        assert tracker.bystander and not tracker.running
        assert tracker.flush() is None and tracker.peek() is None
        with tracker.task("step"):
            pass
    assert tracker.result is None
    assert not os.path.exists("emissions.csv")


def test_local_rank_zero_measures_and_records_its_place(machine, monkeypatch):
    for key, value in {
        "RANK": "2",
        "LOCAL_RANK": "0",
        "WORLD_SIZE": "4",
        "GROUP_RANK": "1",
        "MASTER_ADDR": "10.0.0.1",
        "MASTER_PORT": "29500",
    }.items():
        monkeypatch.setenv(key, value)
    with Tracker(country="FRA", interval_s=60):
        pass
    row = rows()[0]
    assert (row["rank"], row["local_rank"], row["world_size"]) == ("2", "0", "4")
    assert row["job_id"] == "10.0.0.1:29500"


# -- GPUs ------------------------------------------------------------------------------------------


def test_a_gpu_shared_with_another_process_is_charged_the_jobs_share(machine, monkeypatch):
    gpu = FakeGpu("GPU-aaaa", processes=[(PID, 3 * 2**30), (777_777, 1 * 2**30)])
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([gpu]))
    machine.add_process(PID)
    tracker = Tracker(country="FRA", tracking_mode="process", interval_s=60).start()
    gpu.energy_mj += 1_000_000  # 1000 J
    gpu.samples = [(PID, 60.0, 10), (777_777, 20.0, 10), (PID, 60.0, 20), (777_777, 20.0, 20)]
    r = tracker.stop()
    assert r.gpu.energy_kwh * J_PER_KWH == pytest.approx(750.0)  # SM utilization 120 of 160
    assert r.gpu.method == "nvml-counter+share"
    # Bounds span the utilization share (3/4) and the memory share (3/4), widened by 25 %.
    low = 1000 * (1 - nvidia.NVML_REL_ACCURACY) * 0.75 * 0.75
    assert r.gpu.low_kwh * J_PER_KWH == pytest.approx(low)
    row = rows()[0]
    assert row["gpu_share_method"] == "nvml-process-share"
    assert float(row["gpu_share"]) == pytest.approx(0.75)


def test_a_gpu_only_the_job_computes_on_is_charged_whole(machine, monkeypatch):
    gpu = FakeGpu("GPU-aaaa", processes=[(PID, 2**30)])
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([gpu]))
    machine.add_process(PID)
    tracker = Tracker(country="FRA", tracking_mode="process", interval_s=60).start()
    gpu.energy_mj += 1_000_000
    r = tracker.stop()
    assert r.gpu.energy_kwh * J_PER_KWH == pytest.approx(1000.0)


def test_gpus_the_scheduler_allocated_are_held_whole(machine, monkeypatch):
    slurm_env(monkeypatch, SLURM_JOB_GPUS="0")
    gpu = FakeGpu("GPU-aaaa", processes=[(PID, 2**30), (777_777, 2**30)])
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([gpu]))
    machine.add_process(PID)
    tracker = Tracker(country="FRA", tracking_mode="process", interval_s=60).start()
    gpu.energy_mj += 1_000_000
    r = tracker.stop()
    assert r.gpu.energy_kwh * J_PER_KWH == pytest.approx(1000.0)
    assert rows()[0]["gpu_share_method"] == "held"


# -- sync_gpu ---------------------------------------------------------------------------------


class FakeCuda:
    def __init__(self, initialised: bool) -> None:
        self.initialised = initialised
        self.synced: list[int] = []

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return self.initialised

    def device_count(self) -> int:
        return 2

    def synchronize(self, index: int) -> None:
        self.synced.append(index)


def test_sync_gpu_waits_for_torch_at_every_edge_when_cuda_is_initialised(machine, monkeypatch):
    cuda = FakeCuda(initialised=True)
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    tracker = Tracker(country="FRA", interval_s=60).start()
    with tracker.task("step"):
        pass
    tracker.stop()
    assert cuda.synced == [0, 1] * 4  # run start, task start, task end, run end; both GPUs
    assert rows()[0]["sync_gpu"] == "torch"


def test_sync_gpu_never_initialises_cuda_and_off_means_off(machine, monkeypatch):
    cuda = FakeCuda(initialised=False)
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    with Tracker(country="FRA", interval_s=60):
        pass
    assert cuda.synced == [] and rows()[0]["sync_gpu"] == "none"
    cuda.initialised = True
    with Tracker(country="FRA", interval_s=60, sync_gpu="off"):
        pass
    assert cuda.synced == [] and rows()[1]["sync_gpu"] == "off"


def test_sync_gpu_takes_a_function(machine):
    calls = []
    with Tracker(country="FRA", interval_s=60, sync_gpu=lambda: calls.append(1)) as tracker:
        with tracker.task("t"):
            pass
    assert len(calls) == 4 and rows()[0]["sync_gpu"] == "callable"


# -- cgroup paths -----------------------------------------------------------------------------

UID = "0b6a4e07-1f2b-4c3d-9e8f-0a1b2c3d4e5f"
CID = "ab" * 32


@pytest.mark.parametrize(
    ("path", "runtime", "container", "pod", "job"),
    [
        (f"/system.slice/docker-{CID}.scope", "docker", CID, "", ""),
        (f"/docker/{CID}", "docker", CID, "", ""),
        (
            f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
            f"{UID.replace('-', '_')}.slice/cri-containerd-{CID}.scope",
            "containerd",
            CID,
            UID,
            "",
        ),
        (
            f"/kubepods.slice/kubepods-pod{UID.replace('-', '_')}.slice/crio-{CID}.scope",
            "cri-o",
            CID,
            UID,
            "",
        ),
        (f"/kubepods/burstable/pod{UID}/{CID}", "cri", CID, UID, ""),
        (
            f"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{CID}.scope",
            "podman",
            CID,
            "",
            "",
        ),
        (SLURM_CGROUP, "", "", "", "4242"),
        ("/slurm/uid_1000/job_77/step_batch/task_0", "", "", "", "77"),
        ("/user.slice/user-1000.slice/session-3.scope", "", "", "", ""),
    ],
)
def test_cgroup_paths_name_their_container_pod_or_job(path, runtime, container, pod, job):
    ident = cgroups.identify(path)
    assert (ident.runtime, ident.container_id, ident.pod_uid, ident.slurm_job) == (
        runtime,
        container,
        pod,
        job,
    )


def test_cgroup_v1_and_v2_files_and_pod_namespaces_from_the_host(machine):
    machine.write("/proc/10/cgroup", f"12:cpu,cpuacct:/docker/{CID}\n1:name=systemd:/x\n")
    machine.write("/proc/11/cgroup", f"0::/system.slice/docker-{CID}.scope\n")
    assert cgroups.of_process(machine.root, 10).container_id == CID
    assert cgroups.of_process(machine.root, 11).runtime == "docker"
    assert cgroups.of_process(machine.root, 12).path == "/"
    machine.mkdir(f"/var/log/pods/ml-team_trainer-7f9c_{UID}")
    assert cgroups.pod_namespace(machine.root, {}, UID) == "ml-team"
    assert cgroups.pod_names(machine.root)[UID] == ("ml-team", "trainer-7f9c")


# -- where the job sits: Slurm and launchers, from the environment alone ------------------------

from wattprint.attribution.cluster import placement  # noqa: E402


def test_single_node_slurm_job():
    p = placement(
        {
            "SLURM_JOB_ID": "17",
            "SLURM_STEP_ID": "batch",
            "SLURMD_NODENAME": "n01",
            "SLURM_PROCID": "0",
            "SLURM_LOCALID": "0",
            "SLURM_NTASKS": "1",
            "SLURM_CPUS_ON_NODE": "8",
            "SLURM_MEM_PER_NODE": "16000",
        }
    )
    assert (p.scheduler, p.job_id, p.job_step, p.node) == ("slurm", "17", "batch", "n01")
    assert p.cpus_allocated == 8 and p.memory_allocated_bytes == 16000 * 2**20
    assert p.measures and not p.distributed and p.gpus_allocated is None


def test_multi_node_srun_tasks_measure_once_per_node():
    base = {
        "SLURM_JOB_ID": "18",
        "SLURM_STEP_ID": "0",
        "SLURM_NTASKS": "8",
        "SLURM_CPUS_ON_NODE": "32",
    }
    tasks = [
        placement(
            {
                **base,
                "SLURMD_NODENAME": f"n{node}",
                "SLURM_NODEID": str(node),
                "SLURM_PROCID": str(4 * node + local),
                "SLURM_LOCALID": str(local),
            }
        )
        for node in range(2)
        for local in range(4)
    ]
    measuring = [(t.node, t.rank) for t in tasks if t.measures]
    assert measuring == [("n0", 0), ("n1", 4)]
    assert {t.launcher for t in tasks} == {"srun"} and tasks[5].world_size == 8


def test_torchrun_under_slurm_uses_the_launchers_local_rank():
    p = placement(
        {
            "SLURM_JOB_ID": "19",
            "SLURM_LOCALID": "0",
            "SLURM_PROCID": "1",
            "RANK": "5",
            "LOCAL_RANK": "1",
            "WORLD_SIZE": "8",
            "GROUP_RANK": "1",
            "SLURMD_NODENAME": "n1",
        }
    )
    assert (p.launcher, p.rank, p.local_rank, p.node_rank) == ("torchrun", 5, 1, 1)
    assert not p.measures and p.job_id == "19"


@pytest.mark.parametrize(
    ("env", "gpus"),
    [
        ({"SLURM_JOB_GPUS": "2,3"}, ("2", "3")),  # a subset of the node's GPUs
        ({"SLURM_JOB_GPUS": "0,1,2,3", "SLURM_STEP_GPUS": "1"}, ("1",)),  # the step's own
        ({"GPU_DEVICE_ORDINAL": "0"}, ("0",)),
        ({"SLURM_JOB_GPUS": "N/A"}, None),
    ],
)
def test_slurm_gpu_allocations(env, gpus):
    assert placement({"SLURM_JOB_ID": "20", **env}).gpus_allocated == gpus


def test_a_mig_instance_the_job_holds_is_measured_and_held(machine, monkeypatch):
    mig = "MIG-11111111-2222-3333-4444-555555555555"
    gpu = FakeGpu("GPU-aaaa", migs=[mig], processes=[(PID, 2**30), (777_777, 2**30)])
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([gpu]))
    slurm_env(monkeypatch, SLURM_JOB_GPUS="0", CUDA_VISIBLE_DEVICES=mig)
    machine.add_process(PID)
    tracker = Tracker(country="FRA", tracking_mode="process", interval_s=60).start()
    gpu.energy_mj += 1_000_000
    r = tracker.stop()
    # NVML has no per-slice energy: the parent is measured (and said), held by the job.
    assert r.gpu.energy_kwh * J_PER_KWH == pytest.approx(1000.0)
    assert rows()[0]["gpu_share_method"] == "held"


def test_without_proc_process_mode_measures_the_machine_and_says_so(machine, caplog):
    add_rapl(machine)  # /proc/<pid>/stat of this process is not in the fake tree
    tracker = Tracker(country="FRA", tracking_mode="process", interval_s=60).start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 100_000_000)
    r = tracker.stop()
    assert r.cpu.energy_kwh * J_PER_KWH == pytest.approx(100.0)  # never a silent zero
    assert rows()[0]["scope"] == "machine" and "needs /proc" in caplog.text


def test_sync_gpu_waits_for_jax_devices_but_not_its_cpu(machine, monkeypatch):
    waited = []

    class Ready:
        def __init__(self, device):
            self.device = device

        def __add__(self, other):
            return self

        def block_until_ready(self):
            waited.append(self.device.id)

    devices = [
        types.SimpleNamespace(platform="cpu", id=0),
        types.SimpleNamespace(platform="gpu", id=1),
    ]
    jax = types.SimpleNamespace(
        local_devices=lambda: devices, device_put=lambda value, device: Ready(device)
    )
    monkeypatch.setitem(sys.modules, "jax", jax)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    with Tracker(country="FRA", interval_s=60):
        pass
    assert waited == [1, 1] and rows()[0]["sync_gpu"] == "jax"


def test_report_by_job_joins_nodes_and_keeps_lone_runs_apart(machine, tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from wattprint.cli import app

    for node_name, rank in (("n0", "0"), ("n1", "4")):
        for key, value in {
            "SLURM_JOB_ID": "99",
            "SLURMD_NODENAME": node_name,
            "SLURM_PROCID": rank,
            "SLURM_LOCALID": "0",
            "SLURM_NTASKS": "8",
        }.items():
            monkeypatch.setenv(key, value)
        with Tracker(country="FRA", interval_s=60, output_dir=str(tmp_path / node_name)):
            pass
    for key in ("SLURM_JOB_ID", "SLURMD_NODENAME", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS"):
        monkeypatch.delenv(key)
    with Tracker(country="FRA", interval_s=60, output_dir=str(tmp_path / "alone")):
        pass
    r = CliRunner().invoke(
        app,
        [
            "report",
            "--by",
            "job",
            "--json",
            str(tmp_path / "n0"),
            str(tmp_path / "n1"),
            str(tmp_path / "alone"),
        ],
    )
    assert r.exit_code == 0, r.output
    groups = {g["group"]: g for g in json.loads(r.output)["groups"]}
    assert groups["99"]["runs"] == 2 and groups["99"]["nodes"] == ["n0", "n1"]
    assert groups["99"]["world_size"] == 8
    (lone,) = [k for k in groups if k.startswith("run ")]
    assert groups[lone]["runs"] == 1
