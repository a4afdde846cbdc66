import ctempfile as tempfile

# Seed 004, 1: TemporaryFile in text mode.
with tempfile.TemporaryFile(mode='w+t') as tmp:
    tmp.write("Hello, temporary file!\n")
    tmp.seek(0)
    print(tmp.read())
