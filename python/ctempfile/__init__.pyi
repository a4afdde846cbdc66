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
