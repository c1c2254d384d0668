"""mpi_edges.py: what differs on MPI ranks, under `mpirun -n 3 python3 -m ppool mpi_edges.py`:
sizes capped at the worker ranks, one pool at a time, no pool in a task, a task_timeout."""
import os
import time

from ppool import Pool, PoolError, TaskTimeoutError


def pid(_):
    time.sleep(0.05)
    return os.getpid()


def nap(seconds):
    time.sleep(seconds)
    return seconds


def nested(_):
    Pool(1)


def main():
    with Pool(8) as pool:  # capped at the 2 worker ranks
        assert pool._processes == 2 and pool._transport == "mpi", pool
        assert os.getpid() not in pool.map(pid, range(6), chunksize=1)
        try:
            pool.apply(nested, (0,))
            raise AssertionError("a task opened a pool on a worker rank")
        except RuntimeError as e:
            assert "MPI worker rank" in str(e), e
        try:
            Pool(1)
            raise AssertionError("a second MPI pool opened")
        except PoolError as e:
            assert "one pool at a time" in str(e), e
    pool = Pool()
    assert pool._processes == 2
    out = pool.map_async(nap, [0.1] * 4, chunksize=1)
    pool.close()
    with Pool(1) as other:  # the closed pool is joined first
        assert out.ready() and other.apply(nap, (0,)) == 0
    with Pool(2, task_timeout=0.5) as pool:
        try:
            pool.apply(nap, (2,))
            raise AssertionError("no TaskTimeoutError")
        except TaskTimeoutError:
            pass
    print("mpi_edges: ok")


if __name__ == "__main__":
    main()
