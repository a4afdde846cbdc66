import ctempfile as tempfile

# Seed 000, slide 4: SpooledTemporaryFile stays in memory, then rolls over.
with tempfile.SpooledTemporaryFile(max_size=1000) as temp_file:
    temp_file.write(b"Small data")
    print(f"In memory: {temp_file._rolled}")

    temp_file.write(b"A" * 1000)
    print(f"On disk: {temp_file._rolled}")
