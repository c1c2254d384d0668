#!/bin/sh
# run.sh: ppool's core and MPI transport built with SimGrid's smpicc and run on simulated clusters.
# usage: sh bench/scale/run.sh [RESULTS_DIR]. SCALE_RUNS="w2:64:20 w3:1024:10:64 ..." (workload:
# workers:items per worker[:node size, for a hierarchy of masters]) picks the runs. Writes scale.txt, scale.jsonl,
# scale.md and scale.svg (the plot) into RESULTS_DIR.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/bench/results}
b=${SCALE_BUILD:-$root/build-scale} # SCALE_BUILD: another build folder
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
command -v smpicc >/dev/null || apt_install libsimgrid-dev || { echo "# no SimGrid (libsimgrid-dev)"; exit 1; }
mkdir -p "$b" "$out"

# The objects: every core and transport file (SMPI has no fork: the local transport is built but
# never picked), and the bench program, with smpicc, rebuilt when their source is newer.
protoc-c --c_out="$b" -I"$root/core/proto" "$root/core/proto/ppool.proto"
cflags="-O2 -D_GNU_SOURCE -DPPOOL_HAVE_MPI -DPPOOL_SMPI -DSMPI_NO_OVERRIDE_MALLOC -w"
incs="-I$root/core/include -I$root/core -I$b -I$root/transport -I$root/transport/mpi -I$root/transport/local"
for f in "$root"/core/*.c "$root"/transport/*.c "$root"/transport/local/*.c "$root"/transport/mpi/*.c \
  "$b/ppool.pb-c.c" "$here/scale.c"; do
  case "$f" in */test_*) continue ;; esac
  o=$b/$(basename "$f" .c).o
  [ -e "$o" ] && [ "$o" -nt "$f" ] && [ -z "$(find "$root/core" "$root/transport" "$root/bench" -name '*.h' -newer "$o")" ] ||
    smpicc -c $cflags $incs "$f" -o "$o"
done
smpicc -o "$b/ppool-scale" "$b"/*.o -lhwloc -lxxhash -lprotobuf-c -lpthread -lm
strip "$b/ppool-scale" # smpirun copies the program once per rank: smaller is faster
seq -f "n%g" 0 10239 >"$b/hosts"
# Every simulated rank maps its own copy of the program: 10,000 of them need more than Linux's
# default 65,530 mappings (as root it is raised; elsewhere the largest runs fail).
[ "$(cat /proc/sys/vm/max_map_count)" -ge 1048576 ] || sysctl -qw vm.max_map_count=1048576 ||
  echo "# vm.max_map_count is $(cat /proc/sys/vm/max_map_count): runs past ~8,000 ranks will fail"

# smpirun, as SimGrid runs an MPI program: every rank an actor on its own simulated host. Tasks
# are simulated time (naps); ppool's own CPU time is not simulated (it would measure this shared
# machine): each message costs its sender and its receiver PPOOL_SMPI_MSG_US (transport/mpi/
# smpi.h); probes and tests cost no simulated time. Latency and bandwidth are the platform's, no
# SMPI factors: calibrated against this machine (cluster.xml).
# SIM_DETACH: SimGrid's send-is-detached-thresh. Two SimGrid 3.32 lists make a simulation slow,
# not its results: a detached (small) send waits in one list of every rank's sends in flight,
# searched at each completion; a send not detached stays in its sender's list after MPI_Test
# completes it, searched at each of that rank's completions. A flat pool's rank 0 sends every
# message: its sends are detached (SimGrid's default, 64 KiB). A hierarchy's sends are spread over
# its sub-masters, and in flight to every busy worker: not detached (0). Simulated times agree to
# 0.1% either way (docs/scale.md); the real time differs up to 7 times.
sim() {
  np=$1
  shift
  TMPDIR=/dev/shm PPOOL_DISPATCH=inline smpirun -platform "$here/cluster.xml" -hostfile "$b/hosts" -np "$np" \
    --cfg=smpi/simulate-computation:no --cfg=smpi/send-is-detached-thresh:"${SIM_DETACH:-65536}" \
    --cfg=smpi/iprobe:0 --cfg=smpi/test:0 --cfg=smpi/lat-factor:0:1 \
    --cfg=smpi/bw-factor:0:1 --cfg=smpi/host-speed:1Gf --log=root.thres:critical "$@"
}
# The default runs: W2 flat and hierarchical side by side at 1,024, 4,096 and 10,000 workers, W3 at
# 1,024 and 4,096, and a hierarchy of 10,000 with more tasks a worker (docs/scale.md: their time here).
runs=${SCALE_RUNS:-w2:1024:50 w2:1024:50:32 w3:1024:20 w3:1024:20:32 w2:4096:10 w2:4096:10:64 w3:4096:10 w3:4096:10:64 w2:10000:5 w2:10159:5:64 w2:10159:50:64}
# one RUN: the run's line (workload:workers:tasks a worker[:node size]) and its real time.
one() {
  wl=${1%%:*} rest=${1#*:}
  w=${rest%%:*} per=${rest#*:}
  k=off
  case "$per" in *:*) k=${per#*:} per=${per%%:*} ;; esac
  if [ "$k" = off ]; then h="PPOOL_HIERARCHY=off"; else h="PPOOL_HIERARCHY=on PPOOL_NODE_SIZE=$k SIM_DETACH=0"; fi
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086 # $h is assignments
  (export $h && sim $((w + 1)) "$b/ppool-scale" "$wl" "$per") 2>/dev/null | grep '^ppool-scale' | tr -d '\n' ||
    printf "ppool-scale %s workers=%s failed" "$wl" "$w"
  echo " real_seconds=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
}
: >"$out/scale.txt"
echo "# ppool on a simulated cluster (SimGrid $(smpirun -version 2>/dev/null | head -1 | tr -cd '0-9.')), $(date -u +%F)" |
  tee "$out/scale.txt"
# The calibration, before the simulations (a quiet machine): the same program built against this machine's
# ppool (build/) and run under mpirun at 3-33 ranks with tasks that sleep 10 ms (oversubscribing
# 2 cores does not distort a nap), beside the simulation of the same runs. CALIB_RANKS="3 9 17
# 33" picks them.
if [ -e "$root/build/core/libppool.so" ] && command -v mpicc >/dev/null; then
  mpicc -O2 -I"$root/core/include" -o "$b/ppool-scale-real" "$here/scale.c" -L"$root/build/core" \
    -Wl,-rpath,"$root/build/core" -lppool
  # The platform's latency and bandwidth: a ping-pong here and on the simulated cluster.
  mpicc -O2 -o "$b/pingpong-real" "$here/pingpong.c"
  smpicc -O2 -w -o "$b/pingpong" "$here/pingpong.c"
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 60 mpirun -n 2 "$b/pingpong-real" \
    2>/dev/null >"$b/pingpong.real" || :
  sim 2 "$b/pingpong" 2>/dev/null >"$b/pingpong.sim" || :
  paste -d' ' "$b/pingpong.real" "$b/pingpong.sim" | awk 'NF == 6 { split($3, r, "="); split($6, m, "=")
    printf "calibration-pingpong %s real_us=%s sim_us=%s\n", $2, r[2], m[2] }' | tee -a "$out/scale.txt"
  for n in ${CALIB_RANKS:-3 9 17 33}; do
    [ "$n" != none ] || continue
    w=$((n - 1))
    real=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PPOOL_HIERARCHY=off \
      timeout 300 mpirun --oversubscribe -n "$n" "$b/ppool-scale-real" sleep10 20 2>/dev/null | grep '^ppool-scale')
    simd=$(PPOOL_HIERARCHY=off && export PPOOL_HIERARCHY && sim "$n" "$b/ppool-scale" sleep10 20 2>/dev/null |
      grep '^ppool-scale')
    er=$(echo "$real" | sed -n 's/.*efficiency=\([0-9.]*\).*/\1/p')
    es=$(echo "$simd" | sed -n 's/.*efficiency=\([0-9.]*\).*/\1/p')
    echo "calibration ranks=$n workers=$w real_efficiency=${er:-?} sim_efficiency=${es:-?} $(awk -v a="${er:-0}" -v b="${es:-0}" 'BEGIN { printf "gap=%.1f%%", (a > 0 ? 100 * (b - a) / a : 0) }')" |
      tee -a "$out/scale.txt"
  done
fi
for r in $runs; do
  one "$r" | tee -a "$out/scale.txt"
done
awk '/^calibration/ { printf "{\"bench\":\"scale-calibration\""
  for (i = 2; i <= NF; i++) { split($i, kv, "="); printf ",\"%s\":\"%s\"", kv[1], kv[2] }
  print "}" }' "$out/scale.txt" >"$out/scale-calibration.jsonl"
awk '/^ppool-scale/ {
  printf "{\"bench\":\"scale\",\"workload\":\"%s\"", $2
  for (i = 3; i <= NF; i++) { split($i, kv, "="); printf ",\"%s\":\"%s\"", kv[1], kv[2] }
  print "}" }' "$out/scale.txt" >"$out/scale.jsonl"
{
  echo "| workload | workers | tasks | hierarchy | node size | simulated s | ideal s | efficiency | real s |"
  echo "|---|--:|--:|---|--:|--:|--:|--:|--:|"
  awk '/^ppool-scale/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %.0f |\n", $2, v["workers"], v["tasks"],
      v["hierarchy"], v["node_size"], v["sim_seconds"], v["ideal"], v["efficiency"], v["real_seconds"] }' "$out/scale.txt"
  echo
  echo "Calibration (10 ms sleeping tasks, 20 per worker, flat pool): real mpirun here against the simulation"
  echo
  echo "| ranks | workers | real efficiency | simulated efficiency | gap |"
  echo "|--:|--:|--:|--:|--:|"
  awk '/^calibration / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s |\n", v["ranks"], v["workers"], v["real_efficiency"], v["sim_efficiency"], v["gap"] }' "$out/scale.txt"
  echo
  echo "The platform against this machine: one-way time of a ping-pong (2 ranks)"
  echo
  echo "| bytes | real us | simulated us |"
  echo "|--:|--:|--:|"
  awk '/^calibration-pingpong/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s |\n", v["bytes"], v["real_us"], v["sim_us"] }' "$out/scale.txt"
} >"$out/scale.md"
# The plot: efficiency against workers (log scale), flat and hierarchical, W2 filled, W3 hollow.
awk 'BEGIN { W = 640; H = 400; L = 60; B = 50
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
  printf "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H
  for (e = 0; e <= 10; e += 2) { y = H - B - e / 10 * (H - B - 20)
    printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", L, y, W - 20, y, L - 6, y + 4, e / 10 }
  for (d = 2; d <= 4; d++) { x = L + (d - 2) / 2.2 * (W - L - 20)
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x, H - B + 18, 10 ^ d }
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">workers (log scale); red: flat, blue: hierarchy; filled: W2 (1 ms), hollow: W3</text>\n", W / 2, H - 12
  printf "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\">efficiency</text>\n", H / 2, H / 2 }
/^ppool-scale/ && /ok=1/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  x = L + (log(v["workers"]) / log(10) - 2) / 2.2 * (W - L - 20); y = H - B - v["efficiency"] * (H - B - 20)
  c = v["hierarchy"] == "on" ? "#1f5fbf" : "#c0392b"
  printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" stroke=\"%s\" stroke-width=\"2\" fill=\"%s\"><title>%s %s workers, %s tasks: %s</title></circle>\n", x, y, c, ($2 == "w3" ? "none" : c), $2, v["workers"], v["tasks"], v["efficiency"] }
END { print "</svg>" }' "$out/scale.txt" >"$out/scale.svg"
echo "# -> $out/scale.jsonl, $out/scale.md, $out/scale.svg"
