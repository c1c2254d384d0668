#!/bin/sh
# check-reference.sh: fails unless REFERENCE documents every public name of the HEADERs.
# usage: check-reference.sh REFERENCE HEADER...
# The names are read here, apart from docs/gen-reference.sh, so that a name the generator misses
# is caught: every PPOOL_API function, typedef, PPOOL_* macro (not PPOOL__* nor an include
# guard) and error code (PPOOL_ERRNO_MAP rows, enum constants) must appear as `NAME` in a
# heading (###) or table row (|) of REFERENCE, and every field F of a typedef'd struct S as
# `S.F` in a table row.
set -eu
ref=$1
shift
names=$(awk '
  function out(s) { print s }
  # The identifier a declaration statement declares (the last one before ";", or (*NAME)).
  function last_ident(s) { sub(/\[.*/, "", s); sub(/[ \t;]*$/, "", s); sub(/.*[^A-Za-z_0-9]/, "", s); return s }
  # Comments go: those on one line, then those that go on over lines.
  incomm { if (!sub(/.*\*\//, "")) next; incomm = 0 }
  { gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "") }
  /\/\*/ { sub(/\/\*.*/, ""); incomm = 1 }
  prev ~ /^#ifndef / && $0 == "#define " substr(prev, 9) { prev = $0; next } # an include guard
  { prev = $0 }
  /^PPOOL_API/ { s = $0; sub(/\(.*/, "", s); out("func " last_ident(s)) }
  /^typedef/ && /\(\*/ { s = $0; sub(/^[^(]*\(\*/, "", s); sub(/\).*/, "", s); out("type " s) }
  /^typedef struct [A-Za-z_0-9]+ *\{/ { tag = $3; sub(/\{.*/, "", tag); instruct = 1; next }
  /^typedef/ && !/\(\*/ && /;/ { out("type " last_ident($0)) }
  instruct && /^\}/ { s = $0; sub(/^\} */, "", s); sub(/;.*/, "", s); out("type " s)
                      for (i = 1; i <= nf; i++) out("field " s "." f[i]); nf = 0; instruct = 0; next }
  instruct && /;/ { s = $0; sub(/;.*/, "", s); f[++nf] = last_ident(s) }
  /^#define PPOOL_[A-Z_0-9]*/ && !/^#define PPOOL__/ { s = $2; sub(/\(.*/, "", s); out("macro " s) }
  /XX\([A-Z_0-9]+,/ { s = $0; sub(/.*XX\(/, "", s); sub(/,.*/, "", s); out("enum PPOOL_" s) }
  /^enum/ { inenum = 1 }
  inenum && /^[ \t]+PPOOL_[A-Z_0-9]+[ \t]*(=|,|$)/ { s = $1; sub(/[=,].*/, "", s); out("enum " s) }
  inenum && /^\}/ { inenum = 0 }
' "$@" | sort -u)
count=0
missing=""
for entry in $(echo "$names" | tr ' ' ':'); do
  kind=${entry%%:*} name=${entry#*:}
  count=$((count + 1))
  if [ "$kind" = field ]; then
    grep -qF "| \`$name\` |" "$ref" && continue
  else
    grep -E '^(###|\|) ' "$ref" | grep -qF "\`$name\`" && continue
  fi
  missing="$missing $kind:$name"
done
# A reading that found nothing must not pass: ppool.h has functions, types, fields and macros.
for kind in func type field macro enum; do
  echo "$names" | grep -q "^$kind " || missing="$missing $kind:(none-found-in-the-headers)"
done
if [ -n "$missing" ]; then
  echo "check-reference: missing from $ref (run sh docs/gen-reference.sh):"
  for m in $missing; do echo "  $m"; done
  exit 1
fi
echo "check-reference: all $count public names of $* are in $ref"
