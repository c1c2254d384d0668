"""mpi4py_futures.py: the mpi4py.futures peer on W3 (W2, W3ramp): a line per MPIPoolExecutor setting."""
import sys
import time
from concurrent.futures import as_completed

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor

from mp_pool import LABELS, square, workload


def run_map(chunksize, unordered=False):
    def run(ex, fn, args):
        return list(ex.map(fn, args, chunksize=chunksize, unordered=unordered))
    return run


def run_as_completed(ex, fn, args):
    return [f.result() for f in as_completed([ex.submit(fn, a) for a in args])]


def configs(n, workers):
    """executor.map at chunksize 1, a few larger ones (the largest as multiprocessing picks), then
    submit + as_completed."""
    out = [("map-c1", run_map(1)), ("map-c1-unordered", run_map(1, unordered=True))]
    for c in sorted({4, 16, max(1, n // (4 * workers))}):
        out.append((f"map-c{c}", run_map(c)))
    out.append(("submit-as_completed", run_as_completed))
    return out


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "w3"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    if what not in ("w2", "w3", "w3ramp"):
        sys.exit("usage: mpirun -n 1+WORKERS python3 -m mpi4py.futures mpi4py_futures.py "
                 "w2|w3|w3ramp [n]")
    fn, args = workload(what, n)
    workers = MPI.COMM_WORLD.Get_size() - 1  # under -m mpi4py.futures: every other rank
    with MPIPoolExecutor() as ex:
        list(ex.map(square, range(10)))  # warm: workers up and connected, like ppool_open
        ideal = sum(args) * 1e-3 / workers
        for name, run in configs(n, workers):
            t0 = time.perf_counter()
            out = run(ex, fn, args)
            dt = time.perf_counter() - t0
            print(f"mpi4py-futures {LABELS[what]} workers={workers} tasks={n} transport=mpi "
                  f"config={name} seconds={dt:.4f} "
                  f"ideal={ideal:.4f} efficiency={ideal / dt:.3f} ok={int(len(out) == n)}", flush=True)


if __name__ == "__main__":
    main()
