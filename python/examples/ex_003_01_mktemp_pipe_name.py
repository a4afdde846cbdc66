import ctempfile as tempfile
import itertools
import os

# Seed 003: multiprocessing/connection.py's arbitrary_address('AF_PIPE')
# asks mktemp for a name in dir="" (a relative name, never created).
_mmap_counter = itertools.count()

def arbitrary_address(family):
    if family == 'AF_PIPE':
        return tempfile.mktemp(prefix=r'\\.\pipe\pyc-%d-%d-' %
                               (os.getpid(), next(_mmap_counter)), dir="")

name = arbitrary_address('AF_PIPE')
print(name)
print(f"exists: {os.path.exists(name)}")
