"""SpooledTemporaryFile's edges, each compared with the running interpreter's
standard module: the result (or the exception's type and message) of each
case must be the same. The documented differences (python/README.md: the C
attributes and methods) are not cases here; test_differential.py holds the
rest of SpooledTemporaryFile's cases (_file, pickling, errors, rollover).
"""
import inspect
import io
import os
import tempfile as std
import unittest

import ctempfile

cases = {}


def case(fn):
    cases[fn.__name__] = fn
    return fn


@case
def trunc_nosize_max0(m):
    s = m.SpooledTemporaryFile(max_size=0); s.write(b"abc"); s.truncate(); return s._rolled, s.tell()
@case
def trunc_nosize_max2(m):
    s = m.SpooledTemporaryFile(max_size=2); s.write(b"a"); s.seek(5); r = s.truncate(); return r, s._rolled
@case
def grow_trunc(m):
    s = m.SpooledTemporaryFile(max_size=100); s.write(b"abc"); r = s.truncate(10); s.seek(0); return r, s.read(), s._rolled
@case
def max_none(m):
    s = m.SpooledTemporaryFile(max_size=None); s.write(b"x"*100); return s._rolled, s._max_size
@case
def max_float(m):
    s = m.SpooledTemporaryFile(max_size=2.5); s.write(b"xx"); a = s._rolled; s.write(b"x"); return a, s._rolled
@case
def max_huge(m):
    s = m.SpooledTemporaryFile(max_size=2**70); s.write(b"x"*10); return s._rolled
@case
def max_neg(m):
    s = m.SpooledTemporaryFile(max_size=-1); s.write(b""); return s._rolled
@case
def mixed_at_rollover(m):
    s = m.SpooledTemporaryFile(prefix=b"x", suffix="y"); s.write(b"a"); return s.rollover()
@case
def mixed_create(m):
    s = m.SpooledTemporaryFile(prefix=b"x", suffix="y"); return s.write(b"a")
@case
def prefix_int(m):
    s = m.SpooledTemporaryFile(prefix=1); s.write(b"a"); return s.rollover()
@case
def fileno_lowest(m):
    # The rolled-over file gets the lowest free descriptor (seed 004's 3).
    probe = os.open("/", os.O_RDONLY)
    os.close(probe)
    s = m.SpooledTemporaryFile(); s.write(b"x"); fd = s.fileno(); s.close(); return fd == probe
@case
def isinst(m):
    S = m.SpooledTemporaryFile; return type(S).__name__, isinstance(S(), io.IOBase), issubclass(S, io.IOBase), io.IOBase in S.__mro__
@case
def check(m):
    s = m.SpooledTemporaryFile(max_size=2); s._file.write(b"abc"); s._check(s._file); return s._rolled
@case
def sig(m):
    return str(inspect.signature(m.SpooledTemporaryFile))
@case
def targs(m):
    s = m.SpooledTemporaryFile(); a = sorted(s._TemporaryFileArgs); s.rollover(); return a, hasattr(s, "_TemporaryFileArgs")
@case
def text_rollover(m):
    s = m.SpooledTemporaryFile(mode="w+", max_size=3); s.write("héllo"); s.seek(0); return s.read(), s._rolled, type(s._file).__name__
@case
def write_closed(m):
    s = m.SpooledTemporaryFile(); s.close(); return s.write(b"x")
@case
def exit_returns(m):
    s = m.SpooledTemporaryFile(); return s.__exit__(None, None, None), s.closed
@case
def trunc_neg(m):
    s = m.SpooledTemporaryFile(); return s.truncate(-1)
@case
def bytes_dir_rollover(m):
    s = m.SpooledTemporaryFile(dir=b"/tmp"); s.write(b"a"); s.rollover(); return s._rolled, s.name == s.fileno()
@case
def rollover_unwritable(m):
    # TemporaryFile(mode='rb') cannot take the data: the rollover fails with
    # the io object's refusal, empty or not, buffered or not.
    out = []
    for data, buffering in ((b"", -1), (b"abc", -1), (b"abc", 0)):
        s = m.SpooledTemporaryFile(mode="rb", buffering=buffering)
        s.write(data)
        out.append(outcome(m, lambda mod: s.rollover()))
        s.close()
    return out


def outcome(mod, fn):
    try:
        return repr(fn(mod))
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)


class TestSpooledEdges(unittest.TestCase):
    def test_cases_as_standard(self):
        for name, fn in cases.items():
            with self.subTest(name):
                self.assertEqual(outcome(ctempfile, fn), outcome(std, fn))

    def test_subclass_and_attributes(self):
        s = ctempfile.SpooledTemporaryFile()
        s.anything = 1
        self.assertEqual(vars(s)["anything"], 1)
        self.assertIs(type(ctempfile.SpooledTemporaryFile), type(std.SpooledTemporaryFile))
        self.assertIn(io.IOBase, ctempfile.SpooledTemporaryFile.__mro__)
        s.close()


if __name__ == "__main__":
    unittest.main()
