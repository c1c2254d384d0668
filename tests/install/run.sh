#!/bin/sh
# run.sh: installs ppool into a scratch prefix, then builds and runs consumer.c against it
# with find_package(ppool) and with pkg-config, and runs the installed ppoolrun.
# usage: run.sh BUILD_DIR THIS_DIR CMAKE
set -eu
build=$1 here=$2 cmake=$3
work=$(mktemp -d /tmp/ppool-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/ppool.h"
test ! -f "$work/prefix/include/ppool_mpi.h" || grep -q PPOOL_HAVE_MPI "$build/CMakeCache.txt"
echo "== find_package(ppool)"
"$cmake" -S "$here" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
"$cmake" --build "$work/cm" >/dev/null
"$work/cm/consumer"
echo "== pkg-config ppool"
pc="$work/prefix/lib/pkgconfig"
[ -d "$pc" ] || pc=$(dirname "$(find "$work/prefix" -name ppool.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc"
libdir=$(pkg-config --variable=libdir ppool)
cc -o "$work/consumer-pc" "$here/consumer.c" $(pkg-config --cflags --libs ppool) -pthread -Wl,-rpath,"$libdir"
"$work/consumer-pc"
echo "== installed ppoolrun (no LD_LIBRARY_PATH)"
run=$work/prefix/bin/ppoolrun
unset LD_LIBRARY_PATH
ldd "$run" | grep "libppool" | grep -q "$work/prefix/" # its RPATH, not a system copy
info=$("$run" --info)
echo "$info" | grep "usable cores:"
out=$("$run" --local -n 3 "$work/cm/pool_size")
echo "$out"
test "$out" = "pool size 3 transport local"
echo "install.consumer: both ways and ppoolrun passed"
