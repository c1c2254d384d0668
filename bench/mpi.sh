#!/bin/sh
# mpi.sh: W1c1, W3, W4 under mpirun (1 master + 2 workers): ppool and its MPI peers side by side, best of N.
# usage: sh bench/mpi.sh [BUILD_DIR] [REPEATS]
# shellcheck disable=SC2086 # $mpi and $mode are lists of words, split on purpose
set -u
build=${1:-build} reps=${2:-3} np=3
here=$(dirname "$0")
limit=300 # seconds one run may take before it is stopped and counted as failed
command -v mpirun >/dev/null || { echo "# mpi.sh: no mpirun here, nothing to run"; exit 0; }
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi="mpirun -n $np"
mpirun --version 2>&1 | grep -q "Open MPI" && mpi="$mpi --oversubscribe" # 3 ranks on 2 cores
log=$(mktemp) err=$(mktemp)
trap 'rm -f "$log" "$err"' EXIT

# run CMD...: prints and keeps its lines; a failure is reported and the run goes on.
run() {
  out=$(timeout "$limit" "$@" 2>"$err")
  rc=$?
  [ -n "$out" ] && printf '%s\n' "$out" | tee -a "$log"
  [ "$rc" = 0 ] && return 0
  echo "# failed (rc=$rc): $*"
  tail -n 3 "$err" | sed 's/^/#   /'
  return 1
}

# A Python that has mpi4py (Debian's python3-mpi4py), installed with apt-get when missing.
mpi4py_python() {
  for py in /usr/bin/python3 "$(command -v python3)"; do
    [ -x "$py" ] && "$py" -c 'import mpi4py.futures' 2>/dev/null && { echo "$py"; return 0; }
  done
  command -v apt-get >/dev/null || return 1
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "# installing python3-mpi4py with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-mpi4py >&2 || return 1
  /usr/bin/python3 -c 'import mpi4py.futures' 2>/dev/null && echo /usr/bin/python3
}

# How ppool-bench runs under mpirun: "" (auto picks MPI), "-x PPOOL_TRANSPORT=mpi", or "none".
ppool_mode() {
  for x in "" "-x PPOOL_TRANSPORT=mpi"; do
    timeout 60 $mpi $x "$build/bench/ppool-bench" w1 2 1000 2>/dev/null | grep -q "transport=mpi" && { echo "$x"; return 0; }
  done
  echo none
}

py=$(mpi4py_python) || py=""
mode=$(ppool_mode)
echo "# ppool MPI bench: $(date -u +%F) $(nproc) cores, $mpi (1 master + $((np - 1)) workers), best of $reps"
case "$mode" in
none) echo "# ppool: ppool-bench under mpirun did not get the MPI transport (not built yet?): ppool rows skipped" ;;
"") echo "# ppool: transport auto picked MPI" ;;
*) echo "# ppool: auto did not pick MPI under mpirun; measured with PPOOL_TRANSPORT=mpi" ;;
esac
[ -n "$py" ] || echo "# mpi4py: not available, mpi4py-futures rows skipped"
for w in w1 w3 w4; do
  pw=$w
  [ "$w" = w1 ] && pw=w1c1
  for _ in $(seq "$reps"); do
    [ "$mode" != none ] && run $mpi $mode "$build/bench/ppool-bench" "$pw" 2
    run "$build/bench/ppool-bench" "$pw" 2 # the local transport, no mpirun: a reference
    [ -x "$build/bench/peer-c-mpi" ] && run $mpi "$build/bench/peer-c-mpi" "$w"
    [ "$w" = w3 ] && [ -n "$py" ] && run $mpi "$py" -m mpi4py.futures "$here/peers/mpi4py_futures.py" w3
  done
done
echo
echo "# summary (best run of each, ok=1 only; ratio = ppool over MPI / peer, higher is better for ppool)"
awk -f "$here/mpi_summary.awk" "$log"
