#!/bin/sh
# costs.sh: where an item's time goes: ppool-bench under perf record, CPU per item by thread and kind.
# usage: sh bench/costs.sh [BUILD_DIR] [WORKERS]   (needs perf; root or perf_event_paranoid <= 1
# to see the kernel's share). Prints ppool-bench's line, then one `cost` line per workload.
set -eu
build=${1:-build} workers=${2:-2}
here=$(dirname "$0")
freq=4999 # samples per CPU second
command -v perf >/dev/null || { echo "# costs.sh: no perf here (Debian: linux-perf)"; exit 0; }
data=$(mktemp)
trap 'rm -f "$data" "$data.old"' EXIT

# profile WORKLOAD N: ppool-bench under perf; its line, then the split of its samples.
profile() {
  line=$(perf record -q -e cpu-clock -F "$freq" -o "$data" "$build/bench/ppool-bench" "$1" \
    "$workers" "$2" 2>/dev/null)
  echo "$line"
  perf script -i "$data" -F pid,tid,ip,sym,dso 2>/dev/null |
    awk -v line="$line" -v freq="$freq" -f "$here/costs.awk"
}

profile w1 5000000
profile w1c1 200000
profile apply 20000
profile w4 300
profile w2 2000
