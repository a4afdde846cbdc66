import ctempfile as tempfile, shutil

# Seed 001, mkdtemp with explicit removal.
temp_dir = tempfile.mkdtemp()
print(f'Created temporary dir: {temp_dir}')

# Make sure to cleanup yourself
shutil.rmtree(temp_dir)
