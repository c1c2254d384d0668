#!/bin/sh
# reference-catches.sh: check-reference.sh fails, naming each, on a function, a struct field, a
# macro and an error code that headers add and docs/reference.md lacks (the ctest
# docs.reference_catches: the completeness check can fail), and passes once
# docs/gen-reference.sh has written the reference of those headers.
# usage: reference-catches.sh SOURCE_DIR
set -eu
src=$1
work=$(mktemp -d /tmp/ppool-catches.XXXXXX)
trap 'rm -rf "$work"' EXIT
# ppool.h plus a function declared over two lines, a field, a flag and an error code.
sed -e 's/^    size_t len;$/    size_t len;\n    int bogus_field;/' \
  -e 's/^\(    XX(ESYS, -11, "system call failed")\)$/\1 \\\n    XX(EBOGUS, -12, "bogus")/' \
  -e 's/^#define PPOOL_STATS .*/&\n#define PPOOL_BOGUS_FLAG 0x80u/' \
  "$src/core/include/ppool.h" >"$work/ppool.h"
printf 'PPOOL_API int ppool_bogus_map(ppool *p, const char *fn,\n                          size_t chunksize);\n' \
  >>"$work/ppool.h"
if out=$(sh "$src/tests/docs/check-reference.sh" "$src/docs/reference.md" "$work/ppool.h" \
  "$src/core/include/ppool_mpi.h"); then
  echo "$out"
  echo "reference-catches: the check passed on headers with names the reference lacks"
  exit 1
fi
echo "$out"
for want in func:ppool_bogus_map field:ppool_buf.bogus_field macro:PPOOL_BOGUS_FLAG enum:PPOOL_EBOGUS; do
  echo "$out" | grep -qx "  $want" || { echo "reference-catches: $want not reported"; exit 1; }
done
# The generator documents the added names: its reference of those headers passes.
mkdir -p "$work/tree/docs" "$work/tree/core/include"
cp "$src/docs/gen-reference.sh" "$work/tree/docs/"
cp "$work/ppool.h" "$src/core/include/ppool_mpi.h" "$work/tree/core/include/"
sh "$work/tree/docs/gen-reference.sh"
sh "$src/tests/docs/check-reference.sh" "$work/tree/docs/reference.md" "$work/ppool.h" \
  "$src/core/include/ppool_mpi.h"
echo "docs.reference_catches: every added name was reported, then documented by the generator"
