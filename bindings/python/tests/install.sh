#!/bin/sh
# install.sh: installs ppool into a scratch prefix, then runs a multiprocessing-style script against the
# installed package with only PYTHONPATH set (no LD_LIBRARY_PATH): plainly, through python3 -m ppool
# and, given MPIEXEC, under mpirun -n 3 python3 -m ppool.
# usage: install.sh BUILD_DIR CMAKE PYTHON SITE SCRIPT [MPIEXEC]
set -eu
build=$1 cmake=$2 python=$3 site=$4 script=$5 mpiexec=${6:-}
work=$(mktemp -d /tmp/ppool-pyinstall.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
pkg="$work/prefix/$site"
test -f "$pkg/ppool/__init__.py"
cp "$script" "$work/script.py" # a script of the user's, outside the source tree
cd "$work"
unset LD_LIBRARY_PATH PYTHONHOME
export PYTHONPATH="$pkg"
echo "== the installed package, its extension on the installed libppool (RPATH)"
"$python" -c 'import ppool; print("ppool", ppool.__version__, ppool.__file__)' | grep "$pkg/ppool/__init__.py"
ldd "$pkg"/ppool/_ppool*.so | grep libppool | grep "$work/prefix/"
echo "== python3 script.py"
"$python" script.py one | grep "mp_style: ok (local) args=one"
echo "== python3 -m ppool script.py"
"$python" -m ppool script.py two | grep "mp_style: ok (local) args=two"
if [ -n "$mpiexec" ]; then
  echo "== mpirun -n 3 python3 -m ppool script.py"
  OMPI_MCA_rmaps_base_oversubscribe=1 "$mpiexec" -n 3 "$python" -m ppool script.py three |
    grep "mp_style: ok (mpi) args=three"
fi
echo "python.install: the installed package passed"
