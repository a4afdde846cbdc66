import ctempfile as tempfile
import os

# Seed 000, slide 5: a file inside a TemporaryDirectory.
with tempfile.TemporaryDirectory() as temp_dir:
    temp_file_path = os.path.join(temp_dir, "temp_file.txt")
    with open(temp_file_path, "w") as temp_file:
        temp_file.write("Temporary file in a temporary directory")

    print(f"Directory contents: {os.listdir(temp_dir)}")
print(f"Directory still exists: {os.path.exists(temp_dir)}")
