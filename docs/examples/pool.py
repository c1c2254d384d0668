"""pool.py: the Python page's example (docs/python.md): compute_square over 1..16, starmap of
compute_power, imap_unordered, apply_async with a timeout. Plainly: forked workers; under
`mpirun -n 3 python3 -m ppool docs/examples/pool.py`: two MPI worker ranks."""
import time
from multiprocessing import TimeoutError

from ppool import Pool


def compute_square(n):
    time.sleep(0.1)  # a short simulated job
    return n * n


def compute_power(base, exponent):
    return base ** exponent


if __name__ == "__main__":
    with Pool(4) as pool:  # Pool(): one worker per usable core (or per MPI rank but rank 0)
        squares = pool.map(compute_square, range(1, 17))
        print("squares:", squares)
        powers = pool.starmap(compute_power, [(2, 10), (3, 4), (6, 3)])
        print("powers:", powers)
        for sq in pool.imap_unordered(compute_square, range(5)):
            print("as done:", sq)
        slow = pool.apply_async(time.sleep, (10,))
        try:
            slow.get(timeout=1)
        except TimeoutError:
            print("no result within 1 s: multiprocessing.TimeoutError")
    print("%d squared is %d" % (16, squares[-1]))
