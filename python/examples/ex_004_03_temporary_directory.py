import ctempfile as tempfile
import os

# Seed 004, 3: TemporaryDirectory.
with tempfile.TemporaryDirectory() as tmpdir:
    print("临时目录: ", tmpdir)
    open(os.path.join(tmpdir, "test.txt"), "w").write("hello")
print(os.path.exists(tmpdir))
