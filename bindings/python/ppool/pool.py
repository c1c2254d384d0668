"""pool.py: ppool.Pool: multiprocessing.Pool's methods and behaviour on ppool's C engine."""
import atexit
import collections
import itertools
import pickle
import sys
import threading
import traceback
import warnings
import weakref
import multiprocessing.pool as _mpp
from multiprocessing import TimeoutError

from . import _launch, _ppool, _worker
from ._worker import APPLY, MAP, NOP_ITEM, PROTOCOL, STARMAP

INIT, RUN, CLOSE, TERMINATE = "INIT", "RUN", "CLOSE", "TERMINATE"

__all__ = ["Pool", "AsyncResult", "ApplyResult", "MapResult", "IMapIterator",
           "IMapUnorderedIterator", "PoolError", "WorkerLostError", "TaskTimeoutError"]


class PoolError(RuntimeError):
    """The pool could not do the work: it failed to start, its transport broke, or it was
    terminated before the result was ready."""


class WorkerLostError(PoolError):
    """The worker running the task died, on each of its runs (ppool re-runs it `retries` times)."""


class TaskTimeoutError(PoolError, TimeoutError):
    """The task ran past the pool's task_timeout; its worker was stopped and replaced."""


_job_counter = itertools.count()
_init_keys = itertools.count()
_SENTINEL = -1  # the token that stops a pool's result handler
_ABANDONED = object()  # the outcome of work a terminated pool never did


def _engine_error(code, message):
    """The exception of an item ppool failed (the task itself never raised it)."""
    if code == _ppool.ECLOSED:
        return _ABANDONED
    if code == _ppool.ETIMEDOUT:
        return TaskTimeoutError(message)
    if code == _ppool.EWORKER:
        return WorkerLostError(message)
    return PoolError(message)


def _outcome(code, payload, local_error=None):
    """(success, value) of one item: what its worker pickled, or ppool's own failure, or the
    error the master met making the item (kept here, raised as it was)."""
    if local_error is not None:
        return (False, local_error)
    if code:
        return (False, _engine_error(code, payload))
    try:
        return pickle.loads(payload)
    except Exception as e:  # a result the master cannot unpickle: reported, never a hang
        return (False, _mpp.MaybeEncodingError(e, "a result of %d bytes" % len(payload)))


def _callback_failed():
    """A callback raised: said on stderr; its result is ready all the same and the pool goes on
    (multiprocessing's result handler would die, and every later result with it)."""
    sys.stderr.write("ppool: a callback raised (its result is ready all the same):\n"
                     + traceback.format_exc())


class _Cache(dict):
    """The results in flight, by job; join() waits for it to empty."""

    def __init__(self):
        super().__init__()
        self.cond = threading.Condition(threading.Lock())

    def drop(self, job):
        with self.cond:
            self.pop(job, None)
            if not self:
                self.cond.notify_all()

    def wait_empty(self):
        with self.cond:
            while self:
                self.cond.wait()


class ApplyResult(_mpp.ApplyResult):
    """The result of apply_async(): multiprocessing's AsyncResult (and an instance of it)."""

    def __init__(self, pool, callback, error_callback):
        self._pool = pool
        self._event = threading.Event()
        self._job = next(_job_counter)
        self._cache = pool._cache
        self._callback = callback
        self._error_callback = error_callback
        self._abandoned = False
        self._cache[self._job] = self

    def ready(self):
        return self._event.is_set()

    def successful(self):
        if not self.ready():
            raise ValueError("{0!r} not ready".format(self))
        return self._success

    def wait(self, timeout=None):
        if timeout is not None:
            self._event.wait(timeout)
            return
        while not self._event.wait(0.5) and not self._abandoned:
            pass

    def get(self, timeout=None):
        self.wait(timeout)
        if not self.ready():
            if self._abandoned and timeout is None:
                raise PoolError("the pool was terminated before this result was ready")
            raise TimeoutError
        if self._success:
            return self._value
        raise self._value

    def _set(self, i, obj):
        self._success, self._value = obj
        try:
            if self._callback and self._success:
                self._callback(self._value)
            if self._error_callback and not self._success:
                self._error_callback(self._value)
        except BaseException:
            _callback_failed()
        finally:
            self._event.set()
            self._cache.drop(self._job)
            self._pool = None

    def _abandon(self):
        """The pool was terminated: never ready (as in multiprocessing), but get() says so."""
        self._abandoned = True
        self._cache.drop(self._job)
        self._pool = None


AsyncResult = ApplyResult


class MapResult(ApplyResult, _mpp.MapResult):
    """The result of map_async() and starmap_async(): ready once every chunk is done."""

    def __init__(self, pool, chunksize, length, callback, error_callback):
        ApplyResult.__init__(self, pool, callback, error_callback)
        self._success = True
        self._value = [None] * length
        self._chunksize = chunksize
        if chunksize <= 0:
            self._number_left = 0
            self._event.set()
            self._cache.drop(self._job)
        else:
            self._number_left = length // chunksize + bool(length % chunksize)

    def _set(self, i, success_result):
        self._number_left -= 1
        success, result = success_result
        if success and self._success:
            self._value[i * self._chunksize:(i + 1) * self._chunksize] = result
        elif not success and self._success:
            self._success = False  # only the first exception is kept
            self._value = result
        if self._number_left == 0:
            self._finish()

    def _set_whole(self, values):
        self._number_left = 0
        self._value = values
        self._finish()

    def _finish(self):
        try:
            if self._success and self._callback:
                self._callback(self._value)
            if not self._success and self._error_callback:
                self._error_callback(self._value)
        except BaseException:
            _callback_failed()
        finally:
            self._event.set()
            self._cache.drop(self._job)
            self._pool = None


class IMapIterator(_mpp.IMapIterator):
    """The iterator of imap(): results in order, pulled from the pool as they are read, so a
    huge or endless input is consumed only a bounded window ahead of the reader."""

    def __init__(self, pool, engine_iter, errors, single):
        self._pool = pool
        self._it = engine_iter
        self._errors = errors  # index -> exception met in the master making that item
        self._single = single  # chunksize 1: each result is a list of one
        self._lock = threading.Lock()
        self._items = collections.deque()  # outcomes taken, not read yet
        self._done = False
        self._abandoned = False
        pool._core.iters.add(self)

    def __iter__(self):
        return self

    def next(self, timeout=None):
        with self._lock:
            item = self._items.popleft() if self._items else self._fetch(timeout)
        success, value = item
        if success:
            return value
        raise value

    __next__ = next

    def _fetch(self, timeout):
        """The next outcome: from the results ppool has ready, taken a batch at a time."""
        self._fill(timeout)
        return self._items.popleft()

    def _fill(self, timeout):
        """Appends the outcomes ppool has ready (waiting for one) to _items; StopIteration at the
        end, TimeoutError (PoolError without a timeout) when none comes."""
        if self._done:
            raise StopIteration
        if self._abandoned:
            return self._never(timeout)
        try:
            batch = self._it.next(timeout)
        except StopIteration:  # the end: nothing more to ask the pool for
            self._done = True
            self._pool = None
            raise
        if batch is None:
            raise TimeoutError
        for index, code, payload in batch:
            success, value = _outcome(code, payload, self._errors.pop(index, None))
            if value is _ABANDONED:
                self._abandoned = True
                break
            self._items.append((success, value[0] if success and self._single else value))
        if not self._items:
            self._never(timeout)

    def _never(self, timeout):
        if timeout is None:
            raise PoolError("the pool was terminated before this result was ready")
        raise TimeoutError

    def _drain(self):
        """join(): takes every result still to come (the work must finish, as in multiprocessing)."""
        with self._lock:
            while not self._done and not self._abandoned:
                try:
                    self._fill(None)
                except StopIteration:
                    self._done = True
                except PoolError:
                    break

    def __del__(self):
        it = getattr(self, "_it", None)
        if it is not None:
            it.close()


class IMapUnorderedIterator(IMapIterator, _mpp.IMapUnorderedIterator):
    """The iterator of imap_unordered(): results as they are done."""


def _batches(iterable, size):
    it = iter(iterable)
    while True:
        batch = tuple(itertools.islice(it, size))
        if not batch:
            return
        yield batch


def _feeder(func, iterable, chunksize, errors):
    """The source of an imap: the next item's bytes each call, None at the end. Runs on ppool's
    dispatcher as workers need items. Errors of the input (as multiprocessing does: the error is
    that item's, and the input ends) and of pickling are kept in `errors` by item index."""
    state = {"it": None, "head": None, "end": False}
    count = itertools.count()

    def feed():
        if state["end"]:
            return None
        i = next(count)
        try:
            if state["it"] is None:
                state["it"] = iter(iterable)
            batch = tuple(itertools.islice(state["it"], chunksize))
        except Exception as e:
            state["end"] = True
            errors[i] = e
            return NOP_ITEM
        if not batch:
            state["end"] = True
            return None
        try:
            if state["head"] is None:
                state["head"] = _worker.prefix(MAP, func)
            return state["head"] + pickle.dumps(batch, PROTOCOL)
        except Exception as e:
            errors[i] = e
            return NOP_ITEM

    return feed


def _chunk_items(func, mode, iterable, chunksize):
    """The pickled chunks of a map, and the errors met making them (by chunk index)."""
    batches = list(_batches(iterable, chunksize))
    try:
        head = _worker.prefix(mode, func)
    except Exception as e:  # every chunk fails with it, as in multiprocessing
        return [NOP_ITEM] * len(batches), {i: e for i in range(len(batches))}
    items, errors = [], {}
    for i, batch in enumerate(batches):
        try:
            items.append(head + pickle.dumps(batch, PROTOCOL))
        except Exception as e:
            errors[i] = e
            items.append(NOP_ITEM)
    return items, errors


def _run_map(engine, job, func, mode, iterable, chunksize, nchunks):
    """A map_async's thread: pickles the chunks, runs them (ppool_map_bufs, without the GIL), and
    posts the outcome to the result handler: the whole list when every chunk succeeded, else
    each chunk's (index, (success, value)). Always posts."""
    try:
        items, errors = _chunk_items(func, mode, iterable, chunksize)
        try:
            outs = engine.map(items)
        except _ppool.EngineError as e:
            outs = [(e.args[0], e.args[1])] * len(items)
        sets = [_outcome(0, out, errors.get(i)) if type(out) is bytes
                else _outcome(out[0], out[1]) for i, out in enumerate(outs)]
        if all(ok for ok, _ in sets):
            engine.post(job, ("whole", list(itertools.chain.from_iterable(v for _, v in sets))))
            return
        engine.post(job, list(enumerate(sets)))
    except BaseException as e:  # whatever happens, the result must become ready
        engine.post(job, [(i, (False, e)) for i in range(nchunks)])


class _Core:
    """What a pool's threads share (never the Pool itself, so an unused pool can be collected):
    the engine, the results in flight, the live iterators, the result handler thread."""

    def __init__(self, engine):
        self.engine = engine
        self.cache = _Cache()
        self.iters = weakref.WeakSet()
        self.terminated = False
        self.closed = False
        self.joined = False
        self.handler = threading.Thread(target=_handle_results, args=(engine, self.cache),
                                        name="ppool-results", daemon=True)
        self.handler.start()
        _launch.live.add(self)

    def stop_handler(self):
        self.engine.post(_SENTINEL, None)
        if threading.current_thread() is not self.handler:
            self.handler.join()

    def terminate(self):
        if self.terminated:
            return
        self.terminated = True
        _launch.live.discard(self)
        for r in list(self.cache.values()):
            r._abandon()
        self.engine.terminate()
        self.stop_handler()  # the engine is freed with its last reference (a map's thread)

    def join(self):
        if self.terminated or self.joined:
            if threading.current_thread() is not self.handler:
                self.handler.join()
            return
        self.cache.wait_empty()
        for it in list(self.iters):
            it._drain()
        self.engine.close()
        self.engine.join()
        self.joined = True
        _launch.live.discard(self)
        self.stop_handler()


def _handle_results(engine, cache):
    """The result handler thread: completes results and runs their callbacks, one at a time and
    in completion order, as multiprocessing's does."""
    while True:
        for token, code, payload in engine.next_done(1.0):
            if token == _SENTINEL:
                return
            result = cache.get(token)
            if result is None:
                continue
            try:
                if code is None and type(payload) is tuple:  # a map that fully succeeded
                    result._set_whole(payload[1])
                    continue
                if code is None:  # a map's chunks, posted by its thread
                    outcomes = payload
                else:
                    outcomes = [(0, _outcome(code, payload))]
                for i, obj in outcomes:
                    if obj[1] is _ABANDONED:
                        result._abandon()
                        break
                    result._set(i, obj)
            except BaseException:
                _callback_failed()


@atexit.register
def _terminate_all():
    """At exit, as multiprocessing's finalizers do: running pools are terminated (their workers
    stopped) before the interpreter goes, so ppool's dispatcher never meets a dead Python."""
    for core in list(_launch.live):
        try:
            core.terminate()
        except Exception:
            pass
    _launch.at_exit()


def _one_mpi_pool():
    """Ranks serve one pool at a time: a pool that was closed is joined first (its ranks finish
    its work), one still running is an error (the new pool would wait for its ranks)."""
    for core in list(_launch.live):
        if core.engine.transport != "mpi":
            continue
        if not core.closed:
            raise PoolError("under MPI a rank serves one pool at a time: close, terminate or "
                            "join the open pool before opening another")
        core.join()


class Pool:
    """multiprocessing.Pool on ppool: forked local workers, or MPI ranks under
    `mpirun -n N python3 -m ppool script.py`. Beyond multiprocessing: task_timeout (seconds a
    task may run; then TaskTimeoutError and a fresh worker) and retries (re-runs of a task whose
    worker died; None: ppool's default, 3; 0: none, WorkerLostError at once)."""

    def __init__(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None,
                 context=None, *, task_timeout=None, retries=None):
        self._state = INIT
        self._core = None
        self._cache = _Cache()
        if processes is not None and processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None:
            if not isinstance(maxtasksperchild, int) or maxtasksperchild <= 0:
                raise ValueError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError('initializer must be a callable')
        if task_timeout is not None and not task_timeout > 0:
            raise ValueError("task_timeout must be positive seconds or None")
        if retries is not None and (not isinstance(retries, int) or retries < 0):
            raise ValueError("retries must be an int >= 0 or None")
        self._task_timeout = task_timeout
        _launch.before_pool()
        self._open(processes, initializer, tuple(initargs), maxtasksperchild, task_timeout, retries)
        self._state = RUN

    def _open(self, processes, initializer, initargs, maxtasks, task_timeout, retries):
        if _launch.mpi_world():
            _one_mpi_pool()
        workers = _launch.workers_for(processes)
        key, initarg = None, b""
        if initializer is not None:
            if _launch.mpi_world():  # ranks share no memory: the initializer travels pickled
                initarg = b"P" + pickle.dumps((initializer, initargs), PROTOCOL)
            else:  # forked workers inherit it, as multiprocessing's fork does (no pickling)
                key = next(_init_keys)
                _worker.inherited[key] = (initializer, initargs)
                initarg = b"M%d" % key
        _worker.flush()  # buffered output would be written again by every worker
        try:
            engine = _ppool.Engine(workers, initarg, maxtasks or 0,
                                   -1 if retries is None else retries, float(task_timeout or 0))
        except _ppool.EngineError as e:
            code, message = e.args
            raise (ValueError if code == _ppool.EINVAL else PoolError)(message) from None
        finally:
            _worker.inherited.pop(key, None)  # the workers have their copy
        self._processes = engine.size
        self._transport = engine.transport
        _launch.opened(engine.transport)
        self._core = _Core(engine)
        self._cache = self._core.cache

    def __repr__(self):
        cls = self.__class__
        return (f'<{cls.__module__}.{cls.__qualname__} state={self._state} '
                f'pool_size={getattr(self, "_processes", 0)}>')

    def __reduce__(self):
        raise NotImplementedError('pool objects cannot be passed between processes or pickled')

    def __del__(self, _warn=warnings.warn, RUN=RUN):
        if getattr(self, "_state", None) == RUN:
            _warn(f"unclosed running multiprocessing pool {self!r}", ResourceWarning, source=self)
            try:
                self._core.terminate()
            except Exception:
                pass

    def _check_running(self):
        if self._state != RUN:
            raise ValueError("Pool not running")

    # ---- apply ----

    def apply(self, func, args=(), kwds={}):
        """Equivalent of `func(*args, **kwds)` in a worker."""
        return self.apply_async(func, args, kwds).get()

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        """Asynchronous apply(): an AsyncResult."""
        self._check_running()
        result = ApplyResult(self, callback, error_callback)
        engine = self._core.engine
        try:
            item = _worker.prefix(APPLY, func) + pickle.dumps((args, kwds), PROTOCOL)
        except Exception as e:  # as multiprocessing: the result fails, apply_async does not
            engine.post(result._job, [(0, (False, e))])
            return result
        try:
            engine.submit(item, result._job)
        except _ppool.EngineError as e:
            self._cache.drop(result._job)
            if self._state != RUN:
                raise ValueError("Pool not running") from None
            raise (ValueError if e.args[0] == _ppool.EINVAL else PoolError)(e.args[1]) from None
        return result

    # ---- map ----

    def map(self, func, iterable, chunksize=None):
        """A list of func(x) for x in iterable, in order."""
        return self._map_async(func, iterable, MAP, chunksize).get()

    def starmap(self, func, iterable, chunksize=None):
        """Like map(), each element unpacked as the arguments: func(*args)."""
        return self._map_async(func, iterable, STARMAP, chunksize).get()

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        """Asynchronous map(): a MapResult."""
        return self._map_async(func, iterable, MAP, chunksize, callback, error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        """Asynchronous starmap(): a MapResult."""
        return self._map_async(func, iterable, STARMAP, chunksize, callback, error_callback)

    def _map_async(self, func, iterable, mode, chunksize=None, callback=None,
                   error_callback=None):
        self._check_running()
        if not hasattr(iterable, '__len__'):
            iterable = list(iterable)
        if chunksize is None:
            if self._task_timeout:  # each task's deadline is its own (as ppool's C maps do)
                chunksize = 1
            else:
                chunksize, extra = divmod(len(iterable), self._processes * 4)
                if extra:
                    chunksize += 1
        if len(iterable) == 0:
            chunksize = 0
        result = MapResult(self, chunksize, len(iterable), callback, error_callback)
        if chunksize > 0:
            threading.Thread(target=_run_map, name="ppool-map", daemon=True,
                             args=(self._core.engine, result._job, func, mode, iterable,
                                   chunksize, result._number_left)).start()
        return result

    # ---- imap ----

    def imap(self, func, iterable, chunksize=1):
        """An iterator of func(x) for x in iterable, in order, consuming iterable lazily."""
        self._check_running()
        if chunksize == 1:
            return self._imap(IMapIterator, func, iterable, 1, True)
        if chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0:n}".format(chunksize))
        result = self._imap(IMapIterator, func, iterable, chunksize, True)
        return (item for chunk in result for item in chunk)

    def imap_unordered(self, func, iterable, chunksize=1):
        """Like imap(), results in the order they are done."""
        self._check_running()
        if chunksize == 1:
            return self._imap(IMapUnorderedIterator, func, iterable, 1, False)
        if chunksize < 1:
            raise ValueError("Chunksize must be 1+, not {0!r}".format(chunksize))
        result = self._imap(IMapUnorderedIterator, func, iterable, chunksize, False)
        return (item for chunk in result for item in chunk)

    def _imap(self, cls, func, iterable, chunksize, ordered):
        errors = {}
        feed = _feeder(func, iterable, chunksize, errors)
        try:
            it = self._core.engine.imap(feed, ordered)
        except _ppool.EngineError as e:
            if self._state != RUN:
                raise ValueError("Pool not running") from None
            raise PoolError(e.args[1]) from None
        return cls(self, it, errors, chunksize == 1)

    # ---- life ----

    def close(self):
        """No more work; the workers leave once the outstanding work is done (join())."""
        if self._state == RUN:  # ppool_close waits for join(): a map_async's thread may
            self._state = CLOSE  # not have handed its chunks to ppool yet
            self._core.closed = True

    def terminate(self):
        """Stops the workers at once; outstanding work is not done."""
        self._state = TERMINATE
        if self._core is not None:
            self._core.terminate()

    def join(self):
        """After close() or terminate(): waits for the outstanding work and the workers' end."""
        if self._state == RUN:
            raise ValueError("Pool is still running")
        elif self._state not in (CLOSE, TERMINATE):
            raise ValueError("In unknown state")
        self._core.join()

    def __enter__(self):
        self._check_running()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.terminate()
