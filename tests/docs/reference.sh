#!/bin/sh
# reference.sh: docs/reference.md names every public name of the headers and is what
# docs/gen-reference.sh writes now (the ctest docs.reference).
# usage: reference.sh SOURCE_DIR
set -eu
src=$1
sh "$src/tests/docs/check-reference.sh" "$src/docs/reference.md" "$src/core/include/ppool.h" \
  "$src/core/include/ppool_mpi.h"
fresh=$(mktemp /tmp/ppool-reference.XXXXXX)
trap 'rm -f "$fresh"' EXIT
sh "$src/docs/gen-reference.sh" "$fresh"
if ! diff -u "$src/docs/reference.md" "$fresh"; then
  echo "docs/reference.md is stale: run sh docs/gen-reference.sh (or make docs)"
  exit 1
fi
echo "docs.reference: docs/reference.md is complete and up to date"
