import fcntl
import os
from ctempfile import NamedTemporaryFile

# Seed 001, "Lock Files When Concurrency Issues Arise".
with NamedTemporaryFile(delete=False) as f:
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)

    try:
        # Mutate file exclusively
        f.write(b'exclusive')
        other = os.open(f.name, os.O_RDONLY)
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("second lock: granted")
        except BlockingIOError:
            print("second lock: refused while held")
        finally:
            os.close(other)
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
os.unlink(f.name)
