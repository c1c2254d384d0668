#!/bin/sh
# run.sh: `make bench`: every workload, ppool and its peers side by side, local then MPI, into bench/results/.
# usage: sh bench/run.sh [BUILD_DIR] [WORKERS] [REPEATS]   (WORKERS: nproc; REPEATS: $REPEATS or 3)
# BENCH_QUICK=1: small sizes, 1 repeat. RESULTS=DIR (bench/results), SWEEP="1 2" (local workers),
# MPI_SWEEP="1 2 4 8 16 32" (MPI workers), and bench/lib.sh's sizes can be set from outside.
set -eu
here=$(dirname "$0")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
build=${1:-build}
workers=${2:-$(nproc)}
default_reps=3
[ "${BENCH_QUICK:-0}" = 1 ] && default_reps=1
reps=${3:-${REPEATS:-$default_reps}}
results=${RESULTS:-$here/results}
py=$(bench_python)
[ -n "$py" ] || { echo "run.sh: no python3: it runs the Python peers and writes the report" >&2; exit 1; }
mkdir -p "$results"
rm -f "$results/python.txt" "$results/scaling.svg" "$results/scaling.dat" "$results/scaling.gp"
log=$results/bench.log

# gnuplot draws the scaling plot: Debian's gnuplot-nox, installed before anything is timed.
have_gnuplot() {
  command -v gnuplot >/dev/null && return 0
  echo "# installing gnuplot-nox with apt-get (log: $results/apt.log)"
  apt_install gnuplot-nox >"$results/apt.log" 2>&1 && command -v gnuplot >/dev/null
}

meta() {
  echo "date: $(date -u '+%F %H:%M UTC')"
  echo "command: sh bench/run.sh $build $workers $reps${BENCH_QUICK:+ (BENCH_QUICK=$BENCH_QUICK)}"
  echo "machine: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr)"
  echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# The Python package against multiprocessing.Pool, when it is built.
python_binding() {
  [ -d "$build/bindings/python/ppool" ] || return 0
  echo
  PYTHONPATH="$build/bindings/python" "$py" "$here/python/pool_bench.py" "$workers" "$reps" |
    tee "$results/python.txt" || echo "# bench/python/pool_bench.py failed"
}

plot=0
if have_gnuplot; then plot=1; else echo "# gnuplot (gnuplot-nox) is missing and could not be installed: no plot"; fi
started=$(date +%s)
meta >"$results/meta.txt"
{
  sh "$here/local.sh" "$build" "$workers" "$reps"
  python_binding
  if command -v mpirun >/dev/null; then
    echo
    sh "$here/mpi.sh" "$build" "$reps" || echo "# bench/mpi.sh failed"
  fi
} 2>&1 | tee "$log"
{
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "duration: $(($(date +%s) - started)) s"
} >>"$results/meta.txt"
echo
echo "# targets (medians; the whole summary: $results/summary.md)"
"$py" "$here/report.py" "$log" "$results" "$workers"
if [ "$plot" = 1 ] && [ -f "$results/scaling.gp" ]; then
  (cd "$results" && gnuplot scaling.gp) && echo "plot: $results/scaling.svg"
fi
# The shell task farm against GNU parallel and xargs, and the journal's cost (their own tables).
echo
sh "$here/farm.sh" "$build" "$workers" "$reps" | tee "$results/farm.txt" || echo "# bench/farm.sh failed"
