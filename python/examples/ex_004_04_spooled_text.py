import ctempfile as tempfile

# Seed 004, 4, example 1: a small text SpooledTemporaryFile.
with tempfile.SpooledTemporaryFile(max_size=1024, mode='w+t') as tmp:
    tmp.write("Hello, world!")
    tmp.seek(0)
    print(tmp.read())
    print("rolled:", tmp._rolled)
