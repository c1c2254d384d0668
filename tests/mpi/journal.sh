#!/bin/sh
# journal.sh MPIEXEC NPFLAG PROG [PREFLAGS...]: a master killed halfway under mpirun -n 3, then the
# same map again with its journal: exact results, and only what had not finished runs again.
set -u
mpiexec=$1 np=$2 prog=$3
shift 3
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$mpiexec" "$np" 3 "$@" "$prog" "$d/journal" "$d/count" kill >/dev/null 2>&1 && { echo "the killed run succeeded"; exit 1; }
first=$(stat -c %s "$d/count")
"$mpiexec" "$np" 3 "$@" "$prog" "$d/journal" "$d/count" || { echo "the second run failed"; exit 1; }
second=$(($(stat -c %s "$d/count") - first))
echo "killed after $first task runs; the second run ran $second of 6000"
[ "$second" -ge $((6000 - first)) ] || { echo "fewer runs than unfinished items"; exit 1; }
[ "$second" -le $((6000 - first + 800)) ] || { echo "more than the unfinished items (+800) ran again"; exit 1; }
[ "$second" -lt 6000 ] || { echo "nothing was taken from the journal"; exit 1; }
echo "journal.sh: ok"
