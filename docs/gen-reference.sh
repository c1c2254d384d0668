#!/bin/sh
# gen-reference.sh: writes docs/reference.md (or OUT) from core/include/ppool.h and ppool_mpi.h:
# every declaration, macro, struct field and error code, each with its Doxygen comment.
# usage: gen-reference.sh [OUT]
set -eu
top=$(dirname "$0")/..
out=${1:-$top/docs/reference.md}

# extract HEADER: one "### names" entry per group of declarations of HEADER (a group ends at a
# blank line, at a doc comment, or where #defines give way to declarations or back), with its
# code, its doc comment and tables of its struct fields, macro values and error codes. Include
# guards, #include lines and the extern "C" block are left out. POSIX awk (Debian's is mawk).
extract() {
  awk '
    function reset() {
      code = ""; names = ""; kind = ""; fields = ""; macros = ""; errtab = 0; stmt = ""
    }
    # Adds n to the entry heading, once.
    function name(n) {
      if (index(", " names ", ", ", `" n "`, ")) return
      names = names (names == "" ? "" : ", ") "`" n "`"
    }
    function md(s) { gsub(/\|/, "\\|", s); return s }
    function uncomment(s) { gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", s); return s }
    # The text of a trailing /**< comment */ on s ("" if none); sets incomment if it goes on.
    function trailing(s) {
      if (!match(s, /\/\*\*</)) return ""
      s = substr(s, RSTART + 4); incomment = s !~ /\*\//
      sub(/[ \t]*\*\/.*/, "", s); sub(/^[ \t]+/, "", s)
      return s
    }
    function prose(d) {
      gsub(/@return/, "Returns", d); gsub(/\*/, "\\*", d); sub(/\n+$/, "", d)
      return d
    }
    function flush() {
      if (code != "") {
        printf "### %s\n\n```c\n%s```\n\n", names, code
        if (doc !~ /^[ \t\n]*$/) printf "%s\n\n", prose(doc)
        if (fields != "") printf "| field | type | meaning |\n|---|---|---|\n%s\n", fields
        if (macros != "") printf "| macro | value | meaning |\n|---|---|---|\n%s\n", macros
        if (errtab) printf "| code | value | message |\n|---|---|---|\n%s\n", errors
        doc = ""
      }
      reset()
    }
    # The name a whole declaration statement s declares.
    function declared(s,    t) {
      t = uncomment(s); gsub(/\n/, " ", t)
      if (t ~ /PPOOL_API/) { sub(/\(.*/, "", t); sub(/.*[ *]/, "", t); return t }
      if (match(t, /\(\*[A-Za-z_0-9]+\)/)) return substr(t, RSTART + 2, RLENGTH - 3)
      if (t ~ /^enum /) { sub(/^enum +/, "", t); sub(/[ {].*/, "", t); return "enum " t }
      if (match(t, /}[^}]*$/)) t = substr(t, RSTART + 1) # a struct: the name after it
      sub(/[ \t]*;.*/, "", t); sub(/.*[ *]/, "", t)
      return t
    }
    # A field line of a struct: a row of the field table (@S@: the struct, named at its end).
    function field(s,    t, f, c) {
      c = trailing(s); t = uncomment(s); sub(/\/\*.*/, "", t); sub(/;.*/, "", t)
      sub(/^[ \t]+/, "", t); f = t; sub(/.*[ *]/, "", f); sub(/\[.*/, "", f)
      t = substr(t, 1, length(t) - length(f)); sub(/[ \t]+$/, "", t); sub(/[ \t]+\*$/, " *", t)
      fields = fields "| `@S@." f "` | `" t "` | " md(c)
      if (!incomment) fields = fields " |\n"
    }
    # The #define in body (its lines joined by newlines): code, heading and rows.
    function define(body,    n, v, c, row, part, msg) {
      n = body; sub(/^#define[ \t]+/, "", n); v = n; sub(/[^A-Za-z_0-9].*/, "", n)
      name(n)
      if (substr(v, length(n) + 1, 1) == "(") { # function-like: kept as it is
        code = code body "\n"
        while (match(body, /XX\([A-Z_0-9]+, *-?[0-9]+, *"[^"]*"\)/)) { # an error table row
          row = substr(body, RSTART + 3, RLENGTH - 4); body = substr(body, RSTART + RLENGTH)
          split(row, part, /, */); msg = row; sub(/^[^"]*"/, "", msg); sub(/"$/, "", msg)
          errors = errors "| `PPOOL_" part[1] "` | " part[2] " | " md(msg) " |\n"
        }
        return
      }
      gsub(/[ \t]*\\\n[ \t]*/, " ", v); c = trailing(v); incomment = 0
      v = substr(v, length(n) + 1); sub(/\/\*.*/, "", v); gsub(/[ \t]+/, " ", v)
      sub(/^ /, "", v); sub(/ $/, "", v)
      code = code "#define " n (v == "" ? "" : " " v) (c == "" ? "" : " /**< " c " */") "\n"
      macros = macros "| `" n "` | " (v == "" ? "(empty)" : "`" md(v) "`") " | " md(c) " |\n"
    }
    BEGIN { reset(); doc = ""; depth = 0; nskip = 0; errors = "" }
    # A doc comment (/** ... */ from the start of a line) opens a new entry.
    !indoc && depth == 0 && /^[ \t]*\/\*\*[^<]/ { flush(); doc = ""; indoc = 1 }
    indoc {
      line = $0
      sub(/^[ \t]*\/\*\*/, "", line); sub(/^[ \t]*\*/, "", line); sub(/[ \t]*\*\/.*$/, "", line)
      sub(/^[ \t]+/, "", line); gsub(/@[{}]/, "", line)
      if (line ~ /@(defgroup|addtogroup)/) { group = 1; line = "" }
      doc = doc line "\n"
      if ($0 ~ /\*\//) {
        indoc = 0
        if (group && doc !~ /^[ \t\n]*$/) printf "%s\n\n", prose(doc)
        if (group) doc = ""
        group = 0
      }
      next
    }
    # The rest of a struct field comment that spans lines.
    incomment {
      code = code $0 "\n"; line = $0; sub(/^[ \t]+/, "", line)
      if (line ~ /\*\//) incomment = 0
      sub(/[ \t]*\*\/.*/, "", line); fields = fields " " md(line) (incomment ? "" : " |\n")
      next
    }
    # A #define continued on backslashed lines.
    cont { body = body "\n" $0; if ($0 !~ /\\$/) { cont = 0; define(body) } next }
    depth == 0 && /^[ \t]*$/ { flush(); next }
    # A plain comment between declarations (the first line of a file): not documentation.
    inplain || depth == 0 && stmt == "" && /^[ \t]*\/\*([^*]|$)/ { inplain = $0 !~ /\*\//; next }
    depth == 0 && /^#include/ { next }
    depth == 0 && /^#ifndef [A-Z_0-9]+_H$/ { guard = $2; skip[++nskip] = 1; next }
    depth == 0 && guard != "" && $0 == "#define " guard { guard = ""; next }
    depth == 0 && /^#ifdef __cplusplus/ { skip[++nskip] = 2; next }
    depth == 0 && /^#if/ { skip[++nskip] = 0; code = code $0 "\n"; next }
    depth == 0 && /^#el/ { if (!skip[nskip]) code = code $0 "\n"; next }
    depth == 0 && /^#endif/ { if (!skip[nskip]) code = code $0 "\n"; nskip--; next }
    nskip > 0 && skip[nskip] == 2 { next }
    depth == 0 && /^#define/ {
      if (kind == "decl") flush()
      kind = "define"; body = $0
      if ($0 ~ /\\$/) cont = 1; else define(body)
      next
    }
    # Any other line, at the top or within braces: part of a declaration.
    {
      if (depth == 0 && kind == "define") flush()
      if (depth == 0 && stmt == "") { api = $0 ~ /^PPOOL_API /; instruct = $0 ~ /^typedef struct [A-Za-z_0-9]* *\{/ }
      kind = "decl"; stmt = stmt $0 "\n"; line = $0
      if (api && stmt == $0 "\n") sub(/^PPOOL_API /, "", line)
      else if (api && depth == 0) sub(/^          /, "", line) # the column PPOOL_API pushed it to
      code = code line "\n"
      if (depth == 1 && instruct && $0 ~ /;/ && $0 !~ /^[ \t]*\/\*|}/) field($0)
      if (depth == 1 && $0 ~ /_MAP\(/) errtab = 1
      t = $0; depth += gsub(/\{/, "", t); t = $0; depth -= gsub(/\}/, "", t)
      if (depth == 0) {
        t = $0; sub(/\/\*.*/, "", t)
        if (t ~ /;[ \t]*$/) {
          n = declared(stmt); name(n); stmt = ""
          if (instruct) gsub(/@S@/, n, fields)
          instruct = 0
        }
      }
    }
    END { flush() }
  ' "$1"
}

{
  echo "# ppool API reference"
  echo
  echo "Generated by \`docs/gen-reference.sh\` from \`core/include/ppool.h\` and"
  echo "\`core/include/ppool_mpi.h\`; do not edit (\`make docs\` regenerates it, the ctest"
  echo "\`docs.reference\` checks it). Every declaration, macro, struct field and error code of"
  echo "the headers is here, in header order. The guide ([guide.md](guide.md)) shows each call"
  echo "in use; \`man ppool\` (or \`man ppool_map\`, ...) is the manual page."
  echo
  echo "## \`#include <ppool.h>\`"
  echo
  extract "$top/core/include/ppool.h"
  echo "## \`#include <ppool_mpi.h>\`"
  echo
  echo "Installed only when ppool is built with the MPI transport; it includes \`<mpi.h>\`"
  echo "(\`ppool.h\` never does)."
  echo
  extract "$top/core/include/ppool_mpi.h"
} >"$out.tmp"
mv "$out.tmp" "$out"
