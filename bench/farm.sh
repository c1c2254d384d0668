#!/bin/sh
# farm.sh: ppoolrun --farm against GNU parallel and xargs -P (10,000 `true`, 2,000 x 10 ms), and the
# journal's cost on W1 and W2, side by side in one run, best of N.
# usage: sh bench/farm.sh [BUILD_DIR] [WORKERS] [REPEATS]
set -u
build=${1:-build} workers=${2:-2} reps=${3:-3}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
if ! command -v parallel >/dev/null && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "# installing GNU parallel with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends parallel >&2 || true
fi
ntrue=10000 nsleep=2000
[ "${BENCH_QUICK:-0}" = 1 ] && ntrue=2000 nsleep=400 # make bench BENCH_QUICK=1
seq 1 "$ntrue" | sed 's/.*/true/' >"$d/true"
seq 1 "$nsleep" | sed 's/.*/sleep 0.01/' >"$d/sleep"

# secs CMD...: wall seconds of CMD (its output dropped).
secs() {
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  echo "$(date +%s.%N) - $t0" | bc -l
}

echo "# ppool farm bench: $(date -u +%F) $(nproc) cores, $workers jobs, best of $reps"
for w in true sleep; do
  for _ in $(seq "$reps"); do
    echo "ppoolrun-farm $w seconds=$(secs "$build/launch/ppoolrun" --local -n "$workers" --farm "$d/$w")"
    command -v parallel >/dev/null &&
      echo "gnu-parallel $w seconds=$(secs sh -c "parallel -j$workers <'$d/$w'")"
    echo "xargs-P $w seconds=$(secs sh -c "xargs -P $workers -I{} sh -c {} <'$d/$w'")"
  done
done | tee "$d/log"
echo
echo "# summary (best of each; ratio = peer seconds / ppoolrun seconds, higher is better for ppool)"
awk '{ split($3, a, "="); v = a[2] + 0; k = $1 " " $2; if (!(k in b) || v < b[k]) b[k] = v }
  END {
    printf "%-15s %14s %8s %14s %8s\n", "tool", NT " true (s)", "ratio", NS " x 10ms (s)", "ratio"
    split("ppoolrun-farm gnu-parallel xargs-P", tools, " ")
    for (i = 1; i <= 3; i++) { t = tools[i]; if (!((t " true") in b)) continue
      printf "%-15s %14.2f %8.2f %14.2f %8.2f\n", t, b[t " true"], b[t " true"] / b["ppoolrun-farm true"],
             b[t " sleep"], b[t " sleep"] / b["ppoolrun-farm sleep"] }
  }' NT="$ntrue" NS="$nsleep" "$d/log"

# The journal's cost: W2 (1 ms items) and W1 (tiny items), with and without PPOOL_JOURNAL.
echo
for _ in $(seq "$reps"); do
  for w in w2 w1; do
    echo "no-journal $("$build/bench/ppool-bench" $w "$workers")"
    rm -f "$d/journal"
    echo "journal $(PPOOL_JOURNAL="$d/journal" "$build/bench/ppool-bench" $w "$workers")"
  done
done | tee "$d/jlog"
echo
echo "# journal cost (best of each): W2 efficiency and W1 tasks/s, with and without a journal"
awk '{ for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == "efficiency") k = "w2"; else if (a[1] == "tasks_per_s") k = "w1"; else continue
         v = a[2] + 0; key = $1 " " k; if (v > best[key]) best[key] = v } }
  END {
    printf "W2 efficiency: %.3f without, %.3f with a journal: cost %.2f%%\n", best["no-journal w2"], best["journal w2"],
           100 * (1 - best["journal w2"] / best["no-journal w2"])
    printf "W1 tasks/s: %.0f without, %.0f with a journal (%.2fx)\n", best["no-journal w1"], best["journal w1"],
           best["no-journal w1"] / best["journal w1"]
  }' "$d/jlog"
