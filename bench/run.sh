#!/bin/sh
# run.sh: W1 and W2 with ppool and its peers, side by side in one run, plus the idle master's CPU.
# usage: sh bench/run.sh [BUILD_DIR] [WORKERS] [REPEATS]
set -eu
build=${1:-build} workers=${2:-2} reps=${3:-3}
here=$(dirname "$0")
py=$(command -v python3 || true)
log=$(mktemp)
run() { "$@" | tee -a "$log"; }
echo "# ppool bench: $(date -u +%F) $(nproc) cores, workers=$workers, best of $reps"
for w in w1 w2; do
  for r in $(seq "$reps"); do
    run "$build/bench/ppool-bench" "$w" "$workers"
    [ -n "$py" ] && run "$py" "$here/peers/mp_pool.py" mp "$w" "$workers"
    [ -n "$py" ] && run "$py" "$here/peers/mp_pool.py" ppe "$w" "$workers"
    run "$build/bench/peer-c-pipes" "$w" "$workers"
    [ -x "$build/bench/peer-omp-dynamic" ] && run "$build/bench/peer-omp-dynamic" "$w" "$workers"
  done
done
run "$build/bench/ppool-bench" idle "$workers"
echo
echo "# summary (best run of each; ratio = ppool / peer, higher is better for ppool)"
awk '
  / W1 / { for (i=1;i<=NF;i++) if ($i ~ /^tasks_per_s=/) { split($i,a,"="); v=a[2]+0; if (v > w1[$1]) w1[$1]=v } }
  / W2 / { for (i=1;i<=NF;i++) if ($i ~ /^efficiency=/) { split($i,a,"="); v=a[2]+0; if (v > w2[$1]) w2[$1]=v } }
  END {
    printf "%-22s %14s %10s %12s %10s\n", "peer", "W1 tasks/s", "ppool/x", "W2 effic.", "ppool/x"
    for (k in w1) printf "%-22s %14.0f %10.2f %12.3f %10.2f\n", k, w1[k], w1["ppool"]/w1[k], w2[k], w2["ppool"]/w2[k]
  }' "$log"
rm -f "$log"
