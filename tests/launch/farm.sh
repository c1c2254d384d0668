#!/bin/sh
# farm.sh PPOOLRUN MODE: ppoolrun --MODE -n 3 --farm: 1,000 commands with a complete joblog, failing
# ones counted in the exit status, --timeout, --retries, --keep-order, --progress, --results, and a
# farm killed halfway resumed with --resume (only unfinished commands run again) and
# --resume-failed.
set -u
run=$1 mode=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "farm.sh ($mode): $*"; exit 1; }
farm() { "$run" "--$mode" -n 3 --farm "$@"; }
rows() { tail -n +2 "$1" | wc -l; }

# 1,000 commands: 996 echo, 2 failing, 1 timed out, 1 missing program.
i=0
while [ $i -lt 996 ]; do echo "echo out $i"; i=$((i + 1)); done >"$d/cmds"
printf 'exit 3\nfalse\nsleep 30\nno_such_program_xyz\n' >>"$d/cmds"
farm "$d/cmds" --joblog "$d/log" --timeout 5 >"$d/out" 2>"$d/err"
st=$?
[ "$st" = 4 ] || fail "exit status $st, want 4 (the failed commands)"
head -n 1 "$d/log" | grep -q "^Seq	Host	Starttime	JobRuntime	Send	Receive	Exitval	Signal	Command$" ||
  fail "no GNU parallel joblog header"
[ "$(rows "$d/log")" = 1000 ] || fail "$(rows "$d/log") joblog rows, want 1000"
[ "$(tail -n +2 "$d/log" | cut -f1 | sort -n | uniq | wc -l)" = 1000 ] || fail "sequence numbers not unique"
[ "$(grep -c '^out ' "$d/out")" = 996 ] || fail "outputs missing"
awk -F'\t' '$9 == "exit 3" && $7 != 3 { exit 1 }' "$d/log" || fail "exit 3 not logged as 3"
awk -F'\t' '$9 == "sleep 30" && ($7 != -1 || $8 != 15) { exit 1 }' "$d/log" || fail "timeout not logged as signal 15"
awk -F'\t' '$9 == "no_such_program_xyz" && $7 != 127 { exit 1 }' "$d/log" || fail "missing program not 127"

# --retries: a command that fails twice then succeeds.
echo "n=\$(cat $d/n 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >$d/n; [ \$n -ge 3 ]" >"$d/flaky"
farm "$d/flaky" >/dev/null 2>&1 && fail "a failing command succeeded without --retries"
rm -f "$d/n"
farm "$d/flaky" --retries 3 >/dev/null 2>&1 || fail "--retries 3 did not retry"
[ "$(cat "$d/n")" = 3 ] || fail "--retries: $(cat "$d/n") tries, want 3"

# --keep-order and --results.
printf 'sleep 0.3; echo a\necho b\nsleep 0.1; echo c\n' >"$d/order"
[ "$(farm "$d/order" --keep-order | tr -d '\n')" = abc ] || fail "--keep-order"
farm "$d/order" --progress >/dev/null 2>"$d/perr" || fail "--progress run"
tr '\r' '\n' <"$d/perr" | grep -q "^ppoolrun: 3/3 done, 0 failed, .*/s, ETA 0 s$" ||
  fail "--progress: no final 3/3 line: $(tr '\r' '\n' <"$d/perr" | tail -n 1)"
mkdir "$d/res"
farm "$d/order" --results "$d/res" >/dev/null || fail "--results run"
[ "$(cat "$d/res/2.stdout")" = b ] || fail "--results: no 2.stdout"

# Killed halfway, then --resume: only what had not finished runs again.
i=0
while [ $i -lt 1000 ]; do echo "sleep 0.005; echo r $i"; i=$((i + 1)); done >"$d/slow"
"$run" "--$mode" -n 3 --farm "$d/slow" --joblog "$d/rlog" >/dev/null 2>&1 &
pid=$! # ppoolrun itself (under --mpi it execs mpirun: killing it ends the job)
while [ "$(rows "$d/rlog" 2>/dev/null || echo 0)" -lt 300 ]; do sleep 0.05; done
kill -9 $pid
wait $pid 2>/dev/null
# Resume only once the killed job has ended (as with GNU parallel): under --mpi its ranks,
# orphaned by mpirun's death, notice it and end themselves; none may be left behind.
n=0
while pgrep -f -- "--farm $d/slow" >/dev/null; do
  n=$((n + 1))
  [ $n -lt 400 ] || fail "processes of the killed farm left behind: $(pgrep -f -- "--farm $d/slow" | tr '\n' ' ')"
  sleep 0.05
done
first=$(rows "$d/rlog")
[ "$first" -lt 1000 ] || fail "the farm finished before it was killed"
farm "$d/slow" --joblog "$d/rlog" --resume >"$d/rout" 2>/dev/null || fail "--resume run failed"
second=$(($(rows "$d/rlog") - first))
echo "killed after $first rows; --resume ran $second commands"
[ "$(tail -n +2 "$d/rlog" | cut -f1 | sort -n | uniq | wc -l)" = 1000 ] || fail "--resume left commands out"
[ "$second" -le $((1000 - first + 1)) ] || fail "--resume ran finished commands again"

# --resume-failed: only the failed ones run again.
farm "$d/cmds" --joblog "$d/log" --timeout 5 --resume-failed >/dev/null 2>&1
[ "$(rows "$d/log")" = 1004 ] || fail "--resume-failed: $(rows "$d/log") rows, want 1004"
echo "farm.sh ($mode): ok"
