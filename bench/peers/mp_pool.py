"""mp_pool.py: the Python peers on W1, W2, W3 and apply latency: multiprocessing.Pool and ProcessPoolExecutor."""
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Pool


def square(x):
    return x * x


def spin(ms):
    until = time.perf_counter() + ms * 1e-3
    while time.perf_counter() < until:
        pass
    return None


def workload(what, n):
    """The task function and its arguments, the same items as ppool_bench.c (peers import it)."""
    if what == "w1":
        return square, range(n)
    if what == "w2":
        return spin, [1.0] * n
    return spin, [2.0 * i / n for i in range(n)]  # w3: item i costs 2 ms * i / n


def apply_latency(peer, workers, n):
    """n round trips of one tiny task, one after the other: p50 and p99 in microseconds."""
    lat = []
    if peer == "mp":
        with Pool(workers) as pool:
            pool.apply(square, (1,))
            for i in range(n):
                t0 = time.perf_counter()
                ok = pool.apply(square, (i,)) == i * i
                lat.append(time.perf_counter() - t0)
    else:
        with ProcessPoolExecutor(workers) as ex:
            ex.submit(square, 1).result()
            for i in range(n):
                t0 = time.perf_counter()
                ok = ex.submit(square, i).result() == i * i
                lat.append(time.perf_counter() - t0)
    lat.sort()
    name = {"mp": "multiprocessing.Pool", "ppe": "ProcessPoolExecutor"}[peer]
    print(f"{name} apply workers={workers} tasks={n} p50_us={lat[n // 2] * 1e6:.1f} "
          f"p99_us={lat[n * 99 // 100] * 1e6:.1f} ok={int(ok)}")


def main():
    peer, what = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    if what == "apply":
        return apply_latency(peer, workers, int(sys.argv[4]) if len(sys.argv) > 4 else 5000)
    n = int(sys.argv[4]) if len(sys.argv) > 4 else (200000 if what == "w1" else 2000)
    fn, args = workload(what, n)
    if peer == "mp":
        with Pool(workers) as pool:
            pool.map(square, range(10))  # warm: workers started, like ppool_open
            t0 = time.perf_counter()
            out = pool.map(fn, args)
            dt = time.perf_counter() - t0
    else:
        with ProcessPoolExecutor(workers) as ex:
            list(ex.map(square, range(10)))
            t0 = time.perf_counter()
            # chunksize as multiprocessing's default would pick, so the peer is not crippled
            chunk = max(1, n // (4 * workers))
            out = list(ex.map(fn, args, chunksize=chunk))
            dt = time.perf_counter() - t0
    ok = len(out) == n and (what != "w1" or out[-1] == (n - 1) ** 2)
    name = {"mp": "multiprocessing.Pool", "ppe": "ProcessPoolExecutor"}[peer]
    if what == "w1":
        print(f"{name} W1 workers={workers} tasks={n} seconds={dt:.4f} tasks_per_s={n / dt:.0f} ok={int(ok)}")
    else:
        ideal = sum(args) * 1e-3 / workers
        print(f"{name} W{what[1]} workers={workers} tasks={n} seconds={dt:.4f} ideal={ideal:.4f} "
              f"efficiency={ideal / dt:.3f} ok={int(ok)}")


if __name__ == "__main__":
    main()
