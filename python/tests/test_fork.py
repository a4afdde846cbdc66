"""A forked child never removes its parent's temporaries implicitly: not at
its interpreter's exit, not by the garbage collector, not in __del__ or a
finalizer (so no ResourceWarning there either); explicit calls in the child
(cleanup(), close(), leaving a with block) still remove them. os.fork() from
the main thread and from another thread, and multiprocessing's fork start
method.

Each case runs in a fresh interpreter, whose parent makes the temporaries,
forks, waits, and reports which still exist.
"""
import json
import os
import subprocess
import sys
import tempfile as std
import textwrap
import unittest

import ctempfile

SCRIPT = """
import atexit, gc, json, os, sys, threading, warnings
import ctempfile
warnings.simplefilter("always")
d = sys.argv[1]
td = ctempfile.TemporaryDirectory(dir=d)
open(os.path.join(td.name, "inside"), "w").close()
named = ctempfile.NamedTemporaryFile(dir=d)
lazy = ctempfile.NamedTemporaryFile(dir=d, **(dict(delete_on_close=False)
                                             if sys.version_info >= (3, 12) else dict()))
b = ctempfile.NamedTemporaryFile(dir=os.fsencode(d))     # the Python version
paths = [td.name, named.name, lazy.name, os.fsdecode(b.name)]

def drop_and_collect():
    global td, named, lazy, b
    del td, named, lazy, b
    gc.collect()

def explicit():
    td.cleanup()
    named.close()
    lazy.__exit__(None, None, None)
    b.close()

def child():
{child}

def fork_and_wait():
    pid = os.fork()
    if pid == 0:
        try:
            child()             # ends the child: sys.exit() or os._exit()
        except SystemExit:
            raise
        except BaseException:
            import traceback
            traceback.print_exc()
        os._exit(3)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

{parent}
print(json.dumps([code, [os.path.exists(p) for p in paths]]), flush=True)
if "td" in globals():
    explicit()
"""

FORK_HERE = "code = fork_and_wait()"
FORK_IN_THREAD = """
result = []
t = threading.Thread(target=lambda: result.append(fork_and_wait()))
t.start()
t.join()
code = result[0]
"""
EXIT_ALL = """
atexit._run_exitfuncs()      # weakref.finalize's exit hook among them
os._exit(0)
"""


@unittest.skipUnless(hasattr(os, "fork"), "needs fork")
class TestForkedChild(unittest.TestCase):
    def setUp(self):
        self.dir = std.mkdtemp(prefix="ctempfile-fork-")
        self.addCleanup(__import__("shutil").rmtree, self.dir)

    def run_case(self, child, parent=FORK_HERE):
        code = SCRIPT.format(child=textwrap.indent(textwrap.dedent(child), "    "),
                             parent=textwrap.dedent(parent))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        r = subprocess.run([sys.executable, "-c", code, self.dir], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        exit_code, exists = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(exit_code, 0, r.stderr)
        return exists, r.stderr

    def assert_kept(self, child, parent=FORK_HERE):
        exists, stderr = self.run_case(child, parent)
        self.assertEqual(exists, [True] * 4, stderr)
        self.assertNotIn("Implicitly cleaning up", stderr)

    def assert_removed(self, child, parent=FORK_HERE):
        exists, stderr = self.run_case(child, parent)
        self.assertEqual(exists, [False] * 4, stderr)

    def test_child_exits(self):
        self.assert_kept("sys.exit(0)")

    def test_child_drops_its_references(self):
        self.assert_kept("drop_and_collect()\n" + EXIT_ALL)

    def test_child_exits_with_reference_cycles(self):
        # Objects only reachable through a cycle die in the final collection.
        self.assert_kept("""
            global td, named, lazy, b
            cycle = [td, named, lazy, b]
            cycle.append(cycle)
            del td, named, lazy, b, cycle
            sys.exit(0)
        """)

    def test_explicit_calls_in_child_remove(self):
        self.assert_removed("explicit()\nsys.exit(0)")

    def test_fork_from_thread(self):
        self.assert_kept("drop_and_collect()\n" + EXIT_ALL, FORK_IN_THREAD)

    def test_fork_from_thread_explicit(self):
        self.assert_removed("explicit()\n" + EXIT_ALL, FORK_IN_THREAD)

    def test_parent_still_cleans_up_after_fork(self):
        exists, stderr = self.run_case("sys.exit(0)", FORK_HERE + "\ndrop_and_collect()")
        self.assertEqual(exists, [False] * 4, stderr)
        self.assertIn("Implicitly cleaning up", stderr)

    def test_child_own_temporaries_cleaned(self):
        # What the child makes, it owns: its finalizers and exit remove it.
        exists, stderr = self.run_case("""
            mine = [ctempfile.TemporaryDirectory(dir=d), ctempfile.NamedTemporaryFile(dir=d)]
            names = [m.name for m in mine]
            del mine
            gc.collect()
            os._exit(0 if not any(os.path.exists(n) for n in names) else 4)
        """)
        self.assertEqual(exists, [True] * 4, stderr)

    def multiprocessing_case(self, target):
        return """
import multiprocessing
def target():
%s
ctx = multiprocessing.get_context("fork")
p = ctx.Process(target=target)
p.start()
p.join()
code = p.exitcode
""" % textwrap.indent(textwrap.dedent(target), "    ")

    def test_multiprocessing_fork(self):
        self.assert_kept("os._exit(3)", self.multiprocessing_case("drop_and_collect()"))

    def test_multiprocessing_fork_explicit(self):
        self.assert_removed("os._exit(3)", self.multiprocessing_case("explicit()"))


if __name__ == "__main__":
    unittest.main()
