# mpi_summary.awk: mpi.sh's table: best ok=1 line per peer and workload, ratios against ppool over MPI.
function val(key,   i) {
  for (i = 3; i <= NF; i++) if (index($i, key "=") == 1) return substr($i, length(key) + 2)
  return ""
}
# The keys that tell one configuration of a peer from another.
function config(   s) {
  s = val("inflight") != "" ? "inflight=" val("inflight") : ""
  if (val("config") != "") s = "config=" val("config")
  return s
}
function keep(w, v) {
  if (v == "" || (k SUBSEP w) in best && best[k, w] >= v + 0) return
  best[k, w] = v + 0
  cfg[k, w] = config()
  if (w == "W4") items[k] = val("items_per_s")
}
function cell(w, fmt) {
  return (k SUBSEP w) in best ? sprintf(fmt, best[k, w]) : "-"
}
function ratio(w) {
  return (k SUBSEP w) in best && ("ppool" SUBSEP w) in best ? sprintf("%.2f", best["ppool", w] / best[k, w]) : "-"
}
$2 ~ /^W(1c1|3|4)$/ && val("ok") == "1" {
  k = $1
  if (k == "ppool" && val("transport") != "mpi") k = "ppool-local"
  if (!(k in seen)) { seen[k] = 1; order[++npeers] = k }
  if ($2 == "W1c1") keep("W1c1", val("tasks_per_s"))
  if ($2 == "W3") keep("W3", val("efficiency"))
  if ($2 == "W4") keep("W4", val("mb_per_s"))
}
END {
  printf "%-16s %13s %8s %8s %8s %9s %9s %8s\n", "peer", "W1c1 tasks/s", "ppool/x", "W3 eff.", "ppool/x", "W4 MB/s", "items/s", "ppool/x"
  for (i = 1; i <= npeers; i++) {
    k = order[i]
    printf "%-16s %13s %8s %8s %8s %9s %9s %8s\n", k, cell("W1c1", "%.0f"), ratio("W1c1"),
      cell("W3", "%.3f"), ratio("W3"), cell("W4", "%.1f"), k in items ? items[k] : "-", ratio("W4")
  }
  if (!("ppool" in seen)) print "(no ppool line over MPI: the ratios need the MPI transport)"
  split("W1c1 W3 W4", ws, " ")
  for (i = 1; i <= npeers; i++) {
    k = order[i]
    s = ""
    for (j = 1; j <= 3; j++)
      if ((k SUBSEP ws[j]) in best && cfg[k, ws[j]] != "") s = s (s == "" ? "" : ", ") ws[j] " " cfg[k, ws[j]]
    if (s != "") print "best of " k ": " s
  }
}
