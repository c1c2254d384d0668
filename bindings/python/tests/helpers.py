"""helpers.py: task functions the tests send to workers (by reference, as multiprocessing pickles)."""
import os
import signal
import time

MASTER_PID = os.getpid()  # the test process (workers are forked from it)
_state = {"value": None}


def square(x):
    return x * x


def compute_power(base, exponent):
    return base ** exponent


def add(a, b=0, *, c=0):
    return a + b + c


def nap(seconds):
    time.sleep(seconds)
    return seconds


def getpid(_=None):
    return os.getpid()


def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()


class CustomError(Exception):
    def __init__(self, message, code):
        super().__init__(message, code)
        self.code = code


def boom(x):
    raise ValueError("boom %r" % (x,))


def boom_on(x, bad=3):
    if x == bad:
        raise KeyError(x)
    return x * x


def raise_custom(x):
    raise CustomError("custom %d" % x, x)


def return_lambda(_=None):
    return lambda: 1  # a result that cannot be pickled


class _Unpicklable(Exception):
    def __init__(self):
        super().__init__("holds a lock")
        self.lock = __import__("threading").Lock()


def raise_unpicklable(_=None):
    raise _Unpicklable()


def set_state(value):
    _state["value"] = value


def get_state(_=None):
    return _state["value"]


def die_once(path):
    """Kills its own worker the first time it runs (the marker file says so), then succeeds."""
    if not os.path.exists(path):
        with open(path, "w"):
            pass
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def die(_=None):
    os.kill(os.getpid(), signal.SIGKILL)


def write_pid_and_nap(path, seconds):
    """Announces its worker's pid (for the test to kill it from outside), then sleeps on its first
    run only (the file was empty): a kill aimed at that run always finds it running."""
    with open(path, "a") as f:
        first = f.tell() == 0
        f.write("%d\n" % os.getpid())
    if first:
        time.sleep(seconds)
    return os.getpid()


def _fail_in_master():
    if os.getpid() == MASTER_PID:
        raise TypeError("this object cannot be unpickled in the master")
    return _Reduced()


class _Reduced:
    def __reduce__(self):
        return (_fail_in_master, ())


def return_master_unpicklable(_=None):
    return _Reduced()


class Countdown:
    """An iterable without len(): yields n-1 .. 0."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n - 1, -1, -1))


def failing_gen(n, at):
    for i in range(n):
        if i == at:
            raise RuntimeError("input failed at %d" % i)
        yield i
