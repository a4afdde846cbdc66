import ctempfile as tempfile
import os

# Seed 002, option 1: a real file, removed by hand.
f = tempfile.NamedTemporaryFile(delete=False)
try:
    # do whatever. f is exactly like a file
    # it actually exists on the hard disk in the temporary files area
    f.write(b"uploaded bytes")
finally:
    f.close()
    os.unlink(f.name)
print(f"exists: {os.path.exists(f.name)}")

# "You can also just create tempfile.TemporaryFile()": no name, no unlink.
g = tempfile.TemporaryFile()
try:
    g.write(b"uploaded bytes")
finally:
    g.close()
print(f"TemporaryFile closed: {g.closed}")
