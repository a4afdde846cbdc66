"""What ctempfile offers beyond the standard tempfile: atomic writes, lock
files, persist, secure deletion and hand-over of a temporary file to another
process, each libtempfile's (README.md, "Beyond tempfile").

Reached as ctempfile.atomic_write, ctempfile.persist, ... through the
package's module __getattr__: none of these names is in ctempfile's
namespace or __all__, so that the drop-in surface stays the standard
module's.
"""
import enum as _enum
import errno as _errno
import io as _io
import os as _os
import shutil as _shutil
import socket as _socket
import stat as _stat

from . import _ctempfile as _c
from . import (SpooledTemporaryFile as _Spooled, TemporaryDirectory as _TempDir,
               _TemporaryFileWrapper, _API_3_12, _raw_of)

__all__ = ["Level", "AtomicWrite", "atomic_write", "persist", "ShredReport",
           "shred", "send_file", "receive_file"]


class Level(_enum.IntEnum):
    """How far a write through a temporary got (tempfile.h, "Levels")."""
    VISIBLE = _c.LEVEL_VISIBLE          # renamed: readers see it
    CONSISTENT = _c.LEVEL_CONSISTENT    # data synced before the rename
    DURABLE = _c.LEVEL_DURABLE          # and the directory after it


_SYMLINKS = {"follow": _c.SYMLINK_FOLLOW, "replace": _c.SYMLINK_REPLACE,
             "refuse": _c.SYMLINK_REFUSE}
_NOT_COPIED = ((_c.META_OWNER, "owner"), (_c.META_XATTR, "xattr"), (_c.META_ACL, "acl"))


# ---- argument checks ------------------------------------------------------------

def _error(err, filename=None, filename2=None):
    """The OSError subclass for err, as os functions raise it."""
    return OSError(err, _os.strerror(err), filename, None, filename2)


def _renamed(exc, filename, filename2=None):
    """An OSError of the C core (errno only) naming the files."""
    return _error(exc.errno, filename, filename2)


def _path(value, what):
    """value as filesystem bytes (str, bytes or path-like), absolute where
    asked; TypeError otherwise."""
    if isinstance(value, int) or not isinstance(value, (str, bytes, _os.PathLike)):
        raise TypeError("%s must be str, bytes or os.PathLike, not %s"
                        % (what, type(value).__name__))
    path = _os.fsencode(value)
    if b"\0" in path:
        raise ValueError("%s: embedded null byte" % what)
    return path


def _level(level):
    if isinstance(level, str):
        try:
            return Level[level.upper()]
        except KeyError:
            pass
    elif isinstance(level, int) and not isinstance(level, bool):
        try:
            return Level(level)
        except ValueError:
            pass
    raise ValueError("level must be 'visible', 'consistent', 'durable' or a "
                     "ctempfile.Level, not %r" % (level,))


def _symlinks(symlinks):
    try:
        return _SYMLINKS[symlinks]
    except (KeyError, TypeError):
        raise ValueError("symlinks must be 'follow', 'replace' or 'refuse', not %r"
                         % (symlinks,)) from None


def _permissions(permissions):
    if permissions is None:
        return 0
    if not isinstance(permissions, int) or isinstance(permissions, bool):
        raise TypeError("permissions must be an int or None, not %s"
                        % type(permissions).__name__)
    if not 0 < permissions <= 0o7777:
        raise ValueError("permissions must be between 0o1 and 0o7777, not %s"
                         % oct(permissions))
    return permissions


def _timeout_ms(timeout):
    if timeout is None or timeout == float("inf"):
        return -1       # for ever
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool):
        raise TypeError("timeout must be a number of seconds or None, not %s"
                        % type(timeout).__name__)
    if timeout < 0 or timeout != timeout:
        raise ValueError("timeout must be >= 0 or None, not %r" % (timeout,))
    return min(int(timeout * 1000 + 0.999), 2 ** 31 - 1)


def _options(level, flags, symlinks, permissions=None, timeout_ms=0):
    return (_level(level), flags, _symlinks(symlinks), _permissions(permissions), timeout_ms)


def _open_owned(fd, mode, **io_args):
    """io.open() of descriptor fd, which is closed if that fails: io.open()
    closes it itself once its FileIO has it (the opener's call), and leaves
    it open when it refuses an argument before that."""
    taken = False

    def opener(path, flags):
        nonlocal taken
        taken = True
        return fd
    try:
        file = _io.open("", mode, opener=opener, **io_args)
    except BaseException:
        if not taken:
            _os.close(fd)
        raise
    _raw_of(file).name = fd
    return file


def _not_copied(bits):
    return frozenset(name for bit, name in _NOT_COPIED if bits & bit)


# ---- atomic_write -----------------------------------------------------------------

class AtomicWrite:
    """Write path atomically: readers and crashes see the old content or the
    new one, never a part.

        with ctempfile.atomic_write("app.ini") as f:
            f.write(text)

    mode: 'w' (text) or 'wb', with '+' to read back; 'x' fails with
    FileExistsError if path exists (as no_clobber=True); 'a' starts from a
    copy of the old content. buffering, encoding, errors, newline as for
    open(). level: 'visible' (rename only), 'consistent' (data synced
    first) or 'durable' (the directory synced too; the default); the level
    reached is the context object's .level (lower than asked only where the
    filesystem refuses a directory sync, unless strict=True, which fails
    instead). symlinks: 'follow' (replace the link's final target, the
    default), 'replace' (the link itself) or 'refuse' (ELOOP). The replaced
    file's owner, mode, extended attributes and ACLs are carried over, or
    the commit fails (best_effort=True: carried over where possible, the
    rest in .not_copied); permissions sets the mode instead. lock=True
    makes it a lock file (path + '.lock', git's model): a second writer
    gets FileExistsError at once, or waits up to timeout seconds (None: for
    ever).

    Entering the object begins the write and returns the file object; a
    normal exit commits, an exception aborts. After a commit, level is the
    Level reached and not_copied the metadata of the replaced file that
    best_effort let go (after a commit that metadata failed, the kind that
    stopped it). Without with: __enter__(), then commit() or abort()."""

    _handle = None      # the library's handle while the write is under way
    file = None

    def __init__(self, path, mode="w", *, buffering=-1, encoding=None,
                 errors=None, newline=None, level=Level.DURABLE, strict=False,
                 symlinks="follow", no_clobber=False, best_effort=False,
                 permissions=None, lock=False, timeout=0):
        self.path = path
        self._dest = _path(path, "path")
        kind, plus, binary = self._parse_mode(mode)
        if kind == "x":
            no_clobber = True
        if lock and no_clobber:
            raise ValueError("a lock file replaces its destination: no_clobber "
                             "(or mode 'x') and lock=True do not go together")
        if not lock and timeout != 0:
            raise ValueError("timeout is for lock=True only")
        flags = ((_c.PERSIST_NOCLOBBER if no_clobber else 0) |
                 (_c.PERSIST_STRICT if strict else 0) |
                 (_c.PERSIST_BEST_EFFORT if best_effort else 0))
        self._opts = _options(level, flags, symlinks, permissions, _timeout_ms(timeout))
        if not binary:
            encoding = _io.text_encoding(encoding)
        elif encoding is not None or errors is not None or newline is not None:
            raise ValueError("binary mode doesn't take an encoding, errors or "
                             "newline argument")
        self.mode = mode
        self._io_mode = ("w+" if plus else "w") + ("b" if binary else "")
        self._append = kind == "a"
        self._io_args = dict(buffering=buffering, encoding=encoding, errors=errors,
                             newline=newline)
        self._lock = bool(lock)
        self._symlinks = symlinks
        self._handle = None
        self.file = None
        self.level = None
        self.not_copied = frozenset()
        self.not_copied_errno = 0

    @staticmethod
    def _parse_mode(mode):
        if not isinstance(mode, str):
            raise TypeError("mode must be str, not %s" % type(mode).__name__)
        kinds = [c for c in mode if c in "rwxa"]
        if (len(kinds) != 1 or kinds[0] == "r" or set(mode) - set("wxab+t") or
                len(set(mode)) != len(mode) or ("b" in mode and "t" in mode)):
            raise ValueError("invalid mode for atomic_write: %r (one of 'w', 'x', "
                             "'a', with 'b' or 't' and '+')" % (mode,))
        return kinds[0], "+" in mode, "b" in mode

    @property
    def name(self):
        """The temporary's name while the write is under way, else None."""
        if self._handle is None:
            return None
        name = self._handle.name
        return name if isinstance(self.path, bytes) else _os.fsdecode(name)

    def __enter__(self):
        if self._handle is not None or self.level is not None:
            raise ValueError("this atomic write has already begun")
        try:
            self._handle = _c.replace_begin(self._dest, self._opts, self._lock)
        except OSError as e:
            raise _renamed(e, self.path) from None
        try:
            # A descriptor of the file object's own: one that outlives the
            # handle can never write into a number reused meanwhile.
            fd = _os.dup(self._handle.fileno())
            try:
                if self._append:
                    self._copy_old(fd)
            except BaseException:
                _os.close(fd)
                raise
            self.file = _open_owned(fd, self._io_mode, **self._io_args)
        except BaseException:
            self.abort()
            raise
        return self.file

    def _copy_old(self, fd):
        """Mode 'a': the temporary starts as a copy of what path holds (the
        final target of a symbolic link, unless symlinks='replace')."""
        flags = _os.O_RDONLY | _os.O_CLOEXEC | _os.O_NONBLOCK
        if self._symlinks != "follow":
            flags |= _os.O_NOFOLLOW
        try:
            src = _os.open(self._dest, flags)
        except (FileNotFoundError, IsADirectoryError):
            return
        except OSError as e:
            if e.errno == _errno.ELOOP:
                return      # the link itself is replaced: nothing to keep
            raise
        try:
            if _stat.S_ISREG(_os.fstat(src).st_mode):
                with _io.open(src, "rb", closefd=False) as r, \
                        _io.open(fd, "wb", closefd=False) as w:
                    _shutil.copyfileobj(r, w)
        finally:
            _os.close(src)

    def commit(self):
        """Flush, close the file object and put the new content in place;
        returns the Level reached. On failure the write is aborted (path
        unchanged, unless the error came after the rename: level says)."""
        if self._handle is None:
            raise ValueError("no atomic write under way")
        try:
            self.file.close()
        except BaseException:
            self.abort()
            raise
        err, level, not_copied, nc_errno = self._handle.commit()
        self.not_copied = _not_copied(not_copied)
        self.not_copied_errno = nc_errno
        if level:
            self.level = Level(level)
        if err:
            self.abort()
            raise _error(err, self.path)
        self._handle = None
        return self.level

    def abort(self):
        """Drop the new content: the temporary goes, path is untouched."""
        handle, self._handle = self._handle, None
        try:
            if self.file is not None:
                self.file.close()
        except Exception:
            pass
        finally:
            if handle is not None:
                handle.abort()

    def __del__(self):
        # Neither committed nor aborted: dropped, as an exception would.
        if self._handle is not None:
            self.abort()

    def __exit__(self, exc, value, tb):
        if exc is None:
            self.commit()
        else:
            self.abort()
        return False

    def __repr__(self):
        state = ("committed at %s" % self.level.name.lower() if self.level
                 else "under way" if self._handle else "not begun")
        return "<%s %r %s>" % (type(self).__name__, self.path, state)


# atomic_write(path, ...) makes the AtomicWrite object: a class, so that its
# signature is written once.
atomic_write = AtomicWrite


# ---- the library's handle of a Python file object ----------------------------------------

def _wrapper_of(obj):
    return obj if isinstance(obj, _TemporaryFileWrapper) else None


def _flush(file):
    # Any object with a descriptor may come here (a socket has no flush).
    flush = getattr(file, "flush", None)
    if flush is not None and not getattr(file, "closed", False):
        flush()


def _adopt(fd, name, flags):
    try:
        return _c.adopt(fd, name, flags)
    except OSError as e:
        raise _renamed(e, _os.fsdecode(name) if name else None) from None


def _set_delete(wrapper, delete):
    wrapper._closer.delete = delete
    if not _API_3_12:
        wrapper.delete = delete     # 3.11's wrapper has its own copy


def _let_go(wrapper):
    """The wrapper's file is no temporary of its own any more (persisted,
    shredded away or handed over): its close removes nothing."""
    closer = wrapper._closer
    handle, closer._handle = closer._handle, None
    if handle is not None:
        handle.forget()
    _set_delete(wrapper, False)


def _wrapper_fd(wrapper):
    """The open descriptor of a NamedTemporaryFile, flushed; None if closed."""
    if wrapper.file.closed:
        return None
    wrapper.file.flush()
    return wrapper.file.fileno()


# ---- persist ---------------------------------------------------------------------------

def persist(file, dest, *, no_clobber=False, level=Level.DURABLE, strict=False,
            copy=False, symlinks="follow", permissions=None):
    """Give a temporary file its final name dest and make it no temporary:
    file is a NamedTemporaryFile (delete=False or not; it stays open and its
    .name becomes the absolute path it now has: dest, or the final target of
    a symbolic link dest) or the path of a file (mkstemp's).
    no_clobber=True fails with FileExistsError if dest exists. level, strict
    and symlinks as for atomic_write(); copy=True copies across filesystems
    (else OSError EXDEV); permissions sets the mode. Returns the Level
    reached. A failed persist leaves the file as it was and raises OSError
    (filename the file, filename2 dest)."""
    dest_b = _path(dest, "dest")
    flags = ((_c.PERSIST_NOCLOBBER if no_clobber else 0) |
             (_c.PERSIST_STRICT if strict else 0) | (_c.PERSIST_COPY if copy else 0))
    opts = _options(level, flags, symlinks, permissions)
    wrapper = _wrapper_of(file)
    if wrapper is not None:
        src = wrapper.name
        fd = _wrapper_fd(wrapper)
    else:
        src, fd = file, None
    src_b = _os.path.abspath(_path(src, "file"))
    own = None
    if fd is None:
        try:
            fd = own = _os.open(src_b, _os.O_RDWR | _os.O_NOFOLLOW | _os.O_CLOEXEC)
        except OSError as e:
            raise _error(e.errno, src, dest) from None
    try:
        handle = _c.adopt(fd, src_b, _c.KEEP)
    except OSError as e:
        raise _error(e.errno, src, dest) from None      # as every failed persist
    finally:
        if own is not None:
            _os.close(own)
    try:
        (err, reached, _, _), new = _c.handle_persist(handle, dest_b, opts)
    finally:
        handle.forget()
    if err and not reached:
        raise _error(err, src, dest)
    if wrapper is not None:
        _let_go(wrapper)
        new = new if isinstance(src, bytes) else _os.fsdecode(new)
        wrapper.name = new
        _raw_of(wrapper.file).name = new
    if err:
        raise _error(err, src, dest)    # in place, durability unknown
    return Level(reached)


# ---- shred -----------------------------------------------------------------------------

class ShredReport:
    """What a shred found about the file and its filesystem, and did.

    fs_type: statfs(2) f_type (0 for process memory); findings: the
    library's phrases for what it found (tempfile.h, TF_FS_*); flags: the
    same as TF_FS_* bits; effective: nothing was found that makes
    overwriting miss the data; passes: passes completed (the zero pass
    included); bytes: bytes one pass wrote (a tree: all files); files:
    regular files shredded; grew: the file grew while being shredded;
    left: the name removal stopped at, or None."""

    __slots__ = ("fs_type", "flags", "findings", "effective", "passes", "bytes",
                 "files", "grew", "left")

    def __init__(self, raw):
        fs_type, why, effective, passes, nbytes, files, grew, left = raw
        self.fs_type = fs_type
        self.flags = why
        self.findings = tuple(phrase for bit, phrase in sorted(_reasons().items())
                              if why & bit)
        self.effective = bool(effective)
        self.passes = passes
        self.bytes = nbytes
        self.files = files
        self.grew = bool(grew)
        self.left = _os.fsdecode(left) if left else None

    def __repr__(self):
        return ("ShredReport(effective=%r, findings=%r, passes=%d, bytes=%d, files=%d%s)"
                % (self.effective, self.findings, self.passes, self.bytes, self.files,
                   ", left=%r" % self.left if self.left else ""))


_reason_table = None


def _reasons():
    global _reason_table
    if _reason_table is None:
        _reason_table = _c.shred_reasons()
    return _reason_table


def _shred_flags(passes, zero, remove, exact, force):
    if not isinstance(passes, int) or isinstance(passes, bool):
        raise TypeError("passes must be an int, not %s" % type(passes).__name__)
    if not 1 <= passes <= 100:
        raise ValueError("passes must be between 1 and 100, not %d" % passes)
    return passes, ((_c.SHRED_ZERO if zero else 0) | (_c.SHRED_REMOVE if remove else 0) |
                    (_c.SHRED_EXACT if exact else 0) | (_c.SHRED_FORCE if force else 0))


def _shred_done(result, filename):
    err, raw = result
    report = ShredReport(raw)
    if err:
        exc = _error(err, filename)
        exc.report = report
        raise exc
    return report


def _shred_file_object(file, passes, flags, name=None):
    """tf_file_shred() of an open file object's file (named: by name too)."""
    _flush(file)
    fd = file.fileno()
    handle = _adopt(fd, name, _c.KEEP)
    try:
        return _shred_done(_c.shred_file(handle, passes, flags),
                           _os.fsdecode(name) if name else fd)
    finally:
        handle.forget()


def _shred_spooled(sp, passes, flags):
    memory = _c.spooled_memory(sp)
    if memory is not None:      # the library's memory: explicit_bzero
        return _shred_done(_c.shred_file(memory, passes, flags), None)
    if sp._rolled:
        return _shred_file_object(sp._file, passes, flags)
    return _shred_bytesio(sp._file, flags)


def _shred_bytesio(file, flags):
    """The data in an io.BytesIO (text mode, or once _file was read): its
    buffer zeroed in place. Copies Python made as it grew are not reached."""
    file.flush()
    bio = getattr(file, "buffer", file)     # text: the BytesIO below
    with bio.getbuffer() as view:
        size = len(view)
        view[:] = bytes(size)
    if flags & _c.SHRED_REMOVE:
        file.seek(0)
        file.truncate(0)
    return ShredReport((0, _c.FS_PROCESS_MEMORY, 1, 1, size, 0, 0, b""))


def shred(file, *, passes=3, zero=False, remove=True, exact=False, force=False):
    """Overwrite a file's data in place, then (remove=True, the default)
    remove it the way coreutils' shred --remove=wipesync does.

    file: a path (a directory: every regular file in the tree, then the
    tree), a TemporaryDirectory, a NamedTemporaryFile, a TemporaryFile or
    another file object open for reading and writing, or a
    SpooledTemporaryFile (still in memory: its memory is wiped, nothing
    touches the disk; libtempfile's memory with explicit_bzero, an
    io.BytesIO's buffer, in text mode or once _file was read, zeroed in
    place). passes: passes of random data (1-100); zero=True adds
    a last pass of zeros; exact=True overwrites st_size bytes only (else up
    to the end of the last block). Before writing, the library looks at the
    file and its filesystem; where overwriting cannot reach the old data
    (copy-on-write, log-structured, network filesystems, shared extents,
    data journaling, hard links) it refuses with OSError EMEDIUMTYPE unless
    force=True. Returns a ShredReport; an OSError carries it as .report.
    A file object stays open (on an empty file, with remove)."""
    passes, flags = _shred_flags(passes, zero, remove, exact, force)
    if isinstance(file, _Spooled):
        return _shred_spooled(file, passes, flags)
    if isinstance(file, _TempDir):
        report = _shred_done(_c.shred_path(_path(file.name, "file"), passes, flags, True),
                             file.name)
        if remove:
            file.cleanup()      # nothing left: the handle lets go
        return report
    wrapper = _wrapper_of(file)
    if wrapper is not None:
        if wrapper.file.closed:
            return shred(wrapper.name, passes=passes, zero=zero, remove=remove,
                         exact=exact, force=force)
        name = _os.path.abspath(_os.fsencode(wrapper.name))
        report = _shred_file_object(wrapper.file, passes, flags, name)
        if remove:
            _let_go(wrapper)
        return report
    if isinstance(file, _io.IOBase) or hasattr(file, "fileno"):
        if getattr(file, "closed", False):
            raise ValueError("I/O operation on closed file.")
        return _shred_file_object(file, passes, flags)
    path = _path(file, "file")
    try:
        tree = _stat.S_ISDIR(_os.lstat(path).st_mode)
    except OSError as e:
        raise _error(e.errno, file) from None
    return _shred_done(_c.shred_path(path, passes, flags, tree), file)


# ---- hand-over -----------------------------------------------------------------------

def _socket_fd(sock):
    if isinstance(sock, _socket.socket):
        if sock.family != _socket.AF_UNIX:
            raise ValueError("hand-over needs an AF_UNIX socket, not %s" % sock.family.name)
        if sock.type not in (_socket.SOCK_STREAM, _socket.SOCK_SEQPACKET):
            raise ValueError("hand-over needs a SOCK_STREAM or SOCK_SEQPACKET socket")
        return sock.fileno()
    if isinstance(sock, int) and not isinstance(sock, bool):
        return sock
    raise TypeError("sock must be a socket.socket or a descriptor, not %s"
                    % type(sock).__name__)


def send_file(sock, file, *, share=False):
    """Hand a temporary file to the process at the other end of the UNIX
    socket sock (socket.socket of AF_UNIX, or its descriptor) with its
    cleanup: file is a NamedTemporaryFile, a TemporaryFile or a
    SpooledTemporaryFile (rolled over first). The peer takes it with
    receive_file(). Move (the default): the peer owns the file and removes
    it; file is closed here, its close removes nothing. share=True: both
    keep it, and the last owner to close it removes it. Blocks until the
    peer has answered; on failure (OSError) the file stays this process's,
    whole."""
    fd_sock = _socket_fd(sock)
    if isinstance(file, _Spooled):
        file.fileno()           # rolls over: only a file on disk moves
        file = file._file
    wrapper = _wrapper_of(file)
    target = wrapper.file if wrapper is not None else file
    if not isinstance(target, _io.IOBase):
        raise TypeError("file must be a NamedTemporaryFile, TemporaryFile or "
                        "SpooledTemporaryFile, not %s" % type(file).__name__)
    if target.closed:
        raise ValueError("I/O operation on closed file.")
    target.flush()
    if wrapper is not None:
        name = _os.path.abspath(_os.fsencode(wrapper.name))
        flags = _c.NO_DELETE_ON_CLOSE if wrapper._closer.delete else _c.KEEP
    else:
        name, flags = None, _c.KEEP
    handle = _adopt(target.fileno(), name, flags)
    try:
        _c.send(handle, fd_sock, share)
    except OSError as e:
        handle.forget()
        raise _renamed(e, _os.fsdecode(name) if name else target.fileno()) from None
    if wrapper is not None:
        _let_go(wrapper)
        if share:
            # The library's shared owner: its release removes the name when
            # no other owner holds the file any more.
            wrapper._closer._handle = handle
            _set_delete(wrapper, flags != _c.KEEP)
    else:
        handle.forget()
    if not share:
        target.close()


def receive_file(sock, mode="w+b", buffering=-1, encoding=None, newline=None,
                 *, errors=None):
    """Take a temporary file another process handed over with send_file()
    (or libtempfile's tf_file_send()) on the UNIX socket sock, and return it
    as a file object: mode, buffering, encoding, newline and errors as for
    open(). A named file comes as a NamedTemporaryFile-like wrapper (.name
    its path) that removes it on close, as its owner (unless the sender
    kept it: delete=False); a file with no name as a TemporaryFile's
    object. Blocks until a file arrives; OSError if the peer sends
    something else (EBADMSG) or goes away (ECONNRESET)."""
    fd_sock = _socket_fd(sock)
    if "b" not in mode:
        encoding = _io.text_encoding(encoding)
    fd, name, handle = _c.receive(fd_sock)
    try:
        file = _open_owned(fd, mode, buffering=buffering, encoding=encoding,
                           errors=errors, newline=newline)
    except BaseException:
        if handle is not None:
            handle.remove()     # ours now: nobody else would remove it
        raise
    if name is None:
        return file
    name = _os.fsdecode(name)
    _raw_of(file).name = name
    wrapper = _TemporaryFileWrapper(file, name)
    wrapper._closer._handle = handle
    return wrapper
