import ctempfile as tempfile
import os

# Seed 000, slide 6: prefix, suffix and dir. The seed's dir, /tmp/custom_temp,
# must exist first (the seed forgot); here it is made under gettempdir().
custom_dir = os.path.join(tempfile.gettempdir(), "custom_temp")
os.makedirs(custom_dir, exist_ok=True)

custom_temp = tempfile.NamedTemporaryFile(
    prefix="log_",
    suffix=".txt",
    dir=custom_dir,
    delete=False
)

print(f"Custom temp file: {custom_temp.name}")
custom_temp.close()
os.unlink(custom_temp.name)
os.rmdir(custom_dir)
