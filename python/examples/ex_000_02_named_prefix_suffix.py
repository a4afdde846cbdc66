import ctempfile as tempfile
import os

# Seed 000, slide 2: prefix, suffix, delete=False, then removed by hand.
with tempfile.NamedTemporaryFile(suffix='.txt', prefix='temp_', delete=False) as temp_file:
    temp_file.write(b"Hello, temporary world!")
    temp_name = temp_file.name

print(f"File contents: {open(temp_name, 'rb').read()}")
os.unlink(temp_name)  # Manually delete the file
