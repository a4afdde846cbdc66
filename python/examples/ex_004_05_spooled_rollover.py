import ctempfile as tempfile

# Seed 004, 4, example 2: past max_size the data goes to disk.
with tempfile.SpooledTemporaryFile(max_size=10, mode='w+t') as tmp:
    tmp.write("This is a long string exceeding ten characters.")
    tmp.seek(0)
    print(tmp.read())
    print("rolled:", tmp._rolled)
