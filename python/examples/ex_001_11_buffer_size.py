from ctempfile import TemporaryFile

# Seed 001, "Adjust Buffer Sizes": there is no buffer_size argument (the seed
# is wrong); buffering is the io.open() one.
try:
    f = TemporaryFile(buffer_size=1024*1024) # 1 MB buffer
except TypeError as e:
    print(f"TypeError: {e}")

with TemporaryFile(buffering=1024*1024) as f:
    f.write(b'x' * 10)
    print(f"buffered: {type(f).__name__}")
