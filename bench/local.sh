#!/bin/sh
# local.sh: the local workloads, ppool and its peers side by side; memory; the W2/W3 worker sweep.
# usage: sh bench/local.sh [BUILD_DIR] [WORKERS] [REPEATS]; SWEEP="1 2" (default 1..nproc) and the
# sizes of bench/lib.sh can be set from outside.
set -eu
build=${1:-build} workers=${2:-$(nproc)} reps=${3:-3}
here=$(dirname "$0")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=$build/bench
py=$(bench_python)
omp=$bin/peer-omp-dynamic
[ -x "$omp" ] || omp=""

# py_peer mp|ppe ARGS...: one Python peer (peers/mp_pool.py), when there is a python3.
py_peer() {
  if [ -n "$py" ]; then run "$py" "$here/peers/mp_pool.py" "$@"; fi
}

# peers W WORKERS N: both Python peers (multiprocessing.Pool, ProcessPoolExecutor).
peers() {
  py_peer mp "$@"
  py_peer ppe "$@"
}

# c_peers W WORKERS N: the hand-written pipes loop and OpenMP dynamic.
c_peers() {
  run "$bin/peer-c-pipes" "$@"
  if [ -n "$omp" ]; then run "$omp" "$@"; fi
}

# One repeat of every workload at $workers workers, the peers next to ppool.
one_repeat() {
  for n in "$N_W1" "$N_W1_BIG"; do # W1: default (adaptive) chunks
    run "$bin/ppool-bench" w1 "$workers" "$n"
    peers w1 "$workers" "$n"
    c_peers w1 "$workers" "$n"
  done
  run "$bin/ppool-bench" w1c1 "$workers" "$N_W1C1" # W1 at chunksize 1
  py_peer mp w1c1 "$workers" "$N_W1C1"
  py_peer ppe w1c1 "$workers" "$N_PPE_C1" # ProcessPoolExecutor does ~10k tasks/s at chunksize 1
  c_peers w1c1 "$workers" "$N_W1C1"
  for w in w2 w3 w3ramp; do
    run "$bin/ppool-bench" "$w" "$workers" "$N_SPIN"
    peers "$w" "$workers" "$N_SPIN"
    c_peers "$w" "$workers" "$N_SPIN"
  done
  run "$bin/ppool-bench" w4 "$workers" "$N_W4"
  peers w4 "$workers" "$N_W4"
  run "$bin/ppool-bench" apply "$workers" "$N_APPLY"
  peers apply "$workers" "$N_APPLY"
  run "$bin/ppool-bench" startup "$workers" "$N_STARTUP"
  peers startup "$workers" "$N_STARTUP"
}

# The master's peak RSS against input size: ppool_map and ppool_imap_source, one process each.
memory() {
  for n in $MEM_MAP; do run "$bin/ppool-bench" mem-map "$workers" "$n"; done
  for n in $MEM_SOURCE; do run "$bin/ppool-bench" mem-source "$workers" "$n"; done
}

# W2 and W3 over the other worker counts of $SWEEP (the main run has $workers already).
sweep() {
  for w in ${SWEEP:-$(seq 1 "$(nproc)")}; do
    [ "$w" = "$workers" ] && continue
    for _ in $(seq "$reps"); do
      for wl in w2 w3; do
        run "$bin/ppool-bench" "$wl" "$w" "$N_SPIN"
        MP_CONFIGS=map-c1 && export MP_CONFIGS
        py_peer mp "$wl" "$w" "$N_SPIN"
        unset MP_CONFIGS
        c_peers "$wl" "$w" "$N_SPIN"
      done
    done
  done
}

echo "# ppool local bench: $(date -u +%F) $(nproc) cores, workers=$workers, $reps repeats"
[ -n "$py" ] || echo "# no python3: the multiprocessing rows are skipped"
for _ in $(seq "$reps"); do one_repeat; done
run "$bin/ppool-bench" idle "$workers" "$IDLE_S"
peers idle "$workers" "$IDLE_S"
memory
sweep
[ "$bench_failed" = 0 ] || echo "# local.sh: $bench_failed runs failed"
