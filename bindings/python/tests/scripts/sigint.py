"""sigint.py: PIDFILE MODE: a long map that the test interrupts with SIGINT (Ctrl-C). MODE is
`with` (a with block), `plain` (no with: the pool is left to the interpreter's exit) or `imap`."""
import os
import sys
import time

from ppool import Pool


def nap(seconds):
    with open(sys.argv[1], "a") as f:
        f.write("%d\n" % os.getpid())
    time.sleep(seconds)
    return seconds


def main():
    mode = sys.argv[2]
    print("started", flush=True)
    if mode == "with":
        with Pool(2) as pool:
            pool.map(nap, [60] * 4, chunksize=1)
    elif mode == "imap":
        with Pool(2) as pool:
            for _ in pool.imap(nap, [60] * 4):
                pass
    else:
        pool = Pool(2)
        pool.map(nap, [60] * 4, chunksize=1)


if __name__ == "__main__":
    main()
