# costs.awk: costs.sh's split of `perf script -F pid,tid,ip,sym,dso` samples, by thread and kind.
# -v line: ppool-bench's output line (workload, tasks, seconds); -v freq: samples per CPU second.
# The first process is the master: its main thread is the caller (its samples include making the
# input before the timed part), its other threads the dispatcher; every other process is a worker
# (or the fork server). The kinds are counted over the dispatcher and the workers.
function kind(sym, dso, role) {
  if (role == "workers" && sym ~ /clock_gettime/) return "run" # the spin tasks watch the clock
  if (sym ~ /memmove|memcpy|copy_to_iter|copy_from_iter|copy_user|_copy_from_user|_copy_to_user|copy_page/)
    return "copy"
  if (dso ~ /libprotobuf-c/ || sym ~ /^(ppool__frame_(pack|unpack|release)|pack_head|declared_bulk)/)
    return "encode"
  if (sym ~ /^(malloc|free|cfree|calloc|realloc|_int_malloc|_int_free|_int_realloc|malloc_consolidate|tcache|unlink_chunk)/)
    return "alloc"
  if (dso ~ /kernel/) return "kernel"
  if (dso ~ /ppool-bench/) return "run"
  if (dso ~ /libppool/) return "ppool"
  if (dso ~ /libc\.so|vdso/) return "libc"
  return "other"
}
NR == 1 { split($1, first, "/"); master = first[1] }
{
  split($1, id, "/")
  sym = $3
  dso = $NF
  role = id[1] != master ? "workers" : (id[2] == id[1] ? "caller" : "dispatcher")
  samples[role]++
  if (role != "caller") { kinds[kind(sym, dso, role)]++; counted++ }
}
END {
  n = split(line, w, " ")
  for (i = 3; i <= n; i++) { split(w[i], kv, "="); v[kv[1]] = kv[2] }
  items = v["tasks"] + 0
  if (!items) { print "# costs.awk: no tasks= in the line"; exit }
  us = 1e6 / freq / items # microseconds of CPU per sample per item
  printf "cost %s tasks=%d workers=%s wall_us_per_item=%.3f", w[2], items, v["workers"], v["seconds"] * 1e6 / items
  if (v["p50_us"] != "") printf " p50_us=%s", v["p50_us"]
  printf " cpu_us_per_item=%.3f", (samples["dispatcher"] + samples["workers"]) * us
  split("dispatcher workers caller", roles, " ")
  for (i = 1; i <= 3; i++) printf " %s_us=%.3f", roles[i], samples[roles[i]] * us
  split("encode copy alloc kernel ppool libc run other", ks, " ")
  for (i = 1; i <= 8; i++) printf " %s_pct=%.1f", ks[i], counted ? 100 * kinds[ks[i]] / counted : 0
  printf "\n"
}
