"""_worker.py: the item format, and what runs in a worker: one pickled call per item, the initializer."""
import itertools
import os
import pickle
import sys
import traceback
from multiprocessing.pool import ExceptionWithTraceback, MaybeEncodingError

PROTOCOL = pickle.HIGHEST_PROTOCOL

# An item is [mode: 1 byte][n: 4 bytes LE][the pickled function: n bytes][the pickled payload].
APPLY, MAP, STARMAP, NOP = 0, 1, 2, 3  # payload: (args, kwds) | a batch | a batch of arg tuples | none
NOP_ITEM = bytes((NOP, 0, 0, 0, 0))  # stands for an item that failed in the master (its error is kept there)
_NOP_RESULT = pickle.dumps((True, None), PROTOCOL)

# Initializers travelling by memory: forked workers find them here (the master's, at the fork).
inherited = {}

_funcs = {}  # this worker's functions by their pickled bytes


def prefix(mode, func):
    """The bytes every item of a call starts with: its mode and its function, pickled (by reference)."""
    head = pickle.dumps(func, PROTOCOL)
    return bytes((mode,)) + len(head).to_bytes(4, "little") + head


def _function(head):
    func = _funcs.get(head)
    if func is None:
        func = pickle.loads(head)
        if len(_funcs) >= 256:
            _funcs.clear()
        _funcs[head] = func
    return func


def _call(item):
    mode, n = item[0], int.from_bytes(item[1:5], "little")
    func = _function(item[5:5 + n])
    payload = pickle.loads(memoryview(item)[5 + n:])
    if mode == MAP:
        return list(map(func, payload))
    if mode == STARMAP:
        return list(itertools.starmap(func, payload))
    args, kwds = payload
    return func(*args, **kwds)


def run(item):
    """Runs one item (bytes) and returns the pickled (success, value), as multiprocessing's worker
    sends it: an exception with its remote traceback, or MaybeEncodingError for a result that
    cannot be pickled. Never raises."""
    if item[0] == NOP:
        return _NOP_RESULT
    try:
        result = (True, _call(item))
    except BaseException as e:  # a task's SystemExit too: reported, not a dead worker
        result = (False, ExceptionWithTraceback(e, e.__traceback__))
    try:
        return pickle.dumps(result, PROTOCOL)
    except Exception as e:
        return pickle.dumps((False, MaybeEncodingError(e, result[1])), PROTOCOL)
    finally:
        result = None
        flush()


def _name_process():
    """multiprocessing.current_process() in a worker says so, as in multiprocessing's workers."""
    try:
        import multiprocessing.process
        multiprocessing.process.current_process().name = "PoolWorker-%d" % os.getpid()
    except Exception:
        pass


def init(arg):
    """Runs the pool's initializer in a new worker; None, or what went wrong, in one line."""
    _name_process()
    try:
        if arg[:1] == b"M":  # by memory: a forked worker
            found = inherited.get(int(arg[1:]))
            if found is None:
                return "initializer: this worker was not forked from the pool's process"
            initializer, initargs = found
        elif arg[:1] == b"P":  # pickled: an MPI rank
            initializer, initargs = pickle.loads(arg[1:])
        else:
            return None
        initializer(*initargs)
    except BaseException as e:
        where = traceback.extract_tb(e.__traceback__)[-1:]
        at = " (%s:%d in %s)" % (where[0].filename, where[0].lineno, where[0].name) if where else ""
        return "initializer raised %s: %s%s" % (type(e).__name__, e, at)
    finally:
        flush()
    return None


def flush():
    """Workers leave with os._exit: what a task printed must not stay in Python's buffers."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
