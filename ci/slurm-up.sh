#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on this machine (for CI and local tests).
#
# Idempotent; run as root.  Installs slurm-wlm and munge from Debian if slurmctld is missing,
# creates a munge key if absent, writes /etc/slurm/slurm.conf for one node named after
# `hostname -s` with CPUs=$(nproc), starts munged, slurmctld and slurmd as plain daemons
# (no systemd on these machines) and waits until `sinfo` reports the node idle.
#
# Environment:
#   SLURM_UP_TIMEOUT  seconds to wait for the node to become idle (default 60)
#   SLURM_CONF_DIR    where slurm.conf goes (default /etc/slurm)
# Tear down with ci/slurm-down.sh.
set -euo pipefail

TIMEOUT="${SLURM_UP_TIMEOUT:-60}"
CONF_DIR="${SLURM_CONF_DIR:-/etc/slurm}"
CONF="$CONF_DIR/slurm.conf"
LOG_DIR=/var/log/slurm
NODE="$(hostname -s)"
NCPU="$(nproc)"

log() { echo "slurm-up: $*" >&2; }
die() {
    log "ERROR: $*"
    for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
        if [ -f "$f" ]; then
            echo "----- last lines of $f -----" >&2
            tail -n 40 "$f" >&2
        fi
    done
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    die "must run as root (it installs packages and starts daemons)"
fi

# ---------------------------------------------------------------- packages
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# ---------------------------------------------------------------- munge
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    log "creating munge key"
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
if id munge >/dev/null 2>&1; then
    chown munge:munge /etc/munge /etc/munge/munge.key /var/lib/munge /var/log/munge /run/munge
fi
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "starting munged"
    rm -f /run/munge/munge.socket.2 /run/munge/munged.pid
    if id munge >/dev/null 2>&1; then
        runuser -u munge -- /usr/sbin/munged || die "munged failed to start"
    else
        /usr/sbin/munged --force || die "munged failed to start"
    fi
    for _ in $(seq 1 20); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.25
    done
    munge -n | unmunge >/dev/null 2>&1 || die "munge credentials do not round-trip"
fi

# ---------------------------------------------------------------- slurm.conf
mkdir -p "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
MEM_MB=1024
NEW_CONF="$(mktemp)"
cat >"$NEW_CONF" <<CONF
# Written by ci/slurm-up.sh: a one-node test cluster.  Not for production.
ClusterName=trajmaser-ci
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOG_DIR}/slurmctld.log
SlurmdLogFile=${LOG_DIR}/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=10
Waittime=0
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${NCPU} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
if ! cmp -s "$NEW_CONF" "$CONF"; then
    log "writing $CONF"
    install -m 0644 "$NEW_CONF" "$CONF"
    CONF_CHANGED=1
else
    CONF_CHANGED=0
fi
rm -f "$NEW_CONF"

# ---------------------------------------------------------------- daemons
# a pid file counts only if its process is alive and is the daemon (pids get reused)
alive() {
    local pid
    [ -f "$1" ] || return 1
    pid="$(cat "$1")"
    kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

if [ "$CONF_CHANGED" = 1 ] && alive /run/slurmctld.pid slurmctld; then
    log "configuration changed: restarting daemons"
    bash "$(dirname "$0")/slurm-down.sh" || true
fi
if ! alive /run/slurmctld.pid slurmctld; then
    log "starting slurmctld"
    /usr/sbin/slurmctld -f "$CONF" || die "slurmctld failed to start"
fi
if ! alive /run/slurmd.pid slurmd; then
    log "starting slurmd"
    /usr/sbin/slurmd -f "$CONF" || die "slurmd failed to start"
fi

# ---------------------------------------------------------------- wait for an idle node
export SLURM_CONF="$CONF"
deadline=$((SECONDS + TIMEOUT))
state=""
while [ "$SECONDS" -lt "$deadline" ]; do
    state="$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n 1 || true)"
    case "$state" in
        idle | mixed | allocated) break ;;
        down* | drain* | fail*)
            scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 1
done
case "$state" in
    idle | mixed | allocated) ;;
    *) die "node $NODE not idle after ${TIMEOUT}s (state: '${state:-no answer from slurmctld}')" ;;
esac
log "node $NODE is $state (CPUs=$NCPU, partition debug)"
sinfo >&2
