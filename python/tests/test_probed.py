"""What a side-by-side probe of ctempfile and the running interpreter's
tempfile found different; each test runs the same steps with both modules
and requires the same outcome (result, or exception type, errno and message)
and the same files left on disk.
"""
import os
import re
import shutil
import tempfile as std
import unittest
import warnings

import ctempfile


def outcome(fn):
    try:
        return "=", fn()
    except Exception as e:  # the difference is what is compared
        return "!", type(e).__name__, getattr(e, "errno", None), str(e)


class Side(unittest.TestCase):
    """Each module works in a directory of its own; what a step leaves there
    is part of what is compared, with the directory's name and the random
    names replaced."""

    def both(self, fn):
        got = []
        for m in (std, ctempfile):
            d = std.mkdtemp(prefix="ctempfile-probe-")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ResourceWarning)
                    r = outcome(lambda: fn(m, d))
                left = sorted(os.path.relpath(os.path.join(root, n), d)
                              for root, dirs, files in os.walk(d) for n in dirs + files)
                got.append(re.sub(r"(tmp|zz)[a-z0-9_]{8}", r"\1NAME", str((r, left)).replace(d, "D")))
            finally:
                shutil.rmtree(d)
        self.assertEqual(got[0], got[1])
        return got[1]


class TestDirectoryPathReplaced(Side):
    """A TemporaryDirectory whose path names a file or a link at cleanup:
    shutil.rmtree's refusal (NotADirectoryError, or "Cannot call rmtree on a
    symbolic link"), nothing removed, the renamed directory left whole."""

    def replaced(self, make, ignore=False):
        def fn(m, d):
            t = m.TemporaryDirectory(dir=d, ignore_cleanup_errors=ignore)
            open(os.path.join(t.name, "kept"), "w").close()
            os.rename(t.name, os.path.join(d, "renamed"))
            make(t.name, d)
            return t.cleanup()
        return fn

    def test_file(self):
        r = self.both(self.replaced(lambda p, d: open(p, "w").close()))
        self.assertIn("NotADirectoryError", r)
        self.assertIn(repr(os.path.join("renamed", "kept")), r)

    def test_file_ignored(self):
        self.both(self.replaced(lambda p, d: open(p, "w").close(), ignore=True))

    def test_link_to_directory(self):
        r = self.both(self.replaced(lambda p, d: os.symlink(os.path.join(d, "renamed"), p)))
        self.assertIn("'!', 'OSError', None", r)

    def test_link_to_file(self):
        self.both(self.replaced(lambda p, d: os.symlink(os.path.join(d, "renamed", "kept"), p)))

    def test_dangling_link(self):
        self.both(self.replaced(lambda p, d: os.symlink(os.path.join(d, "nowhere"), p)))

    def test_exit(self):
        def fn(m, d):
            with m.TemporaryDirectory(dir=d) as name:
                os.rmdir(name)
                open(name, "w").close()
        self.both(fn)


class TestTemplateNotStr(Side):
    """A program's template that is not a str: CPython's TypeError of its
    `prefix + name` wherever a name is made with the default prefix (and no
    error where none is: bytes names, an O_TMPFILE TemporaryFile)."""

    calls = {
        "mkstemp": lambda m, d: os.close(m.mkstemp(dir=d)[0]),
        "mkdtemp": lambda m, d: m.mkdtemp(dir=d) and None,
        "mkdtemp_bytes": lambda m, d: m.mkdtemp(dir=d.encode()) and None,
        "NamedTemporaryFile": lambda m, d: m.NamedTemporaryFile(dir=d).close(),
        "TemporaryDirectory": lambda m, d: m.TemporaryDirectory(dir=d).cleanup(),
        "TemporaryFile": lambda m, d: m.TemporaryFile(dir=d).close(),
        "mktemp": lambda m, d: m.mktemp(dir=d) and None,
    }

    def test_each(self):
        for template in (b"zz", 5):
            for name, call in self.calls.items():
                for tmpfile in (True, False):
                    def fn(m, d):
                        old = m.template, m._O_TMPFILE_WORKS
                        m.template, m._O_TMPFILE_WORKS = template, tmpfile
                        try:
                            return call(m, d)
                        finally:
                            m.template, m._O_TMPFILE_WORKS = old
                    with self.subTest(template=template, call=name, o_tmpfile=tmpfile):
                        self.both(fn)


class TestMktempArguments(Side):
    """mktemp() with a prefix or suffix that cannot be joined: CPython's
    TypeError of `prefix + name + suffix`."""

    def test_each(self):
        for kw in ({"prefix": None}, {"suffix": None}, {"suffix": 1}, {"prefix": 1},
                   {"prefix": b"x"}, {"suffix": b"x"}):
            with self.subTest(**kw):
                self.both(lambda m, d: m.mktemp(dir=d, **kw))


class TestSpooledSubclassHooks(Side):
    """A SpooledTemporaryFile subclass's own rollover() and _check(): called
    where CPython's write(), writelines(), truncate() and fileno() call them,
    with the same arguments, for every kind of max_size and both modes."""

    def run_with(self, hooks, max_size, mode):
        def fn(m, d):
            log = []

            class Logged(m.SpooledTemporaryFile):
                if "rollover" in hooks:
                    def rollover(self):
                        log.append(("rollover", self._rolled))
                        return super().rollover()
                if "_check" in hooks:
                    def _check(self, file):
                        log.append(("_check", type(file).__name__, self._rolled))
                        return super()._check(file)

            data = (lambda t: t.encode()) if "b" in mode else (lambda t: t)
            s = Logged(max_size=max_size, mode=mode, dir=d)
            s.write(data("a"))
            s.write(data("bcd"))
            s.writelines([data("e")])
            r = [outcome(lambda: s.truncate(1)), outcome(lambda: s.truncate(100))]
            s.fileno()
            s.write(data("z"))
            s.close()
            return r, log, s._rolled
        return self.both(fn)

    def test_each(self):
        for hooks in (("rollover",), ("_check",), ("rollover", "_check")):
            for max_size in (2, 0, -1, 2.5, None):
                for mode in ("w+b", "w+"):
                    with self.subTest(hooks=hooks, max_size=max_size, mode=mode):
                        r = self.run_with(hooks, max_size, mode)
                        self.assertIn("'%s'" % hooks[-1], r)

    def test_refusing_rollover(self):
        def fn(m, d):
            class Refusing(m.SpooledTemporaryFile):
                def rollover(self):
                    raise RuntimeError("refused")
            s = Refusing(max_size=2, dir=d)
            s.write(b"a")
            r = [outcome(lambda: s.write(b"bcd")), s._rolled, s.tell(), outcome(s.fileno)]
            s.close()
            return r
        self.assertIn("refused", self.both(fn))


class TestClassGetitem(unittest.TestCase):
    """SpooledTemporaryFile[...] by CPython's classmethod(GenericAlias),
    as TemporaryDirectory's: the same object kind for introspection."""

    def test_same_kind(self):
        import inspect
        for name in ("SpooledTemporaryFile", "TemporaryDirectory"):
            with self.subTest(name):
                kinds = [type(inspect.getattr_static(getattr(m, name), "__class_getitem__"))
                         for m in (std, ctempfile)]
                self.assertEqual(kinds[0], kinds[1])
                self.assertEqual(repr(getattr(ctempfile, name)[int]),
                                 repr(getattr(std, name)[int]).replace("tempfile", "ctempfile"))


if __name__ == "__main__":
    unittest.main()
