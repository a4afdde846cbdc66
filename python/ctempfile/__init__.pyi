# Type information for ctempfile: the standard module's own (typeshed's
# stubs for tempfile, as the type checker has them for the Python version it
# checks for), re-exported name by name, so that a checker sees for ctempfile
# exactly what it sees for tempfile, version differences included.
from tempfile import (
    TMP_MAX as TMP_MAX,
    NamedTemporaryFile as NamedTemporaryFile,
    SpooledTemporaryFile as SpooledTemporaryFile,
    TemporaryDirectory as TemporaryDirectory,
    TemporaryFile as TemporaryFile,
    _TemporaryFileWrapper as _TemporaryFileWrapper,
    gettempdir as gettempdir,
    gettempdirb as gettempdirb,
    gettempprefix as gettempprefix,
    gettempprefixb as gettempprefixb,
    mkdtemp as mkdtemp,
    mkstemp as mkstemp,
    mktemp as mktemp,
    tempdir as tempdir,
    template as template,
)

__all__ = [
    "NamedTemporaryFile",
    "TemporaryFile",
    "SpooledTemporaryFile",
    "TemporaryDirectory",
    "mkstemp",
    "mkdtemp",
    "mktemp",
    "TMP_MAX",
    "gettempprefix",
    "tempdir",
    "gettempdir",
    "gettempprefixb",
    "gettempdirb",
]

# ---- beyond tempfile: the library's own capabilities -------------------------
# (ctempfile/_capabilities.py; reached through the module's __getattr__ at run
# time, not in __all__: the drop-in surface above stays the standard module's)
import enum as _enum
import socket as _socket
from _typeshed import StrOrBytesPath as _StrOrBytesPath
from types import TracebackType as _TracebackType
from typing import IO as _IO, Any as _Any, Literal as _Literal

_LevelArg = Level | _Literal["visible", "consistent", "durable"] | int
_Symlinks = _Literal["follow", "replace", "refuse"]
_Sock = _socket.socket | int

class Level(_enum.IntEnum):
    VISIBLE = 1
    CONSISTENT = 2
    DURABLE = 3

class AtomicWrite:
    path: _StrOrBytesPath
    mode: str
    file: _IO[_Any] | None
    level: Level | None
    not_copied: frozenset[str]
    not_copied_errno: int
    def __init__(
        self,
        path: _StrOrBytesPath,
        mode: str = "w",
        *,
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        level: _LevelArg = ...,
        strict: bool = False,
        symlinks: _Symlinks = "follow",
        no_clobber: bool = False,
        best_effort: bool = False,
        permissions: int | None = None,
        lock: bool = False,
        timeout: float | None = 0,
    ) -> None: ...
    @property
    def name(self) -> str | bytes | None: ...
    def __enter__(self) -> _IO[_Any]: ...
    def __exit__(
        self, exc: type[BaseException] | None, value: BaseException | None, tb: _TracebackType | None
    ) -> bool: ...
    def commit(self) -> Level: ...
    def abort(self) -> None: ...

atomic_write = AtomicWrite

def persist(
    file: _TemporaryFileWrapper[_Any] | _StrOrBytesPath,
    dest: _StrOrBytesPath,
    *,
    no_clobber: bool = False,
    level: _LevelArg = ...,
    strict: bool = False,
    copy: bool = False,
    symlinks: _Symlinks = "follow",
    permissions: int | None = None,
) -> Level: ...

class ShredReport:
    fs_type: int
    flags: int
    findings: tuple[str, ...]
    effective: bool
    passes: int
    bytes: int
    files: int
    grew: bool
    left: str | None

def shred(
    file: _StrOrBytesPath | TemporaryDirectory[_Any] | SpooledTemporaryFile[_Any] | _IO[_Any],
    *,
    passes: int = 3,
    zero: bool = False,
    remove: bool = True,
    exact: bool = False,
    force: bool = False,
) -> ShredReport: ...
def send_file(
    sock: _Sock, file: _IO[_Any] | SpooledTemporaryFile[_Any], *, share: bool = False
) -> None: ...
def receive_file(
    sock: _Sock,
    mode: str = "w+b",
    buffering: int = -1,
    encoding: str | None = None,
    newline: str | None = None,
    *,
    errors: str | None = None,
) -> _IO[_Any]: ...
