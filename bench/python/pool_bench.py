"""pool_bench.py: ppool.Pool against multiprocessing.Pool, side by side in one run, on W1 (tiny
x*x tasks) and W2 (1 ms sleeps), best of REPEATS. Every run checks its results.

usage: PYTHONPATH=<build>/bindings/python python3 bench/python/pool_bench.py [WORKERS] [REPEATS]
"""
import multiprocessing
import sys
import time

import ppool

W1_N = 200000    # W1: x*x on ints, default chunking (multiprocessing's pick: n / (4 x workers))
W1C1_N = 50000   # W1 at chunksize 1: one task per item
APPLY_N = 10000  # apply_async of x*x, one at a time, then every get()
W2_N = 2000      # W2: time.sleep(0.001), chunksize 1


def square(x):
    return x * x


def nap(ms):
    time.sleep(ms * 1e-3)
    return ms


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ok = fn()
        times.append(time.perf_counter() - t0)
        assert ok, "wrong results"
    return min(times)


def workloads(pool):
    """name -> (items, a run that returns whether its results are right)."""
    want = sum(x * x for x in range(W1_N))
    want1 = [x * x for x in range(W1C1_N)]
    return {
        "W1 map (default chunks)": (W1_N, lambda: sum(pool.map(square, range(W1_N))) == want),
        "W1 map chunksize=1": (W1C1_N, lambda: pool.map(square, range(W1C1_N), 1) == want1),
        "W1 imap chunksize=1": (W1C1_N, lambda: list(pool.imap(square, range(W1C1_N))) == want1),
        "W1 imap_unordered c=1": (W1C1_N, lambda: sorted(pool.imap_unordered(
            square, range(W1C1_N))) == want1),
        "W1 apply_async": (APPLY_N, lambda: [r.get() for r in [
            pool.apply_async(square, (x,)) for x in range(APPLY_N)]] == want1[:APPLY_N]),
        "W2 map 1 ms sleeps c=1": (W2_N, lambda: pool.map(nap, [1.0] * W2_N, 1) == [1.0] * W2_N),
    }


def measure(make, workers, repeats):
    with make(workers) as pool:
        pool.map(square, range(100))  # the workers are up
        return {name: (n, best(run, repeats)) for name, (n, run) in workloads(pool).items()}


def main():
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print("# ppool %s vs multiprocessing.Pool (Python %s): %d workers, best of %d"
          % (ppool.__version__, sys.version.split()[0], workers, repeats))
    ours = measure(ppool.Pool, workers, repeats)
    theirs = measure(multiprocessing.Pool, workers, repeats)
    print("%-26s %8s %13s %13s %8s" % ("workload", "tasks", "ppool /s", "mp.Pool /s", "ratio"))
    for name, (n, t) in ours.items():
        t_mp = theirs[name][1]
        line = "%-26s %8d %13.0f %13.0f %8.2f" % (name, n, n / t, n / t_mp, t_mp / t)
        if name.startswith("W2"):
            ideal = n * 1e-3 / workers
            line += "   efficiency ppool %.3f, mp %.3f" % (ideal / t, ideal / t_mp)
        print(line)
    print("# ratio = multiprocessing's time / ppool's: above 1, ppool is faster")


if __name__ == "__main__":
    main()
