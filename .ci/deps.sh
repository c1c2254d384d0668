#!/bin/sh
# deps.sh: installs the Debian packages ppool needs, only those missing (called by `make`).
set -e
PKGS="cmake make gcc libc6-dev pkg-config libhwloc-dev hwloc protobuf-c-compiler libprotobuf-c-dev libopenmpi-dev openmpi-bin python3 python3-dev gfortran clang libclang-rt-14-dev man-db libxxhash-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "ppool: installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
