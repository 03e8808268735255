#!/usr/bin/env bash
# Stop the single-node SLURM started by ci/slurm-up.sh: cancel jobs, stop slurmd and
# slurmctld (munged is left running: it is harmless and other tools may use it).
# Idempotent; run as root.
set -uo pipefail

log() { echo "slurm-down: $*" >&2; }

stop_pidfile() {
    local name="$1" pidfile="$2" pid
    [ -f "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    # only a live process that is the daemon (pid files outlive reboots; pids get reused)
    if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name did not stop: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

if command -v scancel >/dev/null 2>&1 && [ -f /run/slurmctld.pid ]; then
    timeout 10 scancel --user=root >/dev/null 2>&1 || true
fi
stop_pidfile slurmd /run/slurmd.pid
stop_pidfile slurmctld /run/slurmctld.pid
log "done"
