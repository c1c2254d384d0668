"""test_scripts.py: whole programs in their own interpreter: a multiprocessing-style script (its
functions pickled as __main__.f) plainly and through `python3 -m ppool`, Ctrl-C, worker output."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "scripts")


def run(*args, timeout=240):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=tempfile.gettempdir())


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


class Scripts(unittest.TestCase):
    def test_mp_style_script(self):
        r = run(os.path.join(SCRIPTS, "mp_style.py"), "x", "y")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mp_style: ok (local) args=x y", r.stdout)

    def test_the_same_script_on_multiprocessing(self):
        r = run(os.path.join(SCRIPTS, "mp_style.py"), "--mp", "x")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mp_style: ok (multiprocessing) args=x", r.stdout)

    def test_python_m_ppool(self):
        r = run("-m", "ppool", os.path.join(SCRIPTS, "mp_style.py"), "a", "--b")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mp_style: ok (local) args=a --b", r.stdout)

    def test_python_m_ppool_usage_and_exit_status(self):
        r = run("-m", "ppool")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: python3 -m ppool SCRIPT", r.stderr)
        self.assertEqual(run("-m", "ppool", "--help").returncode, 0)
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write("import sys\nsys.exit(3)\n")
        try:
            self.assertEqual(run("-m", "ppool", f.name).returncode, 3)
        finally:
            os.unlink(f.name)

    def test_worker_output_reaches_the_pipe(self):
        r = run(os.path.join(SCRIPTS, "prints.py"), "one")
        self.assertEqual(r.returncode, 0, r.stderr)
        for x in range(3):
            self.assertEqual(r.stdout.count("task %d says hello" % x), 1, r.stdout)
            self.assertIn("partial line %d;" % x, r.stdout)
        self.assertIn("argv ['one']", r.stdout)


class CtrlC(unittest.TestCase):
    """SIGINT in the parent: KeyboardInterrupt, the pool stops, no worker is left."""

    def interrupt(self, mode):
        with tempfile.TemporaryDirectory() as d:
            pids = os.path.join(d, "pids")
            proc = subprocess.Popen([sys.executable, os.path.join(SCRIPTS, "sigint.py"), pids,
                                     mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            try:
                self.assertEqual(proc.stdout.readline().strip(), "started")
                for _ in range(200):
                    if os.path.exists(pids) and len(open(pids).read().split()) >= 2:
                        break
                    time.sleep(0.05)
                t0 = time.monotonic()
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=30)
                self.assertLess(time.monotonic() - t0, 15)
            finally:
                proc.kill()
                proc.wait()
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn("KeyboardInterrupt", err)
            with open(pids) as f:
                workers = [int(p) for p in f.read().split()]
        self.assertGreaterEqual(len(workers), 2)
        for _ in range(100):
            if not any(_alive(p) for p in workers):
                break
            time.sleep(0.05)
        self.assertEqual([p for p in workers if _alive(p)], [])

    def test_ctrl_c_in_a_with_block(self):
        self.interrupt("with")

    def test_ctrl_c_without_with(self):
        self.interrupt("plain")

    def test_ctrl_c_in_imap(self):
        self.interrupt("imap")


if __name__ == "__main__":
    unittest.main()
