"""What a process's cgroup says about it: its container, its Kubernetes pod, its Slurm job.

Read from ``/proc/<pid>/cgroup`` (the ``0::/path`` line of cgroup v2; on v1, the ``cpu`` or
``name=systemd`` hierarchy), and, for a cgroup's own usage, from ``/sys/fs/cgroup/<path>/``
(``cpu.stat`` usage_usec, ``memory.current``). The path layouts recognised:

- Docker: ``/system.slice/docker-<id>.scope`` (systemd driver), ``/docker/<id>`` (cgroupfs)
- containerd / CRI-O under Kubernetes:
  ``.../kubepods-<qos>-pod<uid>.slice/cri-containerd-<id>.scope``,
  ``.../crio-<id>.scope``, or cgroupfs ``/kubepods/<qos>/pod<uid>/<id>``
- Podman: ``.../libpod-<id>.scope``
- Slurm: ``.../job_<id>/step_<step>/...`` (cgroup v2 and v1 alike)

A pod's namespace is not in its cgroup path: inside the pod it is the service account's
namespace file (or ``POD_NAMESPACE``); on the host, kubelet's ``/var/log/pods/<ns>_<name>_<uid>``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

CGROUP_FS = "sys/fs/cgroup"
SA_NAMESPACE = "var/run/secrets/kubernetes.io/serviceaccount/namespace"
POD_LOGS = "var/log/pods"

_RUNTIMES = (
    ("docker", re.compile(r"docker-([0-9a-f]{12,64})\.scope$")),
    ("containerd", re.compile(r"cri-containerd-([0-9a-f]{12,64})\.scope$")),
    ("cri-o", re.compile(r"crio-(?:conmon-)?([0-9a-f]{12,64})\.scope$")),
    ("podman", re.compile(r"libpod-(?:conmon-)?([0-9a-f]{12,64})\.scope$")),
)
_CGROUPFS_DOCKER = re.compile(r"^/docker/([0-9a-f]{64})(?:/|$)")
_POD = re.compile(r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})")
_BARE_ID = re.compile(r"^[0-9a-f]{64}$")
_SLURM_JOB = re.compile(r"/job_(\d+)(?:/step_([^/]+))?")


class CgroupIdentity(NamedTuple):
    path: str  # the cgroup path, "/" when unknown
    runtime: str = ""  # docker, containerd, cri-o, podman; "" outside a container
    container_id: str = ""
    pod_uid: str = ""
    slurm_job: str = ""
    slurm_step: str = ""


def cgroup_path(root: Path, pid: int | str) -> str | None:
    """The process's cgroup (v2 unified path; v1: the cpu hierarchy's), or None."""
    try:
        text = (root / f"proc/{pid}/cgroup").read_text(errors="replace")
    except OSError:
        return None
    v1 = None
    for line in text.splitlines():
        ident, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if ident == "0" and controllers == "":
            return path or "/"
        if v1 is None and ("cpu" in controllers.split(",") or controllers == "name=systemd"):
            v1 = path
    return v1


def identify(path: str) -> CgroupIdentity:
    """Container, pod and Slurm job named by a cgroup path (fields empty where none)."""
    runtime = container = pod = ""
    for segment in reversed(path.split("/")):
        for name, pattern in _RUNTIMES:
            m = pattern.search(segment)
            if m:
                runtime, container = name, m.group(1)
                break
        if container:
            break
    if not container:
        m = _CGROUPFS_DOCKER.match(path)
        if m:
            runtime, container = "docker", m.group(1)
    m = _POD.search(path)
    if m:
        pod = m.group(1).replace("_", "-")
        if not container:  # cgroupfs driver: /kubepods/<qos>/pod<uid>/<container id>
            last = path.rstrip("/").rsplit("/", 1)[-1]
            if _BARE_ID.match(last):
                runtime, container = "cri", last
    job = _SLURM_JOB.search(path)
    job_id = job.group(1) if job else ""
    step = (job.group(2) or "") if job else ""
    return CgroupIdentity(path, runtime, container, pod, job_id, step)


def of_process(root: Path, pid: int | str) -> CgroupIdentity:
    path = cgroup_path(root, pid)
    return identify(path) if path is not None else CgroupIdentity("/")


def pod_namespace(root: Path, env: Mapping[str, str], pod_uid: str = "") -> str:
    """The namespace of a pod: from inside it (env, service account), or the host's pod logs."""
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    if not pod_uid:
        try:
            return (root / SA_NAMESPACE).read_text().strip()
        except OSError:
            return ""
    return pod_names(root).get(pod_uid, ("", ""))[0]


def pod_names(root: Path) -> dict[str, tuple[str, str]]:
    """pod uid -> (namespace, pod name), from kubelet's ``/var/log/pods/<ns>_<name>_<uid>``."""
    out: dict[str, tuple[str, str]] = {}
    try:
        entries = os.listdir(root / POD_LOGS)
    except OSError:
        return out
    for entry in entries:
        parts = entry.split("_")
        if len(parts) >= 3:
            out[parts[-1]] = (parts[0], "_".join(parts[1:-1]))
    return out


class CgroupUsage(NamedTuple):
    cpu_s: float | None
    memory_bytes: int | None


def usage(root: Path, path: str) -> CgroupUsage:
    """The cgroup's cumulative CPU time (cpu.stat usage_usec) and memory in use (memory.current)."""
    base = root / CGROUP_FS / path.lstrip("/")
    cpu = mem = None
    try:
        with open(base / "cpu.stat", "rb") as f:
            for line in f:
                if line.startswith(b"usage_usec "):
                    cpu = int(line.split()[1]) / 1e6
                    break
    except (OSError, ValueError):
        pass
    try:
        mem = int((base / "memory.current").read_bytes().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return CgroupUsage(cpu, mem)


def job_cgroup(path: str) -> str | None:
    """The Slurm job's own cgroup (``.../job_<id>``) above a step's or task's path."""
    m = re.search(r"^(.*?/job_\d+)(?:/|$)", path)
    return m.group(1) if m else None
