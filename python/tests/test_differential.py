"""ctempfile against the running interpreter's own tempfile, on the whole
surface: the names of the module, the signatures of every function, class
and method, argument errors and their messages, the attributes and reprs of
what the calls return, and sequences of calls at the edges. Every difference
must be on the list in python/README.md ("Differences the differential test
allows"), and every entry there must still be a difference on some CPython
this runs on (an entry names the versions it applies to, or all).

Run by CTest with the interpreter the module was built for; run it by hand
with each other CPython 3.11-3.13 that has a build of the module:

    PYTHONPATH=build/python python3 -m unittest python/tests/test_differential.py
"""
import copy
import fnmatch
import inspect
import io
import itertools
import os
import pathlib
import pickle
import re
import shutil
import sys
import tempfile as std
import unittest
import warnings

import ctempfile

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
VERSION = "%d.%d" % sys.version_info[:2]


def allowed_differences():
    """{key: reason} for this interpreter, from the README's list: lines
    "* `key` (3.11, 3.12): reason" or "* `key`: reason" (all versions). A
    key may be a pattern (fnmatch), standing for every case it matches."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Differences the differential test allows", 1)[1]
    section = section.split("\n## ", 1)[0]
    allowed = {}
    for m in re.finditer(r"^\* `([^`]+)`(?: \(([\d., ]+)\))?: (.*)$", section, re.M):
        key, versions, reason = m.groups()
        if versions is None or VERSION in [v.strip() for v in versions.split(",")]:
            allowed[key] = reason
    return allowed


NAME = re.compile(r"(tmp|ctf)?[a-z0-9_]{8}(?=['\"/.>]|$|\s|,|\))")


def norm(text):
    """Random names, addresses and the module's own name out of a repr."""
    # Names first: a random name may hold "0x" followed by hex digits.
    text = re.sub(r"tmp[a-z0-9_]{8}", "tmpNAME", text)
    text = re.sub(r"\b0x[0-9a-f]+", "0x?", text)
    text = re.sub(r"\b(ctempfile|tempfile)\b", "MOD", text)
    text = re.sub(r"name=\d+|<_io\.FileIO name=\d+", "name=FD", text)
    return text


def outcome(fn, mod):
    """What fn(mod) does, as text: its result's repr, or its exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "= " + norm(repr(fn(mod)))
        except Exception as e:   # the difference is what is compared
            return "! %s: %s" % (type(e).__name__, norm(str(e)))


class Scratch:
    """A directory for the cases, and what they make, removed after."""

    def __init__(self):
        self.dir = std.mkdtemp(prefix="ctempfile-diff-")
        self.keep = []

    def close(self):
        for obj in self.keep:
            try:
                obj.close() if hasattr(obj, "close") else obj.cleanup()
            except Exception:
                pass
        self.keep.clear()
        for root, dirs, _ in os.walk(self.dir):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o700)
        shutil.rmtree(self.dir)


def surface_cases(d):
    """key -> function of the module; d: a scratch directory."""
    cases = {}

    def case(key):
        def add(fn):
            cases[key] = fn
            return fn
        return add

    # -- names and signatures
    # dir(): every name of the standard module; no public name more
    def has(name):
        return lambda m: hasattr(m, name)
    for name in set(dir(std)) | set(dir(ctempfile)):
        if name.startswith("__"):
            continue
        # dir:std:NAME differs when ctempfile lacks NAME, dir:own:NAME
        # when ctempfile has a name the standard module does not
        cases["dir:%s:%s" % ("std" if hasattr(std, name) else "own", name)] = has(name)

    def sig(obj):
        try:
            return str(inspect.signature(obj))
        except (TypeError, ValueError) as e:
            return "no signature: %s" % type(e).__name__

    for name in dir(std):
        obj = getattr(std, name)
        if callable(obj) and getattr(obj, "__module__", None) == "tempfile":
            cases["signature:" + name] = (lambda name: lambda m: sig(getattr(m, name)))(name)
            if isinstance(obj, type):
                for attr in vars(obj):
                    value = getattr(obj, attr)
                    if callable(value) and not attr.startswith("__") or attr in (
                            "__init__", "__enter__", "__exit__", "__iter__", "__del__"):
                        cases["signature:%s.%s" % (name, attr)] = (
                            lambda name, attr: lambda m: sig(getattr(getattr(m, name), attr)))(
                                name, attr)

    @case("kinds")
    def _(m):
        return [(n, type(getattr(m, n)).__name__) for n in m.__all__
                if callable(getattr(m, n))]

    # -- argument errors
    bad_calls = {
        "mkstemp(prefix=1)": lambda m: m.mkstemp(prefix=1, dir=d),
        "mkstemp(suffix=b)": lambda m: m.mkstemp(suffix=b"x", dir=d),
        "mkstemp(dir=1)": lambda m: m.mkstemp(dir=1),
        "mkstemp(nul)": lambda m: m.mkstemp(suffix="\0", dir=d),
        "mkstemp(x=1)": lambda m: m.mkstemp(x=1),
        "mkstemp(1,2,3,4,5)": lambda m: m.mkstemp(1, 2, 3, 4, 5),
        "mkstemp(path prefix)": lambda m: m.mkstemp(prefix=pathlib.Path("p"), dir=d),
        "mkdtemp(prefix=1)": lambda m: m.mkdtemp(prefix=1, dir=d),
        "mkdtemp(nul)": lambda m: m.mkdtemp(prefix="\0", dir=d),
        "mkdtemp(mixed)": lambda m: m.mkdtemp(prefix=b"x", dir=d),
        "TemporaryFile(mode=1)": lambda m: m.TemporaryFile(mode=1, dir=d),
        "TemporaryFile(mode=rb)": lambda m: m.TemporaryFile(mode="q", dir=d),
        "TemporaryFile(delete=False)": lambda m: m.TemporaryFile(delete=False),
        "TemporaryFile(buffering=x)": lambda m: m.TemporaryFile(buffering="x", dir=d),
        "TemporaryFile(encoding in binary)": lambda m: m.TemporaryFile(encoding="utf-8", dir=d),
        "TemporaryFile(prefix=1)": lambda m: m.TemporaryFile(prefix=1, dir=d).close(),
        "TemporaryFile(suffix nul)": lambda m: m.TemporaryFile(suffix="\0", dir=d).close(),
        # a str the filesystem encoding cannot encode: UnicodeEncodeError,
        # except where O_TMPFILE uses no name
        "mkstemp(unencodable)": lambda m: m.mkstemp(prefix="\ud800", dir=d),
        "mkdtemp(unencodable)": lambda m: m.mkdtemp(suffix="\ud800", dir=d),
        "NamedTemporaryFile(unencodable)": lambda m: m.NamedTemporaryFile(prefix="\ud800", dir=d),
        "TemporaryDirectory(unencodable)": lambda m: m.TemporaryDirectory(dir=d + "\ud800"),
        "TemporaryFile(unencodable)": lambda m: m.TemporaryFile(prefix="a\ud800", dir=d).close(),
        "SpooledTemporaryFile(unencodable)": lambda m: m.SpooledTemporaryFile(
            suffix="\ud800", dir=d).rollover(),
        # a NUL: io.open's words in NamedTemporaryFile's dir, os.open's in a name
        "NamedTemporaryFile(dir nul)": lambda m: m.NamedTemporaryFile(dir=d + "\0"),
        "NamedTemporaryFile(prefix nul)": lambda m: m.NamedTemporaryFile(prefix="\0", dir=d),
        # a NUL in bytes names: os.open's and os.mkdir's words
        "mkstemp(bytes nul)": lambda m: m.mkstemp(prefix=b"\0", dir=os.fsencode(d)),
        "mkdtemp(bytes nul)": lambda m: m.mkdtemp(dir=os.fsencode(d) + b"\0"),
        "NamedTemporaryFile(bytes nul)": lambda m: m.NamedTemporaryFile(suffix=b"\0",
                                                                       dir=os.fsencode(d)),
        "TemporaryDirectory(bytes nul)": lambda m: m.TemporaryDirectory(prefix=b"\0",
                                                                       dir=os.fsencode(d)),
        "NamedTemporaryFile(mode=q)": lambda m: m.NamedTemporaryFile(mode="q", dir=d),
        "NamedTemporaryFile(x=1)": lambda m: m.NamedTemporaryFile(x=1),
        "NamedTemporaryFile(delete_on_close=False)": lambda m: m.NamedTemporaryFile(
            dir=d, delete_on_close=False).close(),
        "NamedTemporaryFile(mixed)": lambda m: m.NamedTemporaryFile(prefix=b"x", dir=d),
        "SpooledTemporaryFile(x=1)": lambda m: m.SpooledTemporaryFile(x=1),
        "SpooledTemporaryFile(mode=1)": lambda m: m.SpooledTemporaryFile(mode=1),
        "TemporaryDirectory(x=1)": lambda m: m.TemporaryDirectory(x=1),
        "TemporaryDirectory(delete=False)": lambda m: m.TemporaryDirectory(
            dir=d, delete=False).cleanup(),
        "TemporaryDirectory(mixed)": lambda m: m.TemporaryDirectory(prefix=b"x", dir=d),
        "mktemp(mixed)": lambda m: m.mktemp(prefix=b"x", dir=d),
        "mktemp(dir is a file)": lambda m: os.path.dirname(m.mktemp(dir=__file__)) == __file__,
        "gettempdir(1)": lambda m: m.gettempdir(1),
    }
    for key, fn in bad_calls.items():
        cases["call:" + key] = fn

    # -- returned objects
    def attrs(obj):
        out = {}
        for a in sorted(dir(obj)):
            if a.startswith("__"):
                continue
            try:
                v = getattr(obj, a)
            except Exception as e:
                v = "! " + type(e).__name__
            out[a] = type(v).__name__ if callable(v) else norm(repr(v))
        return out

    def made(make, finish="close"):
        def fn(m):
            obj = make(m)
            try:
                return norm(repr(obj)), attrs(obj)
            finally:
                getattr(obj, finish)()
        return fn

    cases["object:TemporaryFile"] = made(lambda m: m.TemporaryFile(dir=d))
    cases["object:TemporaryFile(w+)"] = made(lambda m: m.TemporaryFile("w+", dir=d,
                                                                       encoding="utf-8"))
    cases["object:NamedTemporaryFile"] = made(lambda m: m.NamedTemporaryFile(dir=d))
    cases["object:NamedTemporaryFile.file"] = made(
        lambda m: m.NamedTemporaryFile(dir=d, delete=False).file)
    cases["object:NamedTemporaryFile._closer"] = lambda m: sorted(
        vars(m.NamedTemporaryFile(dir=d)._closer))
    cases["object:SpooledTemporaryFile"] = made(lambda m: m.SpooledTemporaryFile(dir=d))
    cases["object:SpooledTemporaryFile(rolled)"] = made(
        lambda m: (lambda s: (s.rollover(), s)[1])(m.SpooledTemporaryFile(dir=d)))
    cases["object:TemporaryDirectory"] = made(lambda m: m.TemporaryDirectory(dir=d), "cleanup")
    cases["object:mkstemp"] = lambda m: (lambda r: (os.close(r[0]), os.unlink(r[1]),
                                                    type(r[0]), os.path.isabs(r[1]))[2:])(
        m.mkstemp(dir=d))
    cases["object:mkdtemp(relative)"] = lambda m: (lambda p: (os.rmdir(p), os.path.isabs(p))[1])(
        m.mkdtemp(dir=os.path.relpath(d)))
    cases["object:mkstemp(bytes)"] = lambda m: (lambda r: (os.close(r[0]), os.unlink(r[1]),
                                                          type(r[1]))[2])(
        m.mkstemp(dir=os.fsencode(d)))
    cases["object:_RandomNameSequence"] = lambda m: (
        type(m._RandomNameSequence().rng).__name__, m._RandomNameSequence.characters)
    cases["object:_get_candidate_names"] = lambda m: (
        type(m._get_candidate_names()).__name__,
        len(next(m._get_candidate_names())))
    cases["object:template"] = lambda m: (m.template, m.gettempprefix(), m.gettempprefixb(),
                                          m.TMP_MAX)
    cases["object:gettempdir"] = lambda m: (m.gettempdir() == std.gettempdir(),
                                            m.gettempdirb() == std.gettempdirb())
    cases["object:_candidate_tempdir_list"] = lambda m: m._candidate_tempdir_list()
    return cases


class Audit:
    """The audit events of tempfile's kind a call raises (a hook cannot be
    removed: one for the whole run, recording only while asked)."""
    events = None

    @classmethod
    def hook(cls, event, args):
        if cls.events is not None and event.startswith(("tempfile.", "open", "os.", "shutil.")):
            cls.events.append((event, tuple(
                x if isinstance(x, (int, type(None))) else norm(os.fsdecode(x))
                if isinstance(x, (str, bytes)) else type(x).__name__ for x in args)))

    @classmethod
    def of(cls, fn):
        cls.events = []
        try:
            fn()
            return cls.events
        finally:
            cls.events = None


sys.addaudithook(Audit.hook)


def audit_cases(d):
    def during(fn):
        return lambda m: Audit.of(lambda: fn(m))

    def spooled(m):
        s = m.SpooledTemporaryFile(dir=d)
        s.write(b"x")
        s.rollover()
        s.close()

    def failing(fn):
        def run(m):
            try:
                fn(m)
            except OSError:
                pass
        return during(run)

    missing = os.path.join(d, "missing")
    failures = {
        "audit:%s:missing" % name: failing(call) for name, call in {
            "mkstemp": lambda m: m.mkstemp(dir=missing),
            "mkdtemp": lambda m: m.mkdtemp(dir=missing),
            "TemporaryFile": lambda m: m.TemporaryFile(dir=missing),
            "NamedTemporaryFile": lambda m: m.NamedTemporaryFile(dir=missing),
            "TemporaryDirectory": lambda m: m.TemporaryDirectory(dir=missing),
        }.items()}
    return {
        **failures,
        "audit:mkstemp": during(lambda m: (lambda r: (os.close(r[0]), os.unlink(r[1])))(
            m.mkstemp(dir=d))),
        "audit:mkdtemp": during(lambda m: os.rmdir(m.mkdtemp(dir=d))),
        "audit:TemporaryFile": during(lambda m: m.TemporaryFile(dir=d).close()),
        "audit:NamedTemporaryFile": during(lambda m: m.NamedTemporaryFile(dir=d).close()),
        "audit:TemporaryDirectory": during(lambda m: m.TemporaryDirectory(dir=d).cleanup()),
        "audit:SpooledTemporaryFile": during(spooled),
    }


def sequence_cases(d):
    """Sequences of calls at the edges (from issue 15 and the seeds)."""
    cases = {}

    def case(fn):
        cases["seq:" + fn.__name__] = fn
        return fn

    @case
    def spool_truncate_max0(m):
        s = m.SpooledTemporaryFile(max_size=0)
        s.write(b"abc")
        s.truncate()
        return s._rolled, s.tell()

    @case
    def spool_truncate_grow(m):
        s = m.SpooledTemporaryFile(max_size=100)
        s.write(b"abc")
        r = s.truncate(10)
        s.seek(0)
        return r, s.read(), s._rolled

    @case
    def spool_max_sizes(m):
        out = []
        for ms in (None, 2.5, 2 ** 70, -1, 0, True):
            s = m.SpooledTemporaryFile(max_size=ms)
            s.write(b"xxx")
            out.append((ms, s._rolled))
            s.close()
        return out

    @case
    def spool_mixed_names(m):
        s = m.SpooledTemporaryFile(prefix=b"x", suffix="y", dir=d)
        s.write(b"a")
        return s.rollover()

    @case
    def spool_int_prefix(m):
        s = m.SpooledTemporaryFile(prefix=1, dir=d)
        s.write(b"a")
        s.rollover()
        return s._rolled

    @case
    def spool_fileno_lowest(m):
        probe = os.open("/", os.O_RDONLY)
        os.close(probe)
        s = m.SpooledTemporaryFile()
        s.write(b"x")
        fd = s.fileno()
        s.close()
        return fd == probe

    @case
    def spool_type(m):
        S = m.SpooledTemporaryFile
        s = S()
        s.attr = 1
        r = (type(S).__name__, isinstance(s, io.IOBase), io.IOBase in S.__mro__,
             s.__dict__["attr"], repr(S[int]).split(".")[-1])
        s.close()
        return r

    @case
    def spool_check(m):
        s = m.SpooledTemporaryFile(max_size=2)
        s._file.write(b"abc")
        s._check(s._file)
        return s._rolled

    @case
    def spool_args(m):
        s = m.SpooledTemporaryFile(dir=d)
        a = sorted(s._TemporaryFileArgs.items())
        s.rollover()
        return a, hasattr(s, "_TemporaryFileArgs")

    @case
    def spool_text_rollover(m):
        s = m.SpooledTemporaryFile(mode="w+", max_size=3, encoding="utf-8", dir=d)
        s.write("héllo")
        s.seek(0)
        return s.read(), s._rolled, type(s._file).__name__

    @case
    def spool_file_type(m):
        return type(m.SpooledTemporaryFile()._file).__name__

    @case
    def spool_pickle(m):
        return len(pickle.dumps(m.SpooledTemporaryFile())) > 0

    @case
    def spool_vars(m):
        return sorted(vars(m.SpooledTemporaryFile()))

    @case
    def spool_closed_write(m):
        s = m.SpooledTemporaryFile()
        s.close()
        return s.write(b"x")

    @case
    def dir_name_reassigned(m):
        td = m.TemporaryDirectory(dir=d)
        real = td.name
        td.name = real + "x"
        td.cleanup()
        r = os.path.exists(real)
        shutil.rmtree(real, ignore_errors=True)
        return r

    def renamed(m, **kw):
        td = m.TemporaryDirectory(dir=d, **kw)
        os.rename(td.name, td.name + ".old")
        os.mkdir(td.name)
        open(os.path.join(td.name, "f"), "w").close()
        td.cleanup()
        r = os.path.exists(td.name), os.path.exists(td.name + ".old")
        shutil.rmtree(td.name + ".old", ignore_errors=True)
        shutil.rmtree(td.name, ignore_errors=True)
        return r

    cases["seq:dir_renamed_replaced"] = renamed
    cases["seq:dir_renamed_replaced_ignore"] = lambda m: renamed(m, ignore_cleanup_errors=True)

    @case
    def dir_patched_rmtree(m):
        calls = []
        real = shutil.rmtree

        def spy(path, *a, **k):
            calls.append(os.path.dirname(path) == d)
            return real(path, *a, **k)
        shutil.rmtree = spy
        try:
            m.TemporaryDirectory(dir=d).cleanup()
        finally:
            shutil.rmtree = real
        return calls

    @case
    def dir_pickle(m):
        td = m.TemporaryDirectory(dir=d)
        try:
            return len(pickle.dumps(td)) > 0
        finally:
            td.cleanup()

    @case
    def dir_unreadable_inside(m):
        td = m.TemporaryDirectory(dir=d)
        sub = os.path.join(td.name, "a", "b")
        os.makedirs(sub)
        os.chmod(os.path.dirname(sub), 0)
        td.cleanup()
        return os.path.exists(td.name)

    @case
    def dir_relative_name(m):
        td = m.TemporaryDirectory(dir=os.path.relpath(d))
        r = os.path.isabs(td.name)
        td.cleanup()
        return r

    @case
    def dir_cleanup_twice(m):
        td = m.TemporaryDirectory(dir=d)
        td.cleanup()
        td.cleanup()
        return os.path.exists(td.name)

    def again(m, make):
        """cleanup(), then something made at the name, then cleanup() again:
        CPython's removes (or refuses) what the name names now."""
        td = m.TemporaryDirectory(dir=d)
        td.cleanup()
        make(td.name)
        out = [outcome(lambda mod: td.cleanup(), m), os.path.lexists(td.name)]
        if os.path.isdir(td.name) and not os.path.islink(td.name):
            shutil.rmtree(td.name)
        elif os.path.lexists(td.name):
            os.unlink(td.name)
        return out

    cases["seq:dir_cleanup_again_dir"] = lambda m: again(
        m, lambda n: (os.mkdir(n), open(os.path.join(n, "f"), "w").close()))
    cases["seq:dir_cleanup_again_file"] = lambda m: again(m, lambda n: open(n, "w").close())
    cases["seq:dir_cleanup_again_link"] = lambda m: again(m, lambda n: os.symlink(d, n))
    cases["seq:dir_cleanup_again_dangling"] = lambda m: again(
        m, lambda n: os.symlink(os.path.join(d, "nowhere"), n))

    @case
    def dir_cleanup_after_with(m):
        td = m.TemporaryDirectory(dir=d)
        with td as name:
            pass
        os.mkdir(name)
        td.cleanup()
        return os.path.exists(name)

    @case
    def dir_name_reassigned_link(m):
        td = m.TemporaryDirectory(dir=d)
        real, other = td.name, os.path.join(d, "other")
        os.symlink(d, other)
        td.name = other
        r = outcome(lambda mod: td.cleanup(), m), os.path.lexists(other)
        os.unlink(other)
        shutil.rmtree(real)
        return r

    @case
    def named_delete_false(m):
        f = m.NamedTemporaryFile(dir=d, delete=False)
        f.close()
        r = os.path.exists(f.name)
        os.unlink(f.name)
        return r

    @case
    def named_delete_on_close_false(m):
        with m.NamedTemporaryFile(dir=d, delete_on_close=False) as f:
            f.close()
            r = os.path.exists(f.name)
        return r, os.path.exists(f.name)

    @case
    def named_attributes(m):
        f = m.NamedTemporaryFile(dir=d)
        r = (f.closed, f.mode, type(f.name).__name__, f.file.name == f.name,
             hasattr(f, "delete"), f._closer.delete)
        f.close()
        return r

    @case
    def mktemp_long(m):
        return len(os.path.basename(m.mktemp(dir=d, prefix="x" * 300)))

    @case
    def mkstemp_missing_dir(m):
        return m.mkstemp(dir=os.path.join(d, "nope"))

    @case
    def tempdir_bytes(m):
        saved = m.tempdir
        m.tempdir = os.fsencode(d)
        try:
            fd, name = m.mkstemp()
            os.close(fd)
            os.unlink(name)
            return type(name).__name__, type(m.gettempdir()).__name__
        finally:
            m.tempdir = saved
    return cases


def raised(fn, pre="tmp", suf=""):
    """What fn(m) raises, its OSError's filename reduced to its directory
    and whether its last part is pre + a random name + suf (the random part
    differs from run to run)."""
    def run(m):
        try:
            result = fn(m)
        except OSError as e:
            name = e.filename
            if isinstance(name, (str, bytes)):
                base = os.fsdecode(os.path.basename(name))
                random = re.fullmatch(re.escape(pre) + "[a-z0-9_]{8}" + re.escape(suf), base)
                name = (type(name).__name__, os.fsdecode(os.path.dirname(name)),
                        "RANDOM" if random else base)
                text = str(e).replace(repr(e.filename), "FILENAME")
            else:
                text = str(e)
            return type(e).__name__, e.errno, e.strerror, name, e.filename2, text
        return "no error", repr(result)[:40]
    return run


def error_cases(d):
    """The OSError of every creating call where creation fails: a missing
    directory (absolute, relative, bytes), a file as the directory, a name
    too long, every name taken (with names a program chose)."""
    missing = os.path.join(d, "missing")
    relative = os.path.join("ctempfile-diff-missing", "x")
    a_file = os.path.join(d, "a-file")
    open(a_file, "w").close()
    long = "x" * 300

    def rollover(**kw):
        return lambda m: m.SpooledTemporaryFile(**kw).rollover()

    def past_max(**kw):
        return lambda m: m.SpooledTemporaryFile(max_size=1, **kw).write(b"xx")

    def fileno(**kw):
        return lambda m: m.SpooledTemporaryFile(**kw).fileno()

    calls = {
        "mkstemp": lambda **kw: lambda m: m.mkstemp(**kw),
        "mkdtemp": lambda **kw: lambda m: m.mkdtemp(**kw),
        "TemporaryFile": lambda **kw: lambda m: m.TemporaryFile(**kw),
        "NamedTemporaryFile": lambda **kw: lambda m: m.NamedTemporaryFile(**kw),
        "TemporaryDirectory": lambda **kw: lambda m: m.TemporaryDirectory(**kw),
        "SpooledTemporaryFile.rollover": rollover,
        "SpooledTemporaryFile.write": past_max,
        "SpooledTemporaryFile.fileno": fileno,
    }
    cases = {}
    for call, make in calls.items():
        cases["error:%s:missing" % call] = raised(make(dir=missing))
        cases["error:%s:relative" % call] = raised(make(dir=relative))
        cases["error:%s:bytes" % call] = raised(make(dir=os.fsencode(missing)))
        cases["error:%s:not_a_dir" % call] = raised(make(dir=a_file))
        cases["error:%s:long" % call] = raised(make(dir=d, prefix=long), pre=long)
        cases["error:%s:suffix" % call] = raised(make(dir=missing, prefix="p", suffix=".s"),
                                                 pre="p", suf=".s")

    def no_o_tmpfile(fn):
        def run(m):
            m._O_TMPFILE_WORKS = False
            try:
                return fn(m)
            finally:
                m._O_TMPFILE_WORKS = hasattr(os, "O_TMPFILE")
        return run

    cases["error:TemporaryFile:long_no_o_tmpfile"] = no_o_tmpfile(
        raised(lambda m: m.TemporaryFile(dir=d, prefix=long), pre=long))
    cases["error:SpooledTemporaryFile:long_no_o_tmpfile"] = no_o_tmpfile(
        raised(lambda m: m.SpooledTemporaryFile(dir=d, prefix=long).rollover(), pre=long))
    cases["error:TemporaryFile:int_prefix_missing"] = raised(
        lambda m: m.TemporaryFile(dir=missing, prefix=1))

    taken = os.path.join(d, "taken-dir")
    os.mkdir(taken)
    for name in ("tmptaken", "tmptaken.s"):
        open(os.path.join(taken, name), "w").close()

    def exhausted(fn):
        def run(m):
            saved = m._get_candidate_names
            m._get_candidate_names = lambda: itertools.repeat("taken")
            try:
                return fn(m)
            finally:
                m._get_candidate_names = saved
        return raised(run)

    for call, make in calls.items():
        if not call.startswith("SpooledTemporaryFile."):
            cases["error:%s:all_taken" % call] = exhausted(make(dir=taken))
    cases["error:mkstemp:all_taken_bytes"] = exhausted(
        lambda m: m.mkstemp(dir=os.fsencode(taken), suffix=b".s"))
    cases["error:TemporaryFile:all_taken_no_o_tmpfile"] = no_o_tmpfile(
        exhausted(lambda m: m.TemporaryFile(dir=taken)))
    return cases


def eacces_cases():
    """The same calls in a directory the caller may not write (as root: in a
    child that became nobody), {key: (tempfile's outcome, ctempfile's)}."""
    ro = std.mkdtemp(prefix="ctempfile-diff-ro-")
    try:
        os.chmod(ro, 0o555)
        cases = {
            "mkstemp": lambda m: m.mkstemp(dir=ro),
            "mkdtemp": lambda m: m.mkdtemp(dir=ro),
            "TemporaryFile": lambda m: m.TemporaryFile(dir=ro),
            "NamedTemporaryFile": lambda m: m.NamedTemporaryFile(dir=ro),
            "TemporaryDirectory": lambda m: m.TemporaryDirectory(dir=ro),
            "SpooledTemporaryFile.rollover": lambda m: m.SpooledTemporaryFile(dir=ro).rollover(),
        }

        def run():
            return {"error:%s:eacces" % k: (outcome(raised(fn), std), outcome(raised(fn), ctempfile))
                    for k, fn in cases.items()}
        if os.geteuid() != 0:
            return run()
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:    # the child: nobody, then the outcomes through the pipe
            code = 1
            try:
                os.close(rfd)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                with os.fdopen(wfd, "wb") as out:
                    pickle.dump(run(), out)
                code = 0
            finally:
                os._exit(code)
        os.close(wfd)
        with os.fdopen(rfd, "rb") as inp:
            data = inp.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or not data:
            return {"error:eacces:child": ("ran", "failed (status %d)" % status)}
        return pickle.loads(data)
    finally:
        os.rmdir(ro)


def pickle_cases(d):
    """Pickling and copying every object, as CPython refuses or allows it."""
    cases = {}

    def dumps(make, protocol=pickle.HIGHEST_PROTOCOL):
        def run(m):
            obj = make(m)
            try:
                return len(pickle.dumps(obj, protocol)) > 0
            finally:
                obj.close() if hasattr(obj, "close") else obj.cleanup()
        return run

    def rolled(m, **kw):
        s = m.SpooledTemporaryFile(**kw)
        s.rollover()
        return s
    makers = {
        "NamedTemporaryFile": lambda m: m.NamedTemporaryFile(dir=d),
        "NamedTemporaryFile(w+)": lambda m: m.NamedTemporaryFile("w+", dir=d),
        "NamedTemporaryFile(delete=False)": lambda m: m.NamedTemporaryFile(dir=d, delete=False),
        "TemporaryFile": lambda m: m.TemporaryFile(dir=d),
        "TemporaryFile(w+)": lambda m: m.TemporaryFile("w+", dir=d),
        "TemporaryFile(buffering=0)": lambda m: m.TemporaryFile(buffering=0, dir=d),
        "SpooledTemporaryFile(w+)": lambda m: m.SpooledTemporaryFile(mode="w+"),
        "SpooledTemporaryFile(rolled)": lambda m: rolled(m, dir=d),
        "SpooledTemporaryFile(w+, rolled)": lambda m: rolled(m, mode="w+", dir=d),
    }
    for name, make in makers.items():
        cases["pickle:" + name] = dumps(make)
        cases["pickle:%s:copy" % name] = (lambda make: lambda m: type(copy.copy(make(m))).__name__)(make)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        cases["pickle:SpooledTemporaryFile:%d" % protocol] = (lambda p: lambda m: spool_roundtrip(
            m, lambda s: pickle.loads(pickle.dumps(s, p))))(protocol)
        cases["pickle:TemporaryDirectory:%d" % protocol] = (lambda p: lambda m: dir_roundtrip(
            m, d, lambda t: pickle.loads(pickle.dumps(t, p))))(protocol)
    cases["pickle:SpooledTemporaryFile:copy"] = lambda m: spool_roundtrip(m, copy.copy)
    cases["pickle:SpooledTemporaryFile:deepcopy"] = lambda m: spool_roundtrip(m, copy.deepcopy)
    cases["pickle:TemporaryDirectory:copy"] = lambda m: dir_roundtrip(m, d, copy.copy)
    cases["pickle:TemporaryDirectory:deepcopy"] = lambda m: dir_roundtrip(m, d, copy.deepcopy)
    return cases


def spool_roundtrip(m, how):
    s = m.SpooledTemporaryFile(max_size=10)
    s.write(b"abcdef")
    s.seek(2)
    s.mine = [1]
    t = how(s)
    out = [type(t).__name__, type(t._file).__name__, t._file.getvalue(), t.tell(),
           t._max_size, t._rolled, sorted(t._TemporaryFileArgs.items()), t.mine,
           t.mine is s.mine, t._file is s._file]
    t.write(b"0123456789")
    out += [t._rolled, s._rolled, type(t._file).__name__]
    t.seek(0)
    out.append(t.read())
    return out


def dir_roundtrip(m, d, how):
    td = m.TemporaryDirectory(dir=d)
    try:
        t = how(td)
        out = [type(t).__name__, norm(repr(t)), sorted(vars(t)), t.name == td.name,
               t._finalizer.alive]
        t.cleanup()
        out.append(os.path.exists(td.name))
        return out
    finally:
        td.cleanup()


def spool_memory_cases():
    """A SpooledTemporaryFile in memory: its calls and their errors as
    BytesIO's (binary) or TextIOWrapper's over one (text), its _file and
    what _file does."""
    cases = {}

    def case(fn):
        cases["spool:" + fn.__name__] = fn
        return fn

    def written(m, data=b"line1\nline2\nend", **kw):
        s = m.SpooledTemporaryFile(**kw)
        s.write(data)
        return s

    def each(m, calls, **kw):
        out = []
        for call in calls:
            s = written(m, **kw)
            s.seek(3)
            out.append(outcome(lambda mod: call(s), m))
        return out

    binary_calls = [
        lambda s: s.read(), lambda s: s.read(2), lambda s: s.read(None), lambda s: s.read(-5),
        lambda s: s.read("x"), lambda s: s.read(2 ** 70), lambda s: s.read(1.5),
        lambda s: s.read1(2), lambda s: s.readline(), lambda s: s.readline(3),
        lambda s: s.readlines(), lambda s: s.readlines(4), lambda s: list(s),
        lambda s: (lambda b: (s.readinto(b), b))(bytearray(4)),
        lambda s: (lambda b: (s.readinto1(b), b))(bytearray(4)),
        lambda s: s.seek(2), lambda s: s.seek(-1), lambda s: s.seek(-2, 1), lambda s: s.seek(-99, 2),
        lambda s: s.seek(1, 3), lambda s: s.seek(2 ** 70), lambda s: s.seek("x"),
        lambda s: s.seek(1.0), lambda s: s.seek(True), lambda s: s.seek(100) and s.read(),
        lambda s: s.tell(),
        lambda s: s.write("str"), lambda s: s.write(memoryview(b"abcd")[::2]),
        lambda s: s.write(bytearray(b"zz")) and s._file.getvalue(),
        lambda s: s.write(memoryview(b"zz")), lambda s: s.writelines([b"a", b"b"]),
        lambda s: s.writelines(["a"]), lambda s: s.truncate(), lambda s: s.truncate(1),
        lambda s: s.truncate(-1), lambda s: s.truncate(20), lambda s: s.flush(),
        lambda s: s.isatty(), lambda s: s.readable(), lambda s: s.writable(),
        lambda s: s.seekable(), lambda s: s.detach(), lambda s: s.encoding,
        lambda s: s.errors, lambda s: s.newlines, lambda s: s.mode, lambda s: s.name,
        lambda s: s.closed, lambda s: next(s), lambda s: s.read(0),
    ]
    cases["spool:binary_calls"] = lambda m: each(m, binary_calls)
    cases["spool:binary_calls_closed"] = lambda m: each(
        m, [lambda s, c=c: (s.close(), c(s))[1] for c in binary_calls])
    text_calls = [
        lambda s: s.read(), lambda s: s.read(2), lambda s: s.readline(), lambda s: s.tell(),
        lambda s: s.seek(0), lambda s: s.write(b"x"), lambda s: s.encoding, lambda s: s.errors,
        lambda s: s.newlines, lambda s: s.mode, lambda s: s.name, lambda s: s.detach(),
        lambda s: type(s._file.buffer).__name__, lambda s: s._file.buffer.getvalue(),
    ]
    cases["spool:text_calls"] = lambda m: each(m, text_calls, data="li\r\nne\rend\n",
                                               mode="w+", encoding="utf-8")
    cases["spool:text_calls_newline"] = lambda m: each(m, text_calls, data="li\r\nne\n",
                                                       mode="w+", encoding="latin-1",
                                                       newline="", errors="replace")

    @case
    def argument_count(m):
        s = written(m)
        return [outcome(lambda mod: call(s), m) for call in (
            lambda s: s.tell(1), lambda s: s.rollover(1), lambda s: s.fileno(1),
            lambda s: s.write(), lambda s: s.truncate(1, 2))]

    @case
    def file_is_bytesio(m):
        s = written(m)
        f = s._file
        r = [type(f).__name__, f.getvalue(), f.tell(), f is s._file]
        f.seek(0)
        f.write(b"LINE")
        r += [s.tell(), s.read(), f.getvalue()]
        s.write(b"more")
        r += [f.getvalue(), s._rolled, f.getbuffer().nbytes]
        return r

    @case
    def file_then_rollover(m):
        s = written(m, max_size=20)
        f = s._file
        s.seek(4)
        s.write(b"x" * 30)
        r = [s._rolled, f.closed, type(s._file).__name__, s.tell()]
        s.seek(0)
        return r + [s.read()]

    @case
    def file_after_close(m):
        s = written(m)
        s.close()
        f = s._file
        return type(f).__name__, f.closed, outcome(lambda mod: f.getvalue(), m)

    @case
    def file_text(m):
        s = m.SpooledTemporaryFile(mode="w+", encoding="utf-16", newline=None)
        s.write("a\r\nb\n")
        f = s._file
        s.seek(0)
        return (type(f).__name__, type(f.buffer).__name__, f.encoding, f.errors,
                f.buffer.getvalue(), s.read(), f.newlines, s.newlines, f.line_buffering)

    @case
    def rollover_keeps_position(m):
        out = []
        for kw in ({}, {"mode": "w+"}):
            s = m.SpooledTemporaryFile(**kw)
            s.write(b"abcdef" if not kw else "abcdéf")
            s.seek(2)
            s.rollover()
            out += [s.tell(), s.read(), type(s._file).__name__, s._file.name == s.fileno()]
        return out

    @case
    def patched_temporaryfile(m):
        calls = []
        real = m.TemporaryFile

        def spy(*a, **k):
            calls.append(sorted(k))
            return real(*a, **k)
        m.TemporaryFile = spy
        try:
            s = written(m, max_size=3)
            s.write(b"x")
        finally:
            m.TemporaryFile = real
        return calls, s._rolled

    @case
    def far_past_the_end(m):
        s = m.SpooledTemporaryFile()
        s.write(b"ab")
        s.seek(3 << 20)
        s.write(b"z")
        r = [s._rolled, type(s._file).__name__, s.tell()]
        s.seek(0)
        data = s.read()
        return r + [len(data), data[:3], data[-1:]]

    @case
    def rollover_when_closed(m):
        out = []
        for kw, touch in (({}, False), ({}, True), ({"mode": "w+"}, False)):
            s = m.SpooledTemporaryFile(**kw)
            if touch:
                s._file
            s.close()
            out.append(outcome(lambda mod: s.fileno(), m))
            out += [s._rolled, hasattr(s, "_TemporaryFileArgs"), type(s._file).__name__,
                    outcome(lambda mod: s.write(b"x" if not kw else "x"), m)]
            out.append(outcome(lambda mod: type(copy.copy(s)._file).__name__, m))
        return out

    @case
    def gettempdir_at_rollover(m):
        s = m.SpooledTemporaryFile()
        s.write(b"x")
        saved = m.tempdir
        m.tempdir = os.path.join(std.gettempdir(), "ctempfile-diff-missing")
        try:
            return raised(lambda mod: s.rollover())(m)
        finally:
            m.tempdir = saved
    return cases


class TestDifferential(unittest.TestCase):
    maxDiff = None

    def test_whole_surface(self):
        # The standard module's objects left half-made by refused pickles
        # and detached files complain when collected: not ctempfile's.
        hook = sys.unraisablehook
        self.addCleanup(setattr, sys, "unraisablehook", hook)
        sys.unraisablehook = lambda u: None if getattr(
            u.object, "__module__", None) == "tempfile" else hook(u)
        allowed = allowed_differences()
        scratch = Scratch()
        self.addCleanup(scratch.close)
        cases = surface_cases(scratch.dir)
        cases.update(sequence_cases(scratch.dir))
        cases.update(audit_cases(scratch.dir))
        cases.update(error_cases(scratch.dir))
        cases.update(pickle_cases(scratch.dir))
        cases.update(spool_memory_cases())
        differ = {}
        for key, fn in cases.items():
            a, b = outcome(fn, std), outcome(fn, ctempfile)
            if a != b:
                differ[key] = (a, b)
        for key, (a, b) in eacces_cases().items():
            cases[key] = None
            if a != b:
                differ[key] = (a, b)
        def listed(key):
            return any(fnmatch.fnmatchcase(key, pattern) for pattern in allowed)
        unlisted = {k: v for k, v in differ.items() if not listed(k)}
        stale = sorted(p for p in allowed
                       if fnmatch.filter(cases, p) and not fnmatch.filter(differ, p))
        unknown = sorted(p for p in allowed if not fnmatch.filter(cases, p))
        report = "\n".join("%s\n  tempfile:  %s\n  ctempfile: %s" % (k, a[:400], b[:400])
                           for k, (a, b) in sorted(unlisted.items()))
        self.assertEqual(report, "", "differences not in README.md's list (CPython %s)"
                         % VERSION)
        self.assertEqual(stale, [], "README.md lists differences that are gone")
        self.assertEqual(unknown, [], "README.md lists cases this test does not have")
        self.assertGreater(len(cases), 100)


if __name__ == "__main__":
    unittest.main()
