import ctempfile as tempfile

# Seed 004, 4, example 3: fileno() rolls over even a small file.
with tempfile.SpooledTemporaryFile() as tmp:
    tmp.write(b"abc")
    fd = tmp.fileno()
    print("file descriptor", fd)
    print("rolled:", tmp._rolled)
