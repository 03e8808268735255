#!/usr/bin/env bash
# Regenerate every figure and table of analysis/REPRODUCTION.md from a clean checkout.
#   bash analysis/make_all.sh            # reuse cached trajectory runs in results/analysis/cache
#   bash analysis/make_all.sh --fresh    # rerun everything (after a kernel or solver change)
# TRAJMASER_WORKERS (default 2) sets the number of worker processes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONHASHSEED=0
t0=$(date +%s)
step() {
    local s=$(date +%s)
    echo "== $*"
    "$@"
    echo "== $* : $(( $(date +%s) - s )) s"
}
step python analysis/fuel_figures.py
step python analysis/fig3.py "$@"
step python analysis/fig4.py "$@"
step python analysis/pump_statistics.py "$@"
echo "== total: $(( $(date +%s) - t0 )) s"
