"""report.py: make bench's results from its log: results.jsonl, summary.md with the targets, the plot's data and script.

usage: python3 bench/report.py LOG OUTDIR [WORKERS]

A measured line is `TOOL WORKLOAD key=value ...` (every word after the second a key=value); other
lines are ignored. WORKERS is the local run's worker count (default: the most common one). Prints
the targets, the memory table and what it wrote.
"""
import json
import os
import statistics
import sys
from collections import Counter, defaultdict

ORDER = ["W1", "W1c1", "W2", "W3", "W3ramp", "W4", "apply", "startup", "idle"]
# workload -> [(key, what, +1 higher is better / -1 lower is better, format)]
METRICS = {
    "W1": [("tasks_per_s", "tasks/s", 1, "{:,.0f}")],
    "W1c1": [("tasks_per_s", "tasks/s", 1, "{:,.0f}")],
    "W2": [("efficiency", "efficiency", 1, "{:.3f}")],
    "W3": [("efficiency", "efficiency", 1, "{:.3f}")],
    "W3ramp": [("efficiency", "efficiency", 1, "{:.3f}")],
    "W4": [("mb_per_s", "MB/s", 1, "{:,.1f}")],
    "apply": [("p50_us", "p50 us", -1, "{:,.1f}"), ("p99_us", "p99 us", -1, "{:,.1f}")],
    "startup": [("p50_ms", "p50 ms", -1, "{:.2f}")],
    "idle": [("cpu_share", "master CPU share", -1, "{:.5f}")],
}
WHAT = {
    "W1": "tiny x*x tasks, default chunking (ppool adaptive; peers as they pick or are tuned)",
    "W1c1": "tiny x*x tasks at chunksize 1: one task per message",
    "W2": "1 ms tasks (spinning on the clock)",
    "W3": "imbalanced: 90% of 0.2 ms, 10% of 10 ms, fixed seeded order",
    "W3ramp": "skewed ramp: item i spins 2 ms * i / n",
    "W4": "distinct 1 MiB inputs, 8-byte results",
    "apply": "round trips of one tiny task, one after the other",
    "startup": "open + map of 4 + close/join/free, from before open to after free",
    "idle": "a pool sitting idle: the master's CPU",
}


def value(v):
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def parse(path):
    """The measured lines of the log as records, in order."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            words = line.split()
            if len(words) < 3 or line.startswith("#") or not all("=" in w for w in words[2:]):
                continue
            rec = {"tool": words[0], "workload": words[1], "workers": None, "transport": None}
            for w in words[2:]:
                k, _, v = w.partition("=")
                rec[k] = value(v)
            out.append(rec)
    return out


def scope(r):
    return "mpi" if r.get("transport") == "mpi" else "local"


def peer(r):
    s = r["tool"]
    if "config" in r:
        s += " " + str(r["config"])
    if "inflight" in r:
        s += " inflight=%s" % r["inflight"]
    return s


def case(r):
    """What ppool and a peer must share to be compared: W1's size tells 200k from 5M."""
    return (r["workload"], r.get("tasks") if r["workload"] == "W1" else None, scope(r),
            r.get("workers"))


def groups(recs):
    """(case, peer, transport, tasks) -> the ok records of one configuration."""
    g = defaultdict(list)
    for r in recs:
        if r["workload"] in METRICS and r.get("ok", 1) == 1:
            g[(case(r), peer(r), r.get("transport"), r.get("tasks", r.get("runs")))].append(r)
    return g


def stats(rs, key):
    v = [r[key] for r in rs if isinstance(r.get(key), (int, float))]
    return (statistics.median(v), min(v), max(v), len(v)) if v else None


def ppool_median(g, c, key):
    for (c2, p, _, _), rs in g.items():
        if c2 == c and p == "ppool":
            s = stats(rs, key)
            if s:
                return s[0]
    return None


def sort_key(item):
    (c, p, t, n) = item[0]
    return (ORDER.index(c[0]), c[1] or 0, c[2] != "local", c[3] or 0, p != "ppool", p)


def main_table(g, sweeping):
    """One Markdown table per workload: median, min-max over the repeats, ppool / peer."""
    out = []
    for wl in ORDER:
        items = sorted([it for it in g.items() if it[0][0][0] == wl], key=sort_key)
        items = [it for it in items if not (wl in sweeping and it[0][0][3] != sweeping[wl].get(
            it[0][0][2], it[0][0][3]))]
        if not items:
            continue
        for key, what, better, fmt in METRICS[wl]:
            out.append(f"\n### {wl} {what} ({'higher' if better > 0 else 'lower'} is better): "
                       f"{WHAT[wl]}\n")
            out.append("| tasks | workers | transport | peer | median | min-max | runs | ppool/peer |")
            out.append("|------:|--------:|-----------|------|-------:|--------:|-----:|-----------:|")
            for (c, p, t, n), rs in items:
                s = stats(rs, key)
                if not s:
                    continue
                base = ppool_median(g, c, key)
                ratio = "-" if p == "ppool" or not base or not s[0] else f"{base / s[0]:.2f}"
                out.append(f"| {n if n is not None else '-'} | {c[3]} | {t} | {p} | "
                           f"{fmt.format(s[0])} | {fmt.format(s[1])}-{fmt.format(s[2])} | "
                           f"{s[3]} | {ratio} |")
    return out


def series(recs):
    """W2/W3 medians per (workload, scope, peer, workers): (efficiency, tasks/s)."""
    acc = defaultdict(list)
    for r in recs:
        if r["workload"] in ("W2", "W3") and r.get("ok") == 1 and r.get("seconds"):
            acc[(r["workload"], scope(r), peer(r), r["workers"])].append(r)
    out = defaultdict(dict)
    for (wl, sc, p, w), rs in acc.items():
        eff = statistics.median(r["efficiency"] for r in rs)
        tput = statistics.median(r["tasks"] / r["seconds"] for r in rs)
        out[(wl, sc, p)][w] = (eff, tput)
    return out


def scaling_table(ser):
    out = []
    for wl in ("W2", "W3"):
        keys = sorted(k for k in ser if k[0] == wl and len(ser[k]) > 1)
        if not keys:
            continue
        ws = sorted({w for k in keys for w in ser[k]})
        out.append(f"\n### {wl}: efficiency (tasks/s) against workers\n")
        out.append("| peer | transport | " + " | ".join(str(w) for w in ws) + " |")
        out.append("|------|-----------|" + "------:|" * len(ws))
        for k in keys:
            cells = [f"{ser[k][w][0]:.3f} ({ser[k][w][1]:,.0f}/s)" if w in ser[k] else "-"
                     for w in ws]
            out.append(f"| {k[2]} | {k[1]} | " + " | ".join(cells) + " |")
    return out


def plot_files(ser, outdir):
    """scaling.dat (one block per series) and scaling.gp, which draws scaling.svg."""
    keys = sorted(k for k in ser if len(ser[k]) > 1)
    if not keys:
        return False
    with open(os.path.join(outdir, "scaling.dat"), "w") as f:
        for k in keys:
            f.write(f"# {k[0]} {k[2]} ({k[1]})\n# workers tasks_per_s efficiency\n")
            for w in sorted(ser[k]):
                f.write(f"{w} {ser[k][w][1]:.1f} {ser[k][w][0]:.4f}\n")
            f.write("\n\n")
    gp = ["set terminal svg size 1100,800 dynamic font 'sans,11'", "set output 'scaling.svg'",
          "set multiplot layout 2,2 title 'ppool bench: W2 (1 ms tasks) and W3 (imbalanced), "
          "against workers'", "set logscale x 2", "set grid", "set key font ',9' samplen 2",
          "set xlabel 'workers (MPI: ranks - 1)'"]
    for wl in ("W2", "W3"):
        for col, ylabel in ((2, "tasks/s"), (3, "efficiency")):
            idx = [(i, k) for i, k in enumerate(keys) if k[0] == wl]
            gp.append(f"set title '{wl} {ylabel}'")
            gp.append(f"set ylabel '{ylabel}'")
            gp.append("set yrange [0:1.05]\nset key left bottom" if col == 3
                      else "set yrange [0:*]\nset key left top")
            if not idx:
                gp.append("set label 1 'no data' at graph 0.5,0.5 center\nplot NaN notitle\n"
                          "unset label 1")
                continue
            gp.append("plot " + ", \\\n  ".join(
                f"'scaling.dat' index {i} using 1:{col} with linespoints lw 1.5 "
                f"dt {2 if k[1] == 'mpi' else 1} title '{k[2]} ({k[1]})'" for i, k in idx))
    gp.append("unset multiplot")
    with open(os.path.join(outdir, "scaling.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")
    return True


def num(v):
    """A measured number, readable: thousands separated, 3 significant digits below 1000."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


class Lookup:
    """Medians of the groups, for the targets."""

    def __init__(self, g):
        self.g = g

    def medians(self, tool, wl, key, sc="local", workers=None, tasks=None, config=None):
        out = []
        for (c, p, t, n), rs in self.g.items():
            r0 = rs[0]
            if (r0["tool"] == tool and c[0] == wl and c[2] == sc
                    and (workers is None or c[3] == workers) and (tasks is None or n == tasks)
                    and (config is None or r0.get("config") == config)):
                s = stats(rs, key)
                if s:
                    out.append(s[0])
        return out

    def one(self, *a, **k):
        m = self.medians(*a, **k)
        return m[0] if m else None

    def best(self, *a, **k):
        m = self.medians(*a, **k)
        return max(m) if m else None


def targets(g, workers):
    """(target, measured, floor, verdict) rows: the issue's floors."""
    L = Lookup(g)
    mp = "multiprocessing.Pool"
    rows = []

    def ratio(name, a, b, floor, shown_floor, higher=True):
        if a is None or b is None or not b:
            rows.append((name, "n/a", shown_floor, "n/a"))
            return
        r = a / b
        ok = r >= floor if higher else r <= floor
        rows.append((name, f"{r:.3g}x ({num(a)} vs {num(b)})", shown_floor,
                     "PASS" if ok else "short"))

    ratio("W1 chunksize 1, local: ppool / multiprocessing.Pool map chunksize 1 (tasks/s)",
          L.one("ppool", "W1c1", "tasks_per_s", workers=workers),
          L.one(mp, "W1c1", "tasks_per_s", workers=workers, config="map-c1"), 5, ">= 5x")
    ratio("apply p50, local: ppool / multiprocessing.Pool (us)",
          L.one("ppool", "apply", "p50_us", workers=workers),
          L.one(mp, "apply", "p50_us", workers=workers), 1 / 3, "<= 1/3", higher=False)
    ratio("W4 1 MiB inputs, local: ppool / multiprocessing.Pool's best (MB/s)",
          L.one("ppool", "W4", "mb_per_s", workers=workers),
          L.best(mp, "W4", "mb_per_s", workers=workers), 3, ">= 3x")
    sizes = sorted({n for (c, p, t, n) in g if c[0] == "W1" and c[2] == "local" and p == "ppool"})
    for n in sizes:
        ratio(f"W1 default chunks, {n:,} tasks, local: ppool / multiprocessing.Pool's best",
              L.one("ppool", "W1", "tasks_per_s", workers=workers, tasks=n),
              L.best(mp, "W1", "tasks_per_s", workers=workers, tasks=n), 3, ">= 3x")
    for wl, floor in (("W2", 0.98), ("W3", 0.97)):
        e = L.one("ppool", wl, "efficiency", workers=workers)
        rows.append((f"{wl} efficiency, local, {workers} workers: ppool",
                     "n/a" if e is None else f"{e:.3f}", f">= {floor}",
                     "n/a" if e is None else ("PASS" if e >= floor else "short")))
    ratio("start-up (open, map 4, close/join/free): ppool / multiprocessing.Pool (ms)",
          L.one("ppool", "startup", "p50_ms", workers=workers),
          L.one(mp, "startup", "p50_ms", workers=workers), 1 / 5, "<= 1/5", higher=False)
    c = L.one("ppool", "idle", "cpu_share", workers=workers)
    rows.append(("idle master: ppool's CPU share of a core while idle",
                 "n/a" if c is None else f"{c:.5f}", "~0 (<= 0.001)",
                 "n/a" if c is None else ("PASS" if c <= 0.001 else "short")))
    ratio("MPI W1 chunksize 1: ppool / hand-written MPI loop's best (tasks/s)",
          L.one("ppool", "W1c1", "tasks_per_s", sc="mpi"),
          L.best("c-mpi", "W1c1", "tasks_per_s", sc="mpi"), 1, ">= 1x")
    ratio("MPI W4: ppool / hand-written MPI loop's best (MB/s)",
          L.one("ppool", "W4", "mb_per_s", sc="mpi"), L.best("c-mpi", "W4", "mb_per_s", sc="mpi"),
          0.8, ">= 0.8x")
    return rows


def memory_table(recs):
    rows = sorted((r for r in recs if r["workload"].startswith("mem-")),
                  key=lambda r: (r["workload"], r["tasks"]))
    if not rows:
        return []
    out = ["| run | items | input (8 B/item) MB | base RSS MiB | peak RSS MiB | extra MiB | "
           "items/s | ok |", "|-----|------:|------:|------:|------:|------:|------:|---:|"]
    for r in rows:
        out.append(f"| {r['workload']} | {r['tasks']:,} | {r['input_mb']:.1f} | "
                   f"{r['base_rss_kb'] / 1024:.1f} | {r['peak_rss_kb'] / 1024:.1f} | "
                   f"{r['extra_kb'] / 1024:.1f} | {r['tasks_per_s']:,.0f} | {r['ok']} |")
    for wl in sorted({r["workload"] for r in rows}):
        rs = [r for r in rows if r["workload"] == wl]
        if len(rs) > 1:
            a, b = rs[0], rs[-1]
            out.append(f"\n{wl}: the input grew {b['tasks'] / a['tasks']:.0f}x, the master's extra "
                       f"memory {b['extra_kb'] / max(a['extra_kb'], 1):.1f}x "
                       f"({a['extra_kb'] / 1024:.1f} -> {b['extra_kb'] / 1024:.1f} MiB).")
    return out


def targets_table(rows):
    out = ["| target | measured | floor | verdict |", "|--------|---------:|------:|---------|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return out


def sweeping_workers(recs, workers):
    """The worker counts of the side-by-side runs (the rest of W2/W3 goes to the scaling part)."""
    mpi = Counter(r["workers"] for r in recs if r["workload"] == "W1c1" and scope(r) == "mpi")
    main = {"local": workers, "mpi": mpi.most_common(1)[0][0] if mpi else 2}
    return {"W2": main, "W3": main}


def read_meta(outdir):
    try:
        with open(os.path.join(outdir, "meta.txt")) as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except OSError:
        return []


def write_summary(outdir, meta, trows, main, mem, scal, plotted):
    md = ["# ppool bench summary", ""] + [f"- {m}" for m in meta]
    md += ["", "Medians over the repeats, min-max beside them; ppool/peer is the ratio of the "
           "medians (above 1 is better for ppool where higher is better, below 1 where lower is).",
           "", "## Targets", ""] + targets_table(trows)
    md += ["", "## Side by side"] + main
    if mem:
        md += ["", "## Memory: the master's peak RSS (getrusage ru_maxrss) against input size", "",
               "`mem-map`: `ppool_map` over n longs (its input and output arrays are in the base); "
               "`mem-source`: `ppool_imap_source` over n items made on the fly, taken in order.",
               ""] + mem
    if scal:
        md += ["", "## Scaling: W2 and W3 against workers", "",
               "Tasks spin until the clock passes their end. Beyond the cores (oversubscribed) "
               "workers share cores: efficiency (against workers) falls towards cores / workers, "
               "and a task descheduled past its end finishes on less CPU than its length, so "
               "tasks/s can pass cores / mean task time (W3's short tasks); those points show how "
               "the dispatch and the scheduler share the cores, not a speed-up."
               + (" Plot: `scaling.svg`." if plotted else "")] + scal
    py = os.path.join(outdir, "python.txt")
    if os.path.exists(py):
        with open(py) as f:
            md += ["", "## Python: ppool.Pool against multiprocessing.Pool "
                   "(bench/python/pool_bench.py)", "", "```", f.read().rstrip(), "```"]
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    log, outdir = sys.argv[1], sys.argv[2]
    recs = parse(log)
    local = Counter(r["workers"] for r in recs if r["tool"] == "ppool" and scope(r) == "local")
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else (local.most_common(1)[0][0] if local else 2)
    with open(os.path.join(outdir, "results.jsonl"), "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    g = groups(recs)
    ser = series(recs)
    plotted = plot_files(ser, outdir)
    trows = targets(g, workers)
    mem = memory_table(recs)
    write_summary(outdir, read_meta(outdir), trows, main_table(g, sweeping_workers(recs, workers)),
                  mem, scaling_table(ser), plotted)
    print("\n".join(targets_table(trows)))
    if mem:
        print("\n" + "\n".join(mem))
    print(f"\n{len(recs)} measured lines -> {outdir}/results.jsonl, {outdir}/summary.md"
          + (f", {outdir}/scaling.dat and scaling.gp" if plotted else ""))


if __name__ == "__main__":
    main()
