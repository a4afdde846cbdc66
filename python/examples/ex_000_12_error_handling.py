import ctempfile as tempfile
import os

# Seed 000, slide 12: cleanup despite an exception.
try:
    temp_file = tempfile.NamedTemporaryFile(delete=False)
    try:
        temp_file.write(b"Some data")
        raise Exception("Simulated error")
    finally:
        temp_file.close()
        os.unlink(temp_file.name)
        print(f"Temp file {temp_file.name} deleted despite error")
except Exception as e:
    print(f"Caught exception: {e}")
