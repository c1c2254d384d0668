"""mp_style.py: a script written for multiprocessing.Pool, whose only change is `from ppool import
Pool` (`--mp` runs it on multiprocessing.Pool instead). It checks what it gets and says ok."""
import multiprocessing.pool
import sys
import time
from multiprocessing import TimeoutError

if "--mp" in sys.argv:
    from multiprocessing import Pool
else:
    from ppool import Pool


def compute_square(x):
    return x * x


def compute_power(base, exponent):
    return base ** exponent


def slow(seconds):
    time.sleep(seconds)
    return seconds


class Point:
    """The script's own class, as an argument and as a result."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)


def mirror(p):
    return Point(p.y, p.x)


class ScriptError(Exception):
    pass


def fail(x):
    raise ScriptError("no %d" % x)


STATE = None


def init(value):
    global STATE
    STATE = value


def state(_):
    return STATE


def numbers(n):
    for i in range(n):
        yield i


def check_pool(pool):
    assert pool.map(compute_square, range(1, 17)) == [x * x for x in range(1, 17)]
    assert pool.map(compute_square, range(100), chunksize=7) == [x * x for x in range(100)]
    assert pool.starmap(compute_power, [(2, 5), (3, 3), (6, 3)]) == [32, 27, 216]
    assert sorted(pool.imap_unordered(compute_square, range(10))) == [x * x for x in range(10)]
    assert list(pool.imap(compute_square, numbers(10), chunksize=3)) == [x * x for x in range(10)]
    assert pool.map(compute_square, []) == [] and list(pool.imap(compute_square, [])) == []
    assert pool.apply(mirror, (Point(1, 2),)) == Point(2, 1)
    assert pool.map(mirror, [Point(0, 1)]) == [Point(1, 0)]
    r = pool.apply_async(slow, (1.5,))
    try:
        r.get(timeout=0.1)
        raise AssertionError("no TimeoutError")
    except TimeoutError:
        pass
    try:
        r.successful()
        raise AssertionError("successful() before ready()")
    except ValueError:
        pass
    assert r.get(timeout=60) == 1.5 and r.successful()
    try:
        pool.map(fail, [1, 2])
        raise AssertionError("no ScriptError")
    except ScriptError as e:
        assert str(e) in ("no 1", "no 2"), e  # multiprocessing: the first to fail
        assert isinstance(e.__cause__, multiprocessing.pool.RemoteTraceback)
        assert "in fail" in str(e.__cause__)
    got, errors = [], []
    pool.map_async(compute_square, [3], callback=got.append).wait(60)
    pool.apply_async(fail, (2,), error_callback=errors.append).wait(60)
    assert got == [[9]] and isinstance(errors[0], ScriptError), (got, errors)
    it = pool.imap(slow, [1.0])
    try:
        it.next(timeout=0.05)
        raise AssertionError("no TimeoutError from next")
    except TimeoutError:
        pass
    assert it.next(timeout=60) == 1.0


def main():
    with Pool(2) as pool:
        check_pool(pool)
        where = getattr(pool, "_transport", "multiprocessing")
    with Pool(2, initializer=init, initargs=(7,)) as pool:
        assert set(pool.map(state, range(6), chunksize=1)) == {7}
    pool = Pool(processes=2, maxtasksperchild=2)
    out = pool.map_async(compute_square, range(20), chunksize=1)
    pool.close()
    pool.join()
    assert out.ready() and out.get() == [x * x for x in range(20)]
    try:
        pool.apply(compute_square, (1,))
        raise AssertionError("a closed pool took work")
    except ValueError:
        pass
    args = [a for a in sys.argv[1:] if a != "--mp"]
    print("mp_style: ok (%s) args=%s" % (where, " ".join(args)))


if __name__ == "__main__":
    main()
