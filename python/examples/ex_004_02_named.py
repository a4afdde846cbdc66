import ctempfile as tempfile
import os

# Seed 004, 2: NamedTemporaryFile, removed when the block ends.
with tempfile.NamedTemporaryFile(mode='w+t') as tmp:
    print("临时文件名: ", tmp.name)
    tmp.write("Hello, world!")
    tmp.seek(0)
    print(tmp.read())
print(os.path.exists(tmp.name))
