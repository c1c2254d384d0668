#!/bin/sh
# run.sh: W1, W2, W3 and apply latency with ppool and its peers, side by side in one run, plus the idle master's CPU; then mpi.sh.
# usage: sh bench/run.sh [BUILD_DIR] [WORKERS] [REPEATS]
set -eu
build=${1:-build} workers=${2:-2} reps=${3:-3}
here=$(dirname "$0")
py=$(command -v python3 || true)
log=$(mktemp)
run() { "$@" | tee -a "$log"; }
echo "# ppool bench: $(date -u +%F) $(nproc) cores, workers=$workers, best of $reps"
for w in w1 w2 w3; do
  for r in $(seq "$reps"); do
    run "$build/bench/ppool-bench" "$w" "$workers"
    [ -n "$py" ] && run "$py" "$here/peers/mp_pool.py" mp "$w" "$workers"
    [ -n "$py" ] && run "$py" "$here/peers/mp_pool.py" ppe "$w" "$workers"
    run "$build/bench/peer-c-pipes" "$w" "$workers"
    [ -x "$build/bench/peer-omp-dynamic" ] && run "$build/bench/peer-omp-dynamic" "$w" "$workers"
  done
done
for r in $(seq "$reps"); do # apply latency: round trips of one tiny task
  run "$build/bench/ppool-bench" apply "$workers"
  [ -n "$py" ] && run "$py" "$here/peers/mp_pool.py" mp apply "$workers"
  [ -n "$py" ] && run "$py" "$here/peers/mp_pool.py" ppe apply "$workers"
done
run "$build/bench/ppool-bench" idle "$workers"
echo
echo "# summary (best run of each; ratio = ppool / peer, higher is better for ppool)"
awk '
  / W1 / { for (i=1;i<=NF;i++) if ($i ~ /^tasks_per_s=/) { split($i,a,"="); v=a[2]+0; if (v > w1[$1]) w1[$1]=v } }
  / W2 / { for (i=1;i<=NF;i++) if ($i ~ /^efficiency=/) { split($i,a,"="); v=a[2]+0; if (v > w2[$1]) w2[$1]=v } }
  / W3 / { for (i=1;i<=NF;i++) if ($i ~ /^efficiency=/) { split($i,a,"="); v=a[2]+0; if (v > w3[$1]) w3[$1]=v } }
  / apply / { for (i=1;i<=NF;i++) if ($i ~ /^p50_us=/) { split($i,a,"="); v=a[2]+0; if (!(($1) in ap) || v < ap[$1]) ap[$1]=v } }
  END {
    printf "%-22s %13s %8s %9s %8s %9s %8s %12s %8s\n", "peer", "W1 tasks/s", "ppool/x", "W2 eff.", "ppool/x", "W3 eff.", "ppool/x", "apply p50us", "peer/ppool"
    for (k in w1) printf "%-22s %13.0f %8.2f %9.3f %8.2f %9.3f %8.2f %12.1f %8.2f\n", k, w1[k], w1["ppool"]/w1[k], w2[k], w2["ppool"]/w2[k], w3[k], w3["ppool"]/w3[k], ap[k], (ap["ppool"] > 0 ? ap[k]/ap["ppool"] : 0)
  }' "$log"
rm -f "$log"
# The Python package against multiprocessing.Pool, when it is built.
if [ -n "$py" ] && [ -d "$build/bindings/python/ppool" ]; then
  echo
  PYTHONPATH="$build/bindings/python" "$py" "$here/python/pool_bench.py" "$workers" "$reps" ||
    echo "# bench/python/pool_bench.py failed"
fi
# The MPI side by side (W1c1, W3, W4 under mpirun), when MPI is installed.
if command -v mpirun >/dev/null; then
  echo
  sh "$here/mpi.sh" "$build" "$reps" || echo "# bench/mpi.sh failed"
fi
