import ctempfile as tempfile
import os
import shutil

# Seed 000, slide 9: log rotation through a temporary file. The seed's
# `shutil.2(...)` is a typo for shutil.copy2, and app.log must exist first.
def rotate_log(log_file):
    with tempfile.NamedTemporaryFile(mode='w', delete=False) as temp_file:
        shutil.copy2(log_file, temp_file.name)

    os.rename(temp_file.name, log_file + ".1")
    open(log_file, 'w').close()  # Create a new empty log file

# Usage
log_file = "app.log"
with open(log_file, "w") as f:
    f.write("line 1\nline 2\n")
rotate_log(log_file)
print(f"Log rotated: {log_file} -> {log_file}.1")
print(f"{log_file}.1 holds {open(log_file + '.1').read()!r}, {log_file} holds {open(log_file).read()!r}")

# The ctempfile way (not in the standard module): each file is replaced
# atomically and durably, so a crash midway leaves the old or the new log,
# never a torn or empty one.
atomic_write = getattr(tempfile, "atomic_write", None)


def rotate_log_atomically(log_file):
    with open(log_file, "rb") as src:
        data = src.read()
    if atomic_write is not None:
        with atomic_write(log_file + ".1", "wb") as rotated:
            rotated.write(data)
        with atomic_write(log_file, "wb"):
            pass
    else:
        with open(log_file + ".1", "wb") as rotated:
            rotated.write(data)
        open(log_file, "wb").close()


with open(log_file, "a") as f:
    f.write("line 3\n")
rotate_log_atomically(log_file)
print(f"{log_file}.1 holds {open(log_file + '.1').read()!r}, {log_file} holds {open(log_file).read()!r}")
