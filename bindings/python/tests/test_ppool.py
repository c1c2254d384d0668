"""test_ppool.py: what ppool.Pool does beyond multiprocessing.Pool (task_timeout, retries, workers
killed mid-task, lazy imap, no hangs) and its own edges (sizes, threads, the MPI test)."""
import contextlib
import gc
import io
import itertools
import multiprocessing
import multiprocessing.pool
import os
import signal
import tempfile
import threading
import time
import unittest
import warnings
import weakref

import ppool
from ppool import _launch, _ppool
from helpers import (boom, die, die_once, get_state, getpid, nap, return_master_unpicklable,
                     set_state, square, write_pid_and_nap)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone too
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


class TaskTimeout(unittest.TestCase):
    def test_timed_out_task(self):
        with ppool.Pool(2, task_timeout=0.5) as p:
            t0 = time.monotonic()
            with self.assertRaises(ppool.TaskTimeoutError) as cm:
                p.apply(nap, (30,))
            self.assertLess(time.monotonic() - t0, 10)
            self.assertIsInstance(cm.exception, multiprocessing.TimeoutError)
            self.assertIn("timed out", str(cm.exception))
            self.assertEqual(p.apply(square, (5,)), 25)  # a fresh worker took its place

    def test_map_items_each_have_their_deadline(self):
        with ppool.Pool(2, task_timeout=2) as p:
            self.assertEqual(p.map(nap, [0.3] * 8), [0.3] * 8)  # 8 tasks, not 2 chunks of 4
            it = p.imap(nap, [0.1, 30, 0.1])
            self.assertEqual(next(it), 0.1)
            self.assertRaises(ppool.TaskTimeoutError, next, it)
            self.assertEqual(next(it), 0.1)

    def test_bad_task_timeout(self):
        for bad in (0, -1, float("nan")):
            self.assertRaises(ValueError, ppool.Pool, 1, task_timeout=bad)


class Retries(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def test_killed_worker_reruns_its_item(self):
        marker = os.path.join(self.dir.name, "died")
        with ppool.Pool(2) as p:
            self.assertEqual(p.apply(die_once, (marker,)), "survived")
            self.assertTrue(os.path.exists(marker))
            self.assertEqual(p.map(square, range(10)), [x * x for x in range(10)])

    def test_worker_killed_from_outside(self):
        pids = os.path.join(self.dir.name, "pids")
        with ppool.Pool(2) as p:
            r = p.apply_async(write_pid_and_nap, (pids, 60.0))
            for _ in range(100):
                if _read(pids):
                    break
                time.sleep(0.05)
            first = int(_read(pids).split()[0])
            os.kill(first, signal.SIGKILL)
            self.assertNotEqual(r.get(timeout=60), first)  # run again, by another worker

    def test_no_retries(self):
        with ppool.Pool(2, retries=0) as p:
            with self.assertRaises(ppool.WorkerLostError) as cm:
                p.apply(die)
            self.assertIn("signal 9", str(cm.exception))
            self.assertEqual(p.apply(square, (3,)), 9)

    def test_crashing_task_fails_after_its_retries(self):
        with ppool.Pool(2, retries=1) as p:
            r = p.map_async(die, range(2), chunksize=1)
            self.assertRaises(ppool.WorkerLostError, r.get, 60)
            self.assertEqual(p.apply(square, (4,)), 16)

    def test_bad_retries(self):
        self.assertRaises(ValueError, ppool.Pool, 1, retries=-1)
        self.assertRaises(ValueError, ppool.Pool, 1, retries=1.5)


class Laziness(unittest.TestCase):
    def test_imap_pulls_a_huge_input_lazily(self):
        pulled = itertools.count()

        def numbers():
            for i in range(10 ** 9):
                next(pulled)
                yield i

        with ppool.Pool(2) as p:
            it = p.imap(square, numbers())
            self.assertEqual([next(it) for _ in range(100)], [x * x for x in range(100)])
            time.sleep(0.5)
            self.assertLess(next(pulled), 100000)  # a bounded window ahead of the reader

    def test_imap_over_an_endless_input(self):
        with ppool.Pool(2) as p:
            it = p.imap_unordered(square, itertools.count(), chunksize=3)
            self.assertEqual(len([next(it) for _ in range(1000)]), 1000)
            del it

    def test_dropped_iterator_stops_its_work(self):
        with ppool.Pool(2) as p:
            it = p.imap(square, itertools.count())
            next(it)
            del it
            gc.collect()
            self.assertEqual(p.map(square, range(3)), [0, 1, 4])


class NoHangs(unittest.TestCase):
    def test_result_the_master_cannot_unpickle(self):
        with ppool.Pool(1) as p:
            self.assertRaises(multiprocessing.pool.MaybeEncodingError, p.apply,
                              return_master_unpicklable)
            self.assertEqual(p.apply(square, (2,)), 4)

    def test_failing_initializer_fails_the_pool(self):
        t0 = time.monotonic()
        with self.assertRaisesRegex(ppool.PoolError, "initializer raised ValueError: boom 1"):
            ppool.Pool(2, initializer=boom, initargs=(1,))
        self.assertLess(time.monotonic() - t0, 30)

    def test_raising_callback_does_not_stop_the_pool(self):
        def bad_callback(_):
            raise RuntimeError("callback fails")

        with ppool.Pool(1) as p, contextlib.redirect_stderr(io.StringIO()) as err:
            r = p.apply_async(square, (2,), callback=bad_callback)
            r.wait(30)
            self.assertIn("RuntimeError: callback fails", err.getvalue())
            self.assertTrue(r.ready())
            self.assertEqual(p.apply(square, (3,)), 9)

    def test_results_after_terminate(self):
        p = ppool.Pool(1)
        a = p.apply_async(nap, (30,))
        it = p.imap(nap, [30])
        p.terminate()
        self.assertRaises(multiprocessing.TimeoutError, a.get, 0.1)
        self.assertRaisesRegex(ppool.PoolError, "terminated", a.get)
        self.assertRaises(multiprocessing.TimeoutError, it.next, 0.1)
        self.assertRaisesRegex(ppool.PoolError, "terminated", it.next)
        p.join()

    def test_spawn_environment_still_forks(self):
        os.environ["PPOOL_START"] = "spawn"
        try:
            with ppool.Pool(1) as p:
                self.assertEqual(p.apply(square, (6,)), 36)
        finally:
            del os.environ["PPOOL_START"]

    def test_many_threads_and_two_pools(self):
        with ppool.Pool(2) as p, ppool.Pool(1) as q:
            out = {}

            def work(k):
                pool = p if k % 2 else q
                out[k] = (list(pool.imap(square, (x for x in range(200)))),
                          pool.apply_async(square, (k,)).get(60),
                          pool.map(square, range(50), chunksize=1))

            threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertEqual(sorted(out), list(range(6)))
            for k, (a, b, c) in out.items():
                self.assertEqual(a, [x * x for x in range(200)])
                self.assertEqual(b, k * k)
                self.assertEqual(c, [x * x for x in range(50)])


class Chaining(unittest.TestCase):
    def test_imap_over_another_pools_imap(self):
        with ppool.Pool(2) as p, ppool.Pool(1) as q:
            self.assertEqual(list(p.imap(square, q.imap(square, range(5)))),
                             [x ** 4 for x in range(5)])

    def test_imap_input_using_its_own_pool_is_an_error(self):
        with ppool.Pool(2) as p:
            it = p.imap(square, p.imap(square, range(3)))
            self.assertRaisesRegex(RuntimeError, "must not use its own pool", next, it)
            self.assertEqual(p.map(square, range(3)), [0, 1, 4])  # no deadlock


class Sizes(unittest.TestCase):
    def test_cpu_count(self):
        self.assertGreaterEqual(ppool.cpu_count(), 1)
        if "PPOOL_WORKERS" not in os.environ:
            with ppool.Pool() as p:
                self.assertEqual(p._processes, ppool.cpu_count())

    def test_workers_environment(self):
        os.environ["PPOOL_WORKERS"] = "3"
        try:
            with ppool.Pool() as p:
                self.assertEqual(p._processes, 3)
            with ppool.Pool(1) as p:  # code beats the environment
                self.assertEqual(p._processes, 1)
        finally:
            del os.environ["PPOOL_WORKERS"]

    def test_more_processes_than_cores(self):
        with ppool.Pool(5) as p:
            self.assertEqual(len(set(p.map(getpid, range(40), chunksize=1))) <= 5, True)
            self.assertEqual(p._processes, 5)

    def test_collected_pool_is_terminated(self):
        p = ppool.Pool(1)
        pid = p.apply(getpid)
        ref = weakref.ref(p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del p
            gc.collect()
        self.assertIsNone(ref())
        for _ in range(100):
            if not _alive(pid):
                break
            time.sleep(0.05)
        self.assertFalse(_alive(pid))

    def test_initializer_runs_in_each_worker(self):
        with ppool.Pool(2, initializer=set_state, initargs=(9,)) as p:
            self.assertEqual(set(p.map(get_state, range(20), chunksize=1)), {9})


class MpiDetection(unittest.TestCase):
    """_launch.mpi_world() follows the C library's test (transport/mpi/mpi.c)."""
    VARS = _launch._SIZE_VARS + _launch._RANK_VARS + ("PPOOL_TRANSPORT",)

    def setUp(self):
        self.saved = {k: os.environ.pop(k) for k in self.VARS if k in os.environ}

    def tearDown(self):
        for k in self.VARS:
            os.environ.pop(k, None)
        os.environ.update(self.saved)

    def test_world(self):
        if not _ppool.HAVE_MPI:
            os.environ["OMPI_COMM_WORLD_SIZE"] = "3"
            self.assertIsNone(_launch.mpi_world())
            return
        self.assertIsNone(_launch.mpi_world())
        os.environ.update(OMPI_COMM_WORLD_SIZE="3", OMPI_COMM_WORLD_RANK="2")
        self.assertEqual(_launch.mpi_world(), (2, 3))
        self.assertEqual(_launch.workers_for(8), 2)
        self.assertEqual(_launch.workers_for(None), 0)
        os.environ["OMPI_COMM_WORLD_SIZE"] = "1"  # mpirun -n 1: local workers
        self.assertIsNone(_launch.mpi_world())
        os.environ["PPOOL_TRANSPORT"] = "local"
        os.environ["OMPI_COMM_WORLD_SIZE"] = "4"
        self.assertIsNone(_launch.mpi_world())
        del os.environ["PPOOL_TRANSPORT"]
        del os.environ["OMPI_COMM_WORLD_SIZE"]
        self.assertEqual(_launch.mpi_world(), (2, 0))  # a rank variable alone


if __name__ == "__main__":
    unittest.main()
