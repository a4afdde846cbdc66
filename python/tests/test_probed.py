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
                got.append(re.sub(r"tmp[a-z0-9_]{8}", "tmpNAME", str((r, left)).replace(d, "D")))
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


if __name__ == "__main__":
    unittest.main()
