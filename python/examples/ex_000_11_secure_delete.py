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

# The ctempfile way (not in the standard module): the data is overwritten in
# place (the seed's "wb" truncates first, so it overwrites nothing on most
# filesystems), each pass synced, and the library first checks that the
# filesystem writes in place (else EMEDIUMTYPE).
shred = getattr(tempfile, "shred", None)
# Without shred (the standard module), the seed's way runs after the file is
# closed: removing it inside the block would make close() fail on 3.11.
with tempfile.NamedTemporaryFile(delete=shred is not None) as temp_file:
    temp_file.write(b"Sensitive data")
    temp_path = temp_file.name
    if shred is not None:
        try:
            shred(temp_file, zero=True)
        except OSError as e:
            print(f"not shredded: {e.report.findings}")
            raise
if shred is None:
    secure_delete(temp_path)
print(f"Still there: {os.path.exists(temp_path)}")
