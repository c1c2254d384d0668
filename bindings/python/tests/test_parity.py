"""test_parity.py: multiprocessing.Pool's documented behaviour, asserted on ppool.Pool and, the same
assertions, on multiprocessing.Pool itself (the oracle): where they pass on both, the two match."""
import itertools
import multiprocessing
import multiprocessing.pool
import pickle
import threading
import time
import unittest

import ppool
from helpers import (Countdown, CustomError, add, boom, boom_on, compute_power, failing_gen,
                     get_state, getpid, nap, pid_after, raise_custom, raise_unpicklable,
                     return_lambda, set_state, square)

WORKERS = 2


class Behaviours:
    """Mixed into one TestCase per pool class (Pool below)."""
    Pool = None

    @classmethod
    def setUpClass(cls):
        cls.pool = cls.Pool(WORKERS)

    @classmethod
    def tearDownClass(cls):
        cls.pool.terminate()
        cls.pool.join()

    # ---- map, starmap ----

    def test_map(self):
        self.assertEqual(self.pool.map(square, range(10)), [x * x for x in range(10)])

    def test_map_chunksizes(self):
        want = [x * x for x in range(37)]
        for chunksize in (1, 2, 5, 36, 37, 100):
            self.assertEqual(self.pool.map(square, range(37), chunksize), want)
            self.assertEqual(self.pool.map(square, range(37), chunksize=chunksize), want)

    def test_map_empty(self):
        self.assertEqual(self.pool.map(square, []), [])
        self.assertEqual(self.pool.starmap(add, []), [])
        self.assertEqual(self.pool.map(square, iter([])), [])

    def test_map_generator_and_no_len(self):
        self.assertEqual(self.pool.map(square, (x for x in range(7))), [x * x for x in range(7)])
        self.assertEqual(self.pool.map(square, Countdown(5)), [16, 9, 4, 1, 0])
        self.assertEqual(self.pool.map(square, map(int, "123")), [1, 4, 9])

    def test_map_large(self):
        n = 50000
        self.assertEqual(sum(self.pool.map(square, range(n))), sum(x * x for x in range(n)))

    def test_starmap(self):
        self.assertEqual(self.pool.starmap(compute_power, [(2, 3), (3, 2), (10, 0)]), [8, 9, 1])
        self.assertEqual(self.pool.starmap(add, zip(range(5), range(5)), chunksize=2),
                         [0, 2, 4, 6, 8])

    def test_map_raises_task_exception(self):
        with self.assertRaises(KeyError) as cm:
            self.pool.map(boom_on, range(10), chunksize=1)
        self.assertEqual(cm.exception.args, (3,))
        with self.assertRaises(ValueError):
            self.pool.map(boom, range(10))

    def test_map_async(self):
        got = []
        r = self.pool.map_async(square, range(6), callback=got.append)
        self.assertEqual(r.get(timeout=30), [0, 1, 4, 9, 16, 25])
        self.assertEqual(got, [[0, 1, 4, 9, 16, 25]])
        self.assertTrue(r.ready())
        self.assertTrue(r.successful())
        self.assertIsInstance(r, multiprocessing.pool.MapResult)

    def test_map_async_error_callback(self):
        errors, got = [], []
        r = self.pool.map_async(boom, range(4), callback=got.append, error_callback=errors.append)
        r.wait(30)
        self.assertTrue(r.ready())
        self.assertFalse(r.successful())
        self.assertEqual(got, [])
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], ValueError)
        self.assertRaises(ValueError, r.get, 0)

    def test_map_async_empty_is_ready(self):
        got = []
        r = self.pool.map_async(square, [], callback=got.append)
        self.assertTrue(r.ready())
        self.assertEqual(r.get(0), [])

    def test_starmap_async(self):
        r = self.pool.starmap_async(compute_power, [(2, i) for i in range(5)], chunksize=2)
        self.assertEqual(r.get(timeout=30), [1, 2, 4, 8, 16])

    # ---- imap ----

    def test_imap(self):
        self.assertEqual(list(self.pool.imap(square, range(10))), [x * x for x in range(10)])
        self.assertEqual(list(self.pool.imap(square, range(10), chunksize=3)),
                         [x * x for x in range(10)])
        self.assertEqual(list(self.pool.imap(square, range(10), 20)), [x * x for x in range(10)])

    def test_imap_unordered(self):
        for chunksize in (1, 4):
            got = self.pool.imap_unordered(square, range(20), chunksize=chunksize)
            self.assertEqual(sorted(got), [x * x for x in range(20)])

    def test_imap_unordered_completion_order(self):
        got = list(self.pool.imap_unordered(nap, [1.0, 0.1]))
        self.assertEqual(got, [0.1, 1.0])

    def test_imap_empty_and_generators(self):
        self.assertEqual(list(self.pool.imap(square, [])), [])
        self.assertEqual(list(self.pool.imap_unordered(square, iter(()))), [])
        self.assertEqual(list(self.pool.imap(square, (x for x in range(5)))), [0, 1, 4, 9, 16])
        self.assertEqual(list(self.pool.imap(square, Countdown(3))), [4, 1, 0])
        it = self.pool.imap(square, [])
        self.assertRaises(StopIteration, next, it)

    def test_imap_iterator_protocol(self):
        it = self.pool.imap(square, range(3))
        self.assertIs(iter(it), it)
        self.assertEqual(it.next(timeout=30), 0)
        self.assertEqual(next(it), 1)
        self.assertEqual(it.next(), 4)
        self.assertRaises(StopIteration, it.next)
        self.assertIsInstance(self.pool.imap(square, []), multiprocessing.pool.IMapIterator)

    def test_imap_chunksize_must_be_positive(self):
        with self.assertRaisesRegex(ValueError, "Chunksize must be 1\\+, not 0"):
            self.pool.imap(square, range(3), chunksize=0)
        with self.assertRaisesRegex(ValueError, "Chunksize must be 1\\+, not -1"):
            self.pool.imap_unordered(square, range(3), chunksize=-1)

    def test_imap_exception_then_goes_on(self):
        it = self.pool.imap(boom_on, range(6))
        self.assertEqual([next(it) for _ in range(3)], [0, 1, 4])
        self.assertRaises(KeyError, next, it)
        self.assertEqual(list(it), [16, 25])

    def test_imap_chunked_exception_ends_it(self):
        it = self.pool.imap(boom_on, range(8), chunksize=2)
        self.assertEqual([next(it) for _ in range(2)], [0, 1])
        self.assertRaises(KeyError, next, it)  # the chunk of 2 and 3 failed
        self.assertEqual(list(it), [])  # a generator that raised is done

    def test_imap_failing_input(self):
        it = self.pool.imap(square, failing_gen(10, 4))
        self.assertEqual([next(it) for _ in range(4)], [0, 1, 4, 9])
        self.assertRaisesRegex(RuntimeError, "input failed at 4", next, it)
        self.assertRaises(StopIteration, next, it)
        self.assertRaises(TypeError, next, self.pool.imap(square, 42))  # not iterable

    def test_imap_timeout(self):
        it = self.pool.imap(nap, [1.0])
        with self.assertRaises(multiprocessing.TimeoutError):  # not the value: it did not wait
            it.next(timeout=0.1)
        self.assertEqual(it.next(timeout=30), 1.0)

    def test_imap_unordered_timeout(self):
        it = self.pool.imap_unordered(nap, [1.0])
        self.assertRaises(multiprocessing.TimeoutError, it.next, 0.05)
        self.assertEqual(it.next(30), 1.0)

    # ---- apply ----

    def test_apply(self):
        self.assertEqual(self.pool.apply(square, (7,)), 49)
        self.assertEqual(self.pool.apply(add, (1, 2), {"c": 3}), 6)
        self.assertEqual(self.pool.apply(add, kwds={"a": 1, "b": 1}), 2)
        self.assertEqual(self.pool.apply(sum, ([1, 2, 3],)), 6)

    def test_apply_async(self):
        r = self.pool.apply_async(add, (2, 3))
        self.assertIsInstance(r, multiprocessing.pool.AsyncResult)
        self.assertEqual(r.get(timeout=30), 5)
        self.assertTrue(r.ready())
        self.assertTrue(r.successful())
        self.assertIsNone(r.wait(0))
        self.assertEqual(r.get(0), 5)

    def test_apply_async_timeout(self):
        r = self.pool.apply_async(nap, (1.0,))
        self.assertRaises(multiprocessing.TimeoutError, r.get, timeout=0.1)
        self.assertFalse(r.ready())
        with self.assertRaisesRegex(ValueError, "not ready"):
            r.successful()
        self.assertIsNone(r.wait(0.05))
        self.assertEqual(r.get(timeout=30), 1.0)
        self.assertTrue(r.successful())

    def test_timeout_error_is_multiprocessing_s(self):
        self.assertIs(ppool.TimeoutError, multiprocessing.TimeoutError)

    def test_callbacks(self):
        main = threading.current_thread()
        seen = []

        def callback(value):
            seen.append((value, threading.current_thread() is main, r.ready()))

        r = self.pool.apply_async(square, (9,), callback=callback)
        self.assertEqual(r.get(30), 81)
        self.assertEqual(seen, [(81, False, False)])  # another thread, before ready()

    def test_error_callback(self):
        errors, values = [], []
        r = self.pool.apply_async(raise_custom, (5,), callback=values.append,
                                  error_callback=errors.append)
        r.wait(30)
        self.assertEqual(values, [])
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], CustomError)
        self.assertFalse(r.successful())

    def test_exception_type_message_traceback(self):
        with self.assertRaises(ValueError) as cm:
            self.pool.apply(boom, (12,))
        e = cm.exception
        self.assertEqual(str(e), "boom 12")
        self.assertIsInstance(e.__cause__, multiprocessing.pool.RemoteTraceback)
        tb = str(e.__cause__)
        self.assertIn("Traceback (most recent call last)", tb)
        self.assertIn('raise ValueError("boom %r" % (x,))', tb)
        self.assertIn("ValueError: boom 12", tb)

    def test_custom_exception(self):
        with self.assertRaises(CustomError) as cm:
            self.pool.apply(raise_custom, (7,))
        self.assertEqual(cm.exception.code, 7)
        self.assertEqual(cm.exception.args, ("custom 7", 7))

    def test_unpicklable_result(self):
        with self.assertRaises(multiprocessing.pool.MaybeEncodingError) as cm:
            self.pool.apply(return_lambda)
        self.assertIn("Error sending result", str(cm.exception))
        self.assertRaises(multiprocessing.pool.MaybeEncodingError, self.pool.map, return_lambda,
                          range(3))
        self.assertEqual(self.pool.apply(square, (3,)), 9)  # the pool goes on

    def test_unpicklable_exception(self):
        self.assertRaises(multiprocessing.pool.MaybeEncodingError, self.pool.apply,
                          raise_unpicklable)

    def test_unpicklable_argument(self):
        r = self.pool.apply_async(square, (lambda: 1,))
        self.assertRaises((pickle.PicklingError, AttributeError), r.get, 30)
        self.assertRaises(TypeError, self.pool.map, square, [1, threading.Lock()])
        it = self.pool.imap(square, [1, threading.Lock(), 3])
        self.assertEqual(next(it), 1)
        self.assertRaises(TypeError, next, it)
        self.assertEqual(next(it), 9)

    def test_unpicklable_function(self):
        self.assertRaises((pickle.PicklingError, AttributeError), self.pool.apply, lambda: 1)
        self.assertRaises((pickle.PicklingError, AttributeError), self.pool.map, lambda x: x,
                          [1, 2])

    def test_threads_submitting(self):
        results = []

        def submit(k):
            results.append(self.pool.map(square, range(k, k + 20)))

        threads = [threading.Thread(target=submit, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(r[0] for r in results), [0, 1, 4, 9])

    def test_pool_cannot_be_pickled(self):
        self.assertRaises(NotImplementedError, pickle.dumps, self.pool)

    def test_processes(self):
        self.assertEqual(self.pool._processes, WORKERS)
        pids = set(self.pool.map(pid_after, [0.2] * 4, chunksize=1))
        self.assertLessEqual(len(pids), WORKERS)


class Lifecycle:
    """Each test opens its own pool."""
    Pool = None

    def test_close_join(self):
        p = self.Pool(WORKERS)
        r = p.map_async(nap, [0.2] * 4, chunksize=1)
        a = p.apply_async(square, (4,))
        p.close()
        self.assertRaisesRegex(ValueError, "Pool not running", p.apply_async, square, (1,))
        self.assertRaisesRegex(ValueError, "Pool not running", p.map, square, [1])
        self.assertRaisesRegex(ValueError, "Pool not running", p.imap, square, [1])
        self.assertRaisesRegex(ValueError, "Pool not running", p.imap_unordered, square, [1])
        self.assertRaisesRegex(ValueError, "Pool not running", p.starmap_async, add, [(1, 1)])
        p.join()
        self.assertTrue(r.ready())  # join waited for the outstanding work
        self.assertTrue(a.ready())
        self.assertEqual(r.get(0), [0.2] * 4)
        self.assertEqual(a.get(0), 16)

    def test_join_while_running(self):
        p = self.Pool(1)
        try:
            self.assertRaisesRegex(ValueError, "Pool is still running", p.join)
        finally:
            p.terminate()
            p.join()

    def test_join_waits_for_an_unread_imap(self):
        p = self.Pool(WORKERS)
        it = p.imap(square, range(40000))
        p.close()
        p.join()
        self.assertEqual(sum(it), sum(x * x for x in range(40000)))

    def test_imap_read_after_join(self):
        p = self.Pool(WORKERS)
        it = p.imap_unordered(square, range(10))
        p.close()
        p.join()
        self.assertEqual(sorted(it), [x * x for x in range(10)])

    def test_terminate(self):
        p = self.Pool(WORKERS)
        r = p.apply_async(nap, (30,))
        time.sleep(0.3)
        t0 = time.monotonic()
        p.terminate()
        p.join()
        self.assertLess(time.monotonic() - t0, 10)
        self.assertFalse(r.ready())  # never done, as multiprocessing
        self.assertRaises(multiprocessing.TimeoutError, r.get, 0.05)
        self.assertRaisesRegex(ValueError, "Pool not running", p.apply, square, (1,))
        p.terminate()  # twice is fine
        p.join()

    def test_context_manager_terminates(self):
        pool = self.Pool(WORKERS)
        with pool as p:
            self.assertIs(p, pool)
            self.assertEqual(p.map(square, range(3)), [0, 1, 4])
            r = p.apply_async(nap, (30,))
        self.assertFalse(r.ready())
        self.assertRaisesRegex(ValueError, "Pool not running", p.map, square, [1])
        p.join()

    def test_context_manager_on_closed_pool(self):
        p = self.Pool(1)
        p.close()
        with self.assertRaisesRegex(ValueError, "Pool not running"):
            with p:
                pass
        p.join()

    def test_context_manager_exception(self):
        with self.assertRaises(ZeroDivisionError):
            with self.Pool(WORKERS) as p:
                p.apply(square, (2,))
                1 / 0
        self.assertRaises(ValueError, p.apply, square, (2,))

    def test_initializer(self):
        p = self.Pool(WORKERS, initializer=set_state, initargs=("ready",))
        try:
            self.assertEqual(p.map(get_state, range(8), chunksize=1), ["ready"] * 8)
        finally:
            p.terminate()
            p.join()

    def test_initializer_by_memory(self):
        local = {"k": 1}  # a closure: fork inherits it, nothing is pickled
        p = self.Pool(1, initializer=lambda: set_state(local["k"] + 1))
        try:
            self.assertEqual(p.apply(get_state), 2)
        finally:
            p.terminate()
            p.join()

    def test_maxtasksperchild(self):
        p = self.Pool(WORKERS, maxtasksperchild=1)
        try:
            pids = p.map(getpid, range(6), chunksize=1)
            self.assertEqual(len(set(pids)), 6)  # each worker did one task
            pids = p.map(getpid, range(4), chunksize=2)
            self.assertEqual(len(set(pids)), 2)  # a task is a chunk
            self.assertEqual(p.map(square, range(5)), [0, 1, 4, 9, 16])
        finally:
            p.terminate()
            p.join()

    def test_maxtasksperchild_with_initializer(self):
        p = self.Pool(1, initializer=set_state, initargs=(5,), maxtasksperchild=2)
        try:
            self.assertEqual(p.map(get_state, range(6), chunksize=1), [5] * 6)
        finally:
            p.terminate()
            p.join()

    def test_bad_arguments(self):
        self.assertRaisesRegex(ValueError, "Number of processes must be at least 1", self.Pool, 0)
        self.assertRaisesRegex(ValueError, "Number of processes must be at least 1", self.Pool, -3)
        self.assertRaisesRegex(ValueError, "maxtasksperchild must be a positive int or None",
                               self.Pool, 1, maxtasksperchild=0)
        self.assertRaisesRegex(ValueError, "maxtasksperchild", self.Pool, 1, maxtasksperchild=1.5)
        self.assertRaisesRegex(TypeError, "initializer must be a callable", self.Pool, 1,
                               initializer=3)

    def test_default_size(self):
        with self.Pool() as p:
            self.assertGreaterEqual(p._processes, 1)
            self.assertEqual(p.map(square, range(4)), [0, 1, 4, 9])

    def test_repr(self):
        with self.Pool(1) as p:
            self.assertIn("state=RUN", repr(p))
        self.assertIn("state=TERMINATE", repr(p))


class PpoolBehaviours(Behaviours, unittest.TestCase):
    Pool = ppool.Pool


class MultiprocessingBehaviours(Behaviours, unittest.TestCase):
    Pool = multiprocessing.Pool


class PpoolLifecycle(Lifecycle, unittest.TestCase):
    Pool = ppool.Pool


class MultiprocessingLifecycle(Lifecycle, unittest.TestCase):
    Pool = multiprocessing.Pool


if __name__ == "__main__":
    unittest.main()
