import ctempfile as tempfile

# Seed 001, "TemporaryFile for Unnamed Binary Files".
with tempfile.TemporaryFile() as tmp:
    # Read/write tmp binary data
    tmp.write(b'Some data')

    tmp.seek(0)

    print(tmp.read())
