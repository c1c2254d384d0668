#!/bin/sh
# run.sh: installs ppool into a scratch prefix, then builds and runs consumer.c against it
# with find_package(ppool) and with pkg-config, and runs the installed ppoolrun.
# With the MPI transport (MPIEXEC given) the same consumer runs under mpirun -n 4, and an MPI
# application opens a pool on a sub-communicator (ppool_open_comm), built both ways too.
# usage: run.sh BUILD_DIR THIS_DIR CMAKE [MPIEXEC]
set -eu
build=$1 here=$2 cmake=$3 mpiexec=${4:-}
export OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d /tmp/ppool-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/ppool.h"
if [ -n "$mpiexec" ]; then test -f "$work/prefix/include/ppool_mpi.h"; else test ! -f "$work/prefix/include/ppool_mpi.h"; fi
echo "== find_package(ppool)"
"$cmake" -S "$here" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
"$cmake" --build "$work/cm" >/dev/null
"$work/cm/consumer"
echo "== pkg-config ppool"
pc="$work/prefix/lib/pkgconfig"
[ -d "$pc" ] || pc=$(dirname "$(find "$work/prefix" -name ppool.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc"
libdir=$(pkg-config --variable=libdir ppool)
cc ${CFLAGS:-} -o "$work/consumer-pc" "$here/consumer.c" $(pkg-config --cflags --libs ppool) -pthread -Wl,-rpath,"$libdir"
"$work/consumer-pc"
if [ -n "$mpiexec" ]; then
  echo "== under mpirun -n 4, and ppool_open_comm on 3 of 5 ranks"
  "$mpiexec" -n 4 "$work/cm/consumer" | grep "ok on mpi"
  "$mpiexec" -n 5 "$work/cm/comm_consumer" | grep "test_comm: ok"
  cc ${CFLAGS:-} -o "$work/comm-pc" -I"$here/.." "$here/../mpi/test_comm.c" $(pkg-config --cflags --libs ppool) \
    -pthread -Wl,-rpath,"$libdir"
  "$mpiexec" -n 5 "$work/comm-pc" | grep "test_comm: ok"
fi
echo "== installed ppoolrun (no LD_LIBRARY_PATH)"
run=$work/prefix/bin/ppoolrun
unset LD_LIBRARY_PATH
ldd "$run" | grep "libppool" | grep -q "$work/prefix/" # its RPATH, not a system copy
info=$("$run" --info)
echo "$info" | grep "usable cores:"
out=$("$run" --local -n 3 "$work/cm/pool_size")
echo "$out"
test "$out" = "pool size 3 transport local"
if [ -n "$mpiexec" ]; then
  out=$(env -u OMPI_ALLOW_RUN_AS_ROOT -u OMPI_ALLOW_RUN_AS_ROOT_CONFIRM "$run" --mpi -n 3 "$work/cm/pool_size")
  echo "$out"
  test "$out" = "pool size 3 transport mpi"
fi
echo "install.consumer: both ways and ppoolrun passed"
