import ctempfile as tempfile
import os

# Seed 000, slide 11: overwrite, then remove.
def secure_delete(file_path, passes=3):
    file_size = os.path.getsize(file_path)
    with open(file_path, "wb") as f:
        for _ in range(passes):
            f.seek(0)
            f.write(os.urandom(file_size))
    os.unlink(file_path)

with tempfile.NamedTemporaryFile(delete=False) as temp_file:
    temp_file.write(b"Sensitive data")
    temp_path = temp_file.name

secure_delete(temp_path)
print(f"File {temp_path} securely deleted")
print(f"Still there: {os.path.exists(temp_path)}")
