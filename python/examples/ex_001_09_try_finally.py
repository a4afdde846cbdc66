import os
from ctempfile import NamedTemporaryFile

# Seed 001, "Wrap in try/finally For Resilience".
tmp = NamedTemporaryFile()
try:
    tmp.write(b'use temp file')
finally:
    tmp.close() # Delete file
print(f"exists after close: {os.path.exists(tmp.name)}")
