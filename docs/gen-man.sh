#!/bin/sh
# gen-man.sh: writes OUTDIR/man3/ppool.3 from PAGE with the names and synopsis of the HEADERs,
# and OUTDIR/man3/NAME.3, a ".so man3/ppool.3" link, for each PPOOL_API function and typedef.
# usage: gen-man.sh OUTDIR PAGE HEADER...
# PAGE is docs/man/ppool.3.in as CMake configured it; its line ".\" PPOOL-NAMES..." becomes the
# names (before the description on the line after it), ".\" PPOOL-SYNOPSIS..." the prototypes.
# A header left out (ppool_mpi.h without the MPI transport) gets neither prototypes nor pages.
set -eu
outdir=$1 page=$2
shift 2

# decls HEADER...: "H header" per header, then "F name<TAB>prototype" per PPOOL_API function and
# "T name<TAB>declaration" per typedef (declaration: one line, a function pointer type only),
# "G" where a blank line separates groups; prototypes on one line, without PPOOL_API and
# __attribute__.
decls() {
  awk '
    function flat(s) {
      gsub(/[ \t\n]+/, " ", s); sub(/^ /, "", s)
      gsub(/ *__attribute__\(\(.*\)\) *;/, ";", s); gsub(/\( /, "(", s); gsub(/ \)/, ")", s)
      sub(/ *;.*/, ";", s)
      return s
    }
    FNR == 1 { n = split(FILENAME, part, "/"); print "H " part[n]; instruct = 0 }
    !incomm && /^[ \t]*$/ { if (!instmt) print "G"; next }
    incomm { if (!sub(/.*\*\//, "")) next; incomm = 0 }
    { gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "") }
    /\/\*/ { sub(/\/\*.*/, ""); incomm = 1 }
    /^PPOOL_API / || /^typedef/ && /\(\*/ { instmt = 1; stmt = "" }
    instmt {
      stmt = stmt " " $0
      if ($0 ~ /;[ \t]*$/) {
        instmt = 0; s = flat(stmt); sub(/^PPOOL_API /, "", s)
        if (s ~ /^typedef/) {
          n = s; sub(/^[^(]*\(\*/, "", n); sub(/\).*/, "", n); print "T " n "\t" s
        } else {
          n = s; sub(/\(.*/, "", n); sub(/.*[ *]/, "", n); print "F " n "\t" s
        }
      }
      next
    }
    /^typedef struct [A-Za-z_0-9]+ *\{/ { instruct = 1; next }
    instruct && /^\}/ { n = $0; sub(/^\} */, "", n); sub(/[ \t]*;.*/, "", n); print "T " n "\t"; instruct = 0; next }
    /^typedef/ && !instruct { n = $0; sub(/[ \t]*;.*/, "", n); sub(/.*[ *]/, "", n); print "T " n "\t" }
  ' "$@"
}

# roff: the synopsis of the decls on stdin: ".B #include <header>" and one .BI request per
# prototype (parameter names in italics), broken after a comma before column 72 (man indents
# the synopsis by 7).
roff() {
  awk -F '\t' '
    function piece(kind, text) { # adds text in bold (B) or italics (I), merging bold runs
      if (kind == "B" && np > 0 && pk[np] == "B") { pt[np] = pt[np] text; return }
      pk[++np] = kind; pt[np] = text
    }
    function emit(    i, line) {
      line = ".BI"
      for (i = 1; i <= np; i++) line = line " \"" pt[i] "\""
      if (np == 1) sub(/^\.BI/, ".B", line)
      print line; np = 0
    }
    # One parameter p: its type in bold, its name in italics.
    function param(p,    i, rest, nm) {
      sub(/^ +/, "", p); sub(/ +$/, "", p)
      if (p == "void" || p == "...") { piece("B", p); return }
      i = index(p, "(*")
      if (i) {
        rest = substr(p, i + 2); nm = rest; sub(/[^A-Za-z_0-9].*/, "", nm)
        piece("B", substr(p, 1, i + 1)); piece("I", nm); piece("B", substr(rest, length(nm) + 1))
        return
      }
      nm = p; sub(/.*[^A-Za-z_0-9]/, "", nm)
      piece("B", substr(p, 1, length(p) - length(nm))); piece("I", nm)
    }
    function proto(s,    end, d, i, c, head, params, n, k, args, col, indent) {
      end = length(s) - 1; d = 0 # s ends ");": the parameter list is the last (...) group
      for (i = end; i > 0; i--) {
        c = substr(s, i, 1)
        if (c == ")") d++
        if (c == "(" && --d == 0) break
      }
      head = substr(s, 1, i); params = substr(s, i + 1, end - i - 1)
      n = 0; d = 0; args[1] = ""
      for (k = 1; k <= length(params); k++) { # split at the commas outside parentheses
        c = substr(params, k, 1)
        if (c == "(") d++
        if (c == ")") d--
        if (c == "," && d == 0) { n++; args[n + 1] = ""; continue }
        args[n + 1] = args[n + 1] c
      }
      n++
      indent = sprintf("%" length(head) "s", ""); col = length(head)
      np = 0; piece("B", head)
      for (k = 1; k <= n; k++) {
        a = args[k]; sub(/^ +/, "", a)
        if (k > 1 && col + length(a) + 2 > 72) { emit(); piece("B", indent); col = length(indent) }
        param(a); col += length(a) + 2
        piece("B", k < n ? ", " : ");")
      }
      emit()
    }
    $1 ~ /^H / { if (hdr++) print ".PP"; print ".B #include <" substr($1, 3) ">"; print ".PP"; gap = printed = 0; next }
    $1 == "G" { gap = 1; next }
    $1 ~ /^[FT] / && $2 != "" { if (gap && printed) print ".PP"; gap = 0; printed = 1; proto($2) }
  '
}

list=$(decls "$@")
names=$(echo "$list" | awk -F '\t' '/^[FT] / { n = substr($1, 3); if (n != "ppool") printf ", %s", n }')
synopsis=$(echo "$list" | roff)
mkdir -p "$outdir/man3"
rm -f "$outdir/man3"/*.3 # so a function taken out of the headers loses its page
NAMES="ppool$names" SYNOPSIS="$synopsis" awk '
  /^\.\\" PPOOL-NAMES/ { getline; print ENVIRON["NAMES"] " " $0; next }
  /^\.\\" PPOOL-SYNOPSIS/ { print ENVIRON["SYNOPSIS"]; next }
  { print }
' "$page" >"$outdir/man3/ppool.3"
for n in $(echo "$names" | tr ',' ' '); do
  echo ".so man3/ppool.3" >"$outdir/man3/$n.3"
done
