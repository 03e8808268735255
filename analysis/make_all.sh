#!/usr/bin/env bash
# Regenerate every figure and table of analysis/REPRODUCTION.md from a clean checkout.
#   bash analysis/make_all.sh            # reuse cached computations in results/analysis/cache
#   bash analysis/make_all.sh --fresh    # recompute everything (after a kernel or solver change)
# TRAJMASER_WORKERS (default 2) sets the number of MPI ranks: the scripts that compute run
# under `mpiexec -n TRAJMASER_WORKERS` when mpiexec exists (the package's run layer shares the
# blocks of every computation; rank 0 writes), else in one process.  The wall clock of every
# step, the load average and the machine's core count go to results/analysis/timing.json;
# the last step, analysis/report.py, fills analysis/REPRODUCTION.template.md into
# analysis/REPRODUCTION.md from that file and the tables the scripts write.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONHASHSEED=0
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
workers=${TRAJMASER_WORKERS:-2}
mkdir -p results/analysis
now() { python3 -c 'import time; print(f"{time.time():.3f}")'; }
load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo nan; }
par() {
    if [[ $workers -gt 1 ]] && command -v mpiexec >/dev/null; then
        mpiexec -n "$workers" python "$@"
    else
        python "$@"
    fi
}
t0=$(now)
load0=$(load)
steps=""
step() {
    local name=$1
    shift
    local s
    s=$(now)
    echo "== $*"
    "$@"
    local secs
    secs=$(python3 -c "print(f'{$(now) - $s:.1f}')")
    echo "== $* : ${secs} s"
    steps="${steps}${steps:+, }\"${name}\": ${secs}"
}
step fuel python analysis/fuel_figures.py
step fig3 par analysis/fig3.py "$@"
step fig4 par analysis/fig4.py "$@"
step pump_statistics par analysis/pump_statistics.py "$@"
step switching par analysis/switching_times.py "$@"
step clicks par analysis/clicks.py "$@"
total=$(python3 -c "print(f'{$(now) - $t0:.1f}')")
fresh=false
for a in "$@"; do [[ $a == --fresh ]] && fresh=true; done
cat > results/analysis/timing.json <<JSON
{"steps": {${steps}}, "total": ${total}, "fresh": ${fresh},
 "workers": ${workers}, "cores": $(nproc --all),
 "load_start": ${load0}, "load_end": $(load),
 "date": "$(date -u +%Y-%m-%dT%H:%MZ)"}
JSON
echo "== total: ${total} s"
python analysis/report.py
