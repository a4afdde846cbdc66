import ctempfile as tempfile
import io

# Seed 000, slide 7: binary data. The seed reads back a file opened 'wb'
# (write-only): both modules refuse the read the same way.
with tempfile.NamedTemporaryFile(mode='wb', delete=False) as binary_file:
    binary_data = bytes([0x48, 0x65, 0x6C, 0x6C, 0x6F])  # "Hello" in ASCII
    binary_file.write(binary_data)
    binary_file.seek(0)
    try:
        print(f"Binary content: {binary_file.read()}")
    except io.UnsupportedOperation as e:
        print(f"read() refused: {type(e).__name__}: {e}")

with open(binary_file.name, 'rb') as f:
    print(f"Binary content: {f.read()}")
