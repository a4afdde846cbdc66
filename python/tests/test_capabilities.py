"""ctempfile's capabilities beyond the standard module: atomic_write (levels,
modes, no-clobber, symlink policy, metadata, lock files), persist, shred
(paths, trees, file objects, spooled memory, refusals) and hand-over to
another process (move and share, to an exec'd child, bad peers).

Every test runs in a scratch directory and checks that nothing is left in it
and that no descriptor leaked (/proc/self/fd before and after).
"""
import errno
import gc
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile as std_tempfile
import textwrap
import threading
import unittest

import ctempfile

ROOT = os.geteuid() == 0
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(ctempfile.__file__)))


def fds():
    return sorted(os.listdir("/proc/self/fd"))


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def write(path, content, mode="w"):
    with open(path, mode) as f:
        f.write(content)


class Case(unittest.TestCase):
    def setUp(self):
        gc.collect()
        self.fds = fds()
        self.dir = std_tempfile.mkdtemp(prefix="ctempfile-cap-")
        self.umask = os.umask(0o022)
        os.umask(self.umask)

    def tearDown(self):
        self.doCleanups()       # the children and their sockets first
        gc.collect()
        left = sorted(os.listdir(self.dir))
        for root, dirs, files in os.walk(self.dir, topdown=False):
            for n in files:
                os.unlink(os.path.join(root, n))
            for n in dirs:
                p = os.path.join(root, n)
                os.unlink(p) if os.path.islink(p) else os.rmdir(p)
        os.rmdir(self.dir)
        self.assertEqual(left, [], "left in the directory")
        self.assertEqual(fds(), self.fds, "descriptor leak")

    def path(self, name):
        return os.path.join(self.dir, name)

    def assertNothingElse(self, *names):
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(names))


class TestSurface(unittest.TestCase):
    def test_outside_the_drop_in_namespace(self):
        for name in ("atomic_write", "AtomicWrite", "Level", "persist", "shred",
                     "ShredReport", "send_file", "receive_file"):
            self.assertTrue(callable(getattr(ctempfile, name)))
            self.assertNotIn(name, ctempfile.__all__)
            self.assertNotIn(name, vars(ctempfile))
            self.assertNotIn(name, dir(ctempfile))
        from ctempfile import atomic_write
        self.assertIs(atomic_write, ctempfile.atomic_write)
        with self.assertRaisesRegex(AttributeError, "has no attribute 'nothing'"):
            ctempfile.nothing
        self.assertFalse(hasattr(ctempfile, "nothing"))
        public = [k for k in vars(ctempfile) if not k.startswith("_")]
        self.assertEqual(sorted(set(public) - set(ctempfile.__all__)), ["template"])

    def test_levels(self):
        L = ctempfile.Level
        self.assertTrue(L.VISIBLE < L.CONSISTENT < L.DURABLE)
        self.assertEqual([int(x) for x in L], [1, 2, 3])


class TestStubs(unittest.TestCase):
    """__init__.pyi declares every capability as it is at run time."""

    STUB = os.path.join(os.path.dirname(os.path.abspath(ctempfile.__file__)), "__init__.pyi")

    def stub_defs(self):
        import ast
        with open(self.STUB) as f:
            tree = ast.parse(f.read())
        defs = {}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                defs[node.targets[0].id] = node
            elif isinstance(node, ast.FunctionDef):
                defs[node.name] = node
            elif isinstance(node, ast.ClassDef):
                defs[node.name] = node
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        defs[node.name + "." + item.name] = item
        return defs

    @staticmethod
    def stub_params(fn):
        a = fn.args
        names = [("p", x.arg) for x in a.posonlyargs + a.args]
        names += [("k", x.arg) for x in a.kwonlyargs]
        return [n for n in names if n[1] != "self"]

    @staticmethod
    def runtime_params(obj):
        import inspect
        kinds = {inspect.Parameter.KEYWORD_ONLY: "k"}
        return [(kinds.get(p.kind, "p"), p.name)
                for p in inspect.signature(obj).parameters.values() if p.name != "self"]

    def test_signatures(self):
        defs = self.stub_defs()
        for name in sorted(ctempfile._CAPABILITIES):
            self.assertIn(name, defs)
        self.assertIs(ctempfile.atomic_write, ctempfile.AtomicWrite)
        for name in ("persist", "shred", "send_file", "receive_file",
                     "AtomicWrite.__init__", "AtomicWrite.commit", "AtomicWrite.abort"):
            obj = ctempfile
            for part in name.split("."):
                obj = getattr(obj, part)
            with self.subTest(name=name):
                self.assertEqual(self.stub_params(defs[name]), self.runtime_params(obj))
        with open(self.STUB) as f:
            stub_all = f.read().split("__all__")[1].split("]")[0]
        self.assertNotIn("atomic_write", stub_all)

    def test_mypy(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        try:
            import test_types
        finally:
            sys.path.pop(0)
        if not test_types.MYPY:
            self.skipTest("mypy is not installed (Debian: python3-mypy)")
        checker = test_types.TestTypes("test_wrong_use_reported")
        checker.setUpClass()
        try:
            report = checker.check({"uses.py": textwrap.dedent("""
                import socket
                import ctempfile
                aw = ctempfile.atomic_write("x", "wb", level="consistent", lock=True)
                with aw as f:
                    f.write(b"x")
                level: ctempfile.Level | None = aw.level
                with ctempfile.NamedTemporaryFile(delete=False) as t:
                    ctempfile.persist(t, "y", no_clobber=True)
                passes: int = ctempfile.shred("y", zero=True).passes
                a, b = socket.socketpair()
                ctempfile.send_file(a, ctempfile.TemporaryFile(), share=True)
                text: str = ctempfile.receive_file(b, "r").read()
                ctempfile.persist(3.5, "x")
                """)})
        finally:
            checker.tearDownClass()
        self.assertEqual(len(report), 1, report)
        self.assertIn('Argument 1 to "persist"', report[0])


# ---- atomic_write ---------------------------------------------------------------------

class TestAtomicWrite(Case):
    def test_new_file_text(self):
        dest = self.path("cfg.ini")
        aw = ctempfile.atomic_write(dest)
        self.assertIsNone(aw.level)
        with aw as f:
            self.assertIsInstance(f, __import__("io").TextIOWrapper)
            f.write("[a]\nb = 1\n")
            self.assertIsNone(aw.level)
            tmp = aw.name
            self.assertIsInstance(tmp, str)
            self.assertEqual(os.path.dirname(tmp), self.dir)
            self.assertTrue(os.path.basename(tmp).startswith(".tmp"))
            self.assertFalse(os.path.exists(dest))      # nothing until the commit
        self.assertEqual(aw.level, ctempfile.Level.DURABLE)
        self.assertIsNone(aw.name)
        self.assertEqual(read(dest), "[a]\nb = 1\n")
        aw_b = ctempfile.atomic_write(os.fsencode(dest))
        with aw_b:
            self.assertIsInstance(aw_b.name, bytes)
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o666 & ~self.umask)
        self.assertEqual(aw.not_copied, frozenset())
        self.assertIn("committed at durable", repr(aw))
        self.assertNothingElse("cfg.ini")
        os.unlink(dest)

    def test_replace_binary_keeps_mode(self):
        dest = self.path("data")
        write(dest, b"old", "wb")
        os.chmod(dest, 0o640)
        ino = os.stat(dest).st_ino
        with ctempfile.atomic_write(dest, "wb") as f:
            f.write(b"new")
            self.assertEqual(read(dest, "rb"), b"old")  # readers see the old one
        self.assertEqual(read(dest, "rb"), b"new")
        self.assertNotEqual(os.stat(dest).st_ino, ino)
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o640)
        self.assertNothingElse("data")
        os.unlink(dest)

    def test_abort_on_exception(self):
        dest = self.path("data")
        write(dest, "old")
        with self.assertRaises(ZeroDivisionError):
            with ctempfile.atomic_write(dest) as f:
                f.write("half")
                1 / 0
        self.assertEqual(read(dest), "old")
        self.assertNothingElse("data")
        # a new destination is not created either
        with self.assertRaises(KeyError):
            with ctempfile.atomic_write(self.path("new")) as f:
                raise KeyError
        self.assertNothingElse("data")
        os.unlink(dest)

    def test_levels(self):
        dest = self.path("d")
        for asked, want in (("visible", 1), ("consistent", 2), ("durable", 3),
                            (ctempfile.Level.CONSISTENT, 2), (1, 1), ("DURABLE", 3)):
            aw = ctempfile.atomic_write(dest, level=asked)
            with aw as f:
                f.write(str(asked))
            self.assertIs(aw.level, ctempfile.Level(want))
            self.assertEqual(read(dest), str(asked))
        strict = ctempfile.atomic_write(dest, strict=True)
        with strict as f:
            f.write("s")
        self.assertEqual(strict.level, ctempfile.Level.DURABLE)
        for bad in ("fast", 0, 4, None, True, 2.0):
            with self.assertRaisesRegex(ValueError, "level must be"):
                ctempfile.atomic_write(dest, level=bad)
        self.assertNothingElse("d")
        os.unlink(dest)

    def test_modes(self):
        dest = self.path("m")
        with ctempfile.atomic_write(dest, "w+", encoding="utf-8", newline="") as f:
            f.write("é\r\n")
            f.seek(0)
            self.assertEqual(f.read(), "é\r\n")
        self.assertEqual(read(dest, "rb"), "é\r\n".encode())
        with ctempfile.atomic_write(dest, "a") as f:
            f.write("more")
        self.assertEqual(read(dest, "rb"), "é\r\nmore".encode())
        with ctempfile.atomic_write(dest, "ab+") as f:
            f.seek(0)
            self.assertEqual(f.read(), "é\r\nmore".encode())
            f.write(b"!")
        self.assertEqual(read(dest, "rb"), "é\r\nmore!".encode())
        os.unlink(dest)
        with ctempfile.atomic_write(dest, "a") as f:      # append to nothing
            f.write("first")
        self.assertEqual(read(dest), "first")
        with ctempfile.atomic_write(dest, "wt", errors="replace", encoding="ascii") as f:
            f.write("é")
        self.assertEqual(read(dest), "?")
        with ctempfile.atomic_write(dest, "wb", buffering=0) as f:
            self.assertIsInstance(f, __import__("io").FileIO)
            f.write(b"raw")
        self.assertEqual(read(dest), "raw")
        self.assertNothingElse("m")
        os.unlink(dest)

    def test_no_clobber(self):
        dest = self.path("n")
        for kw in ({"no_clobber": True}, {}):
            mode = "x" if not kw else "w"
            with ctempfile.atomic_write(dest, mode, **kw) as f:
                f.write("one")
            self.assertEqual(read(dest), "one")
            with self.assertRaises(FileExistsError) as cm:
                with ctempfile.atomic_write(dest, mode, **kw) as f:
                    f.write("two")
            self.assertEqual(cm.exception.errno, errno.EEXIST)
            self.assertEqual(cm.exception.filename, dest)
            self.assertEqual(read(dest), "one")
            self.assertNothingElse("n")
            os.unlink(dest)

    def test_no_clobber_raced(self):
        # The destination appears while the write is under way.
        dest = self.path("r")
        with self.assertRaises(FileExistsError):
            with ctempfile.atomic_write(dest, "x") as f:
                write(dest, "theirs")
                f.write("ours")
        self.assertEqual(read(dest), "theirs")
        self.assertNothingElse("r")
        os.unlink(dest)

    def test_symlinks(self):
        target, link = self.path("target"), self.path("link")
        write(target, "old")
        os.symlink("target", link)
        with ctempfile.atomic_write(link) as f:                 # follow
            f.write("followed")
        self.assertTrue(os.path.islink(link))
        self.assertEqual(read(target), "followed")
        with self.assertRaises(OSError) as cm:
            with ctempfile.atomic_write(link, symlinks="refuse") as f:
                f.write("refused")
        self.assertEqual(cm.exception.errno, errno.ELOOP)
        self.assertEqual(cm.exception.filename, link)
        with ctempfile.atomic_write(link, "a", symlinks="replace") as f:
            f.write("own")
        self.assertFalse(os.path.islink(link))
        self.assertEqual(read(link), "own")          # the link's target not copied
        self.assertEqual(read(target), "followed")
        os.unlink(link)
        os.symlink("missing", link)                  # dangling: creates the target
        with ctempfile.atomic_write(link) as f:
            f.write("made")
        self.assertEqual(read(self.path("missing")), "made")
        os.unlink(link)
        os.symlink("loop", self.path("loop"))
        with self.assertRaises(OSError) as cm:
            ctempfile.atomic_write(self.path("loop")).__enter__()
        self.assertEqual(cm.exception.errno, errno.ELOOP)
        with self.assertRaisesRegex(ValueError, "symlinks must be"):
            ctempfile.atomic_write(link, symlinks="maybe")
        for n in ("target", "missing", "loop"):
            os.unlink(self.path(n))

    def test_permissions(self):
        dest = self.path("p")
        write(dest, "old")
        os.chmod(dest, 0o644)
        with ctempfile.atomic_write(dest, permissions=0o600) as f:
            f.write("new")
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o600)
        with self.assertRaises(ValueError):
            ctempfile.atomic_write(dest, permissions=0o10000)
        with self.assertRaises(ValueError):
            ctempfile.atomic_write(dest, permissions=0)
        with self.assertRaises(TypeError):
            ctempfile.atomic_write(dest, permissions="0600")
        os.unlink(dest)

    @unittest.skipUnless(ROOT, "needs root to give the file another owner")
    def test_owner_carried_over(self):
        dest = self.path("o")
        write(dest, "old")
        os.chown(dest, 65534, 65534)
        for best_effort in (False, True):
            aw = ctempfile.atomic_write(dest, best_effort=best_effort)
            with aw as f:
                f.write("new")
            st = os.stat(dest)
            self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))
            self.assertEqual(aw.not_copied, frozenset())
        os.unlink(dest)

    @unittest.skipUnless(ROOT, "needs root to act as another user")
    def test_owner_refused_is_named(self):
        # As nobody, in a directory of nobody's, over root's file: the
        # owner cannot be carried over, and the object says so (the
        # PermissionError alone cannot tell an owner from an attribute).
        os.chmod(self.dir, 0o755)
        shared = self.path("shared")
        os.mkdir(shared)
        os.chown(shared, 65534, 65534)
        dest = os.path.join(shared, "f")
        write(dest, "old")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                aw = ctempfile.atomic_write(dest)
                try:
                    with aw as f:
                        f.write("new")
                except PermissionError:
                    if aw.not_copied == {"owner"} and aw.not_copied_errno == errno.EPERM:
                        code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(read(dest), "old")
        self.assertEqual(os.listdir(shared), ["f"])
        os.unlink(dest)
        os.rmdir(shared)

    def test_xattr_carried_over(self):
        dest = self.path("x")
        write(dest, "old")
        try:
            os.setxattr(dest, "user.origin", b"seed")
        except OSError as e:
            os.unlink(dest)
            self.skipTest("no user xattrs here: %s" % e)
        with ctempfile.atomic_write(dest) as f:
            f.write("new")
        self.assertEqual(os.getxattr(dest, "user.origin"), b"seed")
        os.unlink(dest)

    def test_lock_file(self):
        dest = self.path("counter")
        write(dest, "0")
        lock = dest + ".lock"
        with ctempfile.atomic_write(dest, lock=True) as f:
            self.assertTrue(os.path.exists(lock))
            # a second writer: EEXIST at once, or after waiting
            for timeout in (0, 0.05):
                with self.assertRaises(FileExistsError) as cm:
                    ctempfile.atomic_write(dest, lock=True, timeout=timeout).__enter__()
                self.assertEqual(cm.exception.filename, dest)
            f.write("1")
        self.assertFalse(os.path.exists(lock))
        self.assertEqual(read(dest), "1")
        with self.assertRaises(RuntimeError):
            with ctempfile.atomic_write(dest, lock=True, timeout=None) as f:
                f.write("2")
                raise RuntimeError
        self.assertEqual(read(dest), "1")
        self.assertNothingElse("counter")
        with self.assertRaisesRegex(ValueError, "no_clobber"):
            ctempfile.atomic_write(dest, lock=True, no_clobber=True)
        with self.assertRaisesRegex(ValueError, "no_clobber"):
            ctempfile.atomic_write(dest, "x", lock=True)
        with self.assertRaisesRegex(ValueError, "lock=True only"):
            ctempfile.atomic_write(dest, timeout=1)
        for bad, exc in ((-1, ValueError), ("1", TypeError), (float("nan"), ValueError)):
            with self.assertRaises(exc):
                ctempfile.atomic_write(dest, lock=True, timeout=bad)
        with ctempfile.atomic_write(dest, lock=True, timeout=float("inf")) as f:
            f.write("3")        # infinity: waits for ever, as None
        self.assertEqual(read(dest), "3")
        os.unlink(dest)

    def test_lock_file_counts_exactly(self):
        dest = self.path("counter")
        write(dest, "0")

        def worker():
            for _ in range(25):
                with ctempfile.atomic_write(dest, lock=True, timeout=None,
                                            level="visible") as f:
                    f.write(str(int(read(dest)) + 1))
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(read(dest), "100")
        self.assertNothingElse("counter")
        os.unlink(dest)

    def test_manual_commit_and_abort(self):
        dest = self.path("manual")
        aw = ctempfile.atomic_write(dest, "wb")
        f = aw.__enter__()
        f.write(b"x")
        with self.assertRaisesRegex(ValueError, "already begun"):
            aw.__enter__()
        self.assertEqual(aw.commit(), ctempfile.Level.DURABLE)
        with self.assertRaisesRegex(ValueError, "no atomic write under way"):
            aw.commit()
        aw = ctempfile.atomic_write(dest, "wb")
        aw.__enter__().write(b"dropped")
        aw.abort()
        aw.abort()      # twice: nothing more
        self.assertEqual(read(dest, "rb"), b"x")
        # dropped without commit or abort: the temporary goes with the object
        aw = ctempfile.atomic_write(dest, "wb")
        aw.__enter__().write(b"lost")
        del aw
        gc.collect()
        self.assertNothingElse("manual")
        os.unlink(dest)

    def test_disk_full(self):
        """ENOSPC while writing or committing: the destination is untouched
        and nothing is left, on a 64 KiB tmpfs."""
        small = self.path("small")
        os.mkdir(small)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", small],
                           capture_output=True, text=True)
        if r.returncode:
            os.rmdir(small)
            self.skipTest("cannot mount a tmpfs: %s" % r.stderr.strip())
        self.addCleanup(os.rmdir, small)
        self.addCleanup(subprocess.run, ["umount", small], check=True)
        dest = os.path.join(small, "dest")
        write(dest, "old")
        for buffering in (-1, 0):
            with self.assertRaises(OSError) as cm:
                with ctempfile.atomic_write(dest, "wb", buffering=buffering) as f:
                    for _ in range(40):
                        f.write(bytes(4096))
            self.assertEqual(cm.exception.errno, errno.ENOSPC)
            self.assertEqual(read(dest), "old")
            self.assertEqual(os.listdir(small), ["dest"])
        os.unlink(dest)
        self.assertEqual(os.listdir(small), [])

    def test_bytes_and_pathlike(self):
        import pathlib
        dest = self.path("b")
        with ctempfile.atomic_write(os.fsencode(dest), "wb") as f:
            f.write(b"1")
        with ctempfile.atomic_write(pathlib.Path(dest), "wb") as f:
            f.write(b"2")
        self.assertEqual(read(dest), "2")
        os.unlink(dest)

    def test_bad_arguments(self):
        dest = self.path("bad")
        for mode in ("r", "r+", "wr", "ww", "w+b+", "q", "", "bt", "wbt"):
            with self.assertRaisesRegex(ValueError, "invalid mode"):
                ctempfile.atomic_write(dest, mode)
        with self.assertRaisesRegex(TypeError, "mode must be str"):
            ctempfile.atomic_write(dest, b"w")
        for path in (5, None, 1.5):
            with self.assertRaisesRegex(TypeError, "path must be str, bytes or os.PathLike"):
                ctempfile.atomic_write(path)
        with self.assertRaisesRegex(ValueError, "embedded null byte"):
            ctempfile.atomic_write(dest + "\0x")
        with self.assertRaisesRegex(ValueError, "binary mode"):
            ctempfile.atomic_write(dest, "wb", encoding="utf-8")
        with self.assertRaises(TypeError):
            ctempfile.atomic_write(dest, "w", "utf-8")   # keyword-only options
        with self.assertRaises(LookupError):
            ctempfile.atomic_write(dest, encoding="no-such-codec").__enter__()
        self.assertNothingElse()

    def test_bad_io_arguments(self):
        # Refused by io.open() before or after it has made a FileIO of the
        # temporary's descriptor: either way nothing is left (tearDown checks
        # the descriptors) and the destination is untouched.
        write(self.path("dest"), "old")
        for kw in ({"buffering": "q"}, {"errors": 5}, {"encoding": 5}, {"newline": 5},
                   {"newline": "q"}, {"buffering": 0}, {"encoding": "no-such-codec"}):
            with self.subTest(**kw):
                with self.assertRaises((TypeError, ValueError, LookupError)):
                    with ctempfile.atomic_write(self.path("dest"), **kw) as f:
                        f.write("new")
                self.assertEqual(read(self.path("dest")), "old")
                self.assertNothingElse("dest")
        os.unlink(self.path("dest"))

    def test_bad_destinations(self):
        cases = [(self.path("missing/dest"), FileNotFoundError),
                 (self.dir, IsADirectoryError),
                 (self.path("x" * 256), OSError),
                 ("", FileNotFoundError)]
        os.mkfifo(self.path("fifo"))
        cases.append((self.path("fifo"), OSError))
        for dest, exc in cases:
            with self.subTest(dest=dest[-20:]):
                with self.assertRaises(exc) as cm:
                    ctempfile.atomic_write(dest).__enter__()
                self.assertEqual(cm.exception.filename, dest)
        self.assertNothingElse("fifo")
        os.unlink(self.path("fifo"))


# ---- persist ---------------------------------------------------------------------

class TestPersist(Case):
    def test_named_temporary_file(self):
        for delete in (True, False):
            dest = self.path("dest")
            f = ctempfile.NamedTemporaryFile("w+", dir=self.dir, delete=delete)
            old = f.name
            f.write("content")      # still buffered: persist flushes
            self.assertIs(ctempfile.persist(f, dest), ctempfile.Level.DURABLE)
            self.assertEqual(f.name, dest)
            self.assertEqual(f.file.buffer.raw.name, dest)
            self.assertFalse(os.path.exists(old))
            f.write(" and more")
            f.close()
            self.assertEqual(read(dest), "content and more")
            self.assertNothingElse("dest")
            os.unlink(dest)

    def test_through_a_symlink(self):
        os.mkdir(self.path("real"))
        os.symlink("real/config", self.path("config"))
        f = ctempfile.NamedTemporaryFile(dir=self.dir, delete=False)
        ctempfile.persist(f, self.path("config"))
        self.assertEqual(f.name, self.path("real/config"))
        f.close()
        self.assertTrue(os.path.islink(self.path("config")))
        fd, path = ctempfile.mkstemp(dir=self.dir)
        os.close(fd)
        ctempfile.persist(path, self.path("config"), symlinks="replace")
        self.assertFalse(os.path.islink(self.path("config")))
        with self.assertRaisesRegex(ValueError, "symlinks must be"):
            ctempfile.persist(path, self.path("config"), symlinks="sideways")
        os.symlink("config", self.path("link"))
        fd, path = ctempfile.mkstemp(dir=self.dir)
        os.close(fd)
        with self.assertRaises(OSError) as cm:
            ctempfile.persist(path, self.path("link"), symlinks="refuse")
        self.assertEqual((cm.exception.errno, cm.exception.filename2),
                         (errno.ELOOP, self.path("link")))
        self.assertTrue(os.path.exists(path))
        os.unlink(path)
        os.unlink(self.path("link"))
        self.assertNothingElse("config", "real")
        os.unlink(self.path("config"))
        os.unlink(self.path("real/config"))
        os.rmdir(self.path("real"))

    def test_context_and_finalizer_remove_nothing(self):
        dest = self.path("dest")
        with ctempfile.NamedTemporaryFile(dir=self.dir) as f:
            f.write(b"x")
            ctempfile.persist(f, dest, level="visible")
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        ctempfile.persist(f, self.path("dest2"), level=ctempfile.Level.CONSISTENT)
        del f
        gc.collect()
        self.assertNothingElse("dest", "dest2")
        os.unlink(dest)
        os.unlink(self.path("dest2"))

    def test_mkstemp_path(self):
        fd, path = ctempfile.mkstemp(dir=self.dir)
        os.write(fd, b"made")
        dest = self.path("dest")
        self.assertEqual(ctempfile.persist(path, dest, permissions=0o644), 3)
        os.write(fd, b" here")      # the caller's descriptor is untouched
        os.close(fd)
        self.assertEqual(read(dest), "made here")
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o644)
        self.assertNothingElse("dest")
        fd, path = ctempfile.mkstemp(dir=os.fsencode(self.dir))
        os.close(fd)
        ctempfile.persist(path, dest)     # bytes: replaces
        self.assertNothingElse("dest")
        os.unlink(dest)

    def test_no_clobber_hands_back(self):
        dest = self.path("dest")
        write(dest, "theirs")
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        f.write(b"ours")
        with self.assertRaises(FileExistsError) as cm:
            ctempfile.persist(f, dest, no_clobber=True)
        e = cm.exception
        self.assertEqual((e.errno, e.filename, e.filename2), (errno.EEXIST, f.name, dest))
        self.assertIn("-> %r" % dest, str(e))
        self.assertTrue(os.path.exists(f.name))     # still the temporary
        f.seek(0)
        self.assertEqual(f.read(), b"ours")
        f.close()                                   # ... and removed as one
        self.assertEqual(read(dest), "theirs")
        fd, path = ctempfile.mkstemp(dir=self.dir)
        os.close(fd)
        with self.assertRaises(FileExistsError):
            ctempfile.persist(path, dest, no_clobber=True)
        self.assertTrue(os.path.exists(path))
        ctempfile.persist(path, self.path("free"), no_clobber=True)
        self.assertNothingElse("dest", "free")
        os.unlink(dest)
        os.unlink(self.path("free"))

    def test_across_filesystems(self):
        if os.stat("/dev/shm").st_dev == os.stat(self.dir).st_dev:
            self.skipTest("/dev/shm is on the same filesystem")
        dest = self.path("dest")
        f = ctempfile.NamedTemporaryFile(dir="/dev/shm")
        f.write(b"far")
        with self.assertRaises(OSError) as cm:
            ctempfile.persist(f, dest)
        self.assertEqual(cm.exception.errno, errno.EXDEV)
        self.assertTrue(os.path.exists(f.name))
        old = f.name
        ctempfile.persist(f, dest, copy=True)
        self.assertFalse(os.path.exists(old))
        f.close()
        self.assertEqual(read(dest), "far")
        os.unlink(dest)

    def test_errors(self):
        dest = self.path("dest")
        with self.assertRaises(FileNotFoundError) as cm:
            ctempfile.persist(self.path("none"), dest)
        self.assertEqual((cm.exception.filename, cm.exception.filename2),
                         (self.path("none"), dest))
        os.mkdir(self.path("sub"))
        with self.assertRaises(IsADirectoryError):
            ctempfile.persist(self.path("sub"), dest)
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        with self.assertRaises(IsADirectoryError) as cm:
            ctempfile.persist(f, self.path("sub"))
        self.assertEqual(cm.exception.filename2, self.path("sub"))
        with self.assertRaises(FileNotFoundError):
            ctempfile.persist(f, self.path("missing/dest"))
        with self.assertRaises(TypeError):
            ctempfile.persist(f, 3)
        with self.assertRaises(TypeError):
            ctempfile.persist(3.5, dest)
        with self.assertRaisesRegex(ValueError, "level"):
            ctempfile.persist(f, dest, level="soon")
        self.assertTrue(os.path.exists(f.name))
        f.close()
        self.assertNothingElse("sub")
        os.rmdir(self.path("sub"))
        # refused when the library takes the file (not a regular file; a
        # NamedTemporaryFile whose name is gone): both names, as any failure
        os.mkfifo(self.path("fifo"))
        with self.assertRaises(OSError) as cm:
            ctempfile.persist(self.path("fifo"), dest)
        self.assertEqual((cm.exception.errno, cm.exception.filename, cm.exception.filename2),
                         (errno.EINVAL, self.path("fifo"), dest))
        os.unlink(self.path("fifo"))
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        os.unlink(f.name)
        with self.assertRaises(FileNotFoundError) as cm:
            ctempfile.persist(f, dest)
        self.assertEqual((cm.exception.filename, cm.exception.filename2), (f.name, dest))
        f.close()
        self.assertNothingElse()

    def test_closed_kept_file(self):
        f = ctempfile.NamedTemporaryFile(dir=self.dir, delete=False)
        f.write(b"kept")
        f.close()
        ctempfile.persist(f, self.path("dest"))
        self.assertEqual(read(self.path("dest")), "kept")
        self.assertNothingElse("dest")
        os.unlink(self.path("dest"))


# ---- shred ---------------------------------------------------------------------------

SECRET = b"top secret " * 1000


class TestShred(Case):
    def test_path(self):
        p = self.path("secret")
        write(p, SECRET, "wb")
        r = ctempfile.shred(p)
        self.assertIsInstance(r, ctempfile.ShredReport)
        self.assertTrue(r.effective)
        self.assertEqual(r.passes, 3)
        self.assertGreaterEqual(r.bytes, len(SECRET))
        self.assertFalse(r.flags & 0x7f)
        self.assertIsNone(r.left)
        self.assertIn("effective=True", repr(r))
        self.assertNothingElse()
        write(p, SECRET, "wb")
        r = ctempfile.shred(os.fsencode(p), passes=1, zero=True, remove=False, exact=True)
        self.assertEqual((r.passes, r.bytes), (2, len(SECRET)))
        self.assertEqual(read(p, "rb"), bytes(len(SECRET)))   # the zero pass last
        r = ctempfile.shred(p, remove=False)
        self.assertEqual(len(read(p, "rb")), len(SECRET))
        self.assertNotIn(b"secret", read(p, "rb"))
        os.unlink(p)

    def test_named_temporary_file(self):
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        f.write(SECRET)         # buffered: shred flushes first
        name = f.name
        r = ctempfile.shred(f, zero=True)
        self.assertEqual(r.passes, 4)
        self.assertFalse(os.path.exists(name))
        self.assertFalse(f.closed)
        f.close()
        self.assertNothingElse()
        with ctempfile.NamedTemporaryFile(dir=self.dir) as f:
            f.write(SECRET)
            ctempfile.shred(f, remove=False)
            f.seek(0)
            self.assertNotIn(b"secret", f.read())
        self.assertNothingElse()
        f = ctempfile.NamedTemporaryFile(dir=self.dir, delete=False)
        f.write(SECRET)
        f.close()
        ctempfile.shred(f)      # closed: by its name
        self.assertNothingElse()

    def test_temporary_file(self):
        for mode in ("w+b", "w+"):
            f = ctempfile.TemporaryFile(mode, dir=self.dir)
            f.write(SECRET if "b" in mode else SECRET.decode())
            ctempfile.shred(f, remove=False)
            f.seek(0)
            data = f.buffer.read() if "b" not in mode else f.read()
            self.assertEqual(len(data), len(SECRET))
            self.assertNotIn(b"secret", data)
            ctempfile.shred(f)
            self.assertEqual(os.fstat(f.fileno()).st_size, 0)
            f.close()
            with self.assertRaisesRegex(ValueError, "closed file"):
                ctempfile.shred(f)
        self.assertNothingElse()

    def test_spooled_in_memory(self):
        for mode, data in (("w+b", SECRET), ("w+", SECRET.decode())):
            s = ctempfile.SpooledTemporaryFile(max_size=1 << 20, mode=mode, dir=self.dir)
            s.write(data)
            r = ctempfile.shred(s, remove=False)
            self.assertEqual(r.fs_type, 0)
            self.assertEqual(r.findings, ("process memory (spooled file)",))
            self.assertFalse(s._rolled)
            s.seek(0)
            back = s.read()
            self.assertEqual(len(back), len(data))
            self.assertEqual(set(back), {0} if "b" in mode else {"\0"})
            ctempfile.shred(s)
            s.seek(0)
            self.assertEqual(len(s.read()), 0)
            s.close()
            self.assertNothingElse()          # never on disk

    def test_spooled_in_a_bytesio(self):
        # once _file was read, the data is in a real io.BytesIO (CPython's)
        s = ctempfile.SpooledTemporaryFile(dir=self.dir)
        s.write(SECRET)
        self.assertIsInstance(s._file, __import__("io").BytesIO)
        r = ctempfile.shred(s, remove=False)
        self.assertEqual((r.findings, r.bytes, r.effective), (
            ("process memory (spooled file)",), len(SECRET), True))
        s.seek(0)
        self.assertEqual(s.read(), bytes(len(SECRET)))
        ctempfile.shred(s)
        self.assertEqual(s.tell(), 0)
        s.seek(0, 2)
        self.assertEqual(s.tell(), 0)
        s.close()
        self.assertNothingElse()

    def test_spooled_rolled(self):
        s = ctempfile.SpooledTemporaryFile(max_size=10, dir=self.dir)
        s.write(SECRET)
        self.assertTrue(s._rolled)
        r = ctempfile.shred(s, remove=False)
        self.assertEqual(r.passes, 3)
        s.seek(0)
        self.assertNotIn(b"secret", s.read())
        s.close()

    def test_tree(self):
        td = ctempfile.TemporaryDirectory(dir=self.dir)
        write(os.path.join(td.name, "a"), SECRET, "wb")
        os.mkdir(os.path.join(td.name, "sub"))
        write(os.path.join(td.name, "sub", "b"), "b")
        os.symlink("/etc/passwd", os.path.join(td.name, "sub", "link"))
        r = ctempfile.shred(td)
        self.assertEqual(r.files, 2)
        self.assertFalse(os.path.exists(td.name))
        td.cleanup()        # nothing left to do
        self.assertNothingElse()
        tree = self.path("tree")
        os.makedirs(os.path.join(tree, "x", "y"))
        write(os.path.join(tree, "x", "y", "f"), SECRET, "wb")
        r = ctempfile.shred(tree, remove=False)
        self.assertEqual(r.files, 1)
        self.assertNotIn(b"secret", read(os.path.join(tree, "x", "y", "f"), "rb"))
        ctempfile.shred(tree)
        self.assertNothingElse()

    def test_refused_with_report(self):
        p, other = self.path("linked"), self.path("other")
        write(p, SECRET, "wb")
        os.link(p, other)           # another name keeps the data
        with self.assertRaises(OSError) as cm:
            ctempfile.shred(p)
        e = cm.exception
        self.assertEqual((e.errno, e.filename), (errno.EMEDIUMTYPE, p))
        self.assertFalse(e.report.effective)
        self.assertTrue(e.report.flags & 0x10)
        self.assertEqual(len(e.report.findings), 1)
        self.assertEqual(read(p, "rb"), SECRET)         # nothing written
        r = ctempfile.shred(p, force=True)
        self.assertFalse(r.effective)
        self.assertEqual(r.passes, 3)
        self.assertNotIn(b"secret", read(other, "rb"))
        self.assertNothingElse("other")
        os.unlink(other)

    def test_errors(self):
        os.mkfifo(self.path("fifo"))
        with self.assertRaises(OSError) as cm:
            ctempfile.shred(self.path("fifo"))
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaises(FileNotFoundError) as cm:
            ctempfile.shred(self.path("none"))
        self.assertEqual(cm.exception.filename, self.path("none"))
        os.symlink("fifo", self.path("link"))
        with self.assertRaises(OSError) as cm:
            ctempfile.shred(self.path("link"))
        self.assertEqual(cm.exception.errno, errno.ELOOP)
        for bad in (0, 101, -1):
            with self.assertRaisesRegex(ValueError, "passes"):
                ctempfile.shred(self.path("fifo"), passes=bad)
        with self.assertRaisesRegex(TypeError, "passes"):
            ctempfile.shred(self.path("fifo"), passes="3")
        with self.assertRaises(TypeError):
            ctempfile.shred(42)
        with open(self.path("ro"), "wb") as ro:
            pass
        with open(self.path("ro"), "rb") as ro:
            with self.assertRaises(OSError) as cm:
                ctempfile.shred(ro)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
        # an object with a descriptor but no flush or closed (a socket):
        # refused as what it is, not an AttributeError
        a, b = socket.socketpair()
        with a, b:
            with self.assertRaises(OSError) as cm:
                ctempfile.shred(a)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertNothingElse("fifo", "link", "ro")
        for n in ("fifo", "link", "ro"):
            os.unlink(self.path(n))

    @unittest.skipIf(ROOT, "root may write any file")
    def test_no_write_permission(self):
        p = self.path("ro")
        write(p, SECRET, "wb")
        os.chmod(p, 0o400)
        with self.assertRaises(PermissionError):
            ctempfile.shred(p)
        self.assertEqual(read(p, "rb"), SECRET)
        os.unlink(p)


# ---- hand-over -------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, socket, sys
    sys.path.insert(0, sys.argv[2])
    import ctempfile
    sock = socket.socket(fileno=int(sys.argv[1]))
    f = ctempfile.receive_file(sock, sys.argv[3], encoding=None if "b" in sys.argv[3] else "utf-8")
    f.seek(0)
    print(repr(f.name), repr(f.read()), flush=True)
    sys.stdin.readline()          # the parent looks meanwhile
    name = f.name
    f.close()
    print(isinstance(name, str) and os.path.exists(name), flush=True)
    sys.stdin.readline()
""")


class TestHandover(Case):
    def child(self, mode="rb"):
        """An exec'd interpreter receiving on its end of a socket pair."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        p = subprocess.Popen([sys.executable, "-c", CHILD, str(theirs.fileno()), PACKAGE_DIR,
                              mode], pass_fds=[theirs.fileno()], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        theirs.close()
        self.addCleanup(self.reap, p, ours)
        return p, ours

    def reap(self, p, sock):
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()
        sock.close()

    def go(self, p):
        p.stdin.write("\n")
        p.stdin.flush()
        return p.stdout.readline().strip()

    def test_move_to_exec_child(self):
        p, sock = self.child("r")
        f = ctempfile.NamedTemporaryFile("w+", dir=self.dir, encoding="utf-8")
        f.write("données")
        name = f.name
        self.assertIsNone(ctempfile.send_file(sock, f))
        self.assertTrue(f.closed)
        self.assertEqual(p.stdout.readline().strip(), "%r %r" % (name, "données"))
        self.assertFalse(self.unlocked(name))       # live throughout
        f.close()
        del f
        gc.collect()
        self.assertTrue(os.path.exists(name))       # the sender removes nothing
        self.assertEqual(self.go(p), "False")       # the receiver's close did
        self.assertNothingElse()

    def test_receiver_killed_leaves_an_orphan(self):
        p, sock = self.child()
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        f.write(b"x")
        ctempfile.send_file(sock, f)
        p.stdout.readline()
        self.assertFalse(self.unlocked(f.name))     # live: the child holds it
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertTrue(os.path.exists(f.name))     # an orphan now, for a sweep
        self.assertTrue(self.unlocked(f.name))
        f.close()
        del f
        gc.collect()
        self.assertEqual(len(os.listdir(self.dir)), 1)   # the sender removes nothing
        os.unlink(os.path.join(self.dir, os.listdir(self.dir)[0]))

    @staticmethod
    def unlocked(name):
        """Whether nobody holds the file's live lock (the sweep's probe)."""
        import fcntl
        with open(name, "rb") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(probe, fcntl.LOCK_UN)
            return True

    def test_share_last_owner_removes(self):
        for parent_first in (True, False):
            p, sock = self.child()
            f = ctempfile.NamedTemporaryFile(dir=self.dir)
            f.write(b"shared")
            name = f.name
            ctempfile.send_file(sock, f, share=True)
            self.assertFalse(f.closed)
            self.assertEqual(p.stdout.readline().strip(), "%r %r" % (name, b"shared"))
            if parent_first:
                f.close()
                self.assertTrue(os.path.exists(name))
                self.assertEqual(self.go(p), "False")
            else:
                self.assertEqual(self.go(p), "True")    # we still hold it
                f.close()
            self.assertFalse(os.path.exists(name))
            self.go(p)
            p.wait()

    def test_temporary_and_spooled_files(self):
        for make in (lambda: ctempfile.TemporaryFile(dir=self.dir),
                     lambda: ctempfile.SpooledTemporaryFile(dir=self.dir)):
            p, sock = self.child()
            f = make()
            f.write(b"unnamed")
            ctempfile.send_file(sock.fileno(), f)
            self.assertTrue(f.closed)
            line = p.stdout.readline().strip()
            self.assertRegex(line, r"^\d+ b'unnamed'$")
            self.go(p)
            self.go(p)
            p.wait()
            f.close()
        self.assertNothingElse()

    def test_delete_false_stays(self):
        p, sock = self.child()
        f = ctempfile.NamedTemporaryFile(dir=self.dir, delete=False)
        ctempfile.send_file(sock, f)
        p.stdout.readline()
        self.assertEqual(self.go(p), "True")        # the receiver kept it too
        os.unlink(f.name)

    def test_receiver_out_of_descriptors(self):
        """The receiver cannot take the descriptor (RLIMIT_NOFILE): it says
        so (EMFILE), the sender gets ECONNREFUSED and keeps the file."""
        ours, theirs = socket.socketpair()
        child = textwrap.dedent("""
            import os, resource, socket, sys
            sys.path.insert(0, sys.argv[2])
            import ctempfile
            receive = ctempfile.receive_file      # imported while it can be
            sock = socket.socket(fileno=int(sys.argv[1]))
            top = max(int(n) for n in os.listdir("/proc/self/fd"))
            resource.setrlimit(resource.RLIMIT_NOFILE, (top + 1, top + 1))
            try:
                while True:
                    os.open("/dev/null", os.O_RDONLY)
            except OSError:
                pass
            try:
                receive(sock)
            except OSError as e:
                print(e.errno)
            """)
        p = subprocess.Popen([sys.executable, "-c", child, str(theirs.fileno()), PACKAGE_DIR],
                             pass_fds=[theirs.fileno()], stdout=subprocess.PIPE, text=True)
        theirs.close()
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        f.write(b"stays")
        with self.assertRaises(ConnectionRefusedError) as cm:
            ctempfile.send_file(ours, f)
        self.assertEqual(cm.exception.filename, f.name)
        out, _ = p.communicate()
        ours.close()
        self.assertEqual(out.strip(), str(errno.EMFILE))
        self.assertFalse(f.closed)
        f.seek(0)
        self.assertEqual(f.read(), b"stays")
        f.close()
        self.assertNothingElse()

    def in_thread_receive(self, sock, **kw):
        out = []

        def run():
            try:
                out.append(ctempfile.receive_file(sock, **kw))
            except BaseException as e:
                out.append(e)
        t = threading.Thread(target=run)
        t.start()
        return t, out

    def test_in_process_receive(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with a, b:
            t, out = self.in_thread_receive(b, mode="w+", encoding="ascii")
            f = ctempfile.NamedTemporaryFile(dir=self.dir)
            f.write(b"abc")
            f.seek(1)
            ctempfile.send_file(a, f)
            t.join()
            r = out[0]
            self.assertIsInstance(r, ctempfile._TemporaryFileWrapper)
            self.assertEqual(r.name, f.name)
            self.assertEqual(r.read(), "bc")        # the sender's offset
            with r:
                pass
            self.assertNothingElse()

    def test_receive_with_bad_io_arguments(self):
        # io.open() refuses them before or after its FileIO has the
        # descriptor: its own error, the received file removed, no
        # descriptor left (tearDown), none closed twice.
        for kw in ({"mode": "w+", "encoding": "no-such-codec"}, {"buffering": "q"},
                   {"mode": "w+", "errors": 5}, {"mode": "bogus"}):
            with self.subTest(**kw):
                a, b = socket.socketpair()
                with a, b:
                    t, out = self.in_thread_receive(b, **kw)
                    f = ctempfile.NamedTemporaryFile(dir=self.dir)
                    ctempfile.send_file(a, f)
                    t.join()
                    self.assertIsInstance(out[0], (TypeError, ValueError, LookupError))
                    self.assertNotIsInstance(out[0], OSError)
                    self.assertNothingElse()

    def test_failed_send_keeps_the_file(self):
        a, b = socket.socketpair()
        b.close()
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        with self.assertRaises(OSError) as cm:
            ctempfile.send_file(a, f)
        self.assertIn(cm.exception.errno, (errno.EPIPE, errno.ECONNRESET))
        self.assertEqual(cm.exception.filename, f.name)
        self.assertFalse(f.closed)
        self.assertTrue(os.path.exists(f.name))
        f.close()
        a.close()
        self.assertNothingElse()
        # a peer that refuses: it receives garbage, the sender's file stays
        a, b = socket.socketpair()
        with a, b:
            t, out = self.in_thread_receive(b)
            a.sendall(b"not a hand-over at all")
            a.shutdown(socket.SHUT_WR)
            t.join()
            self.assertIsInstance(out[0], OSError)
            self.assertIn(out[0].errno, (errno.EBADMSG, errno.ECONNRESET))

    def test_bad_arguments(self):
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        inet = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with inet:
            with self.assertRaisesRegex(ValueError, "AF_UNIX"):
                ctempfile.send_file(inet, f)
            with self.assertRaisesRegex(ValueError, "AF_UNIX"):
                ctempfile.receive_file(inet)
        dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with dgram:
            with self.assertRaisesRegex(ValueError, "SOCK_STREAM"):
                ctempfile.send_file(dgram, f)
        with self.assertRaisesRegex(TypeError, "sock must be"):
            ctempfile.send_file("sock", f)
        a, b = socket.socketpair()
        with a, b:
            for file in (None, 5, f.name, f.name.encode()):
                with self.assertRaisesRegex(TypeError, "file must be a NamedTemporaryFile"):
                    ctempfile.send_file(a, file)
        f.close()
        a, b = socket.socketpair()
        with a, b:
            with self.assertRaisesRegex(ValueError, "closed file"):
                ctempfile.send_file(a, f)
        self.assertNothingElse()


# A child interpreter that races another thread against a call which runs
# without the GIL: the calling thread sets an event just before the call,
# and with a switch interval of 1000 s the waiting thread can only run once
# the call has released the GIL (or after it has returned, where the call
# keeps the GIL). A crash there (a use after free) is the child's death.
RACE = textwrap.dedent("""
    import os, sys, threading
    sys.path.insert(0, sys.argv[1])
    import ctempfile
    sys.setswitchinterval(1000)
    order = []
    ready = threading.Event()

    def race(call, other):
        def run():
            ready.set()
            try:
                call()
                order.append("call")
            except Exception as e:
                order.append("call " + type(e).__name__)
        t = threading.Thread(target=run)
        t.start()
        ready.wait()
        try:
            other()
            order.append("other")
        except Exception as e:
            order.append("other %s: %s" % (type(e).__name__, e))
        t.join()
""")


class TestThreads(Case):
    """A capability's call that runs without the GIL must not let another
    thread free what it works on (a closed file, an aborted write)."""

    def race(self, body):
        r = subprocess.run([sys.executable, "-c", RACE + textwrap.dedent(body),
                            PACKAGE_DIR, self.dir], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split("\n")[:-1]

    def test_shred_spooled_memory_against_close(self):
        # The wipe of the library's memory holds the GIL, as BytesIO's calls
        # do: close() in another thread comes after it, never during it.
        out = self.race("""
            sp = ctempfile.SpooledTemporaryFile(max_size=1 << 30)
            sp.write(b"s" * (64 << 20))
            report = []
            shred = ctempfile.shred     # imported here, not in the race
            race(lambda: report.append(shred(sp, remove=False)), sp.close)
            print(order)
            print(report[0].bytes, report[0].effective, sp.closed)
            """)
        self.assertEqual(out, ["['call', 'other']", "%d True True" % (64 << 20)])

    def test_commit_against_abort(self):
        # abort() while the commit runs (without the GIL, syncing) is
        # refused; the commit completes.
        out = self.race("""
            dest = os.path.join(sys.argv[2], "dest")
            with open(dest, "wb") as f:
                f.write(b"old")
            aw = ctempfile.atomic_write(dest, "wb")
            f = aw.__enter__()
            f.write(b"n" * (8 << 20))
            f.close()
            handle = aw._handle
            race(handle.commit, handle.abort)
            print(order)
            with open(dest, "rb") as f:
                print(len(f.read()), sorted(os.listdir(sys.argv[2])))
            os.unlink(dest)
            """)
        self.assertEqual(out, [
            "['other RuntimeError: commit() under way in another thread', 'call']",
            "%d ['dest']" % (8 << 20)])


if __name__ == "__main__":
    unittest.main()
