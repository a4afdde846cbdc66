from ctempfile import TemporaryFile, NamedTemporaryFile
import os

# Seed 001, "Disable Automatic Deletion": TemporaryFile has no delete
# argument (the seed is wrong); NamedTemporaryFile has.
try:
    tmp = TemporaryFile(delete=False)
except TypeError as e:
    print(f"TypeError: {e}")

tmp = NamedTemporaryFile(delete=False)
try:
    tmp.write(b'kept')
finally:
    tmp.close() # File not deleted
print(f"kept: {os.path.exists(tmp.name)}")
os.unlink(tmp.name)
