"""Whose energy is it: the share of a shared machine that belongs to one process tree, job or
container, and where the job sits in a cluster (Slurm, torchrun, DeepSpeed, MPI).

- ``procs``: a process tree's CPU time and resident memory, from /proc, cheaply each tick.
- ``cgroups``: a process's cgroup v2 path, the container/pod/Slurm job it names, and the
  cgroup's own CPU time and memory.
- ``cluster``: the job's place (job, step, node, rank, local rank, world size, allocated CPUs
  and GPUs) read from the environment, never from ``scontrol``.
- ``shares``: the per-interval shares and the meter wrapper that charges them.

Nothing here is imported by ``import wattprint``; the tracker loads it when a run starts.
"""
