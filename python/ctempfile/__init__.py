"""ctempfile: a drop-in replacement for the standard tempfile module.

Same names, signatures, defaults, return types and exceptions as CPython
3.13's tempfile; every name is drawn, and every file and directory created and
removed, by libtempfile (C) through the _ctempfile core. This module only adds
the Python objects: io objects, the file wrapper, the directory object.

    import ctempfile as tempfile

Deliberate differences (see README.md): a '/' in prefix or suffix is refused
(OSError EINVAL); directory cleanup never follows a symbolic link; descriptors
are close-on-exec; names come from getrandom(2).
"""

__all__ = [
    "NamedTemporaryFile", "TemporaryFile",
    "SpooledTemporaryFile", "TemporaryDirectory",
    "mkstemp", "mkdtemp",
    "mktemp",
    "TMP_MAX", "gettempprefix",
    "tempdir", "gettempdir",
    "gettempprefixb", "gettempdirb",
]

import errno as _errno
import functools as _functools
import io as _io
import os as _os
import shutil as _shutil
import sys as _sys
import types as _types
import warnings as _warnings
import weakref as _weakref
import _thread
from random import Random as _Random

from . import _ctempfile as _c

_allocate_lock = _thread.allocate_lock

# CPython 3.12 added NamedTemporaryFile(delete_on_close=) and
# TemporaryDirectory(delete=); ctempfile offers the API of the interpreter it
# runs on, as that interpreter's tempfile does.
_API_3_12 = _sys.version_info >= (3, 12)

# The flags CPython documents for mkstemp's descriptor (the library adds
# O_CLOEXEC, as os.open does).
_text_openflags = _os.O_RDWR | _os.O_CREAT | _os.O_EXCL
if hasattr(_os, 'O_NOFOLLOW'):
    _text_openflags |= _os.O_NOFOLLOW
_bin_openflags = _text_openflags
if hasattr(_os, 'O_BINARY'):
    _bin_openflags |= _os.O_BINARY

TMP_MAX = _c.TMP_MAX

# Default prefix (undocumented, but CPython honours changes to it).
template = _c.gettempprefix()

# Python's tempfile.tempdir: None until the default directory is first needed.
tempdir = None

_once_lock = _allocate_lock()

# Whether TemporaryFile may use O_TMPFILE; when False it creates a named file
# and removes the name at once. libtempfile falls back by itself where the
# filesystem refuses O_TMPFILE, so this only matters when a program sets it.
_O_TMPFILE_WORKS = hasattr(_os, 'O_TMPFILE')


# ---- fork ---------------------------------------------------------------------

# The pid that objects made now record as their owner; os.fork() (threads and
# multiprocessing's fork start method included) refreshes it in the child.
_pid = _os.getpid()


def _after_fork_in_child():
    global _pid
    _pid = _os.getpid()


if hasattr(_os, 'register_at_fork'):
    _os.register_at_fork(after_in_child=_after_fork_in_child)


def _made_here(pid):
    """Whether an object recording owner pid was made by this process: a
    forked child never removes its parent's temporaries implicitly (at exit,
    by the garbage collector, in __del__); only an explicit call does. The
    pid is asked afresh, so that a fork os.fork() did not see counts too."""
    return pid == _os.getpid()


# ---- return types ---------------------------------------------------------

def _infer_return_type(*args):
    """Return str or bytes, the type the path arguments imply; TypeError if
    they mix the two. With no argument set, follow tempdir's type."""
    kind = None
    for arg in args:
        if arg is None:
            continue
        if isinstance(arg, _os.PathLike):
            arg = _os.fspath(arg)
        this = bytes if isinstance(arg, bytes) else str
        if kind is not None and this is not kind:
            raise TypeError("Can't mix bytes and non-bytes in "
                            "path components.")
        kind = this
    if kind is not None:
        return kind
    if tempdir is None or isinstance(tempdir, str):
        return str
    return bytes


def _sanitize_params(prefix, suffix, dir):
    """Fill in the defaults of prefix, suffix and dir; also return the
    output type."""
    output_type = _infer_return_type(prefix, suffix, dir)
    if suffix is None:
        suffix = output_type()
    if prefix is None:
        prefix = template if output_type is str else _os.fsencode(template)
    if dir is None:
        dir = gettempdir() if output_type is str else gettempdirb()
    return prefix, suffix, dir, output_type


# ---- names ----------------------------------------------------------------

class _RandomNameSequence:
    """An endless iterator of 8-character names of [a-z0-9_], drawn from the
    kernel's CSPRNG by libtempfile (tf_random_chars): safe across threads and
    different in a forked child."""

    characters = "abcdefghijklmnopqrstuvwxyz0123456789_"

    @property
    def rng(self):
        """A random.Random of this process, as CPython's sequence has (it
        draws the names from it); ctempfile's names do not come from it."""
        pid = _os.getpid()
        if getattr(self, '_rng_pid', None) != pid:
            self._rng = _Random()
            self._rng_pid = pid
        return self._rng

    def __iter__(self):
        return self

    def __next__(self):
        return _c.random_name()


_name_sequence = None


def _get_candidate_names():
    """The shared _RandomNameSequence. A program (or a test) may replace this
    function to choose the names itself; ctempfile then uses its names."""
    global _name_sequence
    if _name_sequence is None:
        with _once_lock:
            if _name_sequence is None:
                _name_sequence = _RandomNameSequence()
    return _name_sequence


_library_names = _get_candidate_names


def _candidate_tempdir_list():
    """The directories the default temporary directory is chosen from, in
    order (tf_candidate_tempdir_list)."""
    return _c.candidate_tempdir_list()


_library_candidates = _candidate_tempdir_list


def _get_default_tempdir():
    """The first usable directory of _candidate_tempdir_list(), searched
    afresh; usable means a file can be created, written and removed there."""
    if _candidate_tempdir_list is _library_candidates:
        return _c.default_tempdir()
    dirlist = _candidate_tempdir_list()
    for dir in dirlist:
        if dir != _os.curdir:
            dir = _os.path.abspath(dir)
        if _c.probe_dir(dir):
            return dir
    raise FileNotFoundError(_errno.ENOENT,
                            "No usable temporary directory found in %s" %
                            dirlist)


def _exists(fn):
    """Whether fn names anything (a dangling symbolic link too)."""
    try:
        _os.lstat(fn)
    except OSError:
        return False
    return True


def _dont_follow_symlinks(func, path, *args):
    """func(path, *args) on path itself, never on what a link points to:
    with follow_symlinks=False where func takes it, else not at all on a
    link."""
    if func in _os.supports_follow_symlinks:
        func(path, *args, follow_symlinks=False)
    elif not _os.path.islink(path):
        func(path, *args)


def _resetperms(path):
    """Make path owner-accessible again (flags cleared, mode 0700)."""
    chflags = getattr(_os, 'chflags', None)
    if chflags is not None:
        _dont_follow_symlinks(chflags, path, 0)
    _dont_follow_symlinks(_os.chmod, path, 0o700)


def _joinable(pre, suf, output_type):
    """TypeError, as CPython's pre + name + suf raises it, unless prefix and
    suffix are of the output type (a path-like prefix is not)."""
    if type(pre) is not output_type or type(suf) is not output_type:
        pre + output_type() + suf


def _check_affixes(pre, suf):
    for part in (pre, suf):
        if (b'/' if isinstance(part, bytes) else '/') in part:
            raise OSError(_errno.EINVAL,
                          "libtempfile refuses a '/' in prefix or suffix",
                          part)


def _chosen_names(dir, pre, suf, output_type, create, what):
    """Create dir/pre+name+suf with the names of a replaced
    _get_candidate_names(), trying the next name while one exists."""
    _check_affixes(pre, suf)
    dir = _os.path.abspath(dir)
    names = _get_candidate_names()
    if output_type is bytes:
        names = map(_os.fsencode, names)
    for _ in range(TMP_MAX):
        path = _os.path.join(dir, pre + next(names) + suf)
        _sys.audit("tempfile." + what, path)
        try:
            return create(path), path
        except FileExistsError:
            continue
    raise FileExistsError(_errno.EEXIST,
                          "No usable temporary %s name found" %
                          ("directory" if what == "mkdtemp" else "file"))


def _creation_error(err, dir, pre, suf, want_bytes, is_dir):
    """The OSError CPython's creation in dir raises for errno err: naming
    the path it tried (dir, made absolute but by mkdtemp, joined to pre, a
    random name and suf; pre and suf as bytes or None), or, when every name
    was taken, a FileExistsError naming nothing. The C core raises it."""
    if err == _errno.EEXIST:
        return FileExistsError(_errno.EEXIST, "No usable temporary %s name found" %
                               ("directory" if is_dir else "file"))
    if dir is None:
        dir = gettempdir()
    if not is_dir:
        dir = _os.path.abspath(dir)
    name = (_os.fsencode(template) if pre is None else pre) + \
        _c.random_name().encode() + (suf or b'')
    if want_bytes:
        path = _os.path.join(_os.fsencode(dir), name)
    else:
        path = _os.path.join(_os.fsdecode(dir), _os.fsdecode(name))
    return OSError(err, _os.strerror(err), path)


def _mkstemp_inner(dir, pre, suf, flags, output_type):
    """mkstemp's core: (fd, absolute path) of a new file in dir."""
    _joinable(pre, suf, output_type)
    if (_get_candidate_names is _library_names and
            (flags == _bin_openflags or flags == _text_openflags)):
        return _c.mkstemp_in(dir, pre, suf, output_type is bytes)
    return _chosen_names(dir, pre, suf, output_type,
                         lambda path: _c.open_new(path, flags), "mkstemp")


# ---- the default directory and prefix ---------------------------------------

def gettempprefix():
    """The default prefix for temporary directories as string."""
    return _os.fsdecode(template)


def gettempprefixb():
    """The default prefix for temporary directories as bytes."""
    return _os.fsencode(template)


def _gettempdir():
    global tempdir
    if tempdir is None:
        with _once_lock:
            if tempdir is None:
                tempdir = _get_default_tempdir()
    return tempdir


def gettempdir():
    """Returns tempfile.tempdir as str."""
    return _os.fsdecode(_gettempdir())


def gettempdirb():
    """Returns tempfile.tempdir as bytes."""
    return _os.fsencode(_gettempdir())


# ---- low-level interfaces -------------------------------------------------

def _mkstemp(suffix=None, prefix=None, dir=None, text=False):
    """Create a new file, readable and writable only by its owner, and return
    (fd, absolute path). The descriptor is close-on-exec. The caller removes
    the file. suffix, prefix and dir as for every function of this module:
    all str (or path-like) or all bytes; bytes in, bytes out."""
    prefix, suffix, dir, output_type = _sanitize_params(prefix, suffix, dir)
    flags = _text_openflags if text else _bin_openflags
    return _mkstemp_inner(dir, prefix, suffix, flags, output_type)


def _mkdtemp(suffix=None, prefix=None, dir=None):
    """Create a new directory, mode 0700, and return its absolute path. The
    caller removes it."""
    prefix, suffix, dir, output_type = _sanitize_params(prefix, suffix, dir)
    _joinable(prefix, suffix, output_type)
    if _get_candidate_names is _library_names:
        path = _c.mkdtemp_in(dir, prefix, suffix, output_type is bytes)
    else:
        _, path = _chosen_names(dir, prefix, suffix, output_type,
                                _c.mkdir_new, "mkdtemp")
    if _API_3_12:
        return _os.path.abspath(path)
    return _os.path.join(dir, _os.path.basename(path))  # as 3.11 returns it


def mktemp(suffix="", prefix=template, dir=None):
    """Return a file name that did not exist when it was checked. Racy by
    nature: use mkstemp() or mkdtemp(). The name is dir joined to prefix, a
    random name and suffix, as given (nothing about dir is checked)."""
    if dir is None:
        dir = gettempdir()
    names = _get_candidate_names()
    for _ in range(TMP_MAX):
        name = prefix + next(names) + suffix    # CPython's TypeErrors first
        _check_affixes(prefix, suffix)
        path = _os.path.join(dir, name)
        if not _exists(path):
            return path
    raise FileExistsError(_errno.EEXIST,
                          "No usable temporary filename found")


# ---- NamedTemporaryFile -------------------------------------------------------

class _TemporaryFileCloser:
    """Closes the file and removes its name, at most once each, without a
    __del__ on the wrapper itself (bound methods keep the closer alive)."""

    cleanup_called = False
    close_called = False
    _handle = None      # libtempfile's handle of the name, if the library made it

    def __init__(self, file, name, delete=True, delete_on_close=True):
        self.file = file
        self.name = name
        self.delete = delete
        self.delete_on_close = delete_on_close
        self._pid = _pid

    def _remove(self, unlink, _library_unlink=_os.unlink):
        handle, self._handle = self._handle, None
        if handle is not None and unlink is _library_unlink:
            handle.remove()         # tf_file_release: a name already gone is fine
            return
        if handle is not None:
            handle.forget()
        try:
            unlink(self.name)
        except FileNotFoundError:
            pass

    def cleanup(self, windows=(_os.name == 'nt'), unlink=_os.unlink):
        if self.cleanup_called:
            return
        self.cleanup_called = True
        try:
            if not self.close_called:
                self.close_called = True
                self.file.close()
        finally:
            if self.delete and not (windows and self.delete_on_close):
                handle = self._handle
                if handle is not None and unlink is _os.unlink:
                    handle.remove()     # the common case, without _remove's call
                else:
                    self._remove(unlink)

    def close(self):
        if self.close_called:
            return
        self.close_called = True
        try:
            self.file.close()
        finally:
            if self.delete and self.delete_on_close:
                self.cleanup()

    def __del__(self):
        if not self.cleanup_called and not _made_here(self._pid):
            self.delete = False     # the parent's file: only closed here
        self.cleanup()


if not _API_3_12:
    class _TemporaryFileCloser:     # noqa: F811  (CPython 3.11's API)
        """Closes the file and removes its name, at most once, without a
        __del__ on the wrapper itself (bound methods keep the closer alive)."""

        file = None
        close_called = False
        _handle = None

        def __init__(self, file, name, delete=True):
            self.file = file
            self.name = name
            self.delete = delete
            self._pid = _pid

        _remove = _TemporaryFileCloser._remove

        def close(self, unlink=_os.unlink):
            if self.close_called or self.file is None:
                return
            self.close_called = True
            try:
                self.file.close()
            finally:
                if self.delete:
                    self._remove(unlink)

        def __del__(self):
            if not self.close_called and not _made_here(self._pid):
                self.delete = False     # the parent's file: only closed here
            self.close()


class _TemporaryFileWrapper:
    """A file object with a name that is removed when the file is closed
    (or, with delete_on_close=False, when the context exits or the object
    dies). Attributes not found here are looked up on the file."""

    if _API_3_12:
        def __init__(self, file, name, delete=True, delete_on_close=True):
            self.file = file
            self.name = name
            self._closer = _TemporaryFileCloser(file, name, delete,
                                                delete_on_close)
    else:
        def __init__(self, file, name, delete=True):
            self.file = file
            self.name = name
            self.delete = delete
            self._closer = _TemporaryFileCloser(file, name, delete)

    def __getattr__(self, name):
        attr = getattr(self.__dict__['file'], name)
        if callable(attr):
            method = attr

            @_functools.wraps(method)
            def call(*args, **kwargs):
                return method(*args, **kwargs)
            # The bound method keeps the file open as long as it lives.
            call._closer = self._closer
            attr = call
        if not isinstance(attr, int):
            setattr(self, name, attr)
        return attr

    def __enter__(self):
        self.file.__enter__()
        return self

    if _API_3_12:
        def __exit__(self, exc, value, tb):
            result = self.file.__exit__(exc, value, tb)
            self._closer.cleanup()
            return result
    else:
        def __exit__(self, exc, value, tb):
            result = self.file.__exit__(exc, value, tb)
            self.close()
            return result

    def close(self):
        """Close the file, removing it if delete and delete_on_close."""
        self._closer.close()

    def __iter__(self):
        # A generator rather than iter(self.file), so that iterating keeps
        # the wrapper (and the file) alive.
        for line in self.file:
            yield line


def _raw_of(file):
    raw = getattr(file, 'buffer', file)
    return getattr(raw, 'raw', raw)


if _API_3_12:
    def _NamedTemporaryFile(mode='w+b', buffering=-1, encoding=None,
                            newline=None, suffix=None, prefix=None,
                            dir=None, delete=True, *, errors=None,
                            delete_on_close=True):
        """Create and return a temporary file with a visible name (its
        .name). mode, buffering, encoding, newline and errors as for
        io.open(); prefix, suffix and dir as for mkstemp(). With delete (the
        default) the file is removed on close, or with delete_on_close=False
        when the context manager exits or the object is finalized."""
        return _named_temporary_file(mode, buffering, encoding, newline,
                                     suffix, prefix, dir, delete, errors,
                                     (delete, delete_on_close))
else:
    def _NamedTemporaryFile(mode='w+b', buffering=-1, encoding=None,
                            newline=None, suffix=None, prefix=None,
                            dir=None, delete=True, *, errors=None):
        """Create and return a temporary file with a visible name (its
        .name). mode, buffering, encoding, newline and errors as for
        io.open(); prefix, suffix and dir as for mkstemp(). With delete (the
        default) the file is removed on close."""
        return _named_temporary_file(mode, buffering, encoding, newline,
                                     suffix, prefix, dir, delete, errors,
                                     (delete,))


def _named_temporary_file(mode, buffering, encoding, newline, suffix, prefix,
                          dir, delete, errors, wrapper_args):
    prefix, suffix, dir, output_type = _sanitize_params(prefix, suffix, dir)
    if "b" not in mode:
        encoding = _io.text_encoding(encoding)

    name = handle = None

    _joinable(prefix, suffix, output_type)

    def opener(*args):
        nonlocal name, handle
        if _get_candidate_names is _library_names:
            fd, name, handle = _c.named_temporary_file(
                dir, prefix, suffix, output_type is bytes, not delete)
        else:
            fd, name = _mkstemp_inner(dir, prefix, suffix, _bin_openflags,
                                      output_type)
        return fd

    try:
        file = _io.open(dir, mode, buffering=buffering, newline=newline,
                        encoding=encoding, errors=errors, opener=opener)
        try:
            _raw_of(file).name = name
            wrapper = _TemporaryFileWrapper(file, name, *wrapper_args)
            if handle is not None:
                wrapper._closer._handle = handle
                handle = None
            return wrapper
        except:
            file.close()
            raise
    except:
        # The file must not outlive a failed call, even with delete=False.
        if handle is not None and delete:
            handle.remove()
        elif name is not None:
            if handle is not None:
                handle.forget()
            _os.unlink(name)
        raise


def _usable_affix(part):
    """Whether part can be in a name: else CPython's TemporaryFile leaves it
    unused where O_TMPFILE works (a NUL, a str the filesystem encoding
    cannot encode)."""
    if isinstance(part, str):
        try:
            part = _os.fsencode(part)
        except UnicodeEncodeError:
            return False
    return isinstance(part, bytes) and b'\0' not in part


def _encode_error(dir, prefix, suffix):
    """Raises the UnicodeEncodeError of CPython's os.open or os.mkdir for
    names one of which the filesystem encoding cannot encode: that of the
    path dir/prefix + a random name + suffix (the C core calls it)."""
    if prefix is None:
        prefix = template
    _os.fsencode(_os.path.join(dir if dir is not None else "",
                               prefix + "x" * 8 + (suffix if suffix is not None else "")))


def _TemporaryFile(mode='w+b', buffering=-1, encoding=None,
                  newline=None, suffix=None, prefix=None,
                  dir=None, *, errors=None):
    """Create and return a temporary file that has no name: libtempfile uses
    O_TMPFILE where the filesystem supports it, else removes the name at
    once. mode, buffering, encoding, newline and errors as for io.open();
    prefix, suffix and dir as for mkstemp()."""
    if "b" not in mode:
        encoding = _io.text_encoding(encoding)
    prefix, suffix, dir, output_type = _sanitize_params(prefix, suffix, dir)

    fd = None

    def opener(*args):
        nonlocal fd
        library_names = _get_candidate_names is _library_names
        if _O_TMPFILE_WORKS or library_names:
            pre, suf = prefix, suffix
            if _O_TMPFILE_WORKS and not (_usable_affix(pre) and _usable_affix(suf)):
                pre = suf = None    # unused where O_TMPFILE works, as CPython's
            if not _O_TMPFILE_WORKS:
                pre + output_type() + suf   # a name is made: CPython's TypeErrors
            try:
                fd = _c.temporary_file(dir, pre, suf, _O_TMPFILE_WORKS)
                return fd
            except OSError:
                if pre is not None and library_names:
                    raise
                # CPython's fallback to named files: the names it would use
        fd, name = _mkstemp_inner(dir, prefix, suffix, _bin_openflags,
                                  output_type)
        try:
            _os.unlink(name)
        except BaseException:
            _os.close(fd)
            raise
        return fd

    file = _io.open(dir, mode, buffering=buffering, newline=newline,
                    encoding=encoding, errors=errors, opener=opener)
    _raw_of(file).name = fd
    return file


def _named_as(function, name):
    """function, named name: the Python versions behind the C fast paths read
    as CPython's in tracebacks and errors."""
    function.__name__ = function.__qualname__ = name
    function.__code__ = function.__code__.replace(
        co_name=name,
        **({"co_qualname": name}
           if hasattr(function.__code__, "co_qualname") else {}))
    return function


# The common case (str or None names, the library's names) runs in C
# (src/fastpath.c); the rest goes to the Python versions above.
_named_as(_mkstemp, "mkstemp")
_named_as(_mkdtemp, "mkdtemp")
_named_as(_TemporaryFile, "TemporaryFile")
_named_as(_NamedTemporaryFile, "NamedTemporaryFile")
mkstemp = _c.mkstemp
mkdtemp = _c.mkdtemp
TemporaryFile = _c.TemporaryFile
NamedTemporaryFile = _c.NamedTemporaryFile


# ---- SpooledTemporaryFile -------------------------------------------------------

class SpooledTemporaryFile(_c._Spooled, _io.IOBase):
    """Temporary file wrapper, specialized to switch from memory to a real
    file when it exceeds a certain size or when a fileno is needed. The
    memory is libtempfile's (wiped before it is freed); its methods are C
    (src/spooled.c), for a write() as fast as io.BytesIO's. Its _file is the
    memory file (binary mode) or a TextIOWrapper over it (text mode) until
    the data rolls over to disk, then a real io object as TemporaryFile()'s.
    """

    def __init__(self, max_size=0, mode='w+b', buffering=-1,
                 encoding=None, newline=None,
                 suffix=None, prefix=None, dir=None, *, errors=None):
        if 'b' not in mode:
            encoding = _io.text_encoding(encoding)
        self._setup(max_size, mode, buffering, encoding, newline,
                    suffix, prefix, dir, errors)

    def __getstate__(self):
        # CPython's pickles (and copies) its __dict__: an in-memory binary
        # one with its BytesIO, any other refused by its io object.
        state = {'_file': self._file, '_max_size': self._max_size,
                 '_rolled': self._rolled}
        try:
            state['_TemporaryFileArgs'] = self._TemporaryFileArgs
        except AttributeError:      # gone with the rollover
            pass
        state.update(vars(self))
        return state

    def __setstate__(self, state):
        self._restore(state)
        vars(self).update((k, v) for k, v in state.items() if k not in
                          ('_file', '_max_size', '_rolled', '_TemporaryFileArgs'))

    __class_getitem__ = classmethod(_types.GenericAlias)    # as CPython's

    def _check(self, file):
        """Rolls over if file's position is past max_size (a write() or
        writelines() of this class does the same check in C)."""
        if self._rolled:
            return
        max_size = self._max_size
        if max_size and file.tell() > max_size:
            self.rollover()


_c._own_methods(SpooledTemporaryFile)
_c._bind(_sys.modules[__name__])


# ---- TemporaryDirectory -----------------------------------------------------------

class TemporaryDirectory:
    """Create a temporary directory (its .name) and remove it, and all it
    holds, on cleanup(), when the context manager exits or when the object is
    finalized (with a ResourceWarning) -- unless delete=False. Removal is
    libtempfile's: it never follows a symbolic link and makes unreadable
    directories readable to empty them.

        with TemporaryDirectory() as tmpdir:
            ...
    """

    def __init__(self, suffix=None, prefix=None, dir=None,
                 ignore_cleanup_errors=False, *, delete=True):
        target = None
        if mkdtemp is _library_mkdtemp:     # str or None names: all in C
            target = _c.temporary_directory_fast(suffix, prefix, dir,
                                                 ignore_cleanup_errors, delete)
        if target is not None:
            self.name = target.name
        elif mkdtemp is _library_mkdtemp and _get_candidate_names is _library_names:
            prefix, suffix, dir, output_type = _sanitize_params(prefix, suffix, dir)
            if type(prefix) is not output_type or type(suffix) is not output_type:
                _joinable(prefix, suffix, output_type)
            target = _c.temporary_directory(dir, prefix, suffix,
                                            output_type is bytes,
                                            ignore_cleanup_errors,
                                            not delete)
            self.name = target.name
        else:
            self.name = target = mkdtemp(suffix, prefix, dir)
        self._target = target
        self._ignore_cleanup_errors = ignore_cleanup_errors
        self._delete = delete
        self._finalizer = _weakref.finalize(
            self, _implicit_cleanup, self._cleanup, _pid, target,
            warn_message="Implicitly cleaning up {!r}".format(self),
            ignore_errors=ignore_cleanup_errors, delete=delete)

    @classmethod
    def _rmtree(cls, name, ignore_errors=False, repeated=False):
        """Remove name (a path, or the library's handle of the directory)
        and everything below it: by libtempfile (tf_dir_cleanup, tf_rmtree),
        or by shutil.rmtree where a program replaced it."""
        if _shutil.rmtree is not _library_rmtree_peer:
            cls._rmtree_by_shutil(getattr(name, 'name', name), ignore_errors)
        elif isinstance(name, _c.DirHandle):
            try:
                name.cleanup()
            except NotADirectoryError:
                # A file or a link at its path now: removed by nobody, and
                # refused (or not) in the words of the interpreter's shutil.
                cls._rmtree_by_shutil(name.name, ignore_errors)
        else:
            try:
                _c.rmtree(name, ignore_errors)
            except FileNotFoundError:
                pass
            except NotADirectoryError:
                if _os.path.isdir(name) and not _os.path.islink(name):
                    raise       # from inside the tree
                # A file or a link at the path: refused in shutil's words.
                cls._rmtree_by_shutil(name, ignore_errors)

    @classmethod
    def _rmtree_by_shutil(cls, name, ignore_errors):
        """The replaced shutil.rmtree, called as CPython's cleanup calls it:
        unreadable entries are made owner-accessible and removed, missing
        ones are fine, other errors raise unless ignore_errors."""
        def onexc(func, path, exc):
            if isinstance(exc, FileNotFoundError):
                return
            if isinstance(exc, PermissionError):
                try:
                    if path != name:
                        _resetperms(_os.path.dirname(path))
                    _resetperms(path)
                    if _os.path.isdir(path) and not _os.path.islink(path):
                        _c.rmtree(path, ignore_errors)
                    else:
                        _os.unlink(path)
                    return
                except FileNotFoundError:
                    return
                except OSError:
                    if not ignore_errors:
                        raise
                    return
            if not ignore_errors:
                raise exc
        if _sys.version_info >= (3, 12):
            _shutil.rmtree(name, onexc=onexc)
        else:
            _shutil.rmtree(name, onerror=lambda func, path, info:
                           onexc(func, path, info[1]))

    @classmethod
    def _cleanup(cls, name, warn_message, ignore_errors=False, delete=True):
        if delete:
            cls._rmtree(name, ignore_errors=ignore_errors)
            _warnings.warn(warn_message, ResourceWarning)

    _target = None      # an unpickled copy has only the name

    def __getstate__(self):
        # CPython's pickles its __dict__; the library's handle stays here.
        state = dict(vars(self))
        state.pop('_target', None)
        return state

    def __repr__(self):
        return "<{} {!r}>".format(self.__class__.__name__, self.name)

    def __enter__(self):
        return self.name

    def __exit__(self, exc, value, tb):
        if not _API_3_12 or self._delete:
            self.cleanup()

    def cleanup(self):
        first = self._finalizer.detach()
        if first or _os.path.exists(self.name):
            target = self._target
            if (getattr(target, 'name', target) != self.name or
                    not (first or getattr(target, 'alive', False))):
                # The name reassigned, or called again once the handle has
                # nothing left to do: CPython removes what the name names
                # now. (A handle still at work in another thread, or left
                # with what it could not remove, does it.)
                target = self.name
            self._rmtree(target, ignore_errors=self._ignore_cleanup_errors)

    __class_getitem__ = classmethod(_types.GenericAlias)


def _api_3_11(cls):
    """TemporaryDirectory's methods with CPython 3.11's signatures (no
    delete=: the finalizer's delete=True is _implicit_cleanup's)."""
    rmtree = cls.__dict__['_rmtree'].__func__
    init = cls.__init__

    def __init__(self, suffix=None, prefix=None, dir=None,
                 ignore_cleanup_errors=False):
        init(self, suffix, prefix, dir, ignore_cleanup_errors)
        del self._delete

    def _rmtree(cls, name, ignore_errors=False):
        return rmtree(cls, name, ignore_errors)

    def _cleanup(cls, name, warn_message, ignore_errors=False):
        cls._rmtree(name, ignore_errors=ignore_errors)
        _warnings.warn(warn_message, ResourceWarning)

    for method in (_rmtree, _cleanup):
        method.__qualname__ = 'TemporaryDirectory.' + method.__name__
        setattr(cls, method.__name__, classmethod(method))
    __init__.__qualname__ = 'TemporaryDirectory.__init__'
    cls.__init__ = __init__


if not _API_3_12:
    _api_3_11(TemporaryDirectory)
del _api_3_11


def _implicit_cleanup(cleanup, pid, *args, delete=True, **kwargs):
    """A TemporaryDirectory's finalizer: its _cleanup, unless delete=False,
    in its owner only."""
    if delete and _made_here(pid):
        cleanup(*args, **kwargs)


_library_mkdtemp = mkdtemp
_library_rmtree_peer = _shutil.rmtree   # shutil.rmtree unless a program replaces it


# ---- beyond tempfile: the library's own capabilities --------------------------------

# atomic_write, persist, shred, send_file, receive_file (ctempfile/_capabilities.py,
# README.md "Beyond tempfile"). Reached through this module's __getattr__, so
# that none of them is in the namespace (or __all__) of the drop-in: programs
# and tests that inspect tempfile's names see the standard module's.
_CAPABILITIES = frozenset({"atomic_write", "AtomicWrite", "Level", "persist", "shred",
                           "ShredReport", "send_file", "receive_file"})


_capabilities_module = None


def __getattr__(name):
    global _capabilities_module
    if name in _CAPABILITIES:
        if _capabilities_module is None:
            from . import _capabilities
            _capabilities_module = _capabilities
        return getattr(_capabilities_module, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
