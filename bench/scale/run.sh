#!/bin/sh
# run.sh: ppool's core and MPI transport built with SimGrid's smpicc and run on simulated clusters.
# usage: sh bench/scale/run.sh [RESULTS_DIR]. SCALE_RUNS="w2:64:20 w3:1024:10:64 ..." (workload:
# workers:items per worker[:node size, for a hierarchy of masters]) picks the runs. Writes scale.jsonl and scale.md into RESULTS_DIR.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/bench/results}
b=$root/build-scale
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

# smpirun, as SimGrid runs an MPI program: every rank an actor on its own simulated host. Tasks
# are simulated time (smpi_execute); ppool's own CPU time is not simulated (it would measure this
# shared machine); probes and tests cost no simulated time.
runs=${SCALE_RUNS:-w2:64:20 w2:256:20 w2:1024:10 w3:256:20 w3:1024:10}
: >"$out/scale.txt"
echo "# ppool on a simulated cluster (SimGrid $(smpirun -version 2>/dev/null | head -1 | tr -cd '0-9.')), $(date -u +%F)" |
  tee "$out/scale.txt"
for r in $runs; do
  wl=${r%%:*} rest=${r#*:}
  w=${rest%%:*} per=${rest#*:}
  k=off
  case "$per" in *:*) k=${per#*:} per=${per%%:*} ;; esac
  if [ "$k" = off ]; then h="PPOOL_HIERARCHY=off"; else h="PPOOL_HIERARCHY=on PPOOL_NODE_SIZE=$k"; fi
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086 # $h is two assignments
  TMPDIR=/dev/shm PPOOL_DISPATCH=inline env $h smpirun -platform "$here/cluster.xml" -hostfile "$b/hosts" \
    -np $((w + 1)) --cfg=smpi/simulate-computation:no --cfg=smpi/iprobe:0 --cfg=smpi/test:0 \
    --cfg=smpi/host-speed:1Gf --log=root.thres:critical \
    "$b/ppool-scale" "$wl" "$per" 2>/dev/null | grep '^ppool-scale' | tr -d '\n' >>"$out/scale.txt" ||
    echo "ppool-scale $wl workers=$w failed" >>"$out/scale.txt"
  echo " real_seconds=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" >>"$out/scale.txt"
  tail -1 "$out/scale.txt"
done
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
} >"$out/scale.md"
echo "# -> $out/scale.jsonl, $out/scale.md"
