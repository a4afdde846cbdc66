"""ctempfile's own tests: every public name against the standard tempfile,
error paths, threads, fork and interpreter exit.

    PYTHONPATH=build/python python3 -m unittest discover -s python/tests
"""
import errno
import gc
import inspect
import io
import os
import stat
import subprocess
import sys
import tempfile as std
import textwrap
import threading
import unittest
import warnings

import ctempfile

NAME_RE = r"[a-z0-9_]{8}"
# delete_on_close and TemporaryDirectory(delete=) came with CPython 3.12.
API_3_12 = sys.version_info >= (3, 12)
needs_3_12 = unittest.skipUnless(API_3_12, "CPython 3.12's API")


def listdir(d):
    return sorted(os.listdir(d))


class PrivateDir(unittest.TestCase):
    """Each test works in a directory of its own, checked empty at the end."""

    def setUp(self):
        self.dir = std.mkdtemp(prefix="ctempfile-test-")
        self.addCleanup(self._remove_dir)

    def _remove_dir(self):
        for root, dirs, files in os.walk(self.dir):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o700)
        import shutil
        shutil.rmtree(self.dir)


class TestPublicNames(unittest.TestCase):
    def test_all(self):
        self.assertEqual(ctempfile.__all__, std.__all__)
        for name in std.__all__ + ["template"]:
            self.assertTrue(hasattr(ctempfile, name), name)

    def test_no_extra_public_names(self):
        public = {k for k in vars(ctempfile) if not k.startswith("_")}
        self.assertEqual(public, set(std.__all__) | {"template"})

    # CPython 3.13's signatures; on 3.11 (no delete_on_close, no
    # TemporaryDirectory(delete=)) the running interpreter's.
    SIGNATURES = {
        'NamedTemporaryFile': "(mode='w+b', buffering=-1, encoding=None, newline=None, suffix=None, prefix=None, dir=None, delete=True, *, errors=None, delete_on_close=True)",
        'TemporaryFile': "(mode='w+b', buffering=-1, encoding=None, newline=None, suffix=None, prefix=None, dir=None, *, errors=None)",
        'mkstemp': '(suffix=None, prefix=None, dir=None, text=False)',
        'mkdtemp': '(suffix=None, prefix=None, dir=None)',
        'mktemp': "(suffix='', prefix='tmp', dir=None)",
        'gettempprefix': '()',
        'gettempprefixb': '()',
        'gettempdir': '()',
        'gettempdirb': '()',
        'SpooledTemporaryFile': "(max_size=0, mode='w+b', buffering=-1, encoding=None, newline=None, suffix=None, prefix=None, dir=None, *, errors=None)",
        'TemporaryDirectory': '(suffix=None, prefix=None, dir=None, ignore_cleanup_errors=False, *, delete=True)',
        '_infer_return_type': '(*args)',
        '_mkstemp_inner': '(dir, pre, suf, flags, output_type)',
        '_candidate_tempdir_list': '()',
        '_get_default_tempdir': '()',
        '_get_candidate_names': '()',
        '_TemporaryFileWrapper': '(file, name, delete=True, delete_on_close=True)',
    }

    def test_signatures(self):
        for name, sig in self.SIGNATURES.items():
            if not API_3_12 and name in ("NamedTemporaryFile", "TemporaryDirectory",
                                         "_TemporaryFileWrapper"):
                sig = str(inspect.signature(getattr(std, name)))
            with self.subTest(name=name):
                self.assertEqual(str(inspect.signature(getattr(ctempfile, name))), sig)

    def test_constants(self):
        self.assertEqual(ctempfile.TMP_MAX, std.TMP_MAX)
        self.assertEqual(ctempfile.template, std.template)
        self.assertEqual(ctempfile._bin_openflags, std._bin_openflags)
        self.assertEqual(ctempfile._text_openflags, std._text_openflags)
        self.assertEqual(ctempfile.gettempprefix(), "tmp")
        self.assertEqual(ctempfile.gettempprefixb(), b"tmp")
        self.assertIsInstance(ctempfile._O_TMPFILE_WORKS, bool)

    def test_private_helpers(self):
        self.assertIs(ctempfile._infer_return_type(None, b"x"), bytes)
        with self.assertRaises(TypeError):
            ctempfile._infer_return_type("x", b"y")
        seq = ctempfile._get_candidate_names()
        self.assertIs(seq, ctempfile._get_candidate_names())
        self.assertIsInstance(seq, ctempfile._RandomNameSequence)
        names = {next(seq) for _ in range(1000)}
        self.assertEqual(len(names), 1000)
        for n in names:
            self.assertRegex(n, "^" + NAME_RE + "$")
        cand = ctempfile._candidate_tempdir_list()
        self.assertIn("/tmp", cand)
        self.assertIn(os.getcwd(), cand)
        self.assertTrue(os.path.isdir(ctempfile._get_default_tempdir()))

    def test_class_getitem(self):
        import types
        self.assertIsInstance(ctempfile.SpooledTemporaryFile[bytes], types.GenericAlias)
        self.assertIsInstance(ctempfile.TemporaryDirectory[str], types.GenericAlias)


class TestLowLevel(PrivateDir):
    def test_mkstemp(self):
        fd, name = ctempfile.mkstemp(prefix="p_", suffix=".s", dir=self.dir)
        try:
            self.assertIsInstance(fd, int)
            self.assertEqual(os.path.dirname(name), self.dir)
            self.assertRegex(os.path.basename(name), "^p_" + NAME_RE + r"\.s$")
            st = os.fstat(fd)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            self.assertEqual(os.stat(name).st_ino, st.st_ino)
            self.assertFalse(os.get_inheritable(fd))
        finally:
            os.close(fd)
            os.unlink(name)

    def test_mkstemp_bytes_and_relative(self):
        fd, name = ctempfile.mkstemp(dir=os.fsencode(self.dir))
        os.close(fd)
        self.assertIsInstance(name, bytes)
        os.unlink(name)
        cwd = os.getcwd()
        os.chdir(self.dir)
        try:
            fd, name = ctempfile.mkstemp(dir=".")
            os.close(fd)
            self.assertEqual(os.path.dirname(name), self.dir)
            os.unlink(name)
        finally:
            os.chdir(cwd)

    def test_mkdtemp(self):
        name = ctempfile.mkdtemp(suffix="-d", dir=self.dir)
        self.assertEqual(stat.S_IMODE(os.stat(name).st_mode), 0o700)
        self.assertTrue(name.endswith("-d"))
        os.rmdir(name)
        name = ctempfile.mkdtemp(dir=os.fsencode(self.dir))
        self.assertIsInstance(name, bytes)
        os.rmdir(name)

    def test_mktemp(self):
        name = ctempfile.mktemp(dir=self.dir, prefix="m")
        self.assertFalse(os.path.exists(name))
        self.assertRegex(os.path.basename(name), "^m" + NAME_RE + "$")
        # CPython joins the dir as given, relative or not.
        self.assertRegex(ctempfile.mktemp(dir="rel"), "^rel/tmp" + NAME_RE + "$")

    def test_mixed_types(self):
        for call in (ctempfile.mkstemp, ctempfile.mkdtemp):
            with self.assertRaises(TypeError):
                call(prefix=b"x", suffix="y", dir=self.dir)
        self.assertEqual(listdir(self.dir), [])

    def test_slash_refused(self):
        for kw in ({"prefix": "a/b"}, {"suffix": "/x"}, {"prefix": b"a/"}):
            for call in (ctempfile.mkstemp, ctempfile.mkdtemp,
                         ctempfile.NamedTemporaryFile, ctempfile.TemporaryFile,
                         ctempfile.TemporaryDirectory, ctempfile.SpooledTemporaryFile):
                with self.subTest(call=call.__name__, kw=kw):
                    d = os.fsencode(self.dir) if isinstance(next(iter(kw.values())), bytes) else self.dir
                    with self.assertRaises(OSError) as cm:
                        call(dir=d, **kw)
                    self.assertEqual(cm.exception.errno, errno.EINVAL)
        for kw in ({"prefix": "a/b"}, {"suffix": "/x"}):   # text mode too, at creation
            with self.subTest(mode="w+", kw=kw):
                with self.assertRaises(OSError) as cm:
                    ctempfile.SpooledTemporaryFile(mode="w+", dir=self.dir, **kw)
                self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertEqual(listdir(self.dir), [])

    def test_missing_dir(self):
        missing = os.path.join(self.dir, "missing")
        for call in (ctempfile.mkstemp, ctempfile.mkdtemp, ctempfile.NamedTemporaryFile,
                     ctempfile.TemporaryFile, ctempfile.TemporaryDirectory):
            with self.subTest(call=call.__name__):
                with self.assertRaises(FileNotFoundError) as cm:
                    call(dir=missing)
                self.assertEqual(cm.exception.errno, errno.ENOENT)
                # the path tried, as CPython's errors name it
                self.assertEqual(os.path.dirname(cm.exception.filename), missing)
                self.assertRegex(os.path.basename(cm.exception.filename), r"^tmp[a-z0-9_]{8}$")

    def test_not_a_directory(self):
        f = os.path.join(self.dir, "file")
        open(f, "wb").close()
        for call in (ctempfile.mkstemp, ctempfile.mkdtemp, ctempfile.TemporaryFile):
            with self.subTest(call=call.__name__):
                with self.assertRaises(NotADirectoryError) as cm:
                    call(dir=f)
                self.assertEqual(cm.exception.errno, errno.ENOTDIR)
                self.assertEqual(os.path.dirname(cm.exception.filename), f)

    @unittest.skipIf(os.geteuid() == 0, "root writes anywhere")
    def test_read_only_dir(self):
        os.chmod(self.dir, 0o500)
        try:
            with self.assertRaises(PermissionError):
                ctempfile.mkstemp(dir=self.dir)
        finally:
            os.chmod(self.dir, 0o700)

    def test_nul_byte(self):
        with self.assertRaises(ValueError):
            ctempfile.mkstemp(prefix="a\0b", dir=self.dir)

    def test_tempdir_settable(self):
        old = ctempfile.tempdir
        try:
            ctempfile.tempdir = self.dir
            self.assertEqual(ctempfile.gettempdir(), self.dir)
            fd, name = ctempfile.mkstemp()
            os.close(fd)
            self.assertEqual(os.path.dirname(name), self.dir)
            ctempfile.tempdir = os.fsencode(self.dir)
            self.assertEqual(ctempfile.gettempdir(), self.dir)
            self.assertEqual(ctempfile.gettempdirb(), os.fsencode(self.dir))
            fd, bname = ctempfile.mkstemp()
            os.close(fd)
            self.assertIsInstance(bname, bytes)
            ctempfile.tempdir = None
            env = os.environ.get("TMPDIR")
            os.environ["TMPDIR"] = self.dir
            try:
                self.assertEqual(ctempfile.gettempdir(), self.dir)
            finally:
                if env is None:
                    del os.environ["TMPDIR"]
                else:
                    os.environ["TMPDIR"] = env
        finally:
            ctempfile.tempdir = old
        self.assertEqual(len(listdir(self.dir)), 2)


class TestFiles(PrivateDir):
    def test_temporary_file_types(self):
        cases = [("w+b", -1, io.BufferedRandom, "rb+"), ("wb", -1, io.BufferedWriter, "wb"),
                 ("w+b", 0, io.FileIO, "rb+"), ("w+", -1, io.TextIOWrapper, "w+"),
                 ("r+b", -1, io.BufferedRandom, "rb+")]
        for mode, buffering, cls, shown in cases:
            with self.subTest(mode=mode, buffering=buffering):
                with ctempfile.TemporaryFile(mode, buffering, dir=self.dir) as f:
                    self.assertIs(type(f), cls)
                    self.assertEqual(f.mode, shown)
                    self.assertIsInstance(f.name, int)
                    self.assertEqual(f.name, f.fileno())
                    self.assertEqual(listdir(self.dir), [])
                    self.assertFalse(os.get_inheritable(f.fileno()))
                    self.assertEqual(stat.S_IMODE(os.fstat(f.fileno()).st_mode), 0o600)

    def test_temporary_file_roundtrip(self):
        with ctempfile.TemporaryFile("w+", encoding="utf-16", newline="") as f:
            f.write("\u039b\r\n")
            f.seek(0)
            self.assertEqual(f.read(), "\u039b\r\n")

    def test_temporary_file_without_o_tmpfile(self):
        old = ctempfile._O_TMPFILE_WORKS
        ctempfile._O_TMPFILE_WORKS = False
        try:
            with ctempfile.TemporaryFile(dir=self.dir) as f:
                f.write(b"x")
                self.assertEqual(listdir(self.dir), [])
        finally:
            ctempfile._O_TMPFILE_WORKS = old

    def test_named(self):
        f = ctempfile.NamedTemporaryFile(dir=self.dir, prefix="n_", suffix=".t")
        self.assertIsInstance(f, ctempfile._TemporaryFileWrapper)
        self.assertIs(type(f.file), io.BufferedRandom)
        self.assertEqual(f.file.raw.name, f.name)
        self.assertEqual(f.mode, "rb+")
        self.assertRegex(os.path.basename(f.name), "^n_" + NAME_RE + r"\.t$")
        self.assertFalse(os.get_inheritable(f.fileno()))
        f.write(b"data")
        f.flush()
        with open(f.name, "rb") as g:
            self.assertEqual(g.read(), b"data")
        f.close()
        self.assertEqual(listdir(self.dir), [])

    def test_named_text_and_bytes(self):
        with ctempfile.NamedTemporaryFile("w+", dir=self.dir, encoding="utf-8") as f:
            self.assertIs(type(f.file), io.TextIOWrapper)
            self.assertEqual(f.mode, "w+")
            self.assertEqual(f.buffer.raw.name, f.name)
        with ctempfile.NamedTemporaryFile(dir=os.fsencode(self.dir)) as f:
            self.assertIsInstance(f.name, bytes)
        self.assertEqual(listdir(self.dir), [])

    @needs_3_12
    def test_named_delete_matrix(self):
        f = ctempfile.NamedTemporaryFile(dir=self.dir, delete=False)
        f.close()
        self.assertTrue(os.path.exists(f.name))
        os.unlink(f.name)
        with ctempfile.NamedTemporaryFile(dir=self.dir, delete_on_close=False) as f:
            f.close()
            self.assertTrue(os.path.exists(f.name))
        self.assertFalse(os.path.exists(f.name))
        f = ctempfile.NamedTemporaryFile(dir=self.dir, delete_on_close=False)
        name = f.name
        del f
        gc.collect()
        self.assertFalse(os.path.exists(name))
        with ctempfile.NamedTemporaryFile(dir=self.dir, delete_on_close=False) as f:
            f.close()
            os.unlink(f.name)   # removing it by hand is fine
        self.assertEqual(listdir(self.dir), [])

    def test_named_errors_leave_nothing(self):
        with self.assertRaises(ValueError):
            ctempfile.NamedTemporaryFile(mode="wr", dir=self.dir)
        with self.assertRaises(LookupError):
            ctempfile.NamedTemporaryFile("w", encoding="nope", dir=self.dir)
        with self.assertRaises(LookupError):
            ctempfile.NamedTemporaryFile("w", encoding="nope", dir=self.dir, delete=False)
        with self.assertRaises(LookupError):
            ctempfile.TemporaryFile("w", encoding="nope", dir=self.dir)
        with self.assertRaises(TypeError):
            ctempfile.TemporaryFile(mode=2, dir=self.dir)
        self.assertEqual(listdir(self.dir), [])

    def test_no_descriptor_leaks_on_errors(self):
        before = len(os.listdir("/proc/self/fd"))
        bad = [dict(mode="wr"), dict(mode=2), dict(mode="w", encoding="nope"),
               dict(mode="w", newline="x"), dict(mode="w+", buffering=0),
               dict(mode="w+b", encoding="utf-8"), dict(mode="w+b", buffering="x")]
        for kw in bad:
            for call in (ctempfile.TemporaryFile, ctempfile.NamedTemporaryFile):
                with self.subTest(call=call.__name__, kw=kw):
                    with self.assertRaises((ValueError, TypeError, LookupError)):
                        call(dir=self.dir, **kw)
        gc.collect()
        self.assertEqual(len(os.listdir("/proc/self/fd")), before)
        self.assertEqual(listdir(self.dir), [])
        with ctempfile.TemporaryFile(dir=os.fsencode(self.dir)) as f:   # the Python path
            self.assertIsInstance(f.name, int)

    @staticmethod
    def _shape(make):
        """What make() returns, described for comparison: the exception type,
        or the io classes (and buffer sizes) from outside in, mode, name type,
        text settings and warnings raised."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                f = make()
            except Exception as e:
                return ("raises", type(e).__name__, str(e))
        layers = []
        obj = getattr(f, "file", f)
        while obj is not None:
            # A buffered object's size includes its buffer's.
            layers.append((type(obj).__name__, sys.getsizeof(obj)))
            obj = getattr(obj, "buffer", None) or getattr(obj, "raw", None)
        inner = getattr(f, "file", f)
        text = (inner.encoding, inner.errors, inner.line_buffering,
                inner._CHUNK_SIZE) if isinstance(inner, io.TextIOWrapper) else None
        shape = (layers, f.mode, type(f.name).__name__, text,
                 sorted(str(w.category.__name__) for w in caught))
        f.close()
        return shape

    def test_io_objects_as_standard(self):
        """The C paths build the io objects themselves (no isatty probe): for
        every mode and buffering, the result has the standard module's shape
        (classes, mode, name, text settings, warnings, or the same error)."""
        modes = ["w+b", "wb+", "r+b", "rb+", "wb", "w+", "w+t", "wt+", "r+", "r+t", "rt+",
                 "w", "wt", "rb", "ab", "a+", "xb", "w+bt", "q", "ww", "w+b\0zz", "w\0"]
        extras = [dict(), dict(encoding="latin-1", errors="replace", newline=""),
                  dict(encoding=5), dict(errors=b"x"), dict(newline=7)]
        for mode in modes:
            for buffering in (-1, -7, 0, 1, 2, 8192, 2 ** 40, -2 ** 40, 2 ** 31):
                for kw in extras:
                    for name in ("TemporaryFile", "NamedTemporaryFile"):
                        with self.subTest(call=name, mode=mode, buffering=buffering, kw=kw):
                            ours = self._shape(lambda: getattr(ctempfile, name)(
                                mode, buffering, dir=self.dir, **kw))
                            theirs = self._shape(lambda: getattr(std, name)(
                                mode, buffering, dir=self.dir, **kw))
                            self.assertEqual(ours, theirs)
                            self.assertEqual(listdir(self.dir), [])

    def test_argument_errors_as_standard(self):
        calls = [((), dict(bogus=1)), ((1, 2, 3, 4, 5, 6, 7, 8, 9), {}),
                 (("w+b",), dict(mode="w+b")), ((), dict(delete_on_close=False, errors=None)),
                 (("", "x", None, False), {}), ((), dict(text=True, suffix=""))]
        for args, kw in calls:
            for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
                known = inspect.signature(getattr(std, name)).parameters
                if "delete_on_close" in kw and "delete_on_close" not in known:
                    continue   # CPython before 3.12: ctempfile has 3.13's signature
                with self.subTest(call=name, args=args, kw=kw):
                    outcome = []
                    for mod in (std, ctempfile):
                        try:
                            made = getattr(mod, name)(*args, dir=self.dir, **kw)
                            outcome.append(type(made).__name__)
                        except TypeError as e:
                            outcome.append(str(e))
                        else:
                            self._undo(made)
                    self.assertEqual(outcome[1], outcome[0])
        self.assertEqual(listdir(self.dir), [])

    @staticmethod
    def _undo(made):
        if isinstance(made, tuple):
            os.close(made[0])
            os.unlink(made[1])
        elif isinstance(made, str):
            os.rmdir(made)
        else:
            made.close()

    def test_replaced_io_open_called_as_standard(self):
        """A replacement that takes io.open's arguments the way CPython's
        tempfile passes them (keywords) is called with the directory."""
        from unittest import mock
        real = io.open
        seen = []

        def keyword_open(file, mode, *, buffering, newline, encoding, errors, opener):
            seen.append(file)
            return real(file, mode, buffering=buffering, newline=newline,
                        encoding=encoding, errors=errors, opener=opener)

        with mock.patch("io.open", keyword_open):
            with ctempfile.NamedTemporaryFile(dir=self.dir) as f:
                self.assertEqual(f.file.raw.name, f.name)
            with ctempfile.TemporaryFile(dir=self.dir) as f:
                self.assertEqual(f.name, f.fileno())
        self.assertEqual(seen, [self.dir, self.dir])
        self.assertEqual(listdir(self.dir), [])

    def test_replaced_gettempdir_obeyed(self):
        from unittest import mock
        ctempfile.gettempdir()   # tempdir is set from here on
        with mock.patch.object(ctempfile, "gettempdir", lambda: self.dir):
            fd, name = ctempfile.mkstemp()
            os.close(fd)
            d = ctempfile.mkdtemp()
            with ctempfile.NamedTemporaryFile() as f:
                self.assertEqual(os.path.dirname(f.name), self.dir)
        self.assertEqual(os.path.dirname(name), self.dir)
        self.assertEqual(os.path.dirname(d), self.dir)
        os.unlink(name)
        os.rmdir(d)

    def test_replaced_io_open_is_called(self):
        """A program (or CPython's own test) that patches io.open sees it used."""
        from unittest import mock
        real = io.open
        with mock.patch("io.open", side_effect=real) as patched:
            with ctempfile.NamedTemporaryFile(dir=self.dir) as f:
                f.write(b"x")
            with ctempfile.TemporaryFile(dir=self.dir) as f:
                f.write(b"x")
        self.assertEqual(patched.call_count, 2)
        self.assertEqual(listdir(self.dir), [])

    def test_wrapper_iteration_and_methods(self):
        f = ctempfile.NamedTemporaryFile(dir=self.dir)
        f.write(b"a\nb\n")
        f.seek(0)
        self.assertEqual(list(f), [b"a\n", b"b\n"])
        write = f.write
        del f
        write(b"still open")   # the bound method keeps the file
        del write
        gc.collect()
        self.assertEqual(listdir(self.dir), [])

    def test_replaced_name_sequence(self):
        old = ctempfile._get_candidate_names
        ctempfile._get_candidate_names = lambda: iter(["aaa", "aaa", "bbb", "ccc", "ccc", "ddd"])
        try:
            fd, n1 = ctempfile.mkstemp(dir=self.dir)
            os.close(fd)
            d2 = ctempfile.mkdtemp(dir=self.dir)
            f = ctempfile.NamedTemporaryFile(dir=self.dir)
            self.assertTrue(n1.endswith("tmpaaa"))
            self.assertTrue(d2.endswith("tmpbbb"))
            self.assertTrue(f.name.endswith("tmpccc"))
            f.close()
            self.assertEqual(listdir(self.dir), ["tmpaaa", "tmpbbb"])
        finally:
            ctempfile._get_candidate_names = old


class TestSpooled(PrivateDir):
    def make(self, **kw):
        kw.setdefault("dir", self.dir)
        return ctempfile.SpooledTemporaryFile(**kw)

    def test_is_iobase(self):
        f = self.make()
        self.assertIsInstance(f, io.IOBase)
        f.close()

    def test_memory_then_disk(self):
        f = self.make(max_size=10)
        f.write(b"0123456789")
        self.assertFalse(f._rolled)
        self.assertIsNone(f.name)
        self.assertEqual(f.mode, "w+b")
        self.assertEqual(f._file.getvalue(), b"0123456789")
        self.assertEqual(listdir(self.dir), [])
        f.write(b"x")
        self.assertTrue(f._rolled)
        self.assertIs(type(f._file), io.BufferedRandom)
        self.assertEqual(f.mode, "rb+")
        self.assertEqual(f.name, f.fileno())
        self.assertEqual(f.tell(), 11)
        f.seek(0)
        self.assertEqual(f.read(), b"0123456789x")
        self.assertEqual(listdir(self.dir), [])   # unnamed on disk too
        f.close()
        self.assertTrue(f.closed)

    def test_file_api_in_memory(self):
        f = self.make(max_size=100)
        self.assertEqual(f.write(bytearray(b"l1\nline2\nl3")), 11)
        f.writelines([b"\n", memoryview(b"end")])
        self.assertEqual(f.seek(0), 0)
        self.assertEqual(f.readline(), b"l1\n")
        self.assertEqual(f.readline(2), b"li")
        self.assertEqual(f.readlines(), [b"ne2\n", b"l3\n", b"end"])
        f.seek(0)
        self.assertEqual(list(f), [b"l1\n", b"line2\n", b"l3\n", b"end"])
        f.seek(-3, 2)
        self.assertEqual(f.read(), b"end")
        f.seek(-100, 1)
        self.assertEqual(f.tell(), 0)
        buf = bytearray(4)
        self.assertEqual(f.readinto(buf), 4)
        self.assertEqual(bytes(buf), b"l1\nl")
        self.assertEqual(f.read1(2), b"in")
        self.assertEqual(f.truncate(5), 5)
        self.assertEqual(f._file.getvalue(), b"l1\nli")
        self.assertFalse(f._rolled)
        g = self.make()             # max_size 0: truncate(n > 0) rolls, as CPython
        g.truncate(1)
        self.assertTrue(g._rolled)
        g.close()
        with self.assertRaises(ValueError):
            f.seek(-1)
        with self.assertRaises(TypeError):
            f.write("text")
        self.assertTrue(f.readable() and f.writable() and f.seekable())
        self.assertFalse(f.isatty())
        f.flush()
        f.close()
        with self.assertRaises(ValueError):
            f.write(b"x")
        with self.assertRaises(ValueError):
            with f:
                pass

    def test_fileno_and_truncate_roll(self):
        f = self.make(max_size=100)
        f.write(b"abc")
        fd = f.fileno()
        self.assertTrue(f._rolled)
        self.assertEqual(os.pread(fd, 10, 0), b"abc")
        f.close()
        f = self.make(max_size=10)
        f.write(b"abc")
        f.truncate(20)
        self.assertTrue(f._rolled)
        self.assertEqual(os.fstat(f.fileno()).st_size, 20)
        f.close()
        f = self.make(max_size=10)
        f.rollover()
        self.assertTrue(f._rolled)
        f.close()

    def test_text_mode(self):
        f = self.make(mode="w+", max_size=10, encoding="utf-8", newline="")
        f.write("a\r\nb")
        self.assertFalse(f._rolled)
        self.assertEqual(f.encoding, "utf-8")
        self.assertEqual(f.errors, "strict")
        self.assertEqual(f.mode, "w+")
        self.assertIsNone(f.name)
        f.write("\u039b" * 5)
        self.assertTrue(f._rolled)
        self.assertIs(type(f._file), io.TextIOWrapper)
        self.assertEqual(f.mode, "w+")
        f.seek(0)
        self.assertEqual(f.read(), "a\r\nb" + "\u039b" * 5)
        f.close()

    def test_unclosed_warns(self):
        for rolled in (False, True):
            f = self.make(max_size=2)
            if rolled:
                f.write(b"abc")
            with self.assertWarns(ResourceWarning):
                del f
                gc.collect()

    def test_context_manager(self):
        with self.make(max_size=5) as f:
            f.write(b"hello world")
        self.assertTrue(f.closed)
        self.assertEqual(listdir(self.dir), [])


class TestDirectory(PrivateDir):
    def test_basic(self):
        d = ctempfile.TemporaryDirectory(dir=self.dir, prefix="d_")
        self.assertRegex(os.path.basename(d.name), "^d_" + NAME_RE + "$")
        self.assertEqual(stat.S_IMODE(os.stat(d.name).st_mode), 0o700)
        self.assertEqual(repr(d), "<TemporaryDirectory %r>" % d.name)
        with d as name:
            self.assertEqual(name, d.name)
            os.makedirs(os.path.join(name, "a", "b"))
            open(os.path.join(name, "a", "b", "f"), "w").close()
        self.assertEqual(listdir(self.dir), [])
        d.cleanup()   # again: no-op

    def test_bytes(self):
        with ctempfile.TemporaryDirectory(dir=os.fsencode(self.dir)) as name:
            self.assertIsInstance(name, bytes)

    def test_symlink_not_followed(self):
        outside = os.path.join(self.dir, "outside")
        os.mkdir(outside)
        open(os.path.join(outside, "keep"), "w").close()
        d = ctempfile.TemporaryDirectory(dir=self.dir)
        os.symlink(outside, os.path.join(d.name, "link"))
        os.symlink(os.path.join(outside, "keep"), os.path.join(d.name, "flink"))
        d.cleanup()
        self.assertEqual(listdir(self.dir), ["outside"])
        self.assertEqual(listdir(outside), ["keep"])

    def test_unreadable_subdirs(self):
        with ctempfile.TemporaryDirectory(dir=self.dir) as name:
            sub = os.path.join(name, "s", "t")
            os.makedirs(sub)
            open(os.path.join(sub, "f"), "w").close()
            os.chmod(sub, 0)
            os.chmod(os.path.dirname(sub), 0)
        self.assertEqual(listdir(self.dir), [])

    @needs_3_12
    def test_delete_false(self):
        with ctempfile.TemporaryDirectory(dir=self.dir, delete=False) as name:
            pass
        self.assertTrue(os.path.isdir(name))
        d = ctempfile.TemporaryDirectory(dir=self.dir, delete=False)
        dname = d.name
        del d
        gc.collect()
        self.assertTrue(os.path.isdir(dname))

    def test_implicit_cleanup_warns(self):
        d = ctempfile.TemporaryDirectory(dir=self.dir)
        name = d.name
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            del d
            gc.collect()
        self.assertFalse(os.path.exists(name))
        self.assertTrue(any(issubclass(x.category, ResourceWarning) and
                            "Implicitly cleaning up" in str(x.message) for x in w))

    def test_ignore_cleanup_errors(self):
        d = ctempfile.TemporaryDirectory(dir=self.dir, ignore_cleanup_errors=True)
        d.cleanup()
        d.cleanup()
        self.assertEqual(listdir(self.dir), [])

    def test_cleanup_from_two_threads(self):
        # A second cleanup() while another thread's runs without the GIL
        # waits for it (CPython's two rmtrees run along, and both return):
        # neither raises, nothing is left.
        d = ctempfile.TemporaryDirectory(dir=self.dir)
        for i in range(20):
            sub = os.path.join(d.name, "d%d" % i)
            os.mkdir(sub)
            for j in range(50):
                open(os.path.join(sub, "f%d" % j), "w").close()
        ready, out = threading.Event(), []

        def cleanup(who):
            try:
                d.cleanup()
                out.append(who)
            except Exception as e:
                out.append(repr(e))
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1000)     # the GIL changes hands only when released
        try:
            t = threading.Thread(target=lambda: (ready.set(), cleanup("first")))
            t.start()
            ready.wait()
            cleanup("second")
            t.join()
        finally:
            sys.setswitchinterval(interval)
        self.assertEqual(sorted(out), ["first", "second"])
        self.assertEqual(listdir(self.dir), [])


class TestConcurrency(PrivateDir):
    THREADS = 8
    ROUNDS = 150

    def test_threads(self):
        names = [[] for _ in range(self.THREADS)]
        errors = []
        barrier = threading.Barrier(self.THREADS)

        def work(i):
            try:
                barrier.wait()
                for r in range(self.ROUNDS):
                    fd, n = ctempfile.mkstemp(dir=self.dir)
                    os.write(fd, b"x")
                    os.close(fd)
                    names[i].append(n)
                    os.unlink(n)
                    d = ctempfile.mkdtemp(dir=self.dir)
                    names[i].append(d)
                    os.rmdir(d)
                    with ctempfile.NamedTemporaryFile(dir=self.dir) as f:
                        names[i].append(f.name)
                        f.write(b"y" * r)
                    with ctempfile.TemporaryFile(dir=self.dir) as f:
                        f.write(b"z")
                    with ctempfile.TemporaryDirectory(dir=self.dir) as t:
                        names[i].append(t)
                        open(os.path.join(t, "f"), "w").close()
                    with ctempfile.SpooledTemporaryFile(max_size=r, dir=self.dir) as s:
                        s.write(b"w" * 100)
            except BaseException as e:   # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        flat = [n for ns in names for n in ns]
        self.assertEqual(len(flat), self.THREADS * self.ROUNDS * 4)
        self.assertEqual(listdir(self.dir), [])

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_fork(self):
        keep = ctempfile.NamedTemporaryFile(dir=self.dir)
        tdir = ctempfile.TemporaryDirectory(dir=self.dir)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:   # child
            try:
                os.close(r)
                names = [next(ctempfile._get_candidate_names()) for _ in range(50)]
                with ctempfile.NamedTemporaryFile(dir=self.dir) as f:
                    names.append(os.path.basename(f.name))
                os.write(w, " ".join(names).encode())
                os.close(w)
                # libc exit(): runs libtempfile's exit handler in the child,
                # which must not remove the parent's temporaries.
                import ctypes
                ctypes.CDLL(None).exit(0)
            finally:
                os._exit(1)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        child = set(data.decode().split())
        parent = {next(ctempfile._get_candidate_names()) for _ in range(50)}
        self.assertFalse(child & parent)
        self.assertTrue(os.path.exists(keep.name))
        self.assertTrue(os.path.isdir(tdir.name))
        keep.close()
        tdir.cleanup()
        self.assertEqual(listdir(self.dir), [])


class ScriptTest(PrivateDir):
    """Runs code in a fresh interpreter, with -W always::ResourceWarning."""

    def run_script(self, code):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        r = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c",
                            textwrap.dedent(code)], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r


class TestExit(ScriptTest):
    def test_exit_cleans_and_keeps(self):
        r = self.run_script("""
            import ctempfile, sys
            d = %r
            gone_f = ctempfile.NamedTemporaryFile(dir=d, prefix="gone")
            gone_d = ctempfile.TemporaryDirectory(dir=d, prefix="gone")
            open(gone_d.name + "/x", "w").close()
            kept_f = ctempfile.NamedTemporaryFile(dir=d, prefix="kept", delete=False)
            kept_d = (ctempfile.TemporaryDirectory(dir=d, prefix="kept", delete=False)
                      if sys.version_info >= (3, 12) else ctempfile.mkdtemp(dir=d, prefix="kept"))
            sys.modules["builtins"].keepalive = (gone_f, gone_d, kept_f, kept_d)
        """ % self.dir)
        left = listdir(self.dir)
        self.assertEqual(len(left), 2, left)
        self.assertTrue(all(n.startswith("kept") for n in left), left)
        self.assertIn("ResourceWarning: Implicitly cleaning up", r.stderr)

    def test_spooled_unclosed_at_exit(self):
        self.run_script("""
            import ctempfile
            s = ctempfile.SpooledTemporaryFile(max_size=1, dir=%r)
            s.write(b"abc")
        """ % self.dir)
        self.assertEqual(listdir(self.dir), [])


class TestAudit(ScriptTest):
    def test_refusing_hook_leaves_nothing(self):
        # CPython's hooks run before the creation; the library's creation is
        # one C call, so a refusal removes what it made.
        r = self.run_script("""
            import ctempfile, sys
            d = %r
            refuse = {"open", "os.mkdir", "tempfile.mkstemp", "tempfile.mkdtemp"}
            def hook(event, args):
                if event in refuse and args and str(args[0]).startswith(d + "/"):
                    raise PermissionError(event)
            sys.addaudithook(hook)
            calls = [lambda: ctempfile.mkstemp(dir=d), lambda: ctempfile.mkdtemp(dir=d),
                     lambda: ctempfile.NamedTemporaryFile(dir=d),
                     lambda: ctempfile.NamedTemporaryFile(dir=d, delete=False),
                     lambda: ctempfile.TemporaryDirectory(dir=d)]
            for call in calls:
                try:
                    call()
                except PermissionError as e:
                    print("refused", e)
        """ % self.dir)
        self.assertEqual(r.stdout.count("refused"), 5, r.stdout + r.stderr)
        self.assertEqual(listdir(self.dir), [])


if __name__ == "__main__":
    unittest.main()
