#!/bin/sh
# run.sh: installs ppool into a scratch prefix, then builds consumer.f90 against it with
# find_package(ppool COMPONENTS fortran) and with pkg-config ppool-fortran, and runs both
# plainly and, with the MPI transport (MPIEXEC given), under mpirun -n 3.
# usage: run.sh BUILD_DIR THIS_DIR CMAKE FC [MPIEXEC]
set -eu
build=$1 here=$2 cmake=$3 fc=$4 mpiexec=${5:-}
export OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d /tmp/ppool-fortran-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
test -n "$(find "$work/prefix" -name ppool.mod)"
# ok PROGRAM TRANSPORT: runs PROGRAM (under mpirun -n 3 for mpi) and checks its line.
ok() {
  if [ "$2" = mpi ]; then out=$("$mpiexec" -n 3 "$1"); else out=$("$1"); fi
  echo "$out"
  echo "$out" | grep -q "^consumer.f90: 10000 squares and roots exact on [0-9]* $2 workers"
}
echo "== find_package(ppool COMPONENTS fortran): ppool::fortran"
"$cmake" -S "$here" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_Fortran_COMPILER="$fc" >/dev/null
"$cmake" --build "$work/cm" >/dev/null
ok "$work/cm/consumer" local
echo "== a project without C: find_package says what it needs"
mkdir "$work/noc"
printf 'cmake_minimum_required(VERSION 3.18)\nproject(noc Fortran)\nfind_package(ppool REQUIRED COMPONENTS fortran)\n' \
  >"$work/noc/CMakeLists.txt"
if "$cmake" -S "$work/noc" -B "$work/noc/b" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/noc.log" 2>&1; then
  echo "a project without C found ppool"; exit 1
fi
grep "needs the C language" "$work/noc.log"
echo "== pkg-config ppool-fortran"
pc="$work/prefix/lib/pkgconfig"
[ -d "$pc" ] || pc=$(dirname "$(find "$work/prefix" -name ppool-fortran.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc"
libdir=$(pkg-config --variable=libdir ppool-fortran)
(cd "$work" && "$fc" ${FFLAGS:-} -o consumer-pc "$here/consumer.f90" $(pkg-config --cflags --libs ppool-fortran) \
  -Wl,-rpath,"$libdir")
ok "$work/consumer-pc" local
if [ -n "$mpiexec" ]; then
  echo "== under mpirun -n 3 (1 master + 2 worker ranks), both builds"
  ok "$work/cm/consumer" mpi
  ok "$work/consumer-pc" mpi
fi
echo "fortran.install: find_package and pkg-config, plainly${mpiexec:+ and under mpirun}: passed"
