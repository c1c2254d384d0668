"""mp_pool.py: the Python peers on every local workload: multiprocessing.Pool and ProcessPoolExecutor.

usage: python3 mp_pool.py mp|ppe w1|w1c1|w2|w3|w3ramp|w4|apply|startup|idle [WORKERS] [N]

One line per configuration (config=): map with multiprocessing's default chunks, map at chunksize
1, imap_unordered; MP_CONFIGS=map-c1,... runs only those named. W4's map with default chunks (250
MiB each: ~17 s a run, its slowest) runs only when MP_CONFIGS names it. Every run checks its results.
"""
import os
import random
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Pool

MIB = 1 << 20
MASK = (1 << 64) - 1
NAMES = {"mp": "multiprocessing.Pool", "ppe": "ProcessPoolExecutor"}
LABELS = {"w1": "W1", "w1c1": "W1c1", "w2": "W2", "w3": "W3", "w3ramp": "W3ramp", "w4": "W4"}


def square(x):
    return x * x


def spin(ms):
    until = time.perf_counter() + ms * 1e-3
    while time.perf_counter() < until:
        pass
    return None


def crc(item):
    """W4's 8-byte result. Python has no fast sum of 64-bit words without numpy: zlib's crc32
    reads the whole MiB at a few GB/s, as ppool's sum does."""
    return zlib.crc32(item)


def splitmix64(state):
    """The next (state, number) of splitmix64, as bench/workloads.h."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def w3_costs(n):
    """W3: n // 10 items of 10 ms, the rest 0.2 ms, shuffled as bench_w3_costs() does."""
    ms = [10.0 if i < n // 10 else 0.2 for i in range(n)]
    state = 42
    for i in range(n, 1, -1):
        state, r = splitmix64(state)
        j = r % i
        ms[i - 1], ms[j] = ms[j], ms[i - 1]
    return ms


def w4_items(n):
    """n distinct 1 MiB inputs: one random MiB whose first 8 bytes are the item's index."""
    base = random.Random(4).randbytes(MIB)
    return [i.to_bytes(8, "little") + base[8:] for i in range(n)]


def workload(what, n):
    """The task function and its arguments (mpi4py_futures.py imports it)."""
    if what in ("w1", "w1c1"):
        return square, range(n)
    if what == "w2":
        return spin, [1.0] * n
    if what == "w3":
        return spin, w3_costs(n)
    if what == "w3ramp":
        return spin, [2.0 * i / n for i in range(n)]  # item i costs 2 ms * i / n
    return crc, w4_items(n)


def default_chunk(n, workers):
    """The chunksize multiprocessing.Pool.map picks: n / (4 x workers), rounded up."""
    chunk, extra = divmod(n, workers * 4)
    return max(1, chunk + bool(extra))


def configs(peer, what, n, workers):
    """(name, chunksize, run(pool, fn, args) -> results) for this peer and workload."""
    c = default_chunk(n, workers)
    if peer == "ppe":
        cfg = [("map-c1", 1), ("map", c)]
        if what == "w1":
            cfg = [("map", c)]
        elif what in ("w1c1", "w4"):
            cfg = [("map-c1", 1)]
        return [(name, k, lambda ex, fn, a, k=k: list(ex.map(fn, a, chunksize=k)))
                for name, k in cfg]
    table = {"map": (c, lambda p, fn, a: p.map(fn, a)),
             "map-c1": (1, lambda p, fn, a: p.map(fn, a, 1)),
             "imap_unordered-c1": (1, lambda p, fn, a: list(p.imap_unordered(fn, a, 1))),
             "imap_unordered": (c, lambda p, fn, a: list(p.imap_unordered(fn, a, c)))}
    names = {"w1": ["map", "imap_unordered"], "w1c1": ["map-c1", "imap_unordered-c1"]}
    return [(name, table[name][0], table[name][1])
            for name in names.get(what, ["map", "map-c1", "imap_unordered-c1"])]


def check(what, args, out):
    """Whether out holds the right results (in any order: imap_unordered)."""
    if len(out) != len(args):
        return False
    if what in ("w1", "w1c1"):
        return sorted(out) == [x * x for x in args]
    if what == "w4":
        return sorted(out) == sorted(crc(a) for a in args)
    return True


def metrics(what, args, dt, workers):
    n = len(args)
    if what in ("w1", "w1c1"):
        return f"tasks_per_s={n / dt:.0f}"
    if what == "w4":
        return f"item_bytes={MIB} mb_per_s={n * MIB / dt * 1e-6:.1f} items_per_s={n / dt:.1f}"
    ideal = sum(args) * 1e-3 / workers
    return f"ideal={ideal:.4f} efficiency={ideal / dt:.3f}"


def make_pool(peer, workers):
    return Pool(workers) if peer == "mp" else ProcessPoolExecutor(workers)


def wanted(peer, what, name):
    """Whether to run configuration `name` (MP_CONFIGS, else all but W4's default map)."""
    keep = os.environ.get("MP_CONFIGS")
    if keep:
        return name in keep.split(",")
    return (peer, what, name) != ("mp", "w4", "map")


def run_workload(peer, what, workers, n):
    fn, args = workload(what, n)
    with make_pool(peer, workers) as pool:
        list(pool.map(square, range(10)))  # warm: workers started, like ppool_open
        for name, chunk, run in configs(peer, what, n, workers):
            if not wanted(peer, what, name):
                continue
            t0 = time.perf_counter()
            out = run(pool, fn, args)
            dt = time.perf_counter() - t0
            print(f"{NAMES[peer]} {LABELS[what]} workers={workers} tasks={n} transport=pipes "
                  f"config={name} chunksize={chunk} seconds={dt:.4f} "
                  f"{metrics(what, args, dt, workers)} ok={int(check(what, args, out))}", flush=True)


def apply_latency(peer, workers, n):
    """n round trips of one tiny task, one after the other: p50 and p99 in microseconds."""
    lat, ok = [], True
    with make_pool(peer, workers) as pool:
        call = pool.apply if peer == "mp" else lambda f, a: pool.submit(f, *a).result()
        call(square, (1,))
        for i in range(n):
            t0 = time.perf_counter()
            ok = call(square, (i,)) == i * i and ok
            lat.append(time.perf_counter() - t0)
    lat.sort()
    print(f"{NAMES[peer]} apply workers={workers} tasks={n} transport=pipes "
          f"p50_us={lat[n // 2] * 1e6:.1f} p99_us={lat[n * 99 // 100] * 1e6:.1f} ok={int(ok)}")


def startup_once(peer, workers):
    """Seconds from before the pool exists to after it is gone: create, map 4, close, join."""
    t0 = time.perf_counter()
    if peer == "mp":
        pool = Pool(workers)
        out = pool.map(square, range(4))
        pool.close()
        pool.join()
    else:
        ex = ProcessPoolExecutor(workers)
        out = list(ex.map(square, range(4)))
        ex.shutdown(wait=True)
    return time.perf_counter() - t0, out == [0, 1, 4, 9]


def startup(peer, workers, n):
    runs = [startup_once(peer, workers) for _ in range(n)]
    t = sorted(dt for dt, _ in runs)
    print(f"{NAMES[peer]} startup workers={workers} runs={n} transport=pipes "
          f"p50_ms={t[n // 2] * 1e3:.2f} min_ms={t[0] * 1e3:.2f} max_ms={t[-1] * 1e3:.2f} "
          f"ok={int(all(ok for _, ok in runs))}")


def idle(peer, workers, secs):
    """The master's CPU (all its threads) while its pool sits idle."""
    with make_pool(peer, workers) as pool:
        list(pool.map(square, range(10)))
        c0, t0 = time.process_time(), time.perf_counter()
        time.sleep(secs)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    print(f"{NAMES[peer]} idle workers={workers} transport=pipes wall={wall:.3f} "
          f"master_cpu_seconds={cpu:.5f} cpu_share={cpu / wall:.5f}")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in NAMES:
        sys.exit(__doc__.strip().splitlines()[2])
    peer, what = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if what == "apply":
        return apply_latency(peer, workers, n or 5000)
    if what == "startup":
        return startup(peer, workers, n or 10)
    if what == "idle":
        return idle(peer, workers, n or 2)
    if what not in LABELS:
        sys.exit(__doc__.strip().splitlines()[2])
    return run_workload(peer, what, workers, n or (200000 if what in ("w1", "w1c1") else 2000))


if __name__ == "__main__":
    main()
