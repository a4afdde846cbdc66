import os
from ctempfile import NamedTemporaryFile

# Seed 001, "Set Explicit File Name". Assigning .name renames nothing: the
# file created under the random name is the one removed on close, and the
# assigned name never exists (the seed's claim is wrong for both modules).
f = NamedTemporaryFile()
original = f.name
f.name = os.path.join(os.path.dirname(original), 'persistenttempfile.tmp')
print(f"name now {f.name}")
f.close()
print(f"original exists: {os.path.exists(original)}, assigned exists: {os.path.exists(f.name)}")
