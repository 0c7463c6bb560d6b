#!/usr/bin/env bash
# A single-node Slurm for the tests (tests/attribution/test_slurm.py): munge + slurmctld + slurmd on this
# machine, proctrack/linuxproc and task/none (no cgroup plugin: CI containers have no writable
# cgroup tree), one partition "ci" holding this node's CPUs.
#
#   eval "$(.ci/slurm.sh)"     # installs if needed, starts; prints export WATTPRINT_SLURM=1
#   .venv/bin/python -m pytest tests/attribution/test_slurm.py
#   .ci/slurm.sh stop          # stops what it started
#
# Needs root (apt-get, daemons as root). Nothing reaches beyond this machine.
set -euo pipefail

SLURM_DIR=${SLURM_DIR:-/tmp/wattprint-slurm}
CONF=/etc/slurm/slurm.conf

stop_slurm() {
    for pidfile in "$SLURM_DIR"/slurmd.pid "$SLURM_DIR"/slurmctld.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    done
    [ -f "$SLURM_DIR/munged.pid" ] && kill "$(cat "$SLURM_DIR/munged.pid")" 2>/dev/null || true
    rm -f "$SLURM_DIR/munged.pid"
}

if [ "${1:-}" = "stop" ]; then
    stop_slurm
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >&2
fi

mkdir -p "$SLURM_DIR"/{ctld,d,log} /etc/slurm /etc/munge /run/munge /var/log/munge /var/lib/munge
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

# munge: a key of its own, the daemon as root (--force: the CI container is not a hardened host).
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chmod 400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1; then
    munged --force >&2
    pgrep -n munged > "$SLURM_DIR/munged.pid" || true
fi

cat > "$CONF" <<CONF
ClusterName=wattprint-ci
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$SLURM_DIR/ctld
SlurmdSpoolDir=$SLURM_DIR/d
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
# No cgroup plugin is configured; an empty cgroup.conf keeps slurmd from looking for one.
: > /etc/slurm/cgroup.conf

if [ ! -f "$SLURM_DIR/slurmctld.pid" ] || ! kill -0 "$(cat "$SLURM_DIR/slurmctld.pid")" 2>/dev/null; then
    slurmctld -i >&2
fi
if [ ! -f "$SLURM_DIR/slurmd.pid" ] || ! kill -0 "$(cat "$SLURM_DIR/slurmd.pid")" 2>/dev/null; then
    slurmd >&2
fi

for _ in $(seq 1 30); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed'; then
        echo "slurm: node $host up ($cpus CPUs, partition ci)" >&2
        echo "export WATTPRINT_SLURM=1"
        exit 0
    fi
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1
done
echo "slurm: the node did not come up; see $SLURM_DIR/log/" >&2
exit 1
