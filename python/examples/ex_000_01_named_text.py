import ctempfile as tempfile

# Seed 000, slide 1: NamedTemporaryFile in text mode, kept after the block.
with tempfile.NamedTemporaryFile(mode='w+', delete=False) as temp_file:
    temp_file.write("This is temporary data")
    print(f"Temporary file created: {temp_file.name}")
