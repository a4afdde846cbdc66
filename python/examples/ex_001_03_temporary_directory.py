import os
from ctempfile import TemporaryDirectory

# Seed 001, "TemporaryDirectory for Temporary Directories" (its open() call
# has an extra parenthesis; fixed).
with TemporaryDirectory() as dir:
    print(f'Created temporary dir: {dir}')

    # Use the directory
    with open(os.path.join(dir, 'tempfile.tmp'), 'w') as f:
        f.write('Data')

print(f'Still there: {os.path.exists(dir)}')
