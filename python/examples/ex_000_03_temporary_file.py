import ctempfile as tempfile

# Seed 000, slide 3: TemporaryFile in text mode.
with tempfile.TemporaryFile(mode='w+t') as temp_file:
    temp_file.write("Sensitive data")
    temp_file.seek(0)
    print(f"File contents: {temp_file.read()}")
