# lib.sh: what the bench scripts share (sourced): sizes, the Python to use, apt-get, a guarded run.
# shellcheck shell=sh
# Every size can be set from outside; BENCH_QUICK=1 picks small ones for a short run.
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  : "${N_W1:=20000}" "${N_W1_BIG:=500000}" "${N_W1C1:=20000}" "${N_PPE_C1:=2000}" "${N_SPIN:=400}"
  : "${N_W4:=200}" "${N_APPLY:=1000}" "${N_STARTUP:=5}" "${IDLE_S:=1}"
  : "${MEM_MAP:=100000 1000000}" "${MEM_SOURCE:=100000 2000000}"
else
  : "${N_W1:=200000}" "${N_W1_BIG:=5000000}" "${N_W1C1:=200000}" "${N_PPE_C1:=20000}" "${N_SPIN:=2000}"
  : "${N_W4:=2000}" "${N_APPLY:=5000}" "${N_STARTUP:=20}" "${IDLE_S:=2}"
  : "${MEM_MAP:=1000000 10000000 30000000}" "${MEM_SOURCE:=1000000 20000000}"
fi
: "${BENCH_LIMIT:=300}" # seconds one run may take before it is stopped and counted as failed
bench_err=$(mktemp)
trap 'rm -f "$bench_err"' EXIT

bench_failed=0

# run CMD...: runs it under the time limit and prints its lines (also to $bench_log when set); a
# failure is reported with the tail of its stderr, counted in $bench_failed, and the bench goes on.
run() {
  rc=0
  out=$(timeout "$BENCH_LIMIT" "$@" 2>"$bench_err") || rc=$?
  if [ -n "$out" ]; then printf '%s\n' "$out"; fi
  if [ -n "$out" ] && [ -n "${bench_log:-}" ]; then printf '%s\n' "$out" >>"$bench_log"; fi
  if [ "$rc" != 0 ]; then
    bench_failed=$((bench_failed + 1))
    echo "# failed (rc=$rc): $*"
    tail -n 3 "$bench_err" | sed 's/^/#   /'
  fi
}

# The Python of the peers: Debian's /usr/bin/python3, else python3 on PATH; empty if none.
bench_python() {
  if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3 || true; fi
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install PKG: installs a Debian package with apt-get (after an update if the first try
# fails); 1 when it cannot (no apt-get, no root or sudo, no network).
apt_install() {
  command -v apt-get >/dev/null || return 1
  [ "$(id -u)" = 0 ] || command -v sudo >/dev/null || return 1
  echo "# installing $1 with apt-get" >&2
  set -- env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -y -qq \
    --no-install-recommends install "$1"
  as_root "$@" >&2 || { as_root apt-get update -qq >&2 && as_root "$@" >&2; }
}
