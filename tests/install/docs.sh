#!/bin/sh
# docs.sh: a newcomer's install in a scratch prefix (the ctest install.docs): the man pages of
# every public function and type resolve, the installed README's links resolve, the README's
# pkg-config command line builds and runs its example, and the installed ppoolrun --help names
# the installed docs.
# usage: docs.sh BUILD_DIR SOURCE_DIR CMAKE
set -eu
build=$1 src=$2 cmake=$3
work=$(mktemp -d /tmp/ppool-docs.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # man may read as its own user
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
fail() {
  echo "install.docs: $*"
  exit 1
}

# functions HEADER...: every PPOOL_API prototype, on one line, as the header spells it (no
# PPOOL_API, no __attribute__), then "<TAB>name".
functions() {
  awk '/^PPOOL_API / { s = ""; on = 1 }
       on { s = s " " $0; if ($0 ~ /;[ \t]*$/) { on = 0
              gsub(/[ \t]+/, " ", s); sub(/^ PPOOL_API /, "", s); sub(/ *__attribute__.*/, ";", s)
              n = s; sub(/\(.*/, "", n); sub(/.*[ *]/, "", n); print s "\t" n } }' "$@"
}
# types HEADER...: every typedef name.
types() {
  awk '/^typedef/ && /\(\*/ { s = $0; sub(/^[^(]*\(\*/, "", s); sub(/\).*/, "", s); print s; next }
       /^typedef struct [A-Za-z_0-9]+ *\{/ { instruct = 1; next }
       instruct && /^\}/ { s = $0; sub(/^\} */, "", s); sub(/[ \t]*;.*/, "", s); print s; instruct = 0; next }
       /^typedef/ && !instruct { s = $0; sub(/[ \t]*;.*/, "", s); sub(/.*[ *]/, "", s); print s }' "$@"
}
# fields STRUCT HEADER: the field names of the typedef'd struct STRUCT (comments left out).
fields() {
  awk -v tag="$1" 'incomm { if (!sub(/.*\*\//, "")) next; incomm = 0 }
       { gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "") }
       /\/\*/ { sub(/\/\*.*/, ""); incomm = 1 }
       $0 ~ "^typedef struct " tag " *[{]" { on = 1; next }
       on && /^\}/ { exit }
       on && /;/ { s = $0; sub(/;.*/, "", s); sub(/\[.*/, "", s); sub(/.*[ *]/, "", s); print s }' "$2"
}

echo "== man pages"
headers=$prefix/include/ppool.h
[ -f "$prefix/include/ppool_mpi.h" ] && headers="$headers $prefix/include/ppool_mpi.h"
page=$(find "$prefix" -path '*/man3/ppool.3')
[ -n "$page" ] || fail "no man3/ppool.3 under $prefix"
man3=$(dirname "$page")
mandir=$(dirname "$man3")
grep -q '^\.so' "$page" && fail "$page is a link, not the page"
nfunc=0
for name in $(functions $headers | cut -f 2) $(types $headers | grep -vx ppool); do
  f=$man3/$name.3
  [ -f "$f" ] || fail "no man page $f for $name"
  [ "$(cat "$f")" = ".so man3/ppool.3" ] || fail "$f is not '.so man3/ppool.3': $(head -c 80 "$f")"
  nfunc=$((nfunc + 1))
done
[ "$nfunc" -gt 40 ] || fail "only $nfunc functions and types found in $headers"
# ppool_open_comm's page only where its header is installed.
if [ -f "$prefix/include/ppool_mpi.h" ]; then
  [ -f "$man3/ppool_open_comm.3" ] || fail "ppool_mpi.h installed, no ppool_open_comm.3"
else
  [ ! -e "$man3/ppool_open_comm.3" ] || fail "ppool_open_comm.3 installed without ppool_mpi.h"
fi
# Every field of ppool_opts is explained: a ".TP" then ".I field" in the page.
for fld in $(fields ppool_opts "$prefix/include/ppool.h"); do
  awk -v f="$fld" 'prev == ".TP" && $0 == ".I " f { found = 1 } { prev = $0 } END { exit !found }' \
    "$page" || fail "ppool_opts.$fld is not explained in $page (.TP, .I $fld)"
done
grep -q '^\.SH ENVIRONMENT' "$page" || fail "no ENVIRONMENT section in $page"
# FILES names no fixed system path.
awk '/^\.SH FILES/ { on = 1; next } /^\.SH/ { on = 0 } on' "$page" | grep -E '(^|[ "])/(usr|opt|etc)/' &&
  fail "the FILES section of $page names a system path"
nproto=$(functions $headers | wc -l)
if command -v man >/dev/null 2>&1; then
  export MANPATH=$mandir
  for name in $(functions $headers | cut -f 2) ppool_opts ppool_buf; do
    man -w "$name" | grep -q "^$mandir/" || fail "man -w $name: $(man -w "$name" 2>&1)"
  done
  # Every prototype, as the header spells it, in what man ppool_map shows (lines joined).
  raw=$(man ppool_map 2>/dev/null)
  text=$(echo "$raw" | tr -s ' \t\n' ' ')
  functions $headers | cut -f 1 | while IFS= read -r proto; do
    echo "$text" | grep -qF "$proto" || fail "man ppool_map lacks the prototype: $proto"
  done
  echo "$text" | grep -oF "$(functions $headers | grep "$(printf '\t')ppool_map$" | cut -f 1)"
  synopsis=$(echo "$raw" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p')
  [ "$(echo "$synopsis" | grep -c '\.\.\.')" = "$(functions $headers | grep -c '\.\.\.')" ] ||
    fail "the synopsis has a variadic prototype the headers do not: $(echo "$synopsis" | grep '\.\.\.')"
  echo "man resolves ppool_map, ppool_opts and the other names; the synopsis has all $nproto prototypes"
else
  # No man here: the prototypes are in the synopsis's source.
  for name in $(functions $headers | cut -f 2); do
    grep -q "^\.BI\{0,1\} \"[^\"]*[ *]$name(" "$page" || fail "no prototype of $name in $page"
  done
  echo "no man here: $nproto prototypes and $nfunc .so pages checked in the files"
fi

echo "== installed README links"
docdir=$(dirname "$(find "$prefix" -path '*/doc/ppool/README.md')")
nlinks=0
for md in $(find "$docdir" -name '*.md'); do
  for link in $(grep -o '](\([^)]*\))' "$md" | sed 's/^](//; s/)$//; s/#.*//' | grep -v -e '^$' -e ':'); do
    [ -f "$(dirname "$md")/$link" ] || fail "${md#"$docdir"/} links $link, not installed"
    nlinks=$((nlinks + 1))
  done
done
for want in docs/guide.md docs/reference.md docs/design.md docs/protocol.md; do
  grep -qF "]($want)" "$docdir/README.md" || fail "the README does not link $want"
done
echo "$nlinks relative links of the installed documents resolve in $docdir"

echo "== the README's pkg-config command line, from $prefix"
mkdir "$work/app"
# The README's example program and its pkg-config block, PKG_CONFIG_PATH pointing here.
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' "$src/README.md" >"$work/app/app.c"
awk '/^```sh$/ { on = 1; block = ""; next } on && /^```$/ { on = 0; if (block ~ /pkg-config --cflags/) { printf "%s", block; exit } }
     on { block = block $0 "\n" }' "$src/README.md" >"$work/app/cmd.sh"
grep -q '^cc ' "$work/app/cmd.sh" || fail "no cc command line in the README's pkg-config block"
pc=$(dirname "$(find "$prefix" -name ppool.pc)")
sed -i "s|^export PKG_CONFIG_PATH=.*|export PKG_CONFIG_PATH=$pc|" "$work/app/cmd.sh"
# Sanitizer runs build the library with CFLAGS: the program needs them too (no run-time path).
[ -n "${CFLAGS:-}" ] && sed -i "s|^cc |cc $CFLAGS |" "$work/app/cmd.sh"
cat "$work/app/cmd.sh"
unset LD_LIBRARY_PATH
(cd "$work/app" && sh -eu cmd.sh)
exe=$(grep '^cc ' "$work/app/cmd.sh" | sed -n 's/.* -o \([^ ]*\).*/\1/p')
exe=$work/app/${exe:-a.out}
ldd "$exe" | grep libppool | grep -q "$prefix/" || fail "$exe does not find libppool in $prefix"
out=$(cd "$work/app" && "$exe")
echo "$out" | tail -n 1
echo "$out" | grep -q "^8 squared is 64$" || fail "the README's program printed: $out"

echo "== installed ppoolrun --help"
help=$("$prefix/bin/ppoolrun" --help)
echo "$help" | grep -F "MANPATH=$mandir man ppoolrun" || fail "ppoolrun --help does not name $mandir"
echo "$help" | grep -F "$docdir/docs/" || fail "ppoolrun --help does not name $docdir/docs/"
[ -f "$docdir/docs/guide.md" ] && [ -f "$mandir/man1/ppoolrun.1" ] || fail "the guide or ppoolrun.1 is missing"
echo "install.docs: man pages, documents, the README's command line and ppoolrun --help passed"
