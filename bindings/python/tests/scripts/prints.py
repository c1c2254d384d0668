"""prints.py: tasks that print in the workers (their output must reach the pipe), and argv."""
import sys

from ppool import Pool


def shout(x):
    print("task %d says hello" % x)
    sys.stdout.write("partial line %d;" % x)  # no newline: flushed all the same
    return x


if __name__ == "__main__":
    with Pool(2) as pool:
        assert pool.map(shout, range(3), chunksize=1) == [0, 1, 2]
        pool.close()
        pool.join()
    print("\nargv", sys.argv[1:])
