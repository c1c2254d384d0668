#!/bin/sh
# run.sh: fuzz_frame for RUNS inputs on a scratch copy of the corpus (never the checked-in one).
# usage: run.sh FUZZER CORPUS RUNS [libFuzzer flags...]; crashes go to $FUZZ_ARTIFACTS or
# artifacts/ beside FUZZER.
set -u
fuzzer=$1 corpus=$2 runs=$3
shift 3
[ -x "$fuzzer" ] || { echo "run.sh: $fuzzer is not built (cmake --build the build directory first)"; exit 1; }
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cp "$corpus"/* "$work"/ || exit 1
artifacts=${FUZZ_ARTIFACTS:-$(dirname "$fuzzer")/artifacts}
mkdir -p "$artifacts" || exit 1
echo "run.sh: $fuzzer -runs=$runs on $(ls "$work" | wc -l) seeds; crashes go to $artifacts/"
"$fuzzer" -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$work"
