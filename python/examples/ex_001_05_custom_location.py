import os
import ctempfile
from ctempfile import NamedTemporaryFile

# Seed 001, "Setting a Custom File Location" (/custom/path made under the
# temporary directory so that the example can run).
custom = os.path.join(ctempfile.gettempdir(), 'custom', 'path')
os.makedirs(custom, exist_ok=True)
with NamedTemporaryFile(dir=custom) as f:
    print(f.name)
os.rmdir(custom)
os.rmdir(os.path.dirname(custom))
