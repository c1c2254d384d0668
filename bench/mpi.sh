#!/bin/sh
# mpi.sh: W1c1, W3, W4 under mpirun (1 master + 2 workers), ppool and its MPI peers side by side; a sweep.
# usage: sh bench/mpi.sh [BUILD_DIR] [REPEATS]. Then W2 and W3 over MPI_SWEEP workers (default
# "1 2 4 8 16 32", oversubscribed where cores are fewer); the sizes are bench/lib.sh's.
# shellcheck disable=SC2086 # $mode is a list of words, split on purpose
set -u
build=${1:-build} reps=${2:-3} np=3
here=$(dirname "$0")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
command -v mpirun >/dev/null || { echo "# mpi.sh: no mpirun here, nothing to run"; exit 0; }
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
over=""
mpirun --version 2>&1 | grep -q "Open MPI" && over="--oversubscribe" # more ranks than cores
side_log=$(mktemp) # the side by side's lines, for mpi_summary.awk
trap 'rm -f "$side_log" "$bench_err"' EXIT
bench_log=$side_log

# A Python that has mpi4py (Debian's python3-mpi4py), installed with apt-get when missing.
mpi4py_python() {
  for py in /usr/bin/python3 "$(command -v python3)"; do
    [ -x "$py" ] && "$py" -c 'import mpi4py.futures' 2>/dev/null && { echo "$py"; return 0; }
  done
  apt_install python3-mpi4py || return 1
  /usr/bin/python3 -c 'import mpi4py.futures' 2>/dev/null && echo /usr/bin/python3
}

# How ppool-bench runs under mpirun: "" (auto picks MPI), "-x PPOOL_TRANSPORT=mpi", or "none".
ppool_mode() {
  for x in "" "-x PPOOL_TRANSPORT=mpi"; do
    timeout 60 mpirun -n "$np" $over $x "$build/bench/ppool-bench" w1 2 1000 2>/dev/null |
      grep -q "transport=mpi" && { echo "$x"; return 0; }
  done
  echo none
}

# ppool_mpi NP ARGS...: ppool-bench over MPI with NP ranks, unless the MPI transport is missing.
ppool_mpi() {
  n=$1
  shift
  if [ "$mode" != none ]; then run mpirun -n "$n" $over $mode "$build/bench/ppool-bench" "$@"; fi
}

# c_mpi NP ARGS...: the hand-written MPI loop, when it is built.
c_mpi() {
  n=$1
  shift
  if [ -x "$build/bench/peer-c-mpi" ]; then run mpirun -n "$n" $over "$build/bench/peer-c-mpi" "$@"; fi
}

# The side by side at np ranks: ppool over MPI, ppool's local transport, c-mpi, mpi4py.futures.
side_by_side() {
  for w in w1 w3 w4; do
    pw=$w size=$N_SPIN
    [ "$w" = w1 ] && pw=w1c1 size=$N_W1C1
    [ "$w" = w4 ] && size=$N_W4
    for _ in $(seq "$reps"); do
      ppool_mpi "$np" "$pw" 2 "$size"
      run "$build/bench/ppool-bench" "$pw" 2 "$size" # the local transport, no mpirun: a reference
      c_mpi "$np" "$w" "$size"
      if [ "$w" = w3 ] && [ -n "$py" ]; then
        run mpirun -n "$np" $over "$py" -m mpi4py.futures "$here/peers/mpi4py_futures.py" w3 "$size"
      fi
    done
  done
}

# W2 and W3 with ppool and c-mpi over the worker counts of MPI_SWEEP (np = workers + 1); the side
# by side has W3 at 2 workers already.
sweep() {
  for w in $sweep_list; do
    for _ in $(seq "$reps"); do
      for wl in w2 w3; do
        [ "$wl" = w3 ] && [ "$w" = $((np - 1)) ] && continue
        ppool_mpi $((w + 1)) "$wl" "$w" "$N_SPIN"
        c_mpi $((w + 1)) "$wl" "$N_SPIN"
      done
    done
  done
}

# Powers of 2 up to 32 workers (33 ranks), oversubscribed on a small machine: ~3-4 s a run here.
default_sweep() {
  echo 1 2 4 8 16 32
}

py=$(mpi4py_python) || py=""
mode=$(ppool_mode)
sweep_list=${MPI_SWEEP:-$(default_sweep)}
echo "# ppool MPI bench: $(date -u +%F) $(nproc) cores, mpirun -n $np $over (1 master + $((np - 1)) workers), $reps repeats"
case "$mode" in
none) echo "# ppool: ppool-bench under mpirun did not get the MPI transport (not built yet?): ppool rows skipped" ;;
"") echo "# ppool: transport auto picked MPI" ;;
*) echo "# ppool: auto did not pick MPI under mpirun; measured with PPOOL_TRANSPORT=mpi" ;;
esac
[ -n "$py" ] || echo "# mpi4py: not available, mpi4py-futures rows skipped"
side_by_side
echo
echo "# summary (best run of each, ok=1 only; ratio = ppool over MPI / peer, higher is better for ppool)"
awk -f "$here/mpi_summary.awk" "$side_log"
echo
echo "# W2/W3 over MPI workers: $sweep_list"
unset bench_log
sweep
[ "$bench_failed" = 0 ] || echo "# mpi.sh: $bench_failed runs failed"
