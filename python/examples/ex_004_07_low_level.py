import ctempfile as tempfile
import os

# Seed 004, the low-level interface: mkstemp, mkdtemp, gettempdir, gettempprefix.
fd, name = tempfile.mkstemp(suffix=".txt", prefix="low_")
print(type(fd).__name__, name)
os.close(fd)
os.unlink(name)
fd, bname = tempfile.mkstemp(suffix=b"")
print(type(bname).__name__)
os.close(fd)
os.unlink(bname)
d = tempfile.mkdtemp()
print(d)
os.rmdir(d)
print(repr(tempfile.gettempdir()) == repr(os.environ.get("TMPDIR", "/tmp")))
print(tempfile.gettempprefix(), tempfile.gettempprefixb())
